"""What an expression is, as far as the ORM goes: a model class, a manager, a queryset,
a related manager or a model instance, or unknown.

This is what keeps LG101 precise: `form.save()`, `image.save()`, `cache.delete(k)`
and `dict.update()` have receivers that type as unknown, so they are never writes.
Names are resolved by the project model's one resolver; this module only adds the
ORM's rules (`Model.objects` is a manager, `.filter()` keeps a queryset, `.get()`
gives an instance, `instance.items` is a related manager if `items` is a relation).
When in doubt the answer is unknown, and unknown is silence.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Any, Protocol

from layerguard.facts import dotted_name, model_lookup
from layerguard.project import CONTRIB_MODELS, MODEL_BASES, USER_MODEL, ModuleInfo, ProjectModel

MANAGER_WRITES = {
    "create", "update", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create",
    "create_user", "create_superuser",
    "acreate", "aupdate", "adelete", "abulk_create", "abulk_update", "aget_or_create", "aupdate_or_create",
    "acreate_user", "acreate_superuser",
}
RELATED_WRITES = {"add", "remove", "set", "clear", "create", "get_or_create", "update_or_create",
                  "update", "delete", "bulk_create", "aadd", "aremove", "aset", "aclear", "acreate"}
INSTANCE_WRITES = {"save", "delete", "asave", "adelete"}
# `instance.avatar.save(name, content)` / `.delete()` save the instance unless `save=False`
# (the position of `save` among the positional arguments).
FILE_WRITES = {"save": 2, "delete": 0}
WRITE_METHODS = MANAGER_WRITES | RELATED_WRITES | INSTANCE_WRITES

INSTANCE_GETTERS = {"get", "first", "last", "latest", "earliest", "create", "get_by_natural_key",
                    "create_user", "create_superuser", "aget", "afirst", "alast", "alatest",
                    "aearliest", "acreate"}
TUPLE_GETTERS = {"get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create"}
# Manager and queryset methods whose result is not a queryset (a dict, a number, a bool...).
NOT_QUERYSETS = {"count", "exists", "aggregate", "in_bulk", "iterator", "explain", "contains",
                 "acount", "aexists", "aaggregate", "ain_bulk", "acontains", "update", "delete",
                 "bulk_create", "bulk_update",
                 *TUPLE_GETTERS, *MANAGER_WRITES}
CONTENT_TYPE = CONTRIB_MODELS["contenttypes.ContentType"]
# Django's own queryset methods: never looked up among a project's custom manager methods.
QUERYSET_METHODS = {"all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "annotate",
                    "alias", "values", "values_list", "distinct", "only", "defer", "using", "none", "reverse",
                    "select_for_update", "union", "intersection", "difference", "extra", "raw", "dates",
                    "datetimes", "complex_filter", "get_queryset"}
GET_OBJECT_SHORTCUTS = {"django.shortcuts.get_object_or_404", "django.shortcuts.aget_object_or_404"}
# Calls that make an unknown attribute of a model class a manager (`Model.<attr>.filter()`):
# the queryset methods that no dict, list or choices class also has.
UNDECLARED_MANAGER_CALLS = {"all", "filter", "exclude", "get_queryset", "select_related", "prefetch_related",
                            "annotate", "only", "defer", "order_by", "using", "select_for_update"}
# factory_boy's calls that build instances of a factory's model (or a list of them).
FACTORY_BUILDS = {None: "instance", "create": "instance", "build": "instance",
                  "create_batch": "list", "build_batch": "list"}
MANAGER_NAMES = ("objects", "_default_manager", "_base_manager")
# Kinds whose items (iterated, indexed, `list(...)`) are instances of their model.
COLLECTION_KINDS = ("queryset", "manager", "related", "list")
# A model formset's lists of instances (BaseModelFormSet.save()).
FORMSET_OBJECT_LISTS = {"new_objects", "deleted_objects"}
# Calls whose result is a model class layerguard cannot name: its manager is still a manager.
MODEL_CLASS_CALLS = {"django.apps.apps.get_model", "django.apps.registry.apps.get_model"}
# ... and calls that give model classes to iterate: `for model in apps.get_models():`.
MODEL_CLASSES_CALLS = {"django.apps.apps.get_models", "django.apps.registry.apps.get_models"}
# The app registry's configs, whose `get_models()` gives model classes too.
APP_CONFIG_CALLS = {f"django.apps{registry}.apps.{call}" for registry in ("", ".registry")
                    for call in ("get_app_config", "get_app_configs")}


class ModelRelations(Protocol):
    """The model graph (typemodel/models.py): what `instance.<name>` is."""

    def relation(self, model: str, attribute: str) -> Any: ...


class FrameworkSignatures(Protocol):
    """The framework's signatures (typemodel/signatures.py): `self.object`, `self.get_queryset()`..."""

    def self_attribute(self, cls: str, attribute: str) -> OrmType | None: ...

    def self_call(self, cls: str, method: str) -> OrmType | None: ...

    def super_call(self, cls: str, method: str) -> OrmType | None: ...

    def manager_call(self, model: str, method: str) -> OrmType | None | bool: ...

    def function_call(self, qualified: str) -> OrmType | None: ...


