"""`audit --markdown FILE`: the report for a pull request description or a wiki page
(GitHub-flavoured tables; the coupling as a Mermaid block GitHub renders).

The template is autoescaped like the HTML one (GitHub renders HTML inside markdown, so
`<` in user code must stay text); `cell` also escapes what would end a table cell or
start markdown formatting.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from layerguard.audit.collect import FAMILIES, Audit
from layerguard.audit.html import environment

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]|#~])")


def cell(value: object) -> Markup:
    """Text safe inside a GitHub table cell: HTML-escaped, markdown specials backslashed,
    on one line."""
    text = " ".join(str(value).split())
    return Markup(_MARKDOWN_SPECIALS.sub(r"\\\1", str(escape(text))))


def mermaid_label(value: str) -> str:
    """An app label inside Mermaid's ["..."]: quotes and angle brackets as entities."""
    text = " ".join(value.split())
    for raw, entity in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;")):
        text = text.replace(raw, entity)
    return text


def mermaid(audit: Audit) -> str:
    coupling = audit.coupling
    apps = sorted({e["from"] for e in coupling["edges"]} | {e["to"] for e in coupling["edges"]})
    ids = {app: f"app{index}" for index, app in enumerate(apps)}
    lines = ["graph LR"]
    lines += [f'    {ids[app]}["{mermaid_label(app)}"]' for app in apps]
    red = []
    for index, edge in enumerate(coupling["edges"]):
        label = " + ".join(part for part in (f"{edge['foreign_keys']} FK" if edge["foreign_keys"] else "",
                                             f"{edge['imports']} imp" if edge["imports"] else "") if part)
        lines.append(f'    {ids[edge["from"]]} -->|"{label}"| {ids[edge["to"]]}')
        if edge["in_cycle"]:
            red.append(str(index))
    if red:
        lines.append(f"    linkStyle {','.join(red)} stroke:#e03131,stroke-width:2px")
    return "\n".join(lines)


def render_markdown(audit: Audit) -> str:
    env = environment()
    env.filters["cell"] = cell
    # The Mermaid text is built above from escaped labels; it goes in a code block verbatim.
    return env.get_template("report.md.j2").render(audit=audit, families=FAMILIES, worst=audit.worst_app(),
                                                   mermaid=Markup(mermaid(audit)) if audit.coupling["edges"] else None)
