"""The project model: apps, modules, models, views and serializers, and the one name resolver.

Built once per run from every file's facts (facts.py). Checkers ask it questions
("what does `Order` in shop/views.py refer to?", "is this class a view?") and
never walk other files themselves.
"""

from __future__ import annotations

import bisect

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath

from layerguard.config import Settings
from layerguard.discover import PathMatcher
from layerguard.exemptions import Exemptions
from layerguard.facts import ClassFact, FieldFact, FunctionFact, ModuleFacts

# Where Django's model fields live (`models.ForeignKey`, `gis.db.models.ImageField`).
DJANGO_MODEL_FIELD_MODULES = ("django.db.models.", "django.contrib.gis.db.models.", "django.contrib.postgres.fields.")
# Bases that make a class a Django model. External bases are only known by name:
# the known ones below, and any `...models.<Name>Model` (django-extensions'
# TimeStampedModel, a company's core.models.BaseModel installed as a package...).
MODEL_BASES = {
    "django.db.models.Model",
    "django.db.models.base.Model",
    "django.contrib.auth.models.AbstractUser",
    "django.contrib.auth.models.AbstractBaseUser",
    "django.contrib.auth.base_user.AbstractBaseUser",
    "django.contrib.auth.models.PermissionsMixin",
    "django.contrib.auth.models.User",
    "django.contrib.auth.models.Group",
    "django.contrib.auth.models.Permission",
    "django.contrib.contenttypes.models.ContentType",
    "django.contrib.sites.models.Site",
    "django.contrib.sessions.base_session.AbstractBaseSession",
    "django.contrib.sessions.models.Session",
    "django.contrib.admin.models.LogEntry",
    "django.contrib.flatpages.models.FlatPage",
    "django.contrib.redirects.models.Redirect",
    "django.contrib.gis.db.models.Model",
    "mptt.models.MPTTModel",
    "polymorphic.models.PolymorphicModel",
    "treebeard.mp_tree.MP_Node",
    "treebeard.ns_tree.NS_Node",
    "treebeard.al_tree.AL_Node",
    "taggit.models.TagBase",
    "taggit.models.TaggedItemBase",
    "taggit.models.GenericTaggedItemBase",
    "taggit.models.ItemBase",
}
USER_MODEL = "django.contrib.auth.models.User"
# Django's own models by their "label.Model" reference, and the apps they belong to.
CONTRIB_MODELS = {
    "auth.User": USER_MODEL,
    "auth.Group": "django.contrib.auth.models.Group",
    "auth.Permission": "django.contrib.auth.models.Permission",
    "contenttypes.ContentType": "django.contrib.contenttypes.models.ContentType",
    "sites.Site": "django.contrib.sites.models.Site",
    "admin.LogEntry": "django.contrib.admin.models.LogEntry",
}
CONTRIB_APP_LABELS = {qualified: label.split(".")[0] for label, qualified in CONTRIB_MODELS.items()}

VIEW_BASE_PREFIXES = (
    "django.views.",
    "rest_framework.views.",
    "rest_framework.generics.",
    "rest_framework.viewsets.",
    "rest_framework.mixins.",
    "django.contrib.auth.views.",
)
VIEW_DECORATORS = {
    "rest_framework.decorators.api_view",
    "django.contrib.auth.decorators.login_required",
    "django.contrib.auth.decorators.permission_required",
    "django.contrib.auth.decorators.user_passes_test",
    "django.contrib.admin.views.decorators.staff_member_required",
}
VIEW_DECORATOR_PREFIXES = ("django.views.decorators.",)
# View-module names that may also mean a package's Python API: a view module only with a view in it.
AMBIGUOUS_VIEW_MODULE_NAMES = {"api.py", "apis.py"}
# What a module of function views imports to answer with a response.
HTTP_PACKAGES = ("django.http", "django.shortcuts", "django.template.response", "django.views", "rest_framework",
                 "ninja")
SERIALIZER_BASE_PREFIXES = ("rest_framework.serializers.",)
ADMIN_BASE_PREFIXES = ("django.contrib.admin.", "django.contrib.gis.admin.")
FORM_BASE_PREFIXES = ("django.forms.",)
TASK_DECORATOR_SUFFIXES = ("shared_task", ".task", "celery.task", "dramatiq.actor", "huey.task", "db_task", "db_periodic_task", "periodic_task")
SIGNAL_DECORATORS = {"django.dispatch.receiver", "django.dispatch.dispatcher.receiver"}


@dataclass(frozen=True)
class App:
    label: str
    directory: str  # root-relative posix path, "" for the root


@dataclass(frozen=True)
class ModuleInfo:
    path: str  # root-relative posix path
    name: str  # dotted module name
    is_package: bool
    facts: ModuleFacts


@dataclass(frozen=True)
class ModelInfo:
    qualname: str
    name: str
    app: str | None
    abstract: bool
    fields: tuple[FieldFact, ...]
    managers: tuple[str, ...]
    external: bool = False


