// layerguard audit report: filter and sort the findings table. Reads only the page's own
// DOM (data-* attributes); no data is inlined here, so user code never enters a script.
(function () {
  "use strict";
  var table = document.getElementById("findings");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var app = document.getElementById("filter-app");
  var code = document.getElementById("filter-rule");
  var path = document.getElementById("filter-path");
  var stat = document.getElementById("filter-status");
  var shown = document.getElementById("shown-count");

  function apply() {
    var count = 0;
    var needle = path.value.trim().toLowerCase();
    rows.forEach(function (row) {
      var visible = (!app.value || row.dataset.app === app.value) &&
        (!code.value || row.dataset.code === code.value) &&
        (!stat.value || row.dataset.status === stat.value) &&
        (!needle || row.dataset.path.toLowerCase().indexOf(needle) !== -1);
      row.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = String(count);
  }
  [app, code, stat].forEach(function (element) { element.addEventListener("change", apply); });
  path.addEventListener("input", apply);

  var direction = {};
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
    var key = cell.dataset.sort;
    if (!key) { return; }
    cell.classList.add("sortable");
    cell.addEventListener("click", function () {
      direction[key] = direction[key] === 1 ? -1 : 1;
      var sign = direction[key];
      rows.sort(function (a, b) {
        var x = a.dataset[key], y = b.dataset[key];
        if (key === "line") { return sign * (Number(x) - Number(y)); }
        if (x === y) { return Number(a.dataset.order) - Number(b.dataset.order); }
        return sign * (x < y ? -1 : 1);
      });
      rows.forEach(function (row) { body.appendChild(row); });
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) {
        other.removeAttribute("aria-sort");
      });
      cell.setAttribute("aria-sort", sign === 1 ? "ascending" : "descending");
    });
  });
  apply();
})();
