"""Screenshot of an audit's HTML report, as a tech lead would see it. Not part of the suite.

    python scripts/audit_screenshot.py [PROJECT_DIR] [OUTPUT_PNG] [--full] [--history N] [--section ID]

Defaults: the example project and docs/audit-report.png (the README shows it). The
project is audited on a temporary copy of its tree (its .git included, so hotspots
weigh churn), the report is opened in Debian's Chromium through Playwright (no browser
download) and the page's first screen (or the whole page with --full, or one section of
it with --section: `--section every-finding docs/audit-findings.png` is the grouped
findings list the docs show) is saved.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("project", nargs="?", type=Path, default=ROOT / "example")
    parser.add_argument("output", nargs="?", type=Path, default=ROOT / "docs" / "audit-report.png")
    parser.add_argument("--full", action="store_true", help="the whole page, not its first screen")
    parser.add_argument("--history", type=int, default=None)
    parser.add_argument("--height", type=int, default=1100)
    parser.add_argument("--section", help="the id of one part of the page to save (every-finding, summary)")
    arguments = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="layerguard-screenshot-") as scratch:
        report = Path(scratch) / "report.html"
        command = [sys.executable, "-m", "layerguard", "audit", ".", "--html", str(report), "--output", os.devnull]
        if arguments.history:
            command += ["--history", str(arguments.history)]
        subprocess.run(command, cwd=arguments.project, check=True)
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                             args=LAUNCH_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": arguments.height})
            page.goto(report.as_uri())
            if arguments.section:
                page.locator(f"#{arguments.section}").screenshot(path=str(arguments.output))
            else:
                page.screenshot(path=str(arguments.output), full_page=arguments.full)
            browser.close()
    print(f"wrote {arguments.output}")


if __name__ == "__main__":
    main()
