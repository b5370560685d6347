"""`--format junit`: one test case per checked file, a failure per violation in it.

For CI systems that show test reports (GitLab, Jenkins, Azure): a clean file is a
passing test, so the report also shows what was checked.
"""

from __future__ import annotations

from collections import defaultdict
from xml.etree import ElementTree

from layerguard.checkers import RULES_BY_CODE
from layerguard.report import Report


def render(report: Report, color: bool = False) -> str:
    by_path = defaultdict(list)
    for violation in report.violations:
        by_path[violation.path].append(violation)
    paths = sorted(set(report.checked_paths) | set(by_path))
    suites = ElementTree.Element("testsuites", name="layerguard", tests=str(len(paths)),
                                 failures=str(sum(1 for p in paths if by_path[p])))
    suite = ElementTree.SubElement(suites, "testsuite", name="layerguard", tests=str(len(paths)),
                                   failures=str(sum(1 for p in paths if by_path[p])), errors="0", skipped="0")
    for path in paths:
        case = ElementTree.SubElement(suite, "testcase", classname="layerguard", name=path, file=path)
        for v in by_path[path]:
            failure = ElementTree.SubElement(case, "failure", type=v.code,
                                             message=f"{v.code} {RULES_BY_CODE[v.code].name}: {v.message}")
            failure.text = f"{v.path}:{v.line}:{v.column}: {v.code} {v.message}"
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