@dataclass(frozen=True)
class OrmType:
    # "class", "manager", "queryset", "related", "instance"; and, for values crossing
    # functions (typemodel/solver.py): "list" (of instances), "tuple" (of `elements`),
    # "object" (an instance of the project class `model`, not a model: `request: AuthedRequest`);
    # "m2m-field": `Model.tags` on the class, whose `.through` is the model in `model`;
    # "formset": an admin's model formset (`save_formset`), "tuple-list": a list of tuples of `elements`;
    # "classes": model classes to iterate (`(Order, Line)`, `apps.get_models()`), of `model` when
    # all are one; "dict": a dict whose values are all `elements[0]`; "app-config"/"app-configs":
    # Django's app registry entries, whose `get_models()` gives "classes"
    kind: str
    model: str | None  # qualified model name; None when the model is not known
    elements: tuple = ()


@dataclass(frozen=True)
class Origin:
    """Where a local name got its value, as semgrep's flow patterns found it."""

    kind: str  # "assign", "assign-first-of-tuple", "loop", "annotation", "parameter", "known", "deferred"
    node: ast.AST | None = None
    annotation: str | None = None
    owner: str | None = None  # "parameter"/"deferred": the qualified function the name is local to
    name: str | None = None
    known: "OrmType | None" = None  # "known": the type itself
    index: int | None = None  # "loop" over a tuple target (`for user, watch in pairs`): the element's position


@dataclass(frozen=True)
class OrmWrite:
    model: str | None
    kind: str  # the receiver's kind
    method: str


