from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.checkers.side_effects import sdk_patterns, side_effects
from layerguard.facts import dotted_name
from layerguard.violation import Violation

SAVE_METHODS = {"create", "update", "save"}
# What preparing arguments may call. Methods of the data being prepared (validated_data,
# self.context, the request, a local): dict and str methods that compute a value.
DATA_METHODS = {
    "get", "pop", "setdefault", "copy", "update", "keys", "values", "items",
    "strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "casefold", "replace",
    "split", "join", "format", "startswith", "endswith", "isoformat",
}
BUILTINS = {"dict", "list", "tuple", "set", "frozenset", "str", "int", "float", "bool", "len", "getattr",
            "hasattr", "isinstance", "min", "max", "sorted", "any", "all", "abs", "round", "next", "iter",
            "zip", "enumerate", "range", "repr", "hex", "super"}
# Functions that compute a value and touch nothing: a timestamp, a token, a slug, a hash.
VALUE_FUNCTIONS = {
    "django.utils.timezone.now", "django.utils.timezone.localtime", "django.utils.timezone.localdate",
    "django.utils.timezone.timedelta", "datetime.datetime.now", "datetime.datetime.utcnow",
    "datetime.date.today", "datetime.timedelta", "uuid.uuid4", "uuid.uuid1",
    "django.utils.crypto.get_random_string", "secrets.token_urlsafe", "secrets.token_hex",
    "django.utils.text.slugify", "django.contrib.auth.hashers.make_password",
    "django.utils.translation.gettext", "django.utils.translation.gettext_lazy",
    "django.utils.translation.pgettext", "django.utils.translation.pgettext_lazy",
    "rest_framework.serializers.raise_errors_on_nested_writes",
}
VALUE_MODULES = ("re.", "string.", "math.", "json.", "logging.", "warnings.")
VALIDATOR_PREFIXES = ("validate", "check_")
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical"}
LOGGERS = {"logger", "log", "LOGGER", "LOG", "_logger", "_log", "logging"}
# The serializer's own state a create/update reads: the request and view, the input.
SERIALIZER_DATA = {"context", "initial_data", "validated_data", "data", "instance", "partial", "user", "request"}
TRANSACTIONS = {"django.db.transaction.atomic"}


@dataclass(frozen=True)
class Logic:
    """The first statement of a method that is logic, and what makes it so."""

    line: int
    reason: str


