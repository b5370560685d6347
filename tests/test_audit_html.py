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
    assert page.locator("#findings tbody tr").count() == 9


def test_filters_hide_rows(page):
    page.select_option("#filter-app", "billing")
    assert page.locator("#findings tbody tr:visible").count() == 3
    assert page.locator("#shown-count").inner_text() == "3"
    page.select_option("#filter-status", "suppressed")
    assert page.locator("#findings tbody tr:visible").count() == 1
    page.select_option("#filter-app", "")
    page.select_option("#filter-status", "")
    page.fill("#filter-path", "serializers")
    assert page.locator("#findings tbody tr:visible").count() == 2
    page.fill("#filter-path", "")
    assert page.locator("#findings tbody tr:visible").count() == 9


def test_sorting_by_line_reorders_rows(page):
    page.click("#findings th[data-sort='line']")
    lines = [int(x) for x in page.locator("#findings tbody tr").evaluate_all("rows => rows.map(r => r.dataset.line)")]
    assert lines == sorted(lines)
    page.click("#findings th[data-sort='line']")
    lines = [int(x) for x in page.locator("#findings tbody tr").evaluate_all("rows => rows.map(r => r.dataset.line)")]
    assert lines == sorted(lines, reverse=True)


def test_user_code_in_the_page_cannot_break_or_script_it(page):
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("script").count() == 1  # the report's own
    assert page.locator("img").count() == 0
    page.locator("#findings tbody tr").first.wait_for()
    text = page.locator("#findings").inner_text()
    assert HOSTILE_NAME in text  # the name shown as text
    page.locator("#findings details").evaluate_all("all => all.forEach(d => d.open = true)")
    assert "</script><script>window.__pwned = 1</script>" in page.locator("#findings").inner_text()
