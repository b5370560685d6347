"""References from one Django app into another app's tables: relation fields (LG401) and
model imports (LG402). Also what `layerguard graph` draws.

Both sides are apps of the project model; Django's own apps (auth, contenttypes,
sites, admin) count by their labels. A third-party package's models are not an app
of yours and are never reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from layerguard.project import ModelInfo, ModuleInfo, ProjectModel, _absolute

DEFAULT_ALLOW = ["auth", "contenttypes", "sites"]


@dataclass(frozen=True)
class CrossAppReference:
    kind: str  # "field", "through", "import"
    path: str  # where it is written (root-relative)
    line: int
    column: int  # 1-based, in bytes as ast counts (converted by the checker)
    end_line: int
    end_column: int  # 1-based, in bytes; 0 when unknown (the end of the line)
    source_app: str
    target_app: str
    description: str  # what it is, for messages
    # Relation fields only: where the field is declared ("Audited.created_by"), the concrete
    # model inheriting it ("" when declared on the model itself), the field's type
    # ("ForeignKey") and the target model's qualified name.
    declared: str = ""
    inherited_by: str = ""
    field_type: str = ""
    target: str = ""

    @property
    def target_label(self) -> str:
        return f"{self.target_app}.{self.target.rsplit('.', 1)[-1]}"


def allowed_apps(settings, code: str) -> set[str]:
    return set(settings.option(code, "allow", DEFAULT_ALLOW))


def relation_references(project: ProjectModel, path: str | None = None) -> list[CrossAppReference]:
    """Every relation field of every concrete model whose target is in another app; with
    `path`, at least those written in that file.

    A field declared on an abstract base (or mixin) counts once for each concrete model
    that inherits it, for that model's app, and is reported where the field is written.
    For one file, only the concrete models that inherit one of its classes are looked at
    (through the stored ancestry of every model): LG401 on an edited models module of
    netbox built every model's fields first, 0.1 s.
    """
    memo = project.__dict__.setdefault("_memo", {})
    key = ("relation_references", path)
    if key in memo:
        return memo[key]
    found: list[CrossAppReference] = []
    if path is None:
        models = sorted(project.models.items())
    else:
        module = project.modules_by_path.get(path)
        here = {(path, cls.qualname) for cls in module.facts.classes if cls.fields} if module else set()
        models = [(qualified, project.model_info(qualified)) for qualified, abstract, ancestry
                  in sorted(project.model_ancestry()) if not abstract and here.intersection(ancestry)]
    for qualified, info in models:
        if info.abstract or info.app is None:
            continue
        module_name = qualified.rsplit(".", 1)[0]
        found_class = project.class_fact(qualified)
        if found_class is None:
            continue
        for defining_module, cls in project._project_ancestry(*found_class):
            for field in cls.fields:
                if field.kind in ("generic", "gfk"):
                    continue  # a GenericRelation is a reverse accessor, a GenericForeignKey points at any model
                for kind, reference, is_string in (("field", field.target, field.target_is_string),
                                                    ("through", field.through, field.through_is_string)):
                    if not reference:
                        continue
                    target = _target(project, reference, is_string, defining_module, info)
                    target_app = project.model_app(target) if target else None
                    if target_app is None or target_app == info.app:
                        continue
                    target_name = target.rsplit(".", 1)[-1]
                    field_type = field.field_call.rsplit(".", 1)[-1]
                    if kind == "field":
                        relation = f"is a {field_type} to {target_app}.{target_name}"
                    else:
                        relation = f"goes through {target_app}.{target_name}"
                    inherited = defining_module.name != module_name or cls.name != info.name
                    declared = f"{cls.name}.{field.name}"
                    description = f"{declared}{f' (inherited by {info.name})' if inherited else ''} {relation}"
                    found.append(CrossAppReference(kind, defining_module.path, field.line, field.column,
                                                   field.end_line, field.end_column, info.app, target_app,
                                                   description, declared, info.name if inherited else "",
                                                   field_type, target))
    memo[key] = found
    return found


def _target(project: ProjectModel, reference: str, is_string: bool, module: ModuleInfo, concrete: ModelInfo) -> str | None:
    if is_string and "." not in reference and reference != "self":
        # A bare "Model" on an abstract base means a model of the concrete model's app (Django's rule).
        for qualified, (name, app) in project.model_index().items():  # in the order of `models`
            if name == reference and app == concrete.app:
                return qualified
        return None
    return project.model_by_reference(reference, module, is_string)


def import_references(project: ProjectModel, module: ModuleInfo) -> list[CrossAppReference]:
    """Import statements of `module` that bring in another app's models (one per statement).

    Imports under `if TYPE_CHECKING:` are left out: type checkers read them, the running
    program never imports them, so they couple nothing at run time."""
    source = project.app_of(module.path)
    if source is None:
        return []
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    found: list[CrossAppReference] = []
    for fact in module.facts.imports:
        if fact.type_checking:
            continue
        if fact.names is None:
            targets = [fact.module]
        else:
            base = _absolute(fact.module, fact.level, package)
            targets = [f"{base}.{name}" if base else name for name, _ in fact.names]
            if (fact.module, fact.level) in module.facts.star_imports:  # `from orders.models import *`
                targets.append(base)
        for target in targets:
            target_app, what = _models_of(project, target)
            if target_app is not None and target_app != source.label:
                found.append(CrossAppReference("import", module.path, fact.line, fact.column, fact.end_line, 0,
                                               source.label, target_app, what))
                break
    return found


def _models_of(project: ProjectModel, target: str) -> tuple[str | None, str]:
    """(app, description) when `target` is another app's models module or model class."""
    qualified = project.canonical(target)
    imported = project.modules_by_name.get(qualified)
    if imported is not None and project.is_model_module(imported.path) and _defines_models(project, imported):
        app = project.app_of(imported.path)
        return (app.label if app else None), f"the models module `{qualified}`"
    if project.class_fact(qualified) is not None and project.is_model_class(qualified):
        return project.model_app(qualified), f"the model `{qualified.rsplit('.', 1)[-1]}`"
    return None, ""


def _defines_models(project: ProjectModel, module: ModuleInfo, depth: int = 0) -> bool:
    """A module under models/ that defines or re-exports models (oscar.models.fields does not)."""
    if any(project.is_model_class(f"{module.name}.{cls.qualname}") for cls in module.facts.classes):
        return True
    targets = [project.canonical(target) for target in project._bindings_of(module.path).values()]
    if any(project.is_model_class(target) for target in targets):
        return True
    # `from . import order` in models/__init__.py: a submodule that holds the models.
    submodules = [project.modules_by_name.get(target) for target in targets]
    return depth < 3 and any(sub is not None and sub is not module and _defines_models(project, sub, depth + 1)
                             for sub in submodules)