class LogicInSerializerSave(Rule):
    """## What it does
    Flags a DRF serializer that overrides `create`, `update` or `save` with its own
    logic instead of delegating to a service. Reported on the method's `def` line; the
    message names the first statement that is logic.

    ## Why is this bad?
    The write path becomes invisible to other callers (a management command, a task,
    another API) and untestable without HTTP (HackSoft Django Styleguide,
    "Serializers": serializers translate data, services do the work).

    Where the line is: preparing the arguments of one call is not logic. A method that
    only reads `self.context`, the request or the instance, sets, pops or deletes keys
    of `validated_data` (or of `kwargs`, a copy, a local dict), computes values with
    dict and str methods, builtins and value functions (`timezone.now()`, `uuid4()`,
    `get_random_string()`, `make_password()`, `slugify()`), calls validators
    (`self.validate_*()`, any function named `validate*` or `check_*`) and selectors,
    raises (`if not ...: raise ValidationError(...)`), and then calls **one** service (a
    function of a `service-modules` module, or of a module named `services` layerguard
    cannot see) or `super().create/update/save()` is delegation. An `if` that only
    chooses such values or raises is preparation; a `try` whose handlers only raise (a
    service's error translated for the API) and `with transaction.atomic()` (LG303's
    business) are transparent. Logic is anything else: an `if` around a call, a loop, an
    ORM write or query, a side effect, a second service call, or a call into code that
    is not a service (a model method, a helper, `self._save_tags()`). A helper of the same
    class or module is read too (two levels deep): one whose body is itself only
    preparation by these rules (`validated_data = self.scoped(validated_data)` setting
    the workspace from the request) prepares the arguments.

    ## Example
    ```python
    class OrderSerializer(serializers.ModelSerializer):
        def create(self, validated_data):
            items = validated_data.pop("items")
            order = Order.objects.create(**validated_data)
            for item in items:
                order.items.create(**item)
            return order
    ```

    ## Use instead
    ```python
    class OrderSerializer(serializers.ModelSerializer):
        def create(self, validated_data):
            validated_data["customer"] = self.context["request"].user.customer
            return order_create(**validated_data)  # shop/services.py
    ```
    """

    code = "LG302"
    name = "logic-in-serializer-save"

    INVALID = [
        # A helper of the same class is followed: one that writes or notifies is logic.
        Example("""
            from rest_framework import serializers
            from shop.models import Order, Tag

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

                def create(self, validated_data):  # expect
                    validated_data = self.with_tags(validated_data)
                    return super().create(validated_data)

                def with_tags(self, data):
                    data["tag"] = Tag.objects.get_or_create(name="new")[0]
                    return data
            """, path="shop/serializers.py"),
        Example("""
            from rest_framework import serializers
            from shop.models import Order

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

                def create(self, validated_data):  # expect
                    order = Order.objects.create(**validated_data)
                    return order

                def update(self, instance, validated_data):  # expect
                    if validated_data.get("total"):
                        instance.items.all().delete()
                    return super().update(instance, validated_data)
            """, path="shop/serializers.py"),
        Example("""
            from rest_framework import serializers
            from shop.utils import order_build

            class QuickOrderSerializer(serializers.Serializer):
                def save(self, **kwargs):  # expect
                    return order_build(**self.validated_data)
            """, files={"shop/utils.py": "def order_build(**data):\n    return data\n"}),
        Example("""
            from rest_framework import serializers
            from shop.models import Order
            from shop.services import order_create, order_notify

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total", "tags"]

                def create(self, validated_data):  # expect
                    tags = validated_data.pop("tags", [])
                    order = super().create(validated_data)
                    for tag in tags:
                        order.tags.add(tag)
                    return order

                def update(self, instance, validated_data):  # expect
                    order = order_create(**validated_data)
                    order_notify(order=order)
                    return order

                def save(self, **kwargs):  # expect
                    kwargs["paid"] = Order.objects.filter(customer=self.context["request"].user).exists()
                    return super().save(**kwargs)
            """, path="shop/serializers.py", files={
                "shop/services.py": "def order_create(**data):\n    pass\n\ndef order_notify(**data):\n    pass\n"}),
    ]
    VALID = [
        # A helper of the same class (or module) that only prepares the data is preparation.
        Example("""
            from rest_framework import serializers
            from shop.models import Order

            def _normalized(data):
                if "codes" in data:
                    data["codes"] = [str(code) for code in data["codes"]]

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

                def create(self, validated_data):
                    validated_data = self.scoped(validated_data)
                    _normalized(validated_data)
                    return super().create(validated_data)

                def update(self, instance, validated_data):
                    OrderSerializer.scoped(self, validated_data, instance=instance)
                    return super().update(instance, validated_data)

                def scoped(self, validated_data, instance=None):
                    if self.context["request"].user.is_superuser:
                        validated_data["workspace"] = None
                    elif instance:
                        validated_data["workspace"] = instance.workspace
                    else:
                        validated_data["workspace"] = self.context["request"].workspace
                    return validated_data
            """, path="shop/serializers.py"),
        Example('''
            from rest_framework import serializers
            from shop.models import Order
            from shop.services import order_create, order_update

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

                def create(self, validated_data):
                    """Delegates to the service."""
                    return order_create(**validated_data, user=self.context["request"].user)

                def update(self, instance, validated_data):
                    order = order_update(order=instance, **validated_data)
                    return order

                def save(self, **kwargs):
                    return super().save(**kwargs)
            ''', path="shop/serializers.py", files={
                "shop/services.py": "def order_create(**data):\n    pass\n\ndef order_update(**data):\n    pass\n",
            }),
        Example("""
            from rest_framework import serializers
            from shop import services

            class ReadOnlyOrderSerializer(serializers.Serializer):
                def create(self, validated_data):
                    raise NotImplementedError("read only")

                def update(self, instance, validated_data):
                    services.order_update(order=instance, **validated_data)
            """, path="shop/serializers.py", files={"shop/services.py": "def order_update(**data):\n    pass\n"}),
        Example("""
            class Exporter:
                def save(self, rows):
                    for row in rows:
                        print(row)
            """, path="shop/serializers.py"),
        # Preparing the arguments of one call is not logic (the review's 7 of 18).
        Example("""
            import uuid

            from django.contrib.auth.password_validation import validate_password
            from django.core.exceptions import ValidationError as DjangoValidationError
            from django.db import transaction
            from django.utils import timezone
            from rest_framework import serializers
            from shop.models import Order
            from shop.services import OrderError, order_create

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total", "paid"]

                def create(self, validated_data):
                    validated_data["workspace"] = self.context["workspace"]
                    validated_data["reference"] = f"ord_{str(uuid.uuid4()).replace('-', '_')}"
                    validated_data["name"] = validated_data["name"].strip()
                    validated_data.pop("confirm", None)
                    request = self.context.get("request")
                    user = validated_data.pop("user", None)
                    if user is None:
                        user = request.user
                    if validated_data.get("total", 0) < 0:
                        raise serializers.ValidationError("negative total")
                    self.validate_limits(validated_data)
                    validate_password(validated_data["pin"], user)
                    try:
                        with transaction.atomic():
                            return order_create(user=user, **validated_data)
                    except OrderError as error:
                        raise serializers.ValidationError(str(error)) from error

                def update(self, instance, validated_data):
                    validated_data["updated_at"] = timezone.now()
                    instance._previous_total = instance.total
                    instance = super().update(instance, validated_data)
                    return instance

                def save(self, **kwargs):
                    kwargs.setdefault("paid", False)
                    return super().save(**kwargs)

                def validate_limits(self, data):
                    return data
            """, path="shop/serializers.py", files={
                "shop/services.py": "class OrderError(Exception):\n    pass\n\ndef order_create(**data):\n    pass\n"}),
        Example("""
            from rest_framework import serializers
            from shop.models import Order

            class FrozenOrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

                def update(self, instance, validated_data):
                    return instance
            """, path="shop/serializers.py"),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        project = context.project
        if not project.has_delivery_code(context.path):
            return
        hint = project.service_module_hint(context.path)
        for function in context.facts.functions:
            if function.name not in SAVE_METHODS or function.class_qualname is None:
                continue
            owner = f"{context.module.name}.{function.class_qualname}"
            if not project.is_serializer_class(owner):
                continue
            node = context.function_node(function)
            if node is None:
                continue
            logic = _Delegation(context, node, function.class_qualname).first_logic()
            if logic is None:
                continue
            yield context.violation(
                self.code, context.def_line(node),
                f"`{function.qualname}()` holds logic instead of calling a service: {logic.reason} "
                f"(line {logic.line}); move it to {hint}",
            )


class _Delegation:
    """Walks one create/update/save: preparation, then one delegating call."""

    def __init__(self, context: FileContext, node: ast.FunctionDef | ast.AsyncFunctionDef,
                 class_qualname: str | None, depth: int = 0):
        self.context = context
        self.node = node
        self.class_qualname = class_qualname
        self.depth = depth  # helpers followed so far (a helper's helper, at most)
        arguments = node.args
        self.parameters = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
        self.parameters |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
        self.parameters.discard("self")
        self.locals = {target.id for statement in ast.walk(node) for target in _bound_names(statement)}
        self.delegated_to: str | None = None  # the one delegating call, once seen
        self._side_effects = None

    def first_logic(self) -> Logic | None:
        body = self.node.body
        if body and _is_docstring(body[0]):
            body = body[1:]
        return self._statements(body, guarded=False)

    # ------------------------------------------------------------ statements
    def _statements(self, statements: list[ast.stmt], guarded: bool) -> Logic | None:
        for statement in statements:
            found = self._statement(statement, guarded)
            if found is not None:
                return found
        return None

    def _statement(self, statement: ast.stmt, guarded: bool) -> Logic | None:
        """`guarded`: inside an `if`, where a delegating call would make two write paths."""
        line = statement.lineno
        if isinstance(statement, (ast.Pass, ast.Raise, ast.Global, ast.Nonlocal)) or _is_docstring(statement):
            return None  # raising refuses the write: validation, not logic
        if isinstance(statement, ast.If):  # choosing a value or refusing is preparation
            return self._expression(statement.test, line, guarded=True) \
                or self._statements(statement.body, guarded=True) or self._statements(statement.orelse, guarded=True)
        if isinstance(statement, ast.Assert):
            return self._expression(statement.test, line, guarded)
        if isinstance(statement, ast.Try):  # transparent when its handlers only translate errors
            found = self._statements(statement.body, guarded)
            if found is not None:
                return found
            for handler in statement.handlers:
                if not all(isinstance(s, (ast.Raise, ast.Pass)) or _is_docstring(s) for s in handler.body):
                    return Logic(handler.lineno, f"`{_header(self.context, handler)}` handles the error itself")
            return self._statements([*statement.orelse, *statement.finalbody], guarded)
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            for item in statement.items:
                if not self._is_transaction(item.context_expr):
                    found = self._expression(item.context_expr, line, guarded)
                    if found is not None:
                        return found
            return self._statements(statement.body, guarded)
        if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
            return Logic(line, f"`{_header(self.context, statement)}` loops")
        if isinstance(statement, ast.Match):
            return Logic(line, f"`{_header(self.context, statement)}` branches")
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return Logic(line, f"`{_header(self.context, statement)}` defines code of its own")
        if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if not self._is_own_target(target):
                    return Logic(line, f"`{_header(self.context, statement)}` changes state outside the method")
            return self._expression(statement.value, line, guarded) if statement.value is not None else None
        if isinstance(statement, ast.Delete):
            return None if all(self._is_own_target(t) for t in statement.targets) \
                else Logic(line, f"`{_header(self.context, statement)}` changes state outside the method")
        if isinstance(statement, (ast.Expr, ast.Return)):
            return self._expression(statement.value, line, guarded) if statement.value is not None else None
        return Logic(line, f"`{_header(self.context, statement)}` is not preparation")

    def _is_own_target(self, target: ast.expr) -> bool:
        """A local, a key or attribute of the data being prepared or of the instance."""
        if isinstance(target, (ast.Tuple, ast.List)):
            return all(self._is_own_target(element) for element in target.elts)
        if isinstance(target, ast.Starred):
            return self._is_own_target(target.value)
        if isinstance(target, ast.Name):
            return True
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            return self._is_data(target.value) or _root_name(target) == "self"
        return False

    # ----------------------------------------------------------- expressions
    def _expression(self, expression: ast.expr, line: int, guarded: bool) -> Logic | None:
        for call in _calls_in_order(expression):
            found = self._call(call, guarded)
            if found is not None:
                return Logic(call.lineno, found)
        return None

    def _call(self, call: ast.Call, guarded: bool) -> str | None:
        """None when the call is preparation or the one delegation; else why it is logic."""
        context, project = self.context, self.context.project
        func = call.func
        display = f"`{_display(func)}()`"
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) \
                and dotted_name(func.value.func) == "super" and func.attr in SAVE_METHODS:
            return self._delegate(display, guarded)
        dotted = dotted_name(func)
        qualified = project.resolve_bound(context.module, dotted) if dotted else None
        last = (dotted or getattr(func, "attr", "")).rsplit(".", 1)[-1]
        if last.lstrip("_").startswith(VALIDATOR_PREFIXES):
            return None
        if isinstance(func, ast.Attribute) and func.attr in LOG_METHODS and _root_name(func) in LOGGERS:
            return None  # logger.warning(...): a log line is not logic
        if isinstance(func, ast.Name) and qualified is None and func.id in BUILTINS and func.id not in self.locals:
            return None
        if qualified in VALUE_FUNCTIONS or (qualified or "").startswith(VALUE_MODULES):
            return None
        if qualified and self._is_service(qualified):
            if project.class_fact(qualified) is not None:
                return None  # building a service object: the call on it delegates
            return self._delegate(display, guarded)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):  # OrderService(user).create(...)
            built = dotted_name(func.value.func)
            built = project.resolve_bound(context.module, built) if built else None
            if built and project.class_fact(built) is not None and self._is_service(built):
                return self._delegate(display, guarded)
        if qualified and self._is_selector(qualified):
            return None
        write = context.types.write_of(call)
        if write is not None:
            return f"{display} writes to the database"
        effect = next((e for e in self._effects() if e.call is call), None)
        if effect is not None:
            return f"{display} {effect.kind}"
        if isinstance(func, ast.Attribute):
            receiver = context.types.type_of(func.value)
            if receiver is not None and receiver.kind in ("manager", "queryset", "related"):
                return f"{display} queries the database"
            if func.attr in DATA_METHODS and self._is_data(func.value):
                return None
        if self._prepares_in_helper(func):
            return None
        return f"{display} is not a service"

    def _prepares_in_helper(self, func: ast.expr) -> bool:
        """`validated_data = self.handle_space(validated_data)`: a method of the same class
        (or a function of the same module) whose body is itself only preparation, by the
        same walk, and delegates nothing, prepares the arguments too."""
        if self.depth >= 2:
            return False
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and self.class_qualname \
                and func.value.id in ("self", "cls", self.class_qualname.rsplit(".", 1)[-1]):
            owner, name = self.class_qualname, func.attr
        elif isinstance(func, ast.Name) and func.id not in self.locals:
            owner, name = None, func.id
        else:
            return False
        function = next((f for f in self.context.facts.functions
                         if f.name == name and f.class_qualname == owner), None)
        node = self.context.function_node(function) if function is not None else None
        if node is None or node is self.node:
            return False
        helper = _Delegation(self.context, node, owner, self.depth + 1)
        return helper.first_logic() is None and helper.delegated_to is None

    def _delegate(self, display: str, guarded: bool) -> str | None:
        if self.delegated_to is not None:
            return f"{display} is a second service call after {self.delegated_to}"
        self.delegated_to = display
        if guarded:
            return f"{display} is called in one branch only, choosing between write paths"
        return None

    def _is_service(self, qualified: str) -> bool:
        project = self.context.project
        found = project.function_fact(qualified) or project.class_fact(qualified)
        if found is not None:
            return project.is_service_module(found[0].path)
        # Code layerguard does not see: a service if its module is named like one.
        return "services" in qualified.split(".")[:-1]

    def _is_selector(self, qualified: str) -> bool:
        project = self.context.project
        found = project.function_fact(qualified) or project.class_fact(qualified)
        return found is not None and project.is_selector_module(found[0].path)

    def _is_data(self, node: ast.expr) -> bool:
        """The values being prepared: parameters, locals, the serializer's input and
        context, literals, and what data methods and builtins make of them."""
        while True:
            if isinstance(node, (ast.Attribute, ast.Subscript)):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                    return node.attr in SERIALIZER_DATA
                node = node.value
            elif isinstance(node, ast.Call):
                return self._call_is_value(node)
            elif isinstance(node, ast.Name):
                return node.id in self.parameters or node.id in self.locals
            else:
                return isinstance(node, (ast.Constant, ast.JoinedStr, ast.Dict, ast.List, ast.Tuple, ast.Set,
                                         ast.DictComp, ast.ListComp, ast.SetComp, ast.BinOp, ast.BoolOp, ast.IfExp))

    def _call_is_value(self, call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Name) and func.id in BUILTINS and func.id not in self.locals \
                and self.context.project.resolve_bound(self.context.module, func.id) is None:
            return True
        return isinstance(func, ast.Attribute) and func.attr in DATA_METHODS and self._is_data(func.value)

    def _is_transaction(self, expression: ast.expr) -> bool:
        target = expression.func if isinstance(expression, ast.Call) else expression
        dotted = dotted_name(target)
        return bool(dotted) and self.context.project.resolve_bound(self.context.module, dotted) in TRANSACTIONS

    def _effects(self):
        if self._side_effects is None:
            self._side_effects = side_effects(self.context, sdk_patterns(self.context))
        return self._side_effects


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


