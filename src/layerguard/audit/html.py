"""`audit --html FILE`: one self-contained page (inline CSS, SVG and a little JavaScript;
nothing from the network), for a slide, a printout or a team meeting.

Python decides what the page shows (every count, position and colour below); the
Jinja2 template, with autoescaping on, only lays it out. User code and paths enter the
page only as autoescaped text or attribute values, never inside the script, and the
page's Content-Security-Policy allows no network request and only its own script (by
hash), so even a missed escape could not run code.
"""

from __future__ import annotations

import base64
import hashlib
import math
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from layerguard import __version__
from layerguard.audit.collect import FAMILIES, Audit
from layerguard.audit.text import density_style
from layerguard.checkers import RULES_BY_CODE

TEMPLATES = Path(__file__).parent / "templates"
FAMILY_COLOURS = {"LG1": "#d9480f", "LG2": "#1971c2", "LG3": "#7048e8", "LG4": "#2f9e44", "LG5": "#e67700",
                  "LG9": "#868e96"}
DENSITY_COLOURS = {"dim": "transparent", "green": "#d3f9d8", "yellow": "#fff3bf", "bold red": "#ffc9c9"}


def environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2", "md"],
                       default=True), trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_html(audit: Audit) -> str:
    env = environment()
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    return env.get_template("report.html.j2").render(
        audit=audit, version=__version__, families=FAMILIES, colours=FAMILY_COLOURS, script=script,
        script_hash=f"sha256-{digest}", worst=audit.worst_app(),
        rule_bars=_bars([(code, n, FAMILY_COLOURS.get(code[:3], "#868e96")) for code, n in audit.by_code.items()]),
        app_bars=_app_bars(audit), cells=_cells(audit), graph=_graph(audit), trend=_trend(audit),
        finding_groups=finding_groups(audit),
        apps_with_findings=sorted({f.app for f in audit.findings}),
        codes_with_findings=sorted({f.violation.code for f in audit.findings}),
    )


def finding_groups(audit: Audit) -> list[dict]:
    """The findings as the page lists them: by app, the app with the most findings
    first, then by rule within the app, the most frequent rule first (ties by name and
    code); inside a rule group, by path and line (collect.py's order)."""
    by_app: dict[str, dict[str, list]] = {}
    for finding in audit.findings:
        by_app.setdefault(finding.app, {}).setdefault(finding.violation.code, []).append(finding)
    groups = []
    for app, by_code in by_app.items():
        rules = [{"code": code, "name": RULES_BY_CODE[code].name if code in RULES_BY_CODE else code,
                  "count": len(found), "findings": found} for code, found in by_code.items()]
        rules.sort(key=lambda rule: (-rule["count"], rule["code"]))
        groups.append({"app": app, "count": sum(rule["count"] for rule in rules), "rules": rules})
    return sorted(groups, key=lambda group: (-group["count"], group["app"]))


def _bars(rows: list[tuple[str, int, str]]) -> list[dict]:
    top = max((n for _, n, _ in rows), default=0) or 1
    return [{"label": label, "count": n, "width": round(100 * n / top, 1), "colour": colour}
            for label, n, colour in rows]


def _app_bars(audit: Audit) -> list[dict]:
    rows = [a for a in audit.apps if a["total"]]
    top = max((a["total"] for a in rows), default=0) or 1
    bars = []
    for app in sorted(rows, key=lambda a: (-a["total"], a["app"])):
        segments = [{"family": name, "count": n, "width": round(100 * n / top, 2), "colour": FAMILY_COLOURS[name]}
                    for name, n in app["families"].items() if n]
        bars.append({"label": app["app"], "count": app["total"], "density": app["density_total"], "segments": segments})
    return bars


def _cells(audit: Audit) -> dict[tuple[str, str], str]:
    return {(row["app"], name): DENSITY_COLOURS[density_style(row["density"][name])]
            for row in audit.apps for name in FAMILIES}


def _graph(audit: Audit) -> dict:
    """A circular layout of the apps that take part in any dependency: readable up to a
    few dozen apps (the matrix stays readable beyond)."""
    coupling = audit.coupling
    apps = sorted({e["from"] for e in coupling["edges"]} | {e["to"] for e in coupling["edges"]})
    size = 560 if len(apps) <= 12 else 760
    radius = size / 2 - 90
    centre = size / 2
    positions = {}
    for index, app in enumerate(apps):
        angle = 2 * math.pi * index / max(1, len(apps)) - math.pi / 2
        positions[app] = (round(centre + radius * math.cos(angle), 1), round(centre + radius * math.sin(angle), 1))
    top = max((e["foreign_keys"] + e["imports"] for e in coupling["edges"]), default=1) or 1
    edges = []
    for edge in coupling["edges"]:
        (x1, y1), (x2, y2) = positions[edge["from"]], positions[edge["to"]]
        length = math.hypot(x2 - x1, y2 - y1) or 1
        shorten = 14  # stop at the node's circle, so the arrowhead shows
        x2s, y2s = x2 - (x2 - x1) * shorten / length, y2 - (y2 - y1) * shorten / length
        total = edge["foreign_keys"] + edge["imports"]
        edges.append({"from": edge["from"], "to": edge["to"], "x1": x1, "y1": y1, "x2": round(x2s, 1),
                      "y2": round(y2s, 1), "width": round(1 + 3 * total / top, 1), "cycle": edge["in_cycle"],
                      "title": f"{edge['from']} -> {edge['to']}: {edge['foreign_keys']} FK, {edge['imports']} imports"})
    nodes = []
    for app, (x, y) in positions.items():
        side = "start" if x > centre + 1 else ("end" if x < centre - 1 else "middle")  # label beside the node
        offset = {"start": 12, "end": -12, "middle": 0}[side]
        below = -14 if y < centre else 18  # the top and bottom nodes' labels above and below them
        nodes.append({"app": app, "x": x, "y": y, "anchor": side, "lx": round(x + offset, 1),
                      "ly": round(y + (below if side == "middle" else 4), 1)})
    return {"size": size, "nodes": nodes, "edges": edges}


def _trend(audit: Audit) -> dict | None:
    """Line chart of the per-family totals and the score over the sampled commits."""
    points = audit.history
    if len(points) < 1:
        return None
    width, height, left, bottom, top_margin = 720, 260, 48, 40, 16
    top = max((p["total"] for p in points), default=1) or 1
    step = (width - left - 20) / max(1, len(points) - 1)

    def xy(index: int, value: float, maximum: float) -> str:
        y = height - bottom - (height - bottom - top_margin) * value / maximum
        return f"{round(left + index * step, 1)},{round(y, 1)}"

    series = [{"name": "all findings", "colour": "#212529",
               "points": " ".join(xy(i, p["total"], top) for i, p in enumerate(points))}]
    for name in FAMILIES:
        if any(p["families"].get(name) for p in points):
            series.append({"name": f"{name} {FAMILIES[name]}", "colour": FAMILY_COLOURS[name],
                           "points": " ".join(xy(i, p["families"].get(name, 0), top) for i, p in enumerate(points))})
    score = " ".join(xy(i, p["score"] or 0, 100) for i, p in enumerate(points))
    labels = [{"x": round(left + i * step, 1), "text": p["commit"][:7], "date": p["date"][:10]}
              for i, p in enumerate(points)]
    return {"width": width, "height": height, "left": left, "bottom": height - bottom, "top": top,
            "series": series, "score": score, "labels": labels}
