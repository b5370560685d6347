"""`--format text`: one line per violation as ruff prints them, then a summary."""

from __future__ import annotations

from rich.markup import escape

from layerguard.report import Report


def render(report: Report, color: bool = False) -> str:
    """Plain text, or rich markup when `color` (the CLI prints it through rich on a terminal)."""
    lines = []
    for v in report.violations:
        if color:
            lines.append(
                f"[bold]{escape(v.path)}[/bold][cyan]:[/cyan]{v.line}[cyan]:[/cyan]{v.column}[cyan]:[/cyan] "
                f"[bold red]{v.code}[/bold red] {escape(v.message)}"
            )
        else:
            lines.append(f"{v.path}:{v.line}:{v.column}: {v.code} {v.message}")
    count = len(report.violations)
    extras = []
    if report.suppressed:
        extras.append(f"{report.suppressed} suppressed")
    if report.baselined:
        extras.append(f"{report.baselined} in the baseline")
    if report.skipped:
        extras.append(f"{len(report.skipped)} skipped")
    if report.fixed:
        extras.append(f"{len(report.fixed)} baseline entr{'ies' if len(report.fixed) != 1 else 'y'} fixed: "
                      "run --write-baseline to ratchet")
    tail = f" ({', '.join(extras)})" if extras else ""
    if count:
        lines.append(f"Found {count} error{'s' if count != 1 else ''} "
                     f"({report.files} file{'s' if report.files != 1 else ''} checked{', ' if extras else ''}"
                     f"{', '.join(extras)}).")
    else:
        lines.append(f"All checks passed! {report.files} file{'s' if report.files != 1 else ''} checked{tail}.")
    if report.untyped is not None:
        lines.append(f"LG101 stayed silent on {len(report.untyped)} write-shaped "
                     f"call{'s' if len(report.untyped) != 1 else ''} it could not type (--show-untyped):")
        for u in report.untyped:
            text = f"{u['path']}:{u['line']}:{u['column']}: {u['call']}: {u['reason']}"
            lines.append(escape(text) if color else text)
    return "\n".join(lines) + "\n"
