"""Fixes: which violations have one (assess_fixes, during the check) and the edits
that apply them (plan_fixes, for `check --fix` and the language server).

A rule declares its fix as ruff does (`fix_kind`, `fix_safety` on the rule class);
one module per fix kind finds what it would move (extract_to_service,
extract_transaction), regions.py decides whether the move keeps behaviour, and
codemod.py does the libcst edit. Nothing here writes a file: writer.py does, and
only for `--fix`.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import PurePosixPath

from layerguard.checkers import RULES_BY_CODE
from layerguard.checkers.base import FileContext
from layerguard.config import Settings
from layerguard.fixes import extract_to_service, extract_transaction
from layerguard.fixes.regions import Refusal, Region, analyse, import_parts, service_name, snake, verb_from_names
from layerguard.globs import PathMatcher
from layerguard.project import ProjectModel
from layerguard.violation import Violation

CRUD_METHODS = {"create": "create", "update": "update", "partial_update": "update", "destroy": "delete",
                "delete": "delete"}
FIX_KINDS = {"extract-to-service": extract_to_service, "extract-transaction": extract_transaction}
SAFETIES = ("safe", "unsafe")


@dataclass(frozen=True)
class FileEdit:
    """A whole-file edit: root-relative path, text before (None: a new file) and after."""

    path: str
    before: str | None
    after: str


@dataclass
class FixPlan:
    edits: list[FileEdit] = field(default_factory=list)
    # The violations the edits fix, and those that were offered a fix the plan could not
    # apply after all (with why), both with root-relative paths.
    fixed: list[Violation] = field(default_factory=list)
    not_applied: list[tuple[Violation, str]] = field(default_factory=list)


def assess_fixes(violations: list[Violation], context: FileContext) -> list[Violation]:
    """Each violation with `fix` and `fix_note` set: its rule's fix safety when the fix
    applies here, else "none" and, for a rule that has a fix, why not."""
    assessed = []
    for violation in violations:
        rule = RULES_BY_CODE.get(violation.code)
        kind = getattr(rule, "fix_kind", None)
        if kind is None:
            assessed.append(violation)
            continue
        try:
            prepared = prepare(context, violation)
        except Exception as error:  # a fix that cannot be planned must not cost the finding
            if os.environ.get("LAYERGUARD_DEBUG"):
                raise
            prepared = Refusal(f"layerguard could not plan it ({type(error).__name__}); please report this")
        if isinstance(prepared, Refusal):
            assessed.append(replace(violation, fix="none", fix_note=f"no fix: {prepared.reason}"))
        else:
            note = f"{FIX_KINDS[kind].DESCRIPTION} `{service_name(prepared[0], _app_label(context.project, context.path))}` in {prepared[1]}"
            assessed.append(replace(violation, fix=rule.fix_safety, fix_note=note))
    return assessed


def prepare(context: FileContext, violation: Violation) -> tuple[Region, str] | Refusal:
    """The region the violation's fix moves, analysed, and the service module it goes to."""
    rule = RULES_BY_CODE[violation.code]
    found = FIX_KINDS[rule.fix_kind].region_for(context, violation)
    if isinstance(found, Refusal):
        return found
    project = context.project
    target = service_module_path(project, context.path)
    if isinstance(target, Refusal):
        return target
    if project.is_model_module(context.path):
        return Refusal("a model module calling a service would make models and services import each other")
    analysed = analyse(found, context.tree, lambda name: _is_request(context, found, name))
    if isinstance(analysed, Refusal):
        return analysed
    delivery = _delivery_import(context, analysed)
    if delivery is not None:
        return Refusal(f"the code uses `{delivery}` from the delivery layer: the service would import it (LG501)")
    foreign = _other_apps_model(context, analysed)
    if foreign is not None:
        name, app = foreign
        return Refusal(f"the code uses `{name}`, a model of the app `{app}`: the service would import it (LG402); "
                       f"call a service of `{app}` instead")
    _name_the_verb(context, analysed)
    _annotate(context, analysed)
    return analysed, target


def service_module_path(project: ProjectModel, path: str) -> str | Refusal:
    """The owning app's service module (`service-modules` respected)."""
    app = project.app_of(path)
    if app is None:
        return Refusal("the file belongs to no Django app, so there is no service module to move to")
    prefix = f"{app.directory}/" if app.directory else ""
    if f"{prefix}services/__init__.py" in project.facts_by_path:
        return Refusal(f"the app's services are a package ({prefix}services/): which module is yours to choose")
    target = f"{prefix}services.py"
    if not project.is_service_module(target):
        return Refusal(f"{target} is not a service module under this project's `service-modules`")
    return target