class StoredTables:
    """Project-wide tables that depend on the files' signatures alone (their facts
    without positions): which classes are models and their apps, the user model, the
    model graph, the admin and signal-receiver indexes. The engine keeps them in the cache under the project key (which is
    made of every file's path and signature and the settings), so a run that re-checks
    one edited file whose signature did not change reads them instead of resolving every
    class of the project (saleor: 0.2 s). Nothing with a line number may be stored here."""

    def __init__(self, values: dict | None = None):
        self.values: dict = dict(values or {})
        self.added = False  # a table was built in this run: the engine stores them again

    def get(self, name: str, build):
        if name not in self.values:
            self.values[name] = build()
            self.added = True
        return self.values[name]


class ProjectModel:
    def __init__(self, settings: Settings, facts_by_path: dict[str, ModuleFacts], tables: StoredTables | None = None):
        self.settings = settings
        self.facts_by_path = facts_by_path
        self.tables = tables or StoredTables()  # the engine hands in the cached ones
        self._service = PathMatcher(settings.service_modules)
        self._selector = PathMatcher(settings.selector_modules)
        self._view = PathMatcher(settings.view_modules)
        self._model_module = PathMatcher(settings.model_modules)
        self.modules_by_name: dict[str, ModuleInfo] = {}
        self.modules_by_path: dict[str, ModuleInfo] = {}
        packages: dict[str, list[str]] = {}  # directory -> its package names, outermost first
        for path, facts in facts_by_path.items():
            info = ModuleInfo(path, _module_name(path, facts_by_path, packages), path.endswith("__init__.py"), facts)
            self.modules_by_path[path] = info
            self.modules_by_name.setdefault(info.name, info)
        # Directories above a package without __init__.py are namespace packages: a
        # module imported as `src.orders.models` is also `orders.models`. Exact names win.
        for info in list(self.modules_by_path.values()):
            depth = info.name.count(".") + (2 if info.is_package else 1)
            parts = info.path.split("/")
            directories = parts[:-depth] if depth <= len(parts) else ()
            for start in range(len(directories) - 1, -1, -1):
                alias = ".".join([*directories[start:], info.name])
                self.modules_by_name.setdefault(alias, info)
        self.exemptions = Exemptions(self)
        self.apps = self._find_apps()
        self._class_kind_cache: dict[tuple[str, str], bool] = {}

    def replace_facts(self, path: str, facts: ModuleFacts) -> None:
        """An edit that kept the file's signature (its facts without positions, which is
        all other files' verdicts can depend on): swap in the new facts and forget what
        was derived from the old ones for this file only. The language server's per-edit
        update; any other edit rebuilds the model."""
        old = self.modules_by_path[path]
        info = ModuleInfo(old.path, old.name, old.is_package, facts)
        self.facts_by_path[path] = facts
        self.modules_by_path[path] = info
        for name, module in self.modules_by_name.items():
            if module is old:
                self.modules_by_name[name] = info
        for per_path in ("_view_module_cache", "_bindings_cache", "_definition_trees", "_by_qualname", "_bases_cache"):
            self.__dict__.get(per_path, {}).pop(path, None)
        self.__dict__.pop("_definitions", None)  # by qualified name: they hold the old facts
        if facts.classes and any(m.startswith(f"{old.name}.") for m in self.__dict__.get("models", {})):
            # Model fields carry positions: this file's models are read again.
            self.__dict__.pop("models", None)

    # ---------------------------------------------------------------- roles
    def is_service_module(self, path: str) -> bool:
        return self._service.matches(path) and not _outranked(path, self._service, (self._view,))

    def is_selector_module(self, path: str) -> bool:
        return self._selector.matches(path) and not _outranked(path, self._selector, (self._view,))

    def is_view_module(self, path: str) -> bool:
        """A module named like one (`view-modules`); an `api.py` or `apis.py` only when it
        holds a view.

        Those two names are ambiguous: django-cms's `cms/api.py` is its Python API
        (`create_page(title, template, language)`), not a web API. There a view is a view
        class, a view-decorated function, or a function whose first parameter is
        `request` in a module that imports the HTTP layer (`django.http`,
        `django.shortcuts`, DRF...: a view answers with a response; cms's
        `can_change_page(request)` is a helper). Once a module is a view module,
        everything in it is view code (the SPEC's rule), helpers included."""
        if not self._view.matches(path) or _outranked(path, self._view, (self._service, self._selector)):
            return False
        if PurePosixPath(path).name not in AMBIGUOUS_VIEW_MODULE_NAMES:
            return True
        cache = self.__dict__.setdefault("_view_module_cache", {})
        if path not in cache:
            cache[path] = self._holds_a_view(path)
        return cache[path]

    def _holds_a_view(self, path: str) -> bool:
        facts = self.facts_by_path[path]
        module = self.modules_by_path[path]
        if self.modules_by_name.get(module.name) is not module:
            # Its dotted name is another file's (taiga's importers/jira/ has no __init__.py, so
            # its api.py is "api"): its classes cannot be resolved by name, trust the name.
            return True
        if any(f.decorators and self.is_view_function(path, f) for f in facts.functions):
            return True
        if any(cls.bases and self.is_view_class(self.class_qualname(path, cls)) for cls in facts.classes):
            return True
        takes_requests = any([name for name, _ in f.params if name not in ("self", "cls")][:1] == ["request"]
                             for f in facts.functions)
        return takes_requests and any((i.module or "").startswith(HTTP_PACKAGES) for i in facts.imports if not i.level)

    def is_exempt(self, path: str) -> bool:
        """Migrations, tests and test support, settings: by path and by what they are (exemptions.py)."""
        return self.exemptions.is_exempt(path)

    def is_model_module(self, path: str) -> bool:
        return self._model_module.matches(path)

    # ----------------------------------------------------------------- apps
    def _find_apps(self) -> dict[str, App]:
        """Directory -> App: a directory with apps.py, else a package with models.py or models/."""
        apps: dict[str, App] = {}
        # (Paths are root-relative and posix: split as strings, pathlib costs 0.1 s a build.)
        for path, facts in self.facts_by_path.items():
            directory, _, name = path.rpartition("/")
            if name == "apps.py" and _defines_app_config(facts):
                label = _app_label(facts) or directory.rpartition("/")[2]
                apps[directory] = App(label, directory)
        # Without apps.py, a package with models is an app unless it sits inside one
        # (netbox's netbox/api/serializers/models.py belongs to the netbox app): shallow first.
        candidates = set()
        for path in self.facts_by_path:
            directory, _, name = path.rpartition("/")
            if name == "models.py":
                if directory and f"{directory}/__init__.py" not in self.facts_by_path:
                    continue  # a models.py in a plain folder (scripts/) is not an app
            elif name == "__init__.py" and directory.rpartition("/")[2] == "models":
                directory = directory.rpartition("/")[0]
            else:
                continue
            candidates.add(directory)
        # INSTALLED_APPS, where a settings module has it as a literal list: a listed
        # project package is an app even without apps.py or models.
        for entry in self._installed_apps():
            module = self.modules_by_name.get(entry) or self.modules_by_name.get(entry.rsplit(".apps.", 1)[0])
            if module is not None and module.is_package:
                candidates.add(module.path.rpartition("/")[0])
        for directory in sorted(candidates, key=lambda d: (d.count("/"), d)):
            if directory not in apps and not _inside_any(directory, apps):
                apps[directory] = App(directory.rpartition("/")[2] or "root", directory)
        return apps

    def settings_modules(self) -> list[ModuleInfo]:
        settings_paths = self.exemptions.settings_paths
        return [self.modules_by_path[path] for path in sorted(settings_paths) if path in self.modules_by_path]

    def _installed_apps(self) -> list[str]:
        entries: list[str] = []
        for module in self.settings_modules():
            entries.extend(module.facts.string_lists.get("INSTALLED_APPS", []))
        return entries

    @cached_property
    def user_model(self) -> str:
        """`settings.AUTH_USER_MODEL` read statically from the settings modules, else auth.User."""
        return self.tables.get("user_model", self._find_user_model)

    def _find_user_model(self) -> str:
        for module in self.settings_modules():
            reference = module.facts.constants.get("AUTH_USER_MODEL")
            if reference and "." in reference:
                qualified = self.model_by_reference(reference, module, is_string=True)
                if qualified:
                    return qualified
        return USER_MODEL

    def model_app(self, qualified: str) -> str | None:
        """The app label of a model: its app directory's, or Django's for contrib models."""
        if qualified in CONTRIB_APP_LABELS:
            return CONTRIB_APP_LABELS[qualified]
        entry = self._model_index.get(qualified)
        return entry[1] if entry else None

    def is_project_model(self, qualified: str) -> bool:
        """Whether `qualified` is a model class defined in the project (`qualified in
        models`, without building the table of every model's fields)."""
        return qualified in self._model_index

    @cached_property
    def _model_index(self) -> dict[str, tuple[str, str | None]]:
        """Every project model's qualified name -> (class name, app label), in the order of
        `models`; a stored table (StoredTables), so a re-check of one file need not build `models`."""
        entries = self.tables.get("model_index", lambda: tuple((qualified, info.name, info.app)
                                                          for qualified, info in self.models.items()))
        return {qualified: (name, app) for qualified, name, app in entries}

    def model_index(self) -> dict[str, tuple[str, str | None]]:
        """Every project model's qualified name -> (class name, app label), in the order of `models`."""
        return self._model_index

    def model_ancestry(self) -> tuple[tuple[str, bool, tuple[tuple[str, str], ...]], ...]:
        """Every project model: (qualified name, abstract, the (path, qualname) of itself and
        each project ancestor); a stored table, so that the models inheriting one file's
        classes are found without building every model's fields."""
        def build():
            found = []
            for qualified, info in self.models.items():
                declared = self.class_fact(qualified)
                if declared is not None:
                    ancestry = tuple((m.path, c.qualname) for m, c in self._project_ancestry(*declared))
                    found.append((qualified, info.abstract, ancestry))
            return tuple(found)

        return self.tables.get("model_ancestry", build)

    @cached_property
    def _models_by_name(self) -> dict[str, list[tuple[str, str | None]]]:
        by_name: dict[str, list[tuple[str, str | None]]] = {}
        for qualified, (name, app) in self._model_index.items():
            by_name.setdefault(name, []).append((qualified, app))
        return by_name

    def app_of(self, path: str) -> App | None:
        """The app whose directory is the nearest ancestor of `path`."""
        directory = path
        while directory:
            directory = directory.rpartition("/")[0]
            if directory in self.apps:
                return self.apps[directory]
        return None

    def app_by_label(self, label: str) -> App | None:
        return self._apps_by_label.get(label)

    @cached_property
    def _apps_by_label(self) -> dict[str, App]:
        return {app.label: app for app in self.apps.values()}

    def service_module_hint(self, path: str) -> str:
        """Where a write found in `path` should go, in the user's words."""
        app = self.app_of(path)
        if app is None:
            return "a service module"
        prefix = f"{app.directory}/" if app.directory else ""
        if f"{prefix}services/__init__.py" in self.facts_by_path or f"{prefix}services" in self._directories:
            return f"{prefix}services/"
        return f"{prefix}services.py"

    def selector_module_hint(self, path: str) -> str:
        """Where a read found in `path` should go: the app's selector module as it exists
        (any file matching `selector-modules` in the app), else `<app>/selectors.py`."""
        app = self.app_of(path)
        if app is None:
            return "a selector module"
        hints = self.__dict__.setdefault("_selector_hints", {})  # one scan of the files per app
        if app not in hints:
            prefix = f"{app.directory}/" if app.directory else ""
            existing = sorted(candidate for candidate in self.facts_by_path
                              if candidate.startswith(prefix) and self.is_selector_module(candidate)
                              and self.app_of(candidate) == app)
            if existing:
                first = PurePosixPath(existing[0])
                hint = f"{first.parent}/" if first.name == "__init__.py" or len(existing) > 1 else existing[0]
            else:
                hint = f"{prefix}selectors.py"
            hints[app] = hint
        return hints[app]

    @cached_property
    def _directories(self) -> set[str]:
        return {path.rpartition("/")[0] or "." for path in self.facts_by_path}  # PurePosixPath(path).parent

    # ------------------------------------------------------------ resolver
    def resolve(self, module: ModuleInfo, dotted: str) -> str:
        """The fully qualified name `dotted` refers to inside `module`.

        Follows imports, module-level aliases and re-exports (`models/__init__.py`
        importing from `models/order.py`), so every checker gets the same answer.
        Names that are not bound in the module are returned as written.
        """
        head, _, rest = dotted.partition(".")
        bound = self._binding(module, head) or self._star_binding(module, head)
        qualified = f"{bound}.{rest}" if bound and rest else (bound or dotted)
        return self.canonical(qualified)

    def star_imported_modules(self, module: ModuleInfo) -> list[ModuleInfo]:
        """The project modules `module` star-imports (`from .base import *`)."""
        package = module.name if module.is_package else module.name.rpartition(".")[0]
        found = []
        for star, level in module.facts.star_imports:
            imported = self.modules_by_name.get(_absolute(star, level, package))
            if imported is None:
                continue
            # A relative import reaches only below its own package's directory: in a folder
            # without __init__.py (taiga's docker/config.py: `from .common import *`) the
            # dotted name alone could land on an unrelated `common` module.
            parents = PurePosixPath(module.path).parents
            if not level or (level <= len(parents) and PurePosixPath(imported.path).is_relative_to(parents[level - 1])):
                found.append(imported)
        return found

    def _star_binding(self, module: ModuleInfo, name: str) -> str | None:
        """`name` brought in by `from x import *` (oscar's models.py: `from .abstract_models import *`)."""
        package = module.name if module.is_package else module.name.rpartition(".")[0]
        for star_module, level in module.facts.star_imports:
            candidate = f"{_absolute(star_module, level, package)}.{name}"
            if self._defines(candidate):
                return candidate
        return None

    def _binding(self, module: ModuleInfo, name: str) -> str | None:
        bindings = self._bindings_of(module.path)
        if name in bindings:
            return bindings[name]
        return None

    def _bindings_of(self, path: str) -> dict[str, str]:
        cache = self.__dict__.setdefault("_bindings_cache", {})
        if path in cache:
            return cache[path]
        module = self.modules_by_path[path]
        bindings: dict[str, str] = {}
        package = module.name if module.is_package else module.name.rpartition(".")[0]
        for cls in module.facts.classes:
            if "." not in cls.qualname:
                bindings[cls.name] = f"{module.name}.{cls.name}"
        for function in module.facts.functions:
            if "." not in function.qualname:
                bindings.setdefault(function.name, f"{module.name}.{function.name}")
        # Imports made inside functions bind too: a resolver that forgot them would
        # lose `from .models import Order` written locally to avoid import cycles.
        for fact in sorted(module.facts.imports, key=lambda f: f.in_function):
            if fact.names is None:
                if fact.asname:
                    bindings.setdefault(fact.asname, fact.module)
                else:
                    top = fact.module.split(".")[0]
                    bindings.setdefault(top, top)
                continue
            base = _absolute(fact.module, fact.level, package)
            for name, asname in fact.names:
                bindings.setdefault(asname or name, f"{base}.{name}" if base else name)
        for name, value in module.facts.aliases.items():
            if name not in bindings:
                if value in ("get_user_model()",) or value.endswith(".get_user_model()"):
                    bindings[name] = USER_MODEL
                else:
                    head, _, rest = value.partition(".")
                    target = bindings.get(head, head)
                    bindings[name] = f"{target}.{rest}" if rest else target
        cache[path] = bindings
        # Cached first: finding the model may read this module's bindings again.
        for name, reference in module.facts.model_lookups.items():
            if name not in bindings and (model := self.model_of_lookup(reference)) is not None:
                bindings[name] = model
        return bindings

    def model_of_lookup(self, reference: str) -> str | None:
        """The project model a literal `get_model("label", "Name")` names: the class `Name`
        the app's `models` module or package binds (where Django looks for it)."""
        label, _, name = reference.partition(".")
        app = self.app_by_label(label)
        if app is None:
            return None
        prefix = f"{app.directory}/" if app.directory else ""
        for path in (f"{prefix}models.py", f"{prefix}models/__init__.py"):
            if path in self.modules_by_path:
                bound = self._bindings_of(path).get(name)
                if bound is not None:
                    qualified = self.canonical(bound)
                    return qualified if self.class_fact(qualified) is not None else None
        return None

    def canonical(self, qualified: str, depth: int = 0) -> str:
        """Follow re-exports until `qualified` names where a thing is defined."""
        if depth > 20:
            return qualified
        parts = qualified.split(".")
        for split in range(len(parts) - 1, 0, -1):
            module = self.modules_by_name.get(".".join(parts[:split]))
            if module is None:
                continue
            name, rest = parts[split], parts[split + 1:]
            if name in self._by_qualname_of(module, "classes"):
                return qualified
            bindings = self._bindings_of(module.path)
            target = bindings.get(name)
            if target is None:
                for star_module, level in module.facts.star_imports:
                    package = module.name if module.is_package else module.name.rpartition(".")[0]
                    candidate = f"{_absolute(star_module, level, package)}.{name}"
                    if self._defines(candidate):
                        target = candidate
                        break
            if target is None or target == ".".join(parts[: split + 1]):
                return qualified
            return self.canonical(".".join([target, *rest]), depth + 1)
        return qualified

    def _defines(self, qualified: str) -> bool:
        module_name, _, name = qualified.rpartition(".")
        module = self.modules_by_name.get(module_name)
        if module is None:
            return False
        return name in self._by_qualname_of(module, "classes") or name in self._bindings_of(module.path)

    # ------------------------------------------------------------- classes
    def class_fact(self, qualified: str) -> tuple[ModuleInfo, ClassFact] | None:
        """The project class `qualified` names (after `canonical`), with its module."""
        return self._definition(qualified, "classes")

    def function_fact(self, qualified: str) -> tuple[ModuleInfo, FunctionFact] | None:
        """The project function `qualified` names (module-level or a method), with its module."""
        return self._definition(qualified, "functions")

    def _definition(self, qualified: str, kind: str):
        cache = self.__dict__.setdefault("_definitions", {})
        key = (qualified, kind)
        if key not in cache:
            cache[key] = self._find_definition(qualified, kind)
        return cache[key]

    def _find_definition(self, qualified: str, kind: str):
        # The longest module prefix that exists decides; the rest is the qualname in it.
        parts = qualified.split(".")
        for split in range(len(parts) - 1, 0, -1):
            module = self.modules_by_name.get(".".join(parts[:split]))
            if module is None:
                continue
            item = self._by_qualname_of(module, kind).get(".".join(parts[split:]))
            return (module, item) if item is not None else None
        return None

    def _by_qualname_of(self, module: ModuleInfo, kind: str) -> dict:
        """A module's classes or functions by qualname (the first of each name, as a scan
        would find it): class and function lookups run tens of thousands of times a run."""
        per_path = self.__dict__.setdefault("_by_qualname", {}).setdefault(module.path, {})
        found = per_path.get(kind)
        if found is None:
            found = per_path[kind] = {}
            for item in getattr(module.facts, kind):
                found.setdefault(item.qualname, item)
        return found

    def is_task_function(self, qualified: str) -> bool:
        """A project function decorated as a Celery/dramatiq/huey task."""
        found = self.function_fact(qualified)
        if found is None:
            return False
        module, function = found
        return any(
            decorator and self.resolve(module, decorator).endswith(TASK_DECORATOR_SUFFIXES)
            for decorator in function.decorators
        )

    def qualified_bases(self, module: ModuleInfo, cls: ClassFact) -> list[str]:
        # Asked for every class on every walk up a hierarchy: resolved once per class.
        per_path = self.__dict__.setdefault("_bases_cache", {}).setdefault(module.path, {})
        key = (cls.qualname, cls.line)  # two classes of one name in a module (if/else) differ
        bases = per_path.get(key)
        if bases is None:
            bases = per_path[key] = [self.resolve(module, base) for base in cls.bases]
        return bases

    def _inherits(self, qualified: str, kind: str, test, seen: frozenset = frozenset()) -> bool:
        key = (kind, qualified)
        if key in self._class_kind_cache:
            return self._class_kind_cache[key]
        if qualified in seen:
            return False
        found = self.class_fact(qualified)
        if found is None:
            result = test(qualified)
        else:
            module, cls = found
            result = any(
                self._inherits(base, kind, test, seen | {qualified}) for base in self.qualified_bases(module, cls)
            ) or (kind == "model" and self._declares_model_fields(module, cls))
        self._class_kind_cache[key] = result
        return result

    def _declares_model_fields(self, module: ModuleInfo, cls: ClassFact) -> bool:
        """A class that declares Django model fields is a model whatever its base is written
        as (`class Watch(ModelBase)`, `ModelBase` chosen from a setting; a base layerguard
        does not know): Django fields mean nothing on any other class (forms, serializers
        and filter sets declare fields of their own kinds, never `django.db.models` ones,
        and Django ignores model fields on a mixin that is no model)."""
        calls = [field.field_call for field in cls.fields]
        if not any(base.startswith("django.") for base in self.qualified_bases(module, cls)):
            # Fields of other kinds are a model's only on a base Django does not make
            # something else of: a Func or Expression declares an `output_field` too.
            calls.extend(cls.field_calls)
        return any(self.resolve(module, call).startswith(DJANGO_MODEL_FIELD_MODULES) for call in calls)

    def inherits_from(self, qualified: str, kind: str, test) -> bool:
        """Whether a class derives, through project classes, from an external class `test`
        accepts; `kind` names the question for the cache ("test case", "factory")."""
        return self._inherits(qualified, kind, test)

    def is_model_class(self, qualified: str) -> bool:
        return self._inherits(qualified, "model", _is_external_model)

    def is_view_class(self, qualified: str) -> bool:
        return self._inherits(qualified, "view", _is_external_view)

    def is_serializer_class(self, qualified: str) -> bool:
        return self._inherits(qualified, "serializer", _is_external_serializer)

    def is_admin_class(self, qualified: str) -> bool:
        return self._inherits(qualified, "admin", lambda q: q.startswith(ADMIN_BASE_PREFIXES))

    def is_form_class(self, qualified: str) -> bool:
        return self._inherits(qualified, "form", lambda q: q.startswith(FORM_BASE_PREFIXES))

    def model_info(self, qualified: str) -> ModelInfo | None:
        """The model `qualified` names, if it is one (project models carry their fields)."""
        if not self.is_model_class(qualified):
            return None
        found = self.class_fact(qualified)
        if found is None:
            label = "auth" if qualified.startswith("django.contrib.auth.") else None
            return ModelInfo(qualified, qualified.rsplit(".", 1)[-1], label, False, (), ("objects",), external=True)
        module, cls = found
        fields: list[FieldFact] = []
        managers: list[str] = ["objects", "_default_manager", "_base_manager"]
        for ancestor_module, ancestor in self._project_ancestry(module, cls):
            fields.extend(ancestor.fields)
            managers.extend(ancestor.managers)
        app = self.app_of(module.path)
        return ModelInfo(qualified, cls.name, app.label if app else None, cls.abstract, tuple(fields), tuple(managers))

    def _project_ancestry(self, module: ModuleInfo, cls: ClassFact, depth: int = 0):
        yield module, cls
        if depth > 20:
            return
        for base in self.qualified_bases(module, cls):
            found = self.class_fact(base)
            if found is not None:
                yield from self._project_ancestry(*found, depth + 1)

    @cached_property
    def models(self) -> dict[str, ModelInfo]:
        """Every model class defined in the project, by qualified name."""
        result: dict[str, ModelInfo] = {}
        for module in self.modules_by_path.values():
            for cls in module.facts.classes:
                qualified = f"{module.name}.{cls.qualname}"
                info = self.model_info(qualified)
                if info is not None:
                    result[qualified] = info
        return result

    def model_by_reference(self, reference: str, from_module: ModuleInfo, is_string: bool) -> str | None:
        """The model a field's `to` names: a class, `"label.Model"`, `"Model"`, `"self"`,
        `settings.AUTH_USER_MODEL` or `get_user_model()`."""
        if not is_string:
            if reference.endswith("get_user_model()"):
                return self.user_model
            qualified = self.resolve(from_module, reference)
            if qualified.endswith("settings.AUTH_USER_MODEL"):
                return self.user_model
            return qualified if self.is_model_class(qualified) else None
        if reference == "self":
            return None
        if reference in CONTRIB_MODELS:
            return CONTRIB_MODELS[reference]
        if "." in reference:
            label, name = reference.rsplit(".", 1)
        else:
            app = self.app_of(from_module.path)
            label, name = (app.label if app else None), reference
        for qualified, app in self._models_by_name.get(name, ()):
            if label is None or app == label:
                return qualified
        return None

    # ------------------------------------------------------------- layers
    def enclosing(self, path: str, line: int) -> tuple[list[ClassFact], list[FunctionFact]]:
        """Classes and functions around `line`, innermost last (by where they start).

        Definitions nest or are disjoint, so those around `line` are the last one starting
        at or before it and its parents: a few steps, where scanning every definition made
        a module of 10,000 functions quadratic (minutes)."""
        starts, definitions, parents = self._definition_tree(path)
        index = bisect.bisect_right(starts, line) - 1
        while index >= 0 and definitions[index].end_line < line:
            index = parents[index]
        chain = []
        while index >= 0:
            chain.append(definitions[index])
            index = parents[index]
        chain.reverse()
        return ([d for d in chain if isinstance(d, ClassFact)], [d for d in chain if isinstance(d, FunctionFact)])

    def _definition_tree(self, path: str) -> tuple[list[int], list, list[int]]:
        """A file's classes and functions by start line (outer first on a tie), each with
        the index of the innermost one containing it (-1 for none); built once per file."""
        cache = self.__dict__.setdefault("_definition_trees", {})
        if path not in cache:
            facts = self.facts_by_path[path]
            definitions = sorted([*facts.classes, *facts.functions], key=lambda d: (d.line, -d.end_line))
            parents, open_definitions = [], []
            for position, definition in enumerate(definitions):
                while open_definitions and definitions[open_definitions[-1]].end_line < definition.line:
                    open_definitions.pop()
                parents.append(open_definitions[-1] if open_definitions else -1)
                open_definitions.append(position)
            cache[path] = ([d.line for d in definitions], definitions, parents)
        return cache[path]

    def class_qualname(self, path: str, cls: ClassFact) -> str:
        return f"{self.modules_by_path[path].name}.{cls.qualname}"

    def class_named(self, module: ModuleInfo, dotted: str) -> str | None:
        """The project class `dotted` names in `module`: imported, defined there, or nested
        in a class there (`Outer.Inner`)."""
        for candidate in (self.resolve_bound(module, dotted), f"{module.name}.{dotted}"):
            if candidate and self.class_fact(candidate) is not None:
                return candidate
        return None

    def resolve_bound(self, module: ModuleInfo, dotted: str) -> str | None:
        """Like `resolve`, but None when the first name is not bound by an import or a
        definition: a local variable called `requests` is not the requests library."""
        if self._binding(module, dotted.partition(".")[0]) is None:
            return None
        return self.resolve(module, dotted)

    def is_view_function(self, path: str, function: FunctionFact) -> bool:
        module = self.modules_by_path[path]
        for decorator in function.decorators:
            qualified = self.resolve(module, decorator) if decorator else ""
            if qualified in VIEW_DECORATORS or qualified.startswith(VIEW_DECORATOR_PREFIXES):
                return True
        return False

    def delivery_layer(self, path: str, line: int) -> str | None:
        """"view" or "serializer" when the code at `line` is part of one, else None.

        The innermost class decides (a serializer declared in views.py is a serializer);
        then an enclosing view function; then a view module.
        """
        classes, functions = self.enclosing(path, line)
        for cls in reversed(classes):
            qualified = self.class_qualname(path, cls)
            if self.is_serializer_class(qualified):
                return "serializer"
            if self.is_view_class(qualified):
                return "view"
        if any(self.is_view_function(path, function) for function in functions):
            return "view"
        if self.is_view_module(path):
            return "view"
        return None

    def has_delivery_code(self, path: str) -> bool:
        """Whether a file holds any view or serializer: the files LG2/LG3 rules parse."""
        if self.is_view_module(path):
            return True
        facts = self.facts_by_path[path]
        for cls in facts.classes:
            qualified = self.class_qualname(path, cls)
            if cls.bases and (self.is_view_class(qualified) or self.is_serializer_class(qualified)):
                return True
        return any(f.decorators and self.is_view_function(path, f) for f in facts.functions)

    def view_functions(self, path: str) -> list[FunctionFact]:
        """Functions and methods that are views: what LG203 measures.

        Methods of view classes, functions decorated as views, and every function or
        method of a view module except those of serializers declared there.
        """
        result = []
        for function in self.facts_by_path[path].functions:
            if "." in function.qualname and function.class_qualname is None:
                continue  # a nested function: part of its enclosing view's complexity
            if self.delivery_layer(path, function.line) == "view":
                result.append(function)
        return result

    def layer_at(self, path: str, line: int) -> str:
        """What the code at `line` is, in the user's words: "a view", "a serializer", ..."""
        classes, functions = self.enclosing(path, line)
        for cls in reversed(classes):
            qualified = self.class_qualname(path, cls)
            if self.is_serializer_class(qualified):
                return "a serializer"
            if self.is_view_class(qualified):
                return "a view"
            if self.is_admin_class(qualified):
                return "an admin class"
            if self.is_form_class(qualified):
                return "a form"
            if self.is_model_class(qualified):
                return "a model"
        module = self.modules_by_path[path]
        for function in reversed(functions):
            if self.is_view_function(path, function):
                return "a view"
            for decorator in function.decorators:
                qualified = self.resolve(module, decorator) if decorator else ""
                if qualified in SIGNAL_DECORATORS:
                    return "a signal receiver"
                if qualified.endswith(TASK_DECORATOR_SUFFIXES):
                    return "a task"
        posix = PurePosixPath(path)
        if self.is_view_module(path):
            return "a view"
        if self.is_selector_module(path):
            return "a selector"
        if "management" in posix.parts and "commands" in posix.parts:
            return "a management command"
        if "templatetags" in posix.parts:
            return "a template tag"
        named = {"admin.py": "an admin module", "forms.py": "a form module", "tasks.py": "a task module",
                 "signals.py": "a signals module", "receivers.py": "a signals module",
                 "serializers.py": "a serializer module", "urls.py": "a URL module"}
        if posix.name in named:
            return named[posix.name]
        if self.is_model_module(path):
            return "a model module"
        return ""


