"""`layerguard audit`: the report a tech lead reads about a legacy codebase.

A consumer of the check, like a reporter (STYLE.md §6): the engine runs every rule
once and hands back its violations (suppressed and baselined ones apart) with the
project model it built; collect.py turns them into plain aggregates (score.py,
coupling.py, hotspots.py), and text.py, html.py, markdown.py and the JSON render
them. history.py repeats the check on past commits read from git objects.
"""

from __future__ import annotations

from layerguard.audit.collect import Audit, collect, run_audit

__all__ = ["Audit", "collect", "run_audit"]