def _bound_names(node: ast.AST) -> list[ast.Name]:
    """Names a statement binds: assignment and loop targets, walrus, `with ... as`, `except ... as`."""
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr,
                         ast.comprehension)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [name for target in targets for name in ast.walk(target)
                if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)]
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return [name for name in ast.walk(node.optional_vars) if isinstance(name, ast.Name)]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [ast.Name(id=node.name)]
    return []


def _calls_in_order(expression: ast.expr) -> list[ast.Call]:
    """The calls of an expression, outermost first (`Unit.objects.filter(Q(...))` is about
    the query, not the `Q`); lambdas' bodies do not run here."""
    calls: list[ast.Call] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Call):
            calls.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(expression)
    return calls


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _display(func: ast.expr) -> str:
    dotted = dotted_name(func)
    if dotted:
        return dotted
    if isinstance(func, ast.Attribute):
        return f"{_display(func.value)}.{func.attr}" if not isinstance(func.value, ast.Call) \
            else f"{_display(func.value.func)}(...).{func.attr}"
    return "this"


def _header(context: FileContext, statement: ast.AST) -> str:
    """The first source line of a statement, trimmed: `if not issue_type:`."""
    text = context.line_bytes(statement.lineno).decode("utf-8", "replace").strip()
    return text if len(text) <= 60 else text[:57] + "..."
