"""Framework signatures that fix a type, as data.

Django, DRF and the admin call a project's methods with arguments whose type the
framework fixes: `ModelAdmin.save_model(self, request, obj, form, change)` gets an
instance of the registered model, a `post_save` receiver for `sender=Order` gets an
`Order`, a DRF view's `perform_create(self, serializer)` gets a serializer whose
`save()` returns its `Meta.model`. The tables below say which; `FrameworkTypes` finds
each class's model (from `@admin.register(M)` / `admin.site.register(M, A)`, a view's
`queryset =` / `model =` / `serializer_class` / `form_class`, a serializer's or
form's `Meta.model`, searched up the project's class hierarchy) once per run.

Unknown means silence: a class whose model cannot be named gives an unknown model,
which is typed only where the framework's own kind is certain (an admin action's
`queryset` is a queryset of some model).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from layerguard.orm import OrmType
from layerguard.project import USER_MODEL, ModuleInfo, ProjectModel


@dataclass(frozen=True)
class Parameter:
    role: str  # the class's role: "admin", "view", "serializer", "form", "signal receiver"
    method: str  # "*" for any method (admin actions)
    parameter: str  # the parameter's name as the framework documents it
    gives: str  # OrmType kind: "instance", "queryset", "saver" (a form/serializer bound to the model), "formset"


# Parameters the framework fills (looked up by role, method and parameter name).
PARAMETERS = [
    Parameter("admin", "save_model", "obj", "instance"),
    Parameter("admin", "delete_model", "obj", "instance"),
    Parameter("admin", "delete_queryset", "queryset", "queryset"),
    Parameter("admin", "*", "queryset", "queryset"),  # admin actions (self, request, queryset)
    Parameter("admin", "save_related", "form", "saver"),
    Parameter("admin", "save_form", "form", "saver"),
    Parameter("admin", "save_formset", "form", "saver"),
    Parameter("admin", "save_formset", "formset", "formset"),  # an inline's model formset: model unknown
    Parameter("view", "perform_create", "serializer", "saver"),
    Parameter("view", "perform_update", "serializer", "saver"),
    Parameter("view", "perform_destroy", "instance", "instance"),
    Parameter("view", "form_valid", "form", "saver"),
    Parameter("serializer", "update", "instance", "instance"),
    Parameter("signal receiver", "*", "instance", "instance"),
    # django-allauth's adapters: the user being signed up or logged in.
    Parameter("account adapter", "save_user", "user", "instance"),
    Parameter("account adapter", "login", "user", "instance"),
]
# Tree models (django-mptt, django-treebeard): what their navigation methods return, on an
# instance and on the class; always nodes of the same model.
TREE_BASES = {"mptt.models.MPTTModel", "treebeard.mp_tree.MP_Node", "treebeard.ns_tree.NS_Node",
              "treebeard.al_tree.AL_Node"}
TREE_INSTANCE_CALLS = {
    "get_descendants": "queryset", "get_children": "queryset", "get_ancestors": "queryset",
    "get_siblings": "queryset", "get_family": "queryset", "get_leafnodes": "queryset",
    "get_root": "instance", "get_parent": "instance", "get_first_child": "instance",
    "get_last_child": "instance", "get_next_sibling": "instance", "get_previous_sibling": "instance",
    "get_prev_sibling": "instance", "get_first_sibling": "instance", "get_last_sibling": "instance",
}
TREE_CLASS_CALLS = {"get_root_nodes": "queryset", "get_first_root_node": "instance", "get_last_root_node": "instance"}
# Bases that give a class its role when no Django/DRF base does, and the model the role is
# about when the class names none.
ACCOUNT_ADAPTER_BASES = {"allauth.account.adapter.DefaultAccountAdapter",
                         "allauth.socialaccount.adapter.DefaultSocialAccountAdapter"}
ROLE_MODELS = {"account adapter": USER_MODEL}
# `self.<attribute>` and `self.<method>()` in a class of each role.
SELF_ATTRIBUTES = {("serializer", "instance"): "instance", ("form", "instance"): "instance",
                   ("view", "object"): "instance"}
SELF_CALLS = {("view", "get_object"): "instance", ("view", "get_queryset"): "queryset",
              ("admin", "get_object"): "instance", ("admin", "get_queryset"): "queryset"}
# `self.<method>()` in a view that builds its serializer or form class: the attribute naming it.
SAVER_GETTERS = {"get_serializer": "serializer_class", "get_form": "form_class"}
# `super().<method>(...)` in a class of each role (a ModelForm's `super().save(commit=False)`).
SUPER_CALLS = {("form", "save"): "instance", ("serializer", "create"): "instance",
               ("serializer", "update"): "instance", ("serializer", "save"): "instance",
               ("account adapter", "save_user"): "instance", ("account adapter", "new_user"): "instance",
               ("account adapter", "populate_user"): "instance"}
# Signals whose `instance` argument is a model instance (of `sender`).
MODEL_SIGNALS = {"pre_save", "post_save", "pre_delete", "post_delete", "pre_init", "post_init"}
# Django's auth signals: the receiver's `user` is the user model's instance, whatever `sender` is.
USER_SIGNALS = {"django.contrib.auth.signals.user_logged_in": "user",
                "django.contrib.auth.signals.user_logged_out": "user"}
# Django functions that return a model instance, by qualified name (`authenticate()` gives
# the user model's instance, or None).
FUNCTION_RETURNS = {
    "django.contrib.auth.authenticate": ("instance", USER_MODEL),
    "django.contrib.auth.aauthenticate": ("instance", USER_MODEL),
}
# Contrib managers' own methods (`Site.objects.get_current()`), by model and method: what
# they return; None for a value that is not a model's (a dict, nothing). The user model's
# `create_user` / `get_by_natural_key` are instance getters of every manager (orm.py).
MANAGER_CALLS = {
    ("django.contrib.sites.models.Site", "get_current"): "instance",
    ("django.contrib.sites.models.Site", "clear_cache"): None,
    ("django.contrib.contenttypes.models.ContentType", "get_for_model"): "instance",
    ("django.contrib.contenttypes.models.ContentType", "get_for_id"): "instance",
    ("django.contrib.contenttypes.models.ContentType", "get_for_models"): None,  # a dict
    ("django.contrib.contenttypes.models.ContentType", "clear_cache"): None,
}
ADMIN_FUNCTION_PARAMETERS = ("modeladmin", "request", "queryset")
# External bases whose subclasses are bound to some model even when no `Meta.model` can be
# named (an abstract `DynamicFieldsModelSerializer(ModelSerializer)` shared by several):
# their `instance` is an instance of some model, where a plain Serializer's may be anything.
MODEL_BOUND_BASE_SUFFIXES = ("ModelSerializer", "ModelForm")


def _is_model_bound_base(qualified: str) -> bool:
    # DRF's and Django's, and third-party ones named for them (drf-writable-nested's
    # `WritableNestedModelSerializer`, `GeoFeatureModelSerializer`).
    return qualified.endswith(MODEL_BOUND_BASE_SUFFIXES)


def _is_model_factory(qualified: str) -> bool:
    # factory_boy's `factory.django.DjangoModelFactory` (`factory.DjangoModelFactory` before 3.0).
    return qualified in ("factory.django.DjangoModelFactory", "factory.DjangoModelFactory")



class FrameworkTypes:
    def __init__(self, project: ProjectModel):
        self.project = project
        self._registered: dict[str, str] = {}  # admin class -> model
        # handler function -> {parameter the signal fills: its model (None: some model)}
        self._receivers: dict[str, dict[str, str | None]] = {}
        self._model_cache: dict[str, str | None] = {}
        self._admin_cache: dict[str, bool] = {}
        self._actions: dict[str, str] = {}  # function or method named in an admin's `actions` -> admin class
        # Names only, no positions: a stored table (project.StoredTables).
        self._registered, self._receivers, self._actions = project.tables.get("framework_types", self._indexed)

    def _indexed(self) -> tuple[dict[str, str], dict[str, dict[str, str | None]], dict[str, str]]:
        """Every admin's model, signal receiver's parameters and admin action, from every module."""
        project = self.project
        for module in project.modules_by_path.values():
            facts = module.facts
            for model, admin in facts.admin_registrations:
                self._register(module, model, admin)
            for cls in facts.classes:
                admin = f"{module.name}.{cls.qualname}"
                for action in cls.actions:  # a method by its name, a function by reference
                    if "." not in action:
                        self._actions.setdefault(f"{admin}.{action}", admin)
                    self._actions.setdefault(project.resolve(module, action), admin)
                for model in cls.registers[:1]:  # several models: the first (same admin for each)
                    self._registered.setdefault(f"{module.name}.{cls.qualname}", self._model(module, model) or "")
            for signal, handler, sender in facts.signal_connections:
                self._receive(self.project.resolve(module, handler), module, signal, sender)
            for function in facts.functions:
                for signal, sender in function.receives:
                    self._receive(f"{module.name}.{function.qualname}", module, signal, sender)
        return self._registered, self._receivers, self._actions

    def _register(self, module: ModuleInfo, model: str, admin: str) -> None:
        self._registered.setdefault(self.project.resolve(module, admin), self._model(module, model) or "")

    def _receive(self, handler: str, module: ModuleInfo, signal: str, sender: str | None) -> None:
        if signal.rsplit(".", 1)[-1] in MODEL_SIGNALS:
            parameter, model = "instance", self._model(module, sender) if sender else None
        elif signal.rsplit(".", 1)[-1] == "m2m_changed":
            # `sender=Profile.groups.through`: `instance` is the model whose relation changed,
            # the one declaring it as a rule (or the other side: some model either way).
            declaring = sender.rsplit(".", 2)[0] if sender and sender.endswith(".through") else None
            parameter, model = "instance", self._model(module, declaring) if declaring else None
        elif (parameter := USER_SIGNALS.get(self.project.resolve(module, signal))) is not None:
            model = USER_MODEL
        else:
            return
        filled = self._receivers.setdefault(handler, {})
        if parameter in filled and filled[parameter] != model:
            model = None  # two senders: some model
        filled[parameter] = model

    def _model(self, module: ModuleInfo, dotted: str) -> str | None:
        if dotted.startswith("@"):  # the app registry's `get_model("shop", "Order")`
            return self.project.model_of_lookup(dotted[1:])
        qualified = self.project.resolve(module, dotted)
        return qualified if self.project.is_model_class(qualified) else None

    # ------------------------------------------------------------- questions
    def parameter(self, module: ModuleInfo, function, name: str, position: int) -> OrmType | None:
        """What the framework passes as parameter `name` of `function` (a FunctionFact)."""
        qualified = f"{module.name}.{function.qualname}"
        if name in self._receivers.get(qualified, ()):
            return OrmType("instance", self._receivers[qualified][name])
        admin = self._actions.get(qualified)
        if admin is not None and self._is_admin(admin):
            # An admin action is called (modeladmin, request, queryset), whatever it names them.
            if position == 2:  # `self` counted for a method
                return OrmType("queryset", self.model_of(admin))
        if function.class_qualname is None:
            names = [param for param, _ in function.params]
            if tuple(names[:3]) == ADMIN_FUNCTION_PARAMETERS and name == "queryset":
                return OrmType("queryset", None)  # an admin action defined as a function
            return None
        cls = f"{module.name}.{function.class_qualname}"
        role = self.role(cls)
        if role is None:
            return None
        for signature in PARAMETERS:
            if signature.role == role and signature.parameter == name \
                    and signature.method in (function.name, "*"):
                if signature.method == "*" and [p for p, _ in function.params][1:2] != ["request"]:
                    continue
                if signature.gives == "formset":
                    return OrmType("formset", None)  # one of the admin's inlines: which, unknown
                model = ROLE_MODELS.get(role) or self.model_of(cls)
                if model is None and role in ("serializer", "form") and not self.is_model_bound(cls):
                    return None  # a plain Serializer's instance may be anything
                return OrmType(signature.gives, model)
        return None

    def self_attribute(self, cls: str, attribute: str) -> OrmType | None:
        role = self.role(cls)
        gives = SELF_ATTRIBUTES.get((role, attribute)) if role else None
        return self._known(gives, cls, unknown_model_ok=role in ("serializer", "form") and self.is_model_bound(cls))

    def self_call(self, cls: str, method: str) -> OrmType | None:
        if method in SAVER_GETTERS:
            return self._saver_of(cls, SAVER_GETTERS[method])
        role = self.role(cls)
        gives = SELF_CALLS.get((role, method)) if role else None
        return self._known(gives, cls, unknown_model_ok=True)

    def super_call(self, cls: str, method: str) -> OrmType | None:
        role = self.role(cls)
        gives = SUPER_CALLS.get((role, method)) if role else None
        return self._known(gives, cls, unknown_model_ok=self.is_model_bound(cls))

    def is_model_bound(self, cls: str) -> bool:
        """A ModelSerializer or ModelForm, whether or not its model can be named."""
        return self.project.inherits_from(cls, "model-bound", _is_model_bound_base)

    def saver_class(self, cls: str) -> OrmType | None:
        """What constructing `cls` gives, when it is a ModelSerializer or ModelForm: a saver
        of its model (`RecipeSerializer(data=...)`, whose `save()` returns a Recipe)."""
        if not self.is_model_bound(cls):
            return None
        model = self.model_of(cls)
        return OrmType("saver", model) if model else None

    def _saver_of(self, cls: str, attribute: str) -> OrmType | None:
        """`self.get_serializer(...)` in a DRF view, `self.get_form()` in a Django one: an
        instance of its `serializer_class` / `form_class`, so a saver of that class's model."""
        found = self.project.class_fact(cls)
        if found is None or self.role(cls) != "view":
            return None
        for module, fact in self.project._project_ancestry(*found):
            if attribute in fact.model_refs:
                return self.saver_class(self.project.resolve(module, fact.model_refs[attribute]))
        return None

    def tree_call(self, model: str, method: str, on_class: bool) -> OrmType | None:
        """`node.get_descendants()` on a django-mptt / treebeard model: its own nodes."""
        gives = (TREE_CLASS_CALLS if on_class else TREE_INSTANCE_CALLS).get(method)
        if gives is None or not self.project.inherits_from(model, "tree", TREE_BASES.__contains__):
            return None
        return OrmType(gives, model)

    def factory_model(self, cls: str) -> str | None:
        """The model a factory_boy `DjangoModelFactory` subclass builds (its `Meta.model`)."""
        if self.project.class_fact(cls) is None or not self.project.inherits_from(cls, "model factory", _is_model_factory):
            return None
        return self.model_of(cls)

    def function_call(self, qualified: str) -> OrmType | None:
        """What calling the Django function `qualified` returns, if the table says."""
        found = FUNCTION_RETURNS.get(qualified)
        return OrmType(*found) if found else None

    def manager_call(self, model: str, method: str) -> OrmType | None | bool:
        """What `Model.objects.method()` returns for a contrib manager's own method; False
        when the table says nothing of it."""
        if (model, method) not in MANAGER_CALLS:
            return False
        gives = MANAGER_CALLS[(model, method)]
        return OrmType(gives, model) if gives else None

    def _known(self, gives: str | None, cls: str, unknown_model_ok: bool = False) -> OrmType | None:
        if gives is None:
            return None
        model = ROLE_MODELS.get(self.role(cls)) or self.model_of(cls)
        if model is None and not unknown_model_ok:
            return None
        return OrmType(gives, model)

    def role(self, cls: str) -> str | None:
        project = self.project
        if self._is_admin(cls):
            return "admin"
        if project.is_serializer_class(cls):
            return "serializer"
        if project.is_view_class(cls):
            return "view"
        if project.is_form_class(cls):
            return "form"
        if project.inherits_from(cls, "account adapter", ACCOUNT_ADAPTER_BASES.__contains__):
            return "account adapter"
        return None

    def _is_admin(self, cls: str) -> bool:
        """A ModelAdmin by its Django bases, or a class registered for a model
        (`admin.site.register(M, A)`, `@admin.register(M)`) whose third-party base comes
        from an `admin` module (treebeard's `TreeAdmin`, import-export's, reversion's).
        Registration alone is not enough: `translator.register(M, Options)` and
        `watson.register(M, Adapter)` register other things."""
        if self.project.is_admin_class(cls):
            return True
        if cls not in self._registered or cls in self._admin_cache:
            return self._admin_cache.get(cls, False)
        found = self.project.class_fact(cls)
        is_admin = False
        if found is not None:
            for module, fact in self.project._project_ancestry(*found):
                for base in self.project.qualified_bases(module, fact):
                    if self.project.class_fact(base) is None and "admin" in base.split(".")[:-1]:
                        is_admin = True
        self._admin_cache[cls] = is_admin
        return is_admin

    def model_of(self, cls: str, depth: int = 0) -> str | None:
        """The model a class is about, searched up its project bases."""
        if cls in self._model_cache:
            return self._model_cache[cls]
        self._model_cache[cls] = None  # a cycle is unknown
        model = self._registered.get(cls) or None
        found = self.project.class_fact(cls)
        if model is None and found is not None and depth < 20:
            module, fact = found
            refs = fact.model_refs
            for key in ("model", "queryset", "Meta.model"):
                if key in refs and (model := self._model(module, refs[key])):
                    break
            else:
                model = None
                for key in ("serializer_class", "form_class"):
                    if key in refs:
                        model = self.model_of(self.project.resolve(module, refs[key]), depth + 1)
                        if model:
                            break
            if model is None:
                for base in self.project.qualified_bases(module, fact):
                    if (model := self.model_of(base, depth + 1)):
                        break
        self._model_cache[cls] = model
        return model


_framework: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def framework_types(project: ProjectModel) -> FrameworkTypes:
    """The project's framework signatures, resolved on first use and kept for the run."""
    found = _framework.get(project)
    if found is None:
        found = _framework[project] = FrameworkTypes(project)
    return found
