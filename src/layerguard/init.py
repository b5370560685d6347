"""`layerguard init`: a commented `[tool.layerguard]` section for the layout it finds.

Edits pyproject.toml with tomlkit so the rest of the file (comments, order, spacing)
is untouched; never replaces an existing section without --force.
"""

from __future__ import annotations

from pathlib import Path

import tomlkit

from layerguard.config import (DEFAULT_SELECTOR_MODULES, DEFAULT_SERVICE_MODULES, DEFAULT_VIEW_MODULES,
                               Settings)
from layerguard.project import ProjectModel


class InitError(Exception):
    pass


def config_table(project: ProjectModel, with_baseline: bool) -> tomlkit.items.Table:
    apps = sorted(project.apps.values(), key=lambda app: app.label)
    services = sorted(p for p in project.facts_by_path if project.is_service_module(p))
    table = tomlkit.table()
    table.add(tomlkit.comment("Written by `layerguard init`. Rules: `layerguard rules`; docs: `layerguard explain CODE`."))
    app_list = ", ".join(f"{a.label} ({a.directory or '.'}/)" for a in apps) or "none found"
    table.add(tomlkit.comment(f"Apps found: {app_list}"))
    table.add(tomlkit.comment(f"Service modules found: {', '.join(services[:8]) or 'none yet'}"
                              + (" ..." if len(services) > 8 else "")))
    table.add("select", ["LG"])
    table.add("ignore", tomlkit.array())
    table.add("service-modules", DEFAULT_SERVICE_MODULES)
    table.add("selector-modules", DEFAULT_SELECTOR_MODULES)
    table.add("view-modules", DEFAULT_VIEW_MODULES)
    if with_baseline:
        table.add("baseline", ".layerguard-baseline.json")
    else:
        table.add(tomlkit.comment('baseline = ".layerguard-baseline.json"  # see `layerguard init --baseline`'))
    lint = tomlkit.table(is_super_table=True)
    complexity = tomlkit.table()
    complexity.add("max-complexity", 10)
    lint.add("LG203", complexity)
    allow = tomlkit.table()
    allow.add(tomlkit.comment("Shared apps any app may reference (a `core` kernel, say)."))
    allow.add("allow", ["auth", "contenttypes", "sites"])
    lint.add("LG401", allow)
    table.add("lint", lint)
    return table


def write_config(root: Path, table: tomlkit.items.Table, force: bool) -> Path:
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        document = tomlkit.parse(pyproject.read_text(encoding="utf-8"))
        tool = document.setdefault("tool", tomlkit.table(is_super_table=True))
        if "layerguard" in tool and not force:
            raise InitError(f"{pyproject} already has a [tool.layerguard] section (use --force to replace it)")
        tool["layerguard"] = table
        pyproject.write_text(tomlkit.dumps(document), encoding="utf-8")
        return pyproject
    target = root / "layerguard.toml"
    if target.exists() and not force:
        raise InitError(f"{target} already exists (use --force to replace it)")
    document = tomlkit.document()
    for key, value in table.items():
        document.add(key, value)
    target.write_text(tomlkit.dumps(document), encoding="utf-8")
    return target


def default_settings(root: Path) -> Settings:
    return Settings(root=root)