def _inside_any(directory: str, apps: dict[str, App]) -> bool:
    return any(directory.startswith(f"{existing}/") for existing in apps if existing)


def _defines_app_config(facts: ModuleFacts) -> bool:
    """An apps.py counts when a class in it derives from an AppConfig (or a project's
    `...Config` base); saleor's graphql/app/dataloaders/apps.py holds loaders, not a config."""
    return any(base.rsplit(".", 1)[-1].endswith("Config") for cls in facts.classes for base in cls.bases)


def _app_label(facts: ModuleFacts) -> str | None:
    for cls in facts.classes:
        if "label" in cls.string_attributes:
            return cls.string_attributes["label"]
        if "name" in cls.string_attributes:
            return cls.string_attributes["name"].rsplit(".", 1)[-1]
    return None


def _module_name(path: str, facts_by_path: Mapping[str, ModuleFacts], packages: dict[str, list[str]] | None = None
                 ) -> str:
    """Dotted name, counting packages up from the file while `__init__.py` exists
    (`packages` keeps each directory's answer for the next file in it)."""
    directory, _, name = path.rpartition("/")
    dot = name.rfind(".")
    parts = [] if name == "__init__.py" else [name[:dot] if 0 < dot < len(name) - 1 else name]
    parts = [*_packages_of(directory, facts_by_path, {} if packages is None else packages), *parts]
    if not parts:  # a root-level __init__.py
        parts = ["__root__"]
    return ".".join(parts)


