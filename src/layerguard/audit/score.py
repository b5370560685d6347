"""The adoption score: how far the code already is in the service-layer style.

Four shares, each of something counted in the project model, each in [0, 1]:

- writes:      ORM writes inside service modules / all ORM writes (inside services,
               plus LG101 findings, suppressed and baselined ones included);
- views:       view functions and methods with no LG2 finding / all of them;
- serializers: serializer classes with no LG3 finding / all of them;
- coupling:    cross-app references (relation fields, model imports) whose target is
               an allowed app / all cross-app references.

score = 100 x the mean of the shares whose denominator is not zero, rounded to one
decimal; a share with nothing to count (a project without serializers) is left out,
not counted as 1. docs/audit.md states the same formula.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from layerguard.checkers.app_boundaries import allowed_apps, import_references, relation_references
from layerguard.checkers.base import FileContext
from layerguard.orm import WRITE_METHODS
from layerguard.project import ProjectModel
from layerguard.violation import Violation


@dataclass(frozen=True)
class Share:
    name: str
    description: str
    good: int
    total: int

    @property
    def value(self) -> float | None:
        return self.good / self.total if self.total else None

    def to_json(self) -> dict:
        return {"name": self.name, "description": self.description, "good": self.good, "total": self.total,
                "share": None if self.value is None else round(self.value, 4)}


@dataclass(frozen=True)
class AdoptionScore:
    shares: tuple[Share, ...]

    @property
    def value(self) -> float | None:
        known = [share.value for share in self.shares if share.value is not None]
        return round(100 * sum(known) / len(known), 1) if known else None

    def to_json(self) -> dict:
        return {"score": self.value, "parts": [share.to_json() for share in self.shares]}


def adoption_score(project: ProjectModel, sources: dict[str, bytes], findings: list[Violation]) -> AdoptionScore:
    """`findings`: every violation of the run (open, suppressed, baselined), root-relative paths."""
    return AdoptionScore((
        _writes(project, sources, findings),
        _thin("views", "view functions and methods with no LG2 finding", _views(project), "LG2", project, findings),
        _thin("serializers", "serializer classes with no LG3 finding", _serializers(project), "LG3", project, findings),
        _coupling(project),
    ))


def _checked(project: ProjectModel) -> list[str]:
    return sorted(path for path, facts in project.facts_by_path.items()
                  if facts.parse_error is None and not project.is_exempt(path))


def writes_in_services(project: ProjectModel, sources: dict[str, bytes]) -> int:
    """ORM writes in service modules, typed by the same model LG101 uses (a call of a
    write method whose receiver is a model, a queryset or a related manager)."""
    count = 0
    for path in _checked(project):
        if not project.is_service_module(path) or path not in sources:
            continue
        context = FileContext(path, sources[path], project.facts_by_path[path], project, project.settings)
        for call in context.calls:
            if isinstance(call.func, ast.Attribute) and call.func.attr in WRITE_METHODS \
                    and context.types.write_of(call) is not None:
                count += 1
    return count


def _writes(project: ProjectModel, sources: dict[str, bytes], findings: list[Violation]) -> Share:
    inside = writes_in_services(project, sources)
    outside = sum(1 for v in findings if v.code == "LG101")
    return Share("writes", "ORM writes that live in service modules", inside, inside + outside)


def _views(project: ProjectModel) -> dict[tuple[str, int], str]:
    """(path, def line) -> qualname of every view function and method."""
    return {(path, function.line): function.qualname
            for path in _checked(project) for function in project.view_functions(path)}


def _serializers(project: ProjectModel) -> dict[tuple[str, int], str]:
    """(path, class line) -> qualname of every serializer class."""
    found = {}
    for path in _checked(project):
        for cls in project.facts_by_path[path].classes:
            if cls.bases and project.is_serializer_class(project.class_qualname(path, cls)):
                found[(path, cls.line)] = cls.qualname
    return found


def _thin(name: str, description: str, units: dict[tuple[str, int], str], family: str, project: ProjectModel,
          findings: list[Violation]) -> Share:
    fat = set()
    for violation in findings:
        if not violation.code.startswith(family) or violation.path not in project.facts_by_path:
            continue
        classes, functions = project.enclosing(violation.path, violation.line)
        for definition in [*reversed(functions), *reversed(classes)]:
            if (violation.path, definition.line) in units:
                fat.add((violation.path, definition.line))
                break
    return Share(name, description, len(units) - len(fat), len(units))


def cross_app_references(project: ProjectModel) -> list:
    """Every cross-app relation field and model import, as `layerguard graph` draws them."""
    found = list(relation_references(project))
    for path, module in sorted(project.modules_by_path.items()):
        if project.is_exempt(path) or project.is_model_module(path) or module.facts.parse_error:
            continue
        found.extend(import_references(project, module))
    return found


def _coupling(project: ProjectModel) -> Share:
    allowed = {"field": allowed_apps(project.settings, "LG401"), "import": allowed_apps(project.settings, "LG402")}
    references = cross_app_references(project)
    good = sum(1 for r in references if r.target_app in allowed["import" if r.kind == "import" else "field"])
    return Share("coupling", "cross-app references that go through allowed apps", good, len(references))
