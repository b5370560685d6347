// layerguard audit report: filter and sort the findings table. Reads only the page's own
// DOM (data-* attributes); no data is inlined here, so user code never enters a script.
// The findings are grouped (one <tbody> per app header, one per rule in that app): a
// filter hides the findings it leaves out and every group left empty, and updates the
// groups' counts; sorting orders the findings inside each rule group.
(function () {
  "use strict";
  var table = document.getElementById("findings");
  if (!table) { return; }
  var each = function (list, action) { Array.prototype.forEach.call(list, action); };
  var rows = Array.prototype.slice.call(table.querySelectorAll("tr.finding"));
  var ruleGroups = Array.prototype.slice.call(table.querySelectorAll("tbody.rule-group"));
  var appGroups = Array.prototype.slice.call(table.querySelectorAll("tbody.app-group"));
  var app = document.getElementById("filter-app");
  var code = document.getElementById("filter-rule");
  var path = document.getElementById("filter-path");
  var stat = document.getElementById("filter-status");
  var shown = document.getElementById("shown-count");

  function showCount(group, visible) {
    var badge = group.querySelector(".group-count");
    var total = badge.dataset.total;
    badge.textContent = String(visible) === total ? total : visible + " of " + total;
    group.hidden = visible === 0;
  }

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
    var perApp = {};
    ruleGroups.forEach(function (group) {
      var visible = group.querySelectorAll("tr.finding:not([hidden])").length;
      perApp[group.dataset.app] = (perApp[group.dataset.app] || 0) + visible;
      showCount(group, visible);
    });
    appGroups.forEach(function (group) { showCount(group, perApp[group.dataset.app] || 0); });
    shown.textContent = String(count);
  }
  [app, code, stat].forEach(function (element) { element.addEventListener("change", apply); });
  path.addEventListener("input", apply);

  var direction = {};
  each(table.tHead.rows[0].cells, function (cell) {
    var key = cell.dataset.sort;
    if (!key) { return; }
    cell.classList.add("sortable");
    cell.addEventListener("click", function () {
      direction[key] = direction[key] === 1 ? -1 : 1;
      var sign = direction[key];
      ruleGroups.forEach(function (group) {
        var members = Array.prototype.slice.call(group.querySelectorAll("tr.finding"));
        members.sort(function (a, b) {
          var x = a.dataset[key], y = b.dataset[key];
          if (key === "line") { return sign * (Number(x) - Number(y)) || Number(a.dataset.order) - Number(b.dataset.order); }
          if (x === y) { return Number(a.dataset.order) - Number(b.dataset.order); }
          return sign * (x < y ? -1 : 1);
        });
        members.forEach(function (row) { group.appendChild(row); });
      });
      each(table.tHead.rows[0].cells, function (other) { other.removeAttribute("aria-sort"); });
      cell.setAttribute("aria-sort", sign === 1 ? "ascending" : "descending");
    });
  });
  apply();
})();