def _packages_of(directory: str, facts_by_path: Mapping[str, ModuleFacts], known: dict[str, list[str]]) -> list[str]:
    found = known.get(directory)
    if found is None:
        if directory and f"{directory}/__init__.py" in facts_by_path:
            parent, _, package = directory.rpartition("/")
            found = [*_packages_of(parent, facts_by_path, known), package]
        else:
            found = []
        known[directory] = found
    return found


def _absolute(module: str, level: int, package: str) -> str:
    if level == 0:
        return module
    base_parts = package.split(".") if package else []
    if level > 1:
        base_parts = base_parts[: len(base_parts) - (level - 1)]
    base = ".".join(base_parts)
    if module:
        return f"{base}.{module}" if base else module
    return base


def _outranked(path: str, role: PathMatcher, others: tuple[PathMatcher, ...]) -> bool:
    """Whether another role's globs also name `path`, by a deeper part of it: a module
    takes the role of the deepest part of its path that names one. shuup's
    `admin/modules/services/views/_edit.py` is the views of its admin module for shipping
    and payment services; `views/services.py` is a service module."""
    return any(other.matches(path) and _naming_depth(other, path) > _naming_depth(role, path) for other in others)


def _naming_depth(globs: PathMatcher, path: str) -> int:
    """Which part of `path` makes `globs` match it: the deepest directory without which
    they no longer do, else the file's own name (the last part)."""
    parts = path.split("/")
    for index in range(len(parts) - 2, -1, -1):
        if not globs.matches("/".join(parts[:index] + parts[index + 1:])):
            return index
    return len(parts) - 1


def _is_external_model(qualified: str) -> bool:
    if qualified in MODEL_BASES:
        return True
    parts = qualified.split(".")
    return "models" in parts[:-1] and parts[-1].endswith("Model")


def _is_external_view(qualified: str) -> bool:
    if qualified.startswith(VIEW_BASE_PREFIXES):
        return True
    parts = qualified.split(".")
    # Third-party view packages (django_filters.views.FilterView, allauth.account.views...)
    return ("views" in parts[:-1] or "viewsets" in parts[:-1]) and parts[-1][:1].isupper()


def _is_external_serializer(qualified: str) -> bool:
    if qualified.startswith(SERIALIZER_BASE_PREFIXES):
        return qualified.endswith("Serializer")
    parts = qualified.split(".")
    return "serializers" in parts[:-1] and parts[-1].endswith("Serializer")