class OrmTyper:
    def __init__(self, project: ProjectModel, module: ModuleInfo, enclosing_class: str | None = None,
                 function: str | None = None, solver=None,
                 graph: ModelRelations | None = None, framework: FrameworkSignatures | None = None):
        self.project = project
        self.graph = graph
        self.framework = framework
        self.module = module
        self.enclosing_class = enclosing_class
        self.function = function  # the qualified function the typed code is in
        # Values crossing function boundaries (typemodel/solver.py, the layer above, passes it).
        self.solver = solver or _NO_FLOW

    def write_of(self, call: ast.Call, env: dict[str, Origin] | None = None) -> OrmWrite | None:
        """The ORM write `call` performs, or None when it is not (known to be) one."""
        if not isinstance(call.func, ast.Attribute):
            return None
        method = call.func.attr
        receiver = self.type_of(call.func.value, env if env is not None else {})
        if receiver is None:
            return None
        if receiver.kind in ("manager", "queryset") and method in MANAGER_WRITES:
            return OrmWrite(receiver.model, receiver.kind, method)
        if receiver.kind == "related" and method in RELATED_WRITES:
            return OrmWrite(receiver.model, receiver.kind, method)
        if receiver.kind == "instance" and method in INSTANCE_WRITES:
            return OrmWrite(receiver.model, receiver.kind, method)
        if receiver.kind == "file" and method in FILE_WRITES and _saves_instance(call, FILE_WRITES[method]):
            return OrmWrite(receiver.model, receiver.kind, method)
        return None

    def type_of(self, node: ast.AST, env: dict[str, Origin]) -> OrmType | None:
        if isinstance(node, ast.Await):
            return self.type_of(node.value, env)
        if isinstance(node, ast.Name):
            if node.id in env:
                origin = env[node.id]
                rest = env.without(node.id, origin) if hasattr(env, "without") else \
                    {name: value for name, value in env.items() if name != node.id}
                return self._type_of_origin(origin, rest)
            return self._class_named(node.id)
        if isinstance(node, ast.Attribute):
            return self._type_of_attribute(node, env)
        if isinstance(node, ast.Call):
            return self._type_of_call(node, env)
        if isinstance(node, ast.IfExp):  # `A if c else B`: what both branches agree on
            # `self.request.user if hasattr(...) else None`: A or nothing, a write on it is A's.
            if _is_none(node.orelse):
                return self.type_of(node.body, env)
            if _is_none(node.body):
                return self.type_of(node.orelse, env)
            body = self.type_of(node.body, env)
            return body if body is not None and body == self.type_of(node.orelse, env) else None
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts \
                and not any(isinstance(element, ast.Starred) for element in node.elts):
            return self._literal(node, env)
        if isinstance(node, ast.BoolOp):  # `doc.parent or doc`: one of its operands, so what they all agree on
            first = self.type_of(node.values[0], env)
            return first if first is not None and all(self.type_of(value, env) == first
                                                      for value in node.values[1:]) else None
        if isinstance(node, ast.Subscript):
            base = self.type_of(node.value, env)
            if base and base.kind in COLLECTION_KINDS:
                if isinstance(node.slice, ast.Slice):
                    return OrmType("list" if base.kind == "list" else "queryset", base.model)
                return OrmType("instance", base.model)
            if base and base.kind == "tuple" and isinstance(node.slice, ast.Constant) \
                    and isinstance(node.slice.value, int) and -len(base.elements) <= node.slice.value < len(base.elements):
                return base.elements[node.slice.value]
            if base and base.kind == "list" and not isinstance(node.slice, ast.Slice):
                return OrmType("instance", base.model)
            if base and base.kind == "classes" and not isinstance(node.slice, ast.Slice):
                return OrmType("class", base.model)  # `MODELS[0]`
            if base and base.kind == "dict":  # `MODELS_BY_NAME[name]`: any of its values
                return base.elements[0]
        if isinstance(node, ast.Dict):
            return _dict_of(self, node, env)
        return None

    def _class_named(self, dotted: str) -> OrmType | None:
        if dotted in ("self", "cls"):
            return None
        qualified = self.project.resolve(self.module, dotted)
        if qualified == dotted and "." not in dotted and not self._is_bound(dotted):
            return None  # an unbound name is nothing we can know
        if self.project.is_model_class(qualified):
            return OrmType("class", qualified)
        return None

    def _is_external_model_name(self, dotted: str) -> bool:
        if not self._is_bound(dotted.split(".")[0]):
            return False
        qualified = self.project.resolve(self.module, dotted)
        parts = qualified.split(".")
        return (self.project.class_fact(qualified) is None and "models" in parts[:-1]
                and parts[-1][:1].isupper())

    def _is_bound(self, name: str) -> bool:
        return name in self.project._bindings_of(self.module.path)

    def _type_of_origin(self, origin: Origin, env: dict[str, Origin]) -> OrmType | None:
        if origin.kind == "known":
            return origin.known
        if origin.kind == "deferred":  # a local of a function the solver is reading
            return self.solver.binding(env, origin.name) if hasattr(env, "summary") else None
        if origin.kind in ("annotation", "parameter", "class-annotation"):
            if not origin.annotation:
                return self._parameter(origin) if origin.kind == "parameter" else None
            cls = self._class_named(origin.annotation) or self._model_by_string(origin.annotation)
            if origin.kind == "class-annotation":  # `type[Order]`, `type[models.Model]`
                if cls is None and self.project.resolve(self.module, origin.annotation) in MODEL_BASES:
                    return OrmType("class", None)
                return OrmType("class", cls.model if cls.model not in MODEL_BASES else None) if cls else None
            if cls:
                return OrmType("instance", cls.model)
            if "[" in origin.annotation and hasattr(self.solver, "annotation"):
                return self.solver.annotation(origin.annotation, self.module)  # `qs: QuerySet[Profile]`
            # `request: AuthedRequest`: an instance of a project class (its attributes typed by the solver)
            qualified = self.project.resolve(self.module, origin.annotation)
            if self._is_bound(origin.annotation.split(".")[0]) and self.project.class_fact(qualified) is not None:
                if self.framework is not None and (saver := self.framework.saver_class(qualified)) is not None:
                    return saver  # `serializer: OrderSerializer`: as if built in the code
                return OrmType("object", qualified)
            return None
        if origin.node is not None and hasattr(env, "moved_to"):
            env = env.moved_to(origin.node)  # names in the value: as of where it was computed
        if origin.kind == "loop" and origin.index is not None and origin.node is not None:
            return self._loop_element(origin.node, origin.index, env)
        node = _iterated(origin.node) if origin.kind == "loop" else origin.node
        value = self.type_of(node, env) if node is not None else None
        if origin.kind == "assign-first-of-tuple" and value is not None and value.kind == "tuple":
            return value.elements[0] if value.elements else None
        if origin.kind == "assign-first-of-tuple":
            node = origin.node
            if isinstance(node, ast.Await):
                node = node.value
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in TUPLE_GETTERS
            ):
                manager = self.type_of(node.func.value, env)
                if manager and manager.kind in ("manager", "queryset", "related"):
                    return OrmType("instance", manager.model)
            return None
        if origin.kind == "loop":
            return _element_of(value)
        if value is None and origin.kind == "assign" and origin.annotation:
            # `connect_to: Exercise | None = validated_data.get(...)`: what the author declared
            return self._type_of_origin(Origin("annotation", annotation=origin.annotation), env)
        return value

    def _literal(self, node: ast.Tuple | ast.List, env: dict[str, Origin]) -> OrmType | None:
        """`(order, created)` is a tuple of its elements; `[a, b]` (or a list built by
        `.append()`, bindings.py) is a list of the instance, or of the tuple, its elements
        all agree on. Each element is typed where it was written."""
        items = [self.type_of(element, env.moved_to(element) if hasattr(env, "moved_to") else env)
                 for element in node.elts]
        if isinstance(node, ast.Tuple):
            return OrmType("tuple", None, tuple(items)) if any(items) else None
        first = items[0]
        if first is not None and first.kind == "tuple" and all(item == first for item in items[1:]):
            return OrmType("tuple-list", None, first.elements)
        return _collection_of(common_model_type(items))

    def _loop_element(self, iterable: ast.AST, index: int, env: dict[str, Origin]) -> OrmType | None:
        """Element `index` of a tuple loop target: `for i, order in enumerate(orders)`,
        `for order, line in zip(orders, lines)`, or a list annotated `list[tuple[Order, Line]]`."""
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id not in env \
                and not self._is_bound(iterable.func.id) and not iterable.keywords[1:] \
                and not any(isinstance(argument, ast.Starred) for argument in iterable.args):
            if iterable.func.id == "enumerate" and iterable.args and index == 1:
                return self._item_of(iterable.args[0], env)
            if iterable.func.id == "zip" and index < len(iterable.args):
                return self._item_of(iterable.args[index], env)
            return None
        value = self.type_of(iterable, env)
        if value is not None and value.kind == "tuple-list" and index < len(value.elements):
            return value.elements[index]
        return None

    def _item_of(self, iterable: ast.AST, env: dict[str, Origin]) -> OrmType | None:
        """What iterating `iterable` gives: an instance of a queryset's or list's model."""
        return _element_of(self.type_of(_iterated(iterable), env))

    def _parameter(self, origin: Origin) -> OrmType | None:
        """An unannotated parameter: `self` of a (non-model) class, else what every call site passes."""
        if not origin.owner:
            return None
        found = self.solver.functions.get(origin.owner)
        if found is None:
            return None
        module, function = found
        if function.class_qualname and function.params and function.params[0][0] == origin.name \
                and not any(d.endswith("staticmethod") for d in function.decorators):
            if any(d.endswith("classmethod") for d in function.decorators):
                return None
            owner_class = f"{module.name}.{function.class_qualname}"
            return None if self.project.is_model_class(owner_class) else OrmType("object", owner_class)
        names = [name for name, _ in function.params]
        if self.framework is not None and origin.name in names:
            # What Django, DRF or the admin pass (an admin action's queryset, a receiver's
            # instance), as in a checked file: followed into the functions it is passed to.
            known = self.framework.parameter(module, function, origin.name, names.index(origin.name))
            if known is not None:
                return known
        return self.solver.parameter(origin.owner, origin.name)

    def _model_by_string(self, annotation: str) -> OrmType | None:
        if "." in annotation:
            qualified = self.project.model_by_reference(annotation, self.module, is_string=True)
            return OrmType("class", qualified) if qualified else None
        return None

    def _type_of_attribute(self, node: ast.Attribute, env: dict[str, Origin]) -> OrmType | None:
        dotted = dotted_name(node)
        if dotted and dotted.split(".")[0] not in env:
            as_class = self._class_named(dotted)
            if as_class:
                return as_class
        # `IntervalSchedule.objects` for a third-party model (django_celery_beat.models):
        # an external CapWords class from a `models` module, reached through `.objects`.
        if node.attr in ("objects", "_default_manager") and isinstance(node.value, (ast.Name, ast.Attribute)):
            owner = dotted_name(node.value)
            if owner and owner.split(".")[0] not in env and self._is_external_model_name(owner):
                return OrmType("manager", self.project.resolve(self.module, owner))
        # request.user / self.request.user: the authenticated user instance.
        if node.attr == "user" and dotted in ("request.user", "self.request.user", "info.context.user"):
            return OrmType("instance", USER_MODEL)
        if isinstance(node.value, ast.Name) and node.value.id == "self" and _is_self(env) \
                and self.framework and self.enclosing_class:
            known = self.framework.self_attribute(self.enclosing_class, node.attr)  # `self.object`
            if known is not None:
                return known
        base = self.type_of(node.value, env)
        if base is None:
            # `self.model.objects`, `queryset.model._default_manager` in a mixin whose model
            # cannot be named: the manager of some model (a `model` attribute holding
            # something with `.objects` is Django's convention, not a look-alike's).
            if node.attr in MANAGER_NAMES and isinstance(node.value, ast.Attribute) and node.value.attr == "model":
                return OrmType("manager", None)
            return None
        if base.kind == "saver":  # a ModelForm / ModelSerializer's `.instance`
            return OrmType("instance", base.model) if node.attr == "instance" and base.model else None
        if base.kind == "formset":  # an admin inline's model formset: the objects it saved or deleted
            return OrmType("list", base.model) if node.attr in FORMSET_OBJECT_LISTS else None
        if base.kind == "object" and base.model:
            return self.solver.attribute(base.model, node.attr)
        if base.kind == "class":
            if base.model is None:  # a model class held in a variable
                return OrmType("manager", None) if node.attr in MANAGER_NAMES else None
            info = self.project.model_info(base.model)
            if info and node.attr in info.managers:
                return OrmType("manager", base.model)
            relation = self.graph.relation(base.model, node.attr) if self.graph else None
            if relation is not None and relation.many_to_many:
                return OrmType("m2m-field", relation.through)
            return None
        if base.kind == "m2m-field":
            return OrmType("class", base.model) if node.attr == "through" else None
        if base.kind == "instance":
            related = self._relation(base.model, node.attr)
            if related is None and base.model and self.project.is_project_model(base.model):
                return self.solver.property_value(base.model, node.attr, base)  # `org.admin_usergroup`
            return related
        if base.kind in ("manager", "queryset", "related") and node.attr == "model":
            return OrmType("class", base.model)  # Django's `Manager.model`, `QuerySet.model`
        return None

    def _undeclared_manager(self, node: ast.Attribute, env: dict[str, Origin]) -> OrmType | None:
        """`Document.global_objects.filter(...)`: an attribute of a model class, not one the
        model graph knows, that is called like a manager is one (a manager a third-party
        base declares, as django-softdelete's `global_objects`): on the class, a field is a
        descriptor with no `filter()`."""
        owner = self.type_of(node.value, env)
        if owner is None or owner.kind != "class" or owner.model is None:
            return None
        return OrmType("manager", owner.model)

    def _relation(self, model: str | None, attribute: str) -> OrmType | None:
        """`instance.<attribute>`: a related manager or instance, by the model graph."""
        if model is None:
            return OrmType("related", None) if attribute.endswith("_set") else None
        relation = self.graph.relation(model, attribute) if self.graph else None
        if relation is not None:
            kind = {"manager": "related", "file": "file"}.get(relation.kind, "instance")
            return OrmType(kind, relation.target)
        if attribute.endswith("_set") and not self.project.is_project_model(model):
            return OrmType("related", None)  # external model: only Django's default accessors
        return None

    def _type_of_call(self, node: ast.Call, env: dict[str, Origin]) -> OrmType | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            method = func.attr
            if isinstance(func.value, ast.Name) and func.value.id == "self" and _is_self(env):
                known = self.framework.self_call(self.enclosing_class, method) \
                    if self.framework and self.enclosing_class else None
                if known is not None:
                    return known
                if method == "get_object":
                    return OrmType("instance", None) if self._in_view_or_admin() else None
            if isinstance(func.value, ast.Call) and dotted_name(func.value.func) == "super" and self.framework:
                owner = self._super_owner(func.value)
                return self.framework.super_call(owner, method) if owner else None  # ModelForm.save()
            base = self.type_of(func.value, env)
            if base is None and method in UNDECLARED_MANAGER_CALLS and isinstance(func.value, ast.Attribute):
                base = self._undeclared_manager(func.value, env)
            if base is not None and base.kind == "saver":  # `serializer.save()`, `form.save(commit=False)`
                return OrmType("instance", base.model) if method == "save" and base.model else None
            if base is not None and base.kind == "formset":  # `formset.save(commit=False)`: the instances
                return OrmType("list", base.model) if method == "save" else None
            if base is not None and base.kind == "manager" and base.model and self.framework is not None:
                known = self.framework.manager_call(base.model, method)  # `Site.objects.get_current()`
                if known is not False:
                    return known
            if base is not None and base.kind in ("manager", "queryset", "related"):
                if method == "model":  # `order.items.model(sku=...)`: the manager's model class, called
                    return OrmType("instance", base.model)
                if method in INSTANCE_GETTERS:
                    return OrmType("instance", base.model)
                if method in ("bulk_create", "abulk_create"):
                    return OrmType("list", base.model)
                if method in TUPLE_GETTERS:  # (instance, created)
                    return OrmType("tuple", None, (OrmType("instance", base.model), None))
                if method in NOT_QUERYSETS:
                    return None
                if base.model and method not in QUERYSET_METHODS and self.project.is_project_model(base.model):
                    custom = self.solver.manager_method(base.model, method)  # Account.objects.for_user(user)
                    if custom is not False and custom is not None:
                        return custom
                return OrmType("queryset", base.model)
            if base is not None and base.kind in ("class", "instance") and base.model and self.framework \
                    and (tree := self.framework.tree_call(base.model, method, on_class=base.kind == "class")):
                return tree  # `node.get_descendants()`, `Category.get_root_nodes()`
            if base is not None and base.kind == "dict":
                return _dict_call(base.elements[0], method, node)
            if base is not None and base.kind == "app-config" and method == "get_models":
                return OrmType("classes", None)  # `app_config.get_models()`
            if base is not None and base.kind == "class":
                # `Order.from_cart(cart)`: a classmethod or staticmethod of a project model
                if base.model and self.project.is_project_model(base.model):
                    return self.solver.method_return(base.model, method, OrmType("class", base.model))
                return None
            if base is not None and base.kind == "instance" and base.model == CONTENT_TYPE \
                    and method == "model_class":
                return OrmType("class", None)
            if base is not None and base.kind == "object" and base.model:
                returned = self.solver.method_return(base.model, method)
                if returned is None:  # `self.model(...)`: an attribute holding a model class, called
                    held = self.type_of(func, env)
                    if held is not None and held.kind == "class" and held.model:
                        return OrmType("instance", held.model)
                return returned
            if base is not None and base.kind == "instance" and self.project.is_project_model(base.model):
                # a model method: `order.latest_invoice()`
                return self.solver.method_return(base.model, method, OrmType("instance", base.model))
            if base is not None:
                return None
        if isinstance(func, ast.Name) and func.id in env:
            held = self.type_of(func, env)  # `cls(total=0)` in a model's classmethod, `model_class(**row)`
            return OrmType("instance", held.model) if held and held.kind == "class" and held.model else None
        dotted = dotted_name(func)
        if dotted is None or dotted.split(".")[0] in env:
            return None
        qualified = self.project.resolve(self.module, dotted)
        if qualified in GET_OBJECT_SHORTCUTS and node.args:
            target = self.type_of(node.args[0], env)
            if target and target.kind in ("class", "manager", "queryset", "related"):
                return OrmType("instance", target.model)
            return None
        if qualified == "django.contrib.auth.get_user_model":
            return OrmType("class", USER_MODEL)
        if self.framework is not None and (known := self.framework.function_call(qualified)) is not None:
            return known  # `authenticate(request, ...)`
        if qualified in ("copy.copy", "copy.deepcopy") and len(node.args) == 1:
            copied = self.type_of(node.args[0], env)  # `routine_copy = copy.copy(routine)`: an instance still
            return copied if copied and copied.kind == "instance" else None
        if (reference := model_lookup(node)) is not None:  # `get_model("orders", "Order")`, any `get_model`
            return OrmType("class", self.project.model_of_lookup(reference))
        if qualified in MODEL_CLASS_CALLS:
            return OrmType("class", None)
        if qualified in MODEL_CLASSES_CALLS:  # `apps.get_models()`: every model class, none known
            return OrmType("classes", None)
        if qualified in APP_CONFIG_CALLS:
            return OrmType("app-config" if qualified.endswith("get_app_config") else "app-configs", None)
        if dotted in ("list", "sorted") and len(node.args) == 1 and not node.keywords:
            items = self.type_of(node.args[0], env)  # `list(Order.objects.filter(...))`
            if items and items.kind in COLLECTION_KINDS:
                return OrmType("list", items.model)
            return None
        called = self._class_named(dotted)
        if called and called.kind == "class":
            return OrmType("instance", called.model)
        if self.framework is not None and self._is_bound(dotted.split(".")[0]) \
                and (made := self._factory_product(qualified)) is not None:
            return made
        # a project function (`_get_ticket(pk)`) or class (`Importer(feed)`)
        functions = self.solver.functions
        for candidate in (qualified, f"{self.module.name}.{dotted}"):
            if candidate in functions and functions[candidate][1].class_qualname is None:
                return self.solver.function_return(candidate)
        if not self._is_bound(dotted.split(".")[0]):
            return None
        if self.project.class_fact(qualified) is not None:  # a class, nested ones too (`Api.OrderSerializer(...)`)
            if self.framework is not None and (saver := self.framework.saver_class(qualified)) is not None:
                return saver  # `RecipeSerializer(data=...)`: its `save()` returns a Recipe
            return OrmType("object", qualified)
        # `AdminPermission.projects(user)`: a classmethod or staticmethod called on a project
        # class (not a model: those are typed above), found in the class or its ancestors.
        owner, _, method = qualified.rpartition(".")
        if "." in dotted and self.project.class_fact(owner) is not None:
            return self.solver.method_return(owner, method)
        return None

    def _super_owner(self, call: ast.Call) -> str | None:
        """The class whose parent `super()` reaches: the enclosing one, or the project class
        named by a two-argument `super(MediaForm, form)` (a helper saving a form)."""
        if not call.args:
            return self.enclosing_class
        named = dotted_name(call.args[0])
        return self.project.class_named(self.module, named) if named else None

    def _factory_product(self, qualified: str) -> OrmType | None:
        """`DocumentFactory(...)`, `DocumentFactory.create_batch(3)` in a seed-data command:
        factory_boy builds (and saves) instances of the factory's `Meta.model`."""
        cls, method = qualified, None
        if self.project.class_fact(qualified) is None and "." in qualified:
            cls, method = qualified.rsplit(".", 1)
        if method not in FACTORY_BUILDS:
            return None
        model = self.framework.factory_model(cls)
        return OrmType(FACTORY_BUILDS[method], model) if model else None

    def _in_view_or_admin(self) -> bool:
        if not self.enclosing_class:
            return False
        return self.project.is_view_class(self.enclosing_class) or self.project.is_admin_class(self.enclosing_class)


