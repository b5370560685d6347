"""The audit's terminal summary, with rich tables (plain text when not a terminal)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from layerguard.audit.collect import FAMILIES, Audit


def density_style(density: float) -> str:
    """Findings per 1,000 lines -> a colour: the same thresholds as the HTML report."""
    if density <= 0:
        return "dim"
    if density < 2:
        return "green"
    if density < 10:
        return "yellow"
    return "bold red"


def render(audit: Audit, console: Console) -> None:
    score = audit.score["score"]
    console.print(Text.assemble(("layerguard audit", "bold"), f" of {audit.name}: {audit.files} files, "
                                f"{audit.lines:,} lines; adoption score ",
                                (f"{score:.1f}/100" if score is not None else "n/a", "bold cyan")),
                  soft_wrap=True)  # one line, however long the project's name: it is read and grepped whole
    worst = audit.worst_app()
    if worst:
        console.print(f"worst app: {worst['app']} ({worst['total']} findings, {worst['density_total']:.1f} per "
                      f"1,000 lines)")
    parts = _table(console, None, "part of the score", "good", "of", "share")
    for part in audit.score["parts"]:
        share = f"{100 * part['share']:.1f}%" if part["share"] is not None else "n/a (nothing to count)"
        parts.add_row(part["description"], str(part["good"]), str(part["total"]), share)
    console.print(parts)

    families = _table(console, "Findings per rule family", "family", "what", "open", "baselined", "suppressed", "total")
    for name, label in FAMILIES.items():
        counts = audit.families[name]
        families.add_row(name, label, *(str(counts[k]) for k in ("open", "baselined", "suppressed", "total")))
    console.print(families)

    apps = _table(console, "Findings per app (colour: findings per 1,000 lines)",
                  "app", "lines", *FAMILIES, "total", "per kloc")
    for row in audit.apps:
        if not row["total"] and not row["lines"]:
            continue
        cells = [Text(str(row["families"][name]) if row["families"][name] else "·",
                      style=density_style(row["density"][name])) for name in FAMILIES]
        apps.add_row(row["app"], f"{row['lines']:,}", *cells, str(row["total"]),
                     Text(f"{row['density_total']:.1f}", style=density_style(row["density_total"])))
    console.print(apps)

    weighted = "findings x (1 + commits in the last %d days)" % audit.churn_days if audit.git else "findings"
    for title, spots in (("Hotspot files", audit.file_hotspots), ("Hotspot functions", audit.function_hotspots)):
        table = _table(console, f"{title} (ranked by {weighted})",
                       "#", "where", "findings", "commits" if audit.git else "", "weight", "rules")
        for rank, spot in enumerate(spots, 1):
            where = spot["path"] + (f":{spot['line']} {spot['name']}" if spot["name"] else "")
            table.add_row(str(rank), where, str(spot["findings"]), str(spot["changes"]) if audit.git else "",
                          str(spot["weight"]), ", ".join(f"{c}x{n}" for c, n in spot["by_code"].items()))
        console.print(table)

    coupling = audit.coupling
    edges = sorted(coupling["edges"], key=lambda e: (-(e["foreign_keys"] + e["imports"]), e["from"], e["to"]))
    table = _table(console, f"Coupling between apps ({len(edges)} dependencies, {len(coupling['cycles'])} cycles)",
                   "from", "to", "FKs", "imports", "cycle")
    for edge in edges[:15]:
        table.add_row(edge["from"], edge["to"], str(edge["foreign_keys"]), str(edge["imports"]),
                      Text("yes", style="red") if edge["in_cycle"] else "")
    console.print(table)
    if len(edges) > 15:
        console.print(f"  ... and {len(edges) - 15} more (the HTML report has the full matrix)")
    for cycle in coupling["cycles"][:10]:
        console.print(Text(f"  cycle: {' -> '.join(cycle)}", style="red"))
    if len(coupling["cycles"]) > 10:
        console.print(f"  ... and {len(coupling['cycles']) - 10} more cycles")
    if coupling["tangles"]:
        largest = coupling["tangles"][0]
        console.print(Text(f"  largest tangle (apps that all reach each other): {len(largest)} apps: "
                           f"{', '.join(largest)}", style="red"))

    martin = _table(console, "Martin metrics per app (Ca: apps that depend on it, Ce: apps it depends on)",
                    "app", "Ca", "Ce", "I = Ce/(Ca+Ce)")
    for metrics in audit.martin:
        if metrics["ca"] or metrics["ce"]:
            martin.add_row(metrics["app"], str(metrics["ca"]), str(metrics["ce"]),
                           f"{metrics['instability']:.2f}" if metrics["instability"] is not None else "")
    console.print(martin)

    if audit.history:
        history = _table(console, "Trend over history (oldest first)", "commit", "date", *FAMILIES, "total", "score")
        for point in audit.history:
            history.add_row(point["commit"][:10], point["date"][:10], *(str(point["families"].get(n, 0))
                                                                       for n in FAMILIES),
                            str(point["total"]), f"{point['score']:.1f}" if point["score"] is not None else "n/a")
        console.print(history)


def _table(console: Console, heading: str | None, *columns: str) -> Table:
    """A borderless table; its heading printed on a line of its own (a title would wrap
    to the table's width)."""
    if heading:
        console.print()
        console.print(Text(heading, style="bold"))
    return Table(*columns, box=None, pad_edge=False)