def dotted_module(project: ProjectModel, source_path: str, target_path: str) -> tuple[str, str]:
    """The dotted name `target_path` (maybe a new file) is imported by, from the checked
    file's own dotted name; and the checked file's package, for its relative imports.
    Where the checked file's name cannot reach the target (it sits in a directory without
    `__init__.py` inside a package: taiga's `importers/asana/`, an app's `management/`),
    both are named as Python imports them (import_name): a fix wrote `from ...services
    import x` there."""
    module = project.modules_by_path[source_path]
    parts = module.name.split(".")
    source = PurePosixPath(source_path)
    depth = len(parts) - (0 if module.is_package else 1)
    base = source.parent
    for _ in range(depth):
        base = base.parent
    relative = PurePosixPath(posixpath.relpath(target_path, base.as_posix() if str(base) != "." else "."))
    if ".." in relative.parts:
        name = import_name(project, source_path)
        return import_name(project, target_path), name if module.is_package else name.rpartition(".")[0]
    dotted = ".".join(relative.with_suffix("").parts)
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    return dotted, package


def import_name(project: ProjectModel, path: str) -> str:
    """The dotted name Python imports `path` by: from its outermost package down, a
    directory without `__init__.py` inside a package counted too (a namespace package:
    taiga's `importers/asana/`, an app's `management/`); the project model names such a
    module from below the gap only (`importer`)."""
    parts = path.split("/")
    directories = parts[:-1]
    outermost = next((depth for depth in range(1, len(directories) + 1)
                      if "/".join(directories[:depth]) + "/__init__.py" in project.modules_by_path), None)
    module = parts[-1][:-3] if parts[-1].endswith(".py") else parts[-1]
    names = directories[outermost - 1:] if outermost is not None else []
    if module != "__init__" or not names:
        names = [*names, module]
    return ".".join(names)


def _delivery_import(context: FileContext, region: Region) -> str | None:
    """A name the moved code needs whose import the service module may not have."""
    from layerguard.checkers.lg501_http_in_service import DELIVERY_PACKAGES

    module = context.module
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    delivery_modules = _delivery_modules(tuple(context.settings.view_modules))
    for name, binding in region.imports.items():
        for module_name, obj, _ in import_parts(binding, name, package):
            if module_name.startswith(DELIVERY_PACKAGES):
                return name
            imported = context.project.modules_by_name.get(module_name)
            if imported is not None and delivery_modules.matches(imported.path):
                return name
    return None


@lru_cache(maxsize=4)
def _delivery_modules(view_modules: tuple[str, ...]) -> PathMatcher:
    """Built once per run, not once per assessed violation (its regex costs 0.3 ms)."""
    from layerguard.checkers.lg501_http_in_service import DELIVERY_MODULE_GLOBS

    return PathMatcher([*view_modules, *DELIVERY_MODULE_GLOBS])


def _other_apps_model(context: FileContext, region: Region) -> tuple[str, str] | None:
    """A name the moved code needs that is another app's model or models module: the
    view's import of it is already one LG402, and a fix must not add a second one."""
    from layerguard.checkers.app_boundaries import _models_of, allowed_apps

    module = context.module
    project = context.project
    source = project.app_of(context.path)
    allowed = allowed_apps(context.settings, "LG402")
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for name, binding in region.imports.items():
        for module_name, obj, _ in import_parts(binding, name, package):
            target = f"{module_name}.{obj}" if obj else module_name
            app, _ = _models_of(project, target)
            if app is not None and source is not None and app != source.label and app not in allowed:
                return name, app
    return None


def _is_request(context: FileContext, region: Region, name: str) -> bool:
    if name == "request":
        return True
    function = region.function
    for argument in [*function.args.args, *function.args.kwonlyargs]:
        if argument.arg == name and argument.annotation is not None:
            text = ast_text(argument.annotation)
            return "Request" in text
    return False


def ast_text(node) -> str:
    import ast

    return ast.unparse(node)


def _name_the_verb(context: FileContext, region: Region) -> None:
    """`save()` and transactions say nothing of what they do: the verb comes from the
    enclosing function and class (`pay_order`, `OrderPay.post` -> `order_pay`)."""
    if region.kind == "write" and region.verb not in ("update", "execute"):
        return
    model_words = set(snake(region.model.rpartition(".")[2]).split("_")) if region.model else set()
    classes, _ = context.project.enclosing(context.path, region.function.lineno)
    names = [region.function.name, *(c.name for c in reversed(classes))]
    # `create` / `perform_update` say little as a word among others, but as the method
    # itself they name the verb: `OrderSerializer.create` -> `order_create`.
    crud = CRUD_METHODS.get(region.function.name.removeprefix("perform_"))
    region.verb = verb_from_names(names, model_words) or crud or region.verb or "update"


