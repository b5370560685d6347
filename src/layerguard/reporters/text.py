"""`--format text`: one line per violation as ruff prints them, then a summary."""

from __future__ import annotations

from collections import Counter

from rich.markup import escape

from layerguard.report import Report


def render(report: Report, color: bool = False) -> str:
    """Plain text, or rich markup when `color` (the CLI prints it through rich on a terminal)."""
    lines = []
    for v in report.violations:
        if color:
            lines.append(
                f"[bold]{escape(v.path)}[/bold][cyan]:[/cyan]{v.line}[cyan]:[/cyan]{v.column}[cyan]:[/cyan] "
                f"[bold red]{v.code}[/bold red]{escape(fix_marker(v))} {escape(v.message)}"
            )
        else:
            lines.append(f"{v.path}:{v.line}:{v.column}: {v.code}{fix_marker(v)} {v.message}")
    lines.append(summary(report))
    lines.extend(untyped_lines(report, color))
    return "\n".join(lines) + "\n"


def untyped_lines(report: Report, color: bool = False) -> list[str]:
    """--show-untyped: the write-shaped calls LG101 could not type."""
    if report.untyped is None:
        return []
    lines = [f"LG101 stayed silent on {len(report.untyped)} write-shaped "
             f"call{'s' if len(report.untyped) != 1 else ''} it could not type (--show-untyped):"]
    for u in report.untyped:
        text = f"{u['path']}:{u['line']}:{u['column']}: {u['call']}: {u['reason']}"
        lines.append(escape(text) if color else text)
    return lines


def summary(report: Report) -> str:
    """The closing line: how many, how many files, what was suppressed or is fixable."""
    count = len(report.violations)
    extras = []
    if report.suppressed:
        extras.append(f"{report.suppressed} suppressed")
    if report.baselined:
        extras.append(f"{report.baselined} in the baseline")
    if report.skipped:
        extras.append(f"{len(report.skipped)} skipped")
    fixable = Counter(v.fix for v in report.violations if v.fix != "none")
    if fixable:
        extras.append(fixable_summary(fixable))
    if report.fixed:
        extras.append(f"{len(report.fixed)} baseline entr{'ies' if len(report.fixed) != 1 else 'y'} fixed: "
                      "run --write-baseline to ratchet")
    tail = f" ({', '.join(extras)})" if extras else ""
    if count:
        return (f"Found {count} error{'s' if count != 1 else ''} "
                f"({report.files} file{'s' if report.files != 1 else ''} checked{', ' if extras else ''}"
                f"{', '.join(extras)}).")
    return f"All checks passed! {report.files} file{'s' if report.files != 1 else ''} checked{tail}."


def fix_marker(violation) -> str:
    """ruff's `[*]` for a fix `--fix` applies; `[*unsafe]` for one that needs `--unsafe-fixes`."""
    return {"safe": " [*]", "unsafe": " [*unsafe]"}.get(violation.fix, "")


def fixable_summary(fixable: Counter) -> str:
    parts = []
    if fixable["safe"]:
        parts.append(f"{fixable['safe']} fixable with --fix")
    if fixable["unsafe"]:
        parts.append(f"{fixable['unsafe']} with --fix --unsafe-fixes")
    return ", ".join(parts)