def _is_self(env: dict[str, Origin]) -> bool:
    """`self` is the method's own parameter, not rebound."""
    return "self" not in env or (env["self"].kind in ("annotation", "parameter") and env["self"].annotation is None)
class _NoFlow:
    """No flow solver: returns, parameters and attributes are unknown."""

    functions: dict = {}

    def binding(self, environment, name):
        return None

    def parameter(self, function, name):
        return None

    def attribute(self, cls, attribute):
        return None

    def manager_method(self, model, method):
        return False

    def method_return(self, cls, method, self_type=None):
        return None

    def function_return(self, function, self_type=None):
        return None


_NO_FLOW = _NoFlow()


def short_code(node: ast.AST) -> str:
    """`Order.objects.filter(...)`: an expression as written, call arguments elided."""

    class ElideArguments(ast.NodeTransformer):
        def visit_Call(self, call: ast.Call) -> ast.Call:
            self.generic_visit(call)
            if call.args or call.keywords:
                call.args, call.keywords = [ast.Constant(value=...)], []
            return call

    try:
        return ast.unparse(ElideArguments().visit(copy.deepcopy(node)))
    except Exception:  # pragma: no cover - unparse of a parsed node should not fail
        return "this call"


def _saves_instance(call: ast.Call, position: int) -> bool:
    """Whether a FieldFile's `save`/`delete` call keeps its default `save=True`: an explicit
    `False`, or a value layerguard cannot read, is silence."""
    given = next((k.value for k in call.keywords if k.arg == "save"), None)
    if given is None and len(call.args) > position:
        given = call.args[position]
    if given is None:
        return True
    return isinstance(given, ast.Constant) and given.value is True


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def common_model_type(items: list) -> OrmType | None:
    """What a collection of `items` holds when each is a model instance, or each a model
    class: `(Order, Line)` holds model classes, `[order, line]` model instances (of one
    model when they agree on it, else of a model not known). Anything else (an element
    not typed, a mix of classes and instances) is None."""
    if not items or any(item is None for item in items):
        return None
    kind = items[0].kind
    if kind not in ("instance", "class") or any(item.kind != kind for item in items[1:]):
        return None
    models = {item.model for item in items}
    return OrmType(kind, models.pop() if len(models) == 1 else None)