def _annotate(context: FileContext, region: Region) -> None:
    """`order: Order` where the type model knows `order` holds an Order."""
    import ast

    reads = {}
    for node in ast.walk(ast.Module(body=region.statements, type_ignores=[])):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in region.parameters:
            reads.setdefault(node.id, node)
    for name, node in reads.items():
        annotation = _model_annotation(context, node)
        if annotation:
            region.annotations[name] = annotation
    returned = None
    if region.returns_value:
        returned = region.statements[0].value
    elif len(region.outputs) == 1:
        returned = next((n for n in ast.walk(region.function) if isinstance(n, ast.Name)
                         and isinstance(n.ctx, ast.Load) and n.id == region.outputs[0]
                         and n.lineno > region.last_line), None)
    if returned is not None:
        annotation = _model_annotation(context, returned)
        if annotation:
            region.annotations["return"] = annotation


def _model_annotation(context: FileContext, node) -> tuple[str, str] | None:
    try:
        found = context.types.type_of(node)
    except Exception:  # the type model answers None for what it does not know; be as quiet
        return None
    if found is None or found.kind != "instance" or not found.model:
        return None
    # Annotating with another app's model would import it into the service: a new LG402.
    from layerguard.checkers.app_boundaries import allowed_apps

    app, own = context.project.model_app(found.model), _app_label(context.project, context.path)
    if app is not None and app != own and app not in allowed_apps(context.settings, "LG402"):
        return None
    return found.model.rpartition(".")[2], found.model


def plan_fixes(project: ProjectModel, settings: Settings, sources: dict[str, bytes], violations: list[Violation],
               unsafe: bool) -> FixPlan:
    """The edits that fix `violations` (root-relative paths) whose fix is allowed: safe
    ones always, unsafe ones with `unsafe`. The language server calls this for one
    file's violations; `check --fix` for all of them."""
    from layerguard.fixes.codemod import Move, apply  # libcst: only when fixing, never on a plain check

    allowed = {"safe", "unsafe"} if unsafe else {"safe"}
    by_path: dict[str, list[Violation]] = {}
    for violation in violations:
        if violation.fix in allowed:
            by_path.setdefault(violation.path, []).append(violation)
    plan = FixPlan()
    texts: dict[str, str] = {}
    originals: dict[str, str | None] = {}
    for path in sorted(by_path):
        if path in texts and texts[path] != sources[path].decode("utf-8"):
            for violation in by_path[path]:  # a service module this run already edited
                plan.not_applied.append((violation, "its file was edited by another fix in this run; run again"))
            continue
        source = sources[path].decode("utf-8")
        context = FileContext(path, sources[path], project.facts_by_path[path], project, settings)
        moves: list[Move] = []
        regions: dict[tuple, tuple[Move, list[Violation]]] = {}
        for violation in by_path[path]:
            prepared = prepare(context, violation)
            if isinstance(prepared, Refusal):
                plan.not_applied.append((violation, prepared.reason))
                continue
            region, target = prepared
            key = (region.first_line, region.last_line)
            if key in regions:
                regions[key][1].append(violation)
                continue
            service_module, package = dotted_module(project, path, target)
            move = Move(region, target, service_module, package, service_name(region, _app_label(project, path)))
            regions[key] = (move, [violation])
        chosen = _outermost([move for move, _ in regions.values()])
        fixed_here = []
        for move, covered in regions.values():
            if move in chosen:
                moves.append(move)
                fixed_here.extend(covered)
            else:
                fixed_here.extend(covered)  # inside a moved transaction: it moves with it
        current: dict[str, str] = {}
        for move in moves:
            if move.service_path in texts:
                current[move.service_path] = texts[move.service_path]
            elif move.service_path in sources:
                current[move.service_path] = sources[move.service_path].decode("utf-8")
        applied = apply(texts.get(path, source), context.tree, moves, current)
        for move, reason in applied.skipped:
            for violation in regions[(move.region.first_line, move.region.last_line)][1]:
                plan.not_applied.append((violation, reason))
                if violation in fixed_here:
                    fixed_here.remove(violation)
        if applied.source != source:
            originals.setdefault(path, source)
            texts[path] = applied.source
        for service_path, text in applied.services.items():
            if text != current.get(service_path):
                if service_path not in originals:
                    raw = sources.get(service_path)
                    originals[service_path] = raw.decode("utf-8") if raw is not None else None
                texts[service_path] = text
        plan.fixed.extend(fixed_here)
    plan.edits = [FileEdit(p, originals[p], texts[p]) for p in sorted(texts) if texts[p] != originals.get(p)]
    return plan


def _app_label(project: ProjectModel, path: str) -> str | None:
    app = project.app_of(path)
    return app.label if app else None


def _outermost(moves: list) -> list:
    """Drop moves inside another move (an LG101 write inside a moved transaction)."""
    kept = []
    for move in sorted(moves, key=lambda m: (m.region.first_line, -m.region.last_line)):
        if any(other.region.contains(move.region) for other in kept):
            continue
        kept.append(move)
    return kept
