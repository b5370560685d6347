"""Reads belong in selectors (LG204, LG205, LG304): the HackSoft selector case study,
its bad views and its selector rewrite, through the real CLI."""

from __future__ import annotations

from conftest import copy_fixture, run_cli


def _check(project, *codes):
    result = run_cli("check", "--select", ",".join(codes), "--format", "json", ".", cwd=project)
    assert result.exit_code in (0, 1), result.stderr
    return result


def test_case_study_dashboard_reports_each_complex_query_once_where_it_starts(tmp_path):
    project = copy_fixture("selector_case_study", tmp_path)
    result = _check(project, "LG204")
    assert result.found("LG204") == [("LG204", "shop/views.py", 16), ("LG204", "shop/views.py", 24)]
    messages = [v["message"] for v in result.json["violations"]]
    assert all(message.endswith("move it to a selector in shop/selectors.py") for message in messages)
    assert "annotate" in messages[0] and "annotate" in messages[1]


def test_case_study_selector_rewrite_and_plain_lookup_report_nothing(tmp_path):
    project = copy_fixture("selector_case_study", tmp_path)
    result = _check(project, "LG204")
    assert [path for _, path, _ in result.found()] == ["shop/views.py", "shop/views.py"]
    assert all(line != 45 for _, _, line in result.found())  # get_object_or_404 in order_detail


def test_case_study_per_item_get_is_one_n_plus_one_and_the_in_bulk_rewrite_is_silent(tmp_path):
    project = copy_fixture("selector_case_study", tmp_path)
    result = _check(project, "LG205")
    assert result.found("LG205") == [("LG205", "shop/views.py", 36)]
    message = result.json["violations"][0]["message"]
    assert message.startswith("`Product.objects.get(...)` runs a query on every iteration of a loop in a view")
    assert message.endswith("in shop/selectors.py")


def _long_view(loops: int) -> str:
    """One view with a query rebound `loops` times and, per rebinding, a loop whose body
    runs a five-call chain: every call of every chain follows its start back through
    the rebindings (recipes' cookbook/views/api.py has this shape, smaller)."""
    lines = ["from rest_framework.response import Response", "from rest_framework.views import APIView", "",
             "from shop.models import Order, OrderItem, Product", "", "",
             "class ReportView(APIView):", "    def get(self, request):",
             "        orders = Order.objects.filter(user=request.user)", "        rows = []"]
    for index in range(loops):
        lines += [f"        orders = orders.filter(status='s{index}').exclude(tax={index}).order_by('created_at')",
                  f"        for item in OrderItem.objects.filter(order__in=orders).filter(quantity__gt={index}):",
                  f"            rows.append(Product.objects.filter(pk=item.product_id).filter(stock__gt={index})"
                  ".exclude(price=0).order_by('name').first())"]
    return "\n".join([*lines, "        return Response(rows)", ""])


def test_a_long_view_with_many_chains_in_loops_is_checked_within_the_file_time_limit(tmp_path):
    # Regression: each chain walked the whole function once per name it followed, and
    # again for every inner call: 80 s of rules on this file before, well under 1 s now.
    # Past the limit the file would be an LG900 "not fully checked" and findings lost.
    project = copy_fixture("selector_case_study", tmp_path)
    source = _long_view(150)
    (project / "shop" / "api" / "reports.py").write_text(source, encoding="utf-8")
    result = run_cli("check", "--select", "LG204,LG205,LG900", "--format", "json", "shop/api/reports.py",
                     cwd=project, env={"LAYERGUARD_FILE_TIMEOUT": "20"})
    assert result.exit_code == 1, result.stderr
    per_item = [number for number, line in enumerate(source.splitlines(), 1) if "Product.objects" in line]
    assert len(per_item) == 150
    assert result.found("LG900") == []
    assert result.found("LG205") == [("LG205", "shop/api/reports.py", line) for line in per_item]
    # The rebound query once, where it starts; each five-call chain in a loop once.
    assert result.found("LG204") == [("LG204", "shop/api/reports.py", line) for line in [9, *per_item]]


def test_reductions_from_real_projects_report_each_query_once(tmp_path):
    project = copy_fixture("read_reductions", tmp_path)
    result = _check(project, "LG204", "LG205", "LG304")
    assert result.found() == [
        ("LG304", "shop/serializers.py", 13),  # Meta.model from the project base serializer
        ("LG204", "shop/views.py", 14),  # three named subqueries of one untyped queryset
        ("LG205", "shop/views.py", 35),  # item.product without select_related
        ("LG204", "shop/views.py", 44),  # a named subquery folded into the query reading it
        ("LG204", "shop/views.py", 49),  # loader paths over two statements
        ("LG204", "shop/views.py", 63),  # Subquery(...) expressions bound to names, read by it
    ]
    by_line = {v["line"]: v["message"] for v in result.json["violations"]}
    assert by_line[14].count("OuterRef") == 1 and "annotate" in by_line[14]
    assert by_line[35].startswith("`item.product` loads a `Product` on every iteration")
    assert 'select_related("product")' in by_line[35]
    assert by_line[49].count("select/prefetch_related paths") == 1 and "(5 select/prefetch_related paths)" in by_line[49]
    assert "Subquery" in by_line[44] and by_line[44].startswith("`Order.objects.filter(...).annotate(...)`")