def _collection_of(item: OrmType | None) -> OrmType | None:
    """A list (or set) of instances of one model, or of model classes."""
    if item is None:
        return None
    return OrmType("list" if item.kind == "instance" else "classes", item.model)


def _element_of(collection: OrmType | None) -> OrmType | None:
    """What a loop over `collection` gives each time."""
    if collection is None:
        return None
    if collection.kind in COLLECTION_KINDS:
        return OrmType("instance", collection.model)
    if collection.kind == "classes":
        return OrmType("class", collection.model)
    if collection.kind == "tuple":  # `for order in (first, second)`, `for model in (Order, Line)`
        return common_model_type(list(collection.elements))
    if collection.kind == "app-configs":
        return OrmType("app-config", None)
    return None


def _dict_of(typer: "OrmTyper", node: ast.Dict, env) -> OrmType | None:
    """`{"order": Order, "line": Line}`: a dict whose values are all model classes (or all
    instances); its one element is what any value is. Keys are not followed."""
    if not node.values or any(key is None for key in node.keys):  # `{**other}`: values not known
        return None
    value = common_model_type([typer.type_of(v, env.moved_to(v) if hasattr(env, "moved_to") else env)
                               for v in node.values])
    return OrmType("dict", None, (value,)) if value is not None else None


def _dict_call(value: OrmType, method: str, call: ast.Call) -> OrmType | None:
    """A dict of models' `get`, `pop`, `values()` and `items()`."""
    if method in ("get", "pop") and call.args and (len(call.args) == 1 or _is_none(call.args[1])):
        return value
    if method == "values" and not call.args:
        return _collection_of(value)
    if method == "items" and not call.args:
        return OrmType("tuple-list", None, (None, value))
    return None


def _iterated(node: ast.AST) -> ast.AST:
    """What a loop over `node` iterates: a queryset's `.iterator(chunk_size=...)` yields
    what the queryset does (the call itself is no queryset: its result has no `update()`)."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "iterator":
        node = node.func.value
    return node
