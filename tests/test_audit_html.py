"""The audit's HTML report in a real headless browser (Debian's Chromium driven by
Playwright through executable_path: no browser is downloaded).

It must render with no console error and no network request, show the per-app counts,
hide rows when filtered, and never run code that came from the audited project: a file
holding `</script>` and `<img onerror=...>` (in its code and in its name) stays text.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import copy_fixture, run_cli

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (apt-get install chromium)")

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]
HOSTILE_NAME = "<img src=x onerror=window.__pwned=2>.py"
HOSTILE_VIEW = '''\
from django.core.mail import send_mail
from rest_framework.response import Response
from rest_framework.views import APIView


class Hostile(APIView):
    def post(self, request):
        send_mail("</script><script>window.__pwned = 1</script>", "<img src=x onerror=window.__pwned=3>",
                  "a@example.com", ["b@example.com"])
        return Response()
'''


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    project = copy_fixture("audited_shop", tmp_path_factory.mktemp("audit-html"))
    (project / "shop" / "views_hostile.py").write_text(HOSTILE_VIEW)
    (project / "shop" / HOSTILE_NAME).write_text(HOSTILE_VIEW)
    result = run_cli("audit", ".", "--html", "report.html", cwd=project)
    assert result.exit_code == 0, result.stderr
    return project / "report.html"


@pytest.fixture(scope="module")
def page(report):
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page()
        page.problems, page.requests = [], []
        page.on("console", lambda message: page.problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        page.on("request", lambda request: page.requests.append(request.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        yield page
        browser.close()


def test_the_report_renders_offline_without_errors(page, report):
    assert page.problems == []
    assert page.requests == [report.as_uri()]  # the file itself, nothing from the network
    assert page.locator("#score").inner_text() != "n/a"


def test_the_page_shows_the_per_app_counts(page):
    # billing: LG101 (suppressed), LG401, LG402; shop: the fixture's 4 + 2 LG201 of the hostile views
    assert page.locator("#apps tr[data-app='billing'] .app-total").inner_text() == "3"
    assert page.locator("#apps tr[data-app='shop'] .app-total").inner_text() == "6"
    assert page.locator("#findings tr.finding").count() == 9


# The page's findings, group by group, as a reader sees them: (header text, [(code, path) of the rows]).
VISIBLE_GROUPS = """table => Array.from(table.tBodies).filter(b => !b.hidden).map(b => [
    b.querySelector('.group-header').innerText.replace(/\\s+/g, ' ').trim(),
    Array.from(b.querySelectorAll('tr.finding')).filter(r => !r.hidden).map(r => [r.dataset.code, r.dataset.path])])"""


def test_findings_are_grouped_by_app_then_rule_with_counts(page):
    groups = page.locator("#findings").evaluate(VISIBLE_GROUPS)
    # shop (6 findings) before billing (3); within an app, the most frequent rule first:
    # LG201 (the fixture's view and the two hostile ones), LG101 (2), then LG302.
    assert [header for header, _ in groups] == [
        "shop 6 findings", "LG201 side-effect-in-view 3 in shop", "LG101 orm-write-outside-service 2 in shop",
        "LG302 logic-in-serializer-save 1 in shop", "billing 3 findings",
        "LG101 orm-write-outside-service 1 in billing", "LG401 cross-app-foreign-key 1 in billing",
        "LG402 cross-app-model-import 1 in billing"]
    app = None
    for header, rows in groups:
        if not rows:  # an app header: the rule groups under it follow
            app = header.split(" ")[0]
            continue
        code = header.split(" ")[0]
        assert {c for c, _ in rows} == {code}, header
        assert header.endswith(f" {len(rows)} in {app}"), header
    assert sum(len(rows) for _, rows in groups) == 9


def test_filters_hide_rows_and_the_groups_left_empty(page):
    page.select_option("#filter-app", "billing")
    assert page.locator("#findings tr.finding:visible").count() == 3
    assert page.locator("#shown-count").inner_text() == "3"
    groups = page.locator("#findings").evaluate(VISIBLE_GROUPS)
    assert [header.split(" ")[0] for header, _ in groups] == ["billing", "LG101", "LG401", "LG402"]
    assert page.locator("#findings tbody.app-group[data-app='shop']").is_hidden()
    page.select_option("#filter-status", "suppressed")
    assert page.locator("#findings tr.finding:visible").count() == 1
    groups = page.locator("#findings").evaluate(VISIBLE_GROUPS)
    assert [header for header, _ in groups][0] == "billing 1 of 3 findings"
    assert [(header.split(" ")[0], len(rows)) for header, rows in groups] == [("billing", 0), ("LG101", 1)]
    page.select_option("#filter-app", "")
    page.select_option("#filter-status", "")
    page.fill("#filter-path", "serializers")
    assert page.locator("#findings tr.finding:visible").count() == 2
    assert [(header, len(rows)) for header, rows in page.locator("#findings").evaluate(VISIBLE_GROUPS)] == [
        ("shop 2 of 6 findings", 0), ("LG101 orm-write-outside-service 1 of 2 in shop", 1),
        ("LG302 logic-in-serializer-save 1 in shop", 1)]
    page.fill("#filter-path", "")
    assert page.locator("#findings tr.finding:visible").count() == 9
    assert page.locator("#findings tbody:visible").count() == page.locator("#findings tbody").count()


def test_sorting_by_line_reorders_rows_inside_each_rule_group(page):
    def lines_per_group():
        return page.locator("#findings tbody.rule-group").evaluate_all(
            "groups => groups.map(g => Array.from(g.querySelectorAll('tr.finding')).map(r => Number(r.dataset.line)))")

    page.click("#findings th[data-sort='line']")
    groups = lines_per_group()
    assert any(len(lines) > 1 for lines in groups)
    assert all(lines == sorted(lines) for lines in groups)
    page.click("#findings th[data-sort='line']")
    assert all(lines == sorted(lines, reverse=True) for lines in lines_per_group())


def test_user_code_in_the_page_cannot_break_or_script_it(page):
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("script").count() == 1  # the report's own
    assert page.locator("img").count() == 0
    page.locator("#findings tr.finding").first.wait_for()
    text = page.locator("#findings").inner_text()
    assert HOSTILE_NAME in text  # the name shown as text
    page.locator("#findings details").evaluate_all("all => all.forEach(d => d.open = true)")
    assert "</script><script>window.__pwned = 1</script>" in page.locator("#findings").inner_text()
