"""`--format github`: GitHub Actions workflow commands, one annotation per violation."""

from __future__ import annotations

from layerguard.report import Report


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, color: bool = False) -> str:
    lines = [
        f"::error file={_escape_property(v.path)},line={v.line},col={v.column},endLine={v.end_line},"
        f"endColumn={v.end_column},title={_escape_property(v.code)}::{_escape_data(v.message)}"
        for v in report.violations
    ]
    return "".join(line + "\n" for line in lines)
