"""Per-file facts for the project model, from one cheap `ast` pass.

Everything here is a function of the file's bytes alone (no paths, no other files),
so it can be cached by content hash and computed in worker processes. Names are kept
as written (`models.ForeignKey`, `.models`); the project model resolves them.

`ast` is 12x cheaper than libcst on real projects (netbox: 1.3 s against 16.6 s),
so libcst is only used for the rare file `ast` cannot read because it uses syntax
newer than the running Python (3.12 generics under 3.11, 3.14's `except A, B:`):
lowering.py rewrites those constructs in place and `ast` reads the result, keeping one
extractor for every file and every line where it was.
"""

from __future__ import annotations

import ast
import bisect
import os
import re
import functools
import pickle
import warnings
from dataclasses import MISSING, dataclass, field
from dataclasses import fields as dataclass_fields
from typing import ClassVar

RELATION_FIELDS = {"ForeignKey": "fk", "OneToOneField": "o2o", "ManyToManyField": "m2m",
                   "GenericRelation": "generic", "ParentalKey": "fk", "ParentalManyToManyField": "m2m",
                   "TreeForeignKey": "fk", "TreeOneToOneField": "o2o", "TreeManyToManyField": "m2m",
                   "GenericForeignKey": "gfk"}
# Relation fields of third-party packages and projects, named for Django's: django-sortedm2m's
# SortedManyToManyField, smart-selects' ChainedForeignKey, django-polymorphic's and ralph's
# PolymorphicManyToManyField, django-annoying's AutoOneToOneField.
RELATION_FIELD_SUFFIXES = (("ManyToManyField", "m2m"), ("OneToOneField", "o2o"), ("ForeignKey", "fk"))
# A file field's value is a FieldFile whose `save(name, content)` and `delete()` also save
# the instance (`save=True` by default): Django's, and third-party ones named for them
# (easy-thumbnails' ThumbnailerImageField, VersatileImageField).
FILE_FIELD_SUFFIXES = ("FileField", "ImageField")
# django-taggit's field and the project subclasses named for it (kitsune's BigVocabTaggableManager).
TAGGABLE_MANAGER_SUFFIX = "TaggableManager"


@dataclass
class ImportFact:
    line: int
    end_line: int
    column: int
    module: str  # as written, without leading dots ("" for `from . import x`)
    level: int  # number of leading dots
    names: list[tuple[str, str | None]] | None  # None for `import a.b [as c]`
    asname: str | None = None  # for `import a.b as c`
    in_function: bool = False
    # Under `if TYPE_CHECKING:`: read by type checkers only, never imported at run time.
    type_checking: bool = False


@dataclass
class FieldFact:
    name: str
    field_call: str  # dotted callee as written, e.g. "models.ForeignKey"
    kind: str  # fk, o2o, m2m, generic
    line: int
    column: int
    end_line: int
    end_column: int
    target: str | None  # dotted expression or string literal contents
    target_is_string: bool
    related_name: str | None
    through: str | None
    through_is_string: bool


@dataclass
class ClassFact:
    name: str
    qualname: str  # within the module: "Outer.Inner"
    line: int
    end_line: int
    column: int
    bases: list[str]  # dotted texts; unresolvable bases are left out
    decorators: list[str]
    fields: list[FieldFact] = field(default_factory=list)
    managers: list[str] = field(default_factory=list)
    abstract: bool = False
    string_attributes: dict[str, str] = field(default_factory=dict)  # e.g. AppConfig name/label
    # Class attributes that name a model, as written: `model = Order`, `queryset =
    # Order.objects...` (the model's dotted name), `serializer_class`, `form_class`, and
    # `Meta.model`; and the models an `@admin.register(...)` decorator registers.
    model_refs: dict[str, str] = field(default_factory=dict)
    registers: list[str] = field(default_factory=list)
    # A ModelAdmin's `actions = [make_published, "archive"]`: functions and method names, as written.
    actions: list[str] = field(default_factory=list)
    # The callees of the other `name = ...Field(...)` attributes (`models.JSONField`), as
    # written: Django model fields make a class a model whatever its base (project.py).
    field_calls: list[str] = field(default_factory=list)


@dataclass
class FunctionFact:
    name: str
    qualname: str
    line: int  # the `def` line, not the decorators'
    end_line: int
    column: int
    decorators: list[str]
    params: list[tuple[str, str | None]]  # (name, dotted annotation or string)
    class_qualname: str | None  # the class it is a method of
    is_async: bool
    # `@receiver(post_save, sender=Order)`: (signal as written, sender or None) pairs.
    receives: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class FunctionSummary:
    """What a function tells the rest of the project about values (typemodel/solver.py).

    Expressions are kept as source text (parsed again only if the solver asks about this
    function), without positions: moving a function does not change what it returns.
    """

    returns: str | None = None  # the return annotation as written
    return_values: list[str | None] = field(default_factory=list)  # None: not kept (too long)
    self_attributes: list[tuple[str, str | None]] = field(default_factory=list)  # `self.x = value`
    # Calls of a named callee (`f(...)`, `self.m(...)`, `module.f(...)`) with an argument that
    # may carry a value: (callee, positional texts, keyword texts); None where not kept.
    calls: list[tuple[str, list[str | None], list[tuple[str, str | None]]]] = field(default_factory=list)
    # The local bindings of the names those texts read: name -> [(kind, text)], kind being
    # "assign", "first" (first of a tuple target), "loop", "annotation" or "unknown".
    bindings: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)


@dataclass
class ModuleFacts:
    parse_error: str | None = None
    unreadable: bool = False  # parse_error is why the file could not be read at all
    error_line: int = 1
    error_column: int = 1
    imports: list[ImportFact] = field(default_factory=list)
    star_imports: list[tuple[str, int]] = field(default_factory=list)  # (module, level)
    aliases: dict[str, str] = field(default_factory=dict)  # module-level `X = dotted` / `X = f()`
    # Module-level `X = get_model("orders", "Order")` (Django's `apps.get_model`, or a
    # project's or library's own, as django-oscar's): name -> "orders.Order".
    model_lookups: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)  # module-level `X = "text"` (AUTH_USER_MODEL)
    string_lists: dict[str, list[str]] = field(default_factory=dict)  # module-level literal lists (INSTALLED_APPS)
    assigned: list[str] = field(default_factory=list)  # every module-level assigned name (urlpatterns)
    # Modules this file names as DJANGO_SETTINGS_MODULE (manage.py, wsgi.py, asgi.py, celery.py).
    names_settings_modules: list[str] = field(default_factory=list)
    classes: list[ClassFact] = field(default_factory=list)
    functions: list[FunctionFact] = field(default_factory=list)
    # `post_save.connect(handler, sender=Order)`: (signal, handler, sender or None), as written.
    signal_connections: list[tuple[str, str, str | None]] = field(default_factory=list)
    # `admin.site.register(Order, OrderAdmin)`: (model, admin class) pairs, as written.
    admin_registrations: list[tuple[str, str]] = field(default_factory=list)
    # Per-function value summaries (by qualname) and class attribute annotations
    # (class qualname -> attribute -> annotation text): what the flow solver reads.
    summaries: dict[str, FunctionSummary] = field(default_factory=dict)
    # The last name of every summarized call's callee (`save` for `self.save(...)`): lets
    # the solver find a function's call sites without walking every module's summaries.
    called_names: set[str] = field(default_factory=set)
    class_annotations: dict[str, dict[str, str]] = field(default_factory=dict)
    # Class qualname -> manager attribute -> the classes it is made of, as written
    # (`objects = AccountManager()`, `AccountQuerySet.as_manager()`, `M.from_queryset(Q)()`).
    manager_classes: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # (first, last) line of every statement (or compound statement header) spanning lines
    statement_spans: list[tuple[int, int]] = field(default_factory=list)

    # Pickled apart, one blob per field and module, and unpickled on first use: the
    # summaries are half the facts' bytes (saleor: 7.6 of 14.6 MB) and the solver reads
    # only those of the modules it follows a value into; the statement spans serve only
    # the checked file's suppressions; functions, classes and imports (most of the rest)
    # are read for the modules a name is resolved in. A run that re-checks one edited
    # file loads every file's facts but unpickles these for the few modules it looks
    # into (saleor, one file touched: loading the facts went from 0.24 to 0.05-0.07 s).
    _PACKED = ("summaries", "statement_spans", "functions", "classes", "imports")

    def __getstate__(self) -> dict:
        if "_stored" in self.__dict__:  # still as the cache stored it: stays so
            return dict(self.__dict__)
        state = dict(self.__dict__)
        for name in self._PACKED:
            value = state.pop(name, None)
            if f"_packed_{name}" not in state:  # never changed once extracted: packed once
                state[f"_packed_{name}"] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return state

    def __getattr__(self, name: str):
        stored = self.__dict__.pop("_stored", None)
        if stored is not None:  # from the cache, not yet read: unpickled on first use
            self.__dict__.update(pickle.loads(stored).__dict__)
            return getattr(self, name)
        packed = self.__dict__.get(f"_packed_{name}") if name in self._PACKED else None
        if packed is None:
            raise AttributeError(name)
        value = self.__dict__[name] = pickle.loads(packed)
        return value

    # The cache's form (cache.py): the pickled facts, unpickled only when a field is read.
    # A re-check of one edited file reads the facts of a dozen modules, not of all 4,300
    # of saleor's (loading them all was 0.04 s). The fields with a plain default are kept
    # beside the bytes: the class attribute dataclasses leave for them would otherwise
    # answer for an object not yet unpickled.
    _EAGER: ClassVar[tuple[str, ...]] = ()

    def stored(self) -> tuple:
        blob = self.__dict__.get("_stored")
        if blob is None:
            blob = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
        return (*(getattr(self, name) for name in self._EAGER), blob)

    @classmethod
    def from_stored(cls, stored: tuple) -> ModuleFacts:
        facts = cls.__new__(cls)
        facts.__dict__.update(zip(cls._EAGER, stored[:-1]))
        facts.__dict__["_stored"] = stored[-1]
        return facts

    def statement_start(self, line: int) -> int:
        """The first line of the innermost multi-line statement containing `line`."""
        index = bisect.bisect_right(self.statement_spans, (line, 1 << 30)) - 1
        best = line
        while index >= 0:
            start, end = self.statement_spans[index]
            if start <= line <= end:
                best = start
                break
            index -= 1
        return best


ModuleFacts._EAGER = tuple(f.name for f in dataclass_fields(ModuleFacts) if f.default is not MISSING)


def dotted_name(node: ast.AST) -> str | None:
    """`a.b.c` for names and attribute chains, `f()` for a call of one without arguments.

    A loop, not a recursion: a 1,500-link chain is valid Python and must not overflow."""
    suffixes = []
    while not isinstance(node, ast.Name):
        if isinstance(node, ast.Attribute):
            suffixes.append(f".{node.attr}")
            node = node.value
        elif isinstance(node, ast.Subscript):  # Generic[T], APIView[...]
            node = node.value
        elif isinstance(node, ast.Call) and not node.args and not node.keywords:
            suffixes.append("()")
            node = node.func
        else:
            return None
    return node.id + "".join(reversed(suffixes))


def model_lookup(node: ast.AST) -> str | None:
    """"orders.Order" for a call of a `get_model` with literal arguments, as Django's
    `apps.get_model("orders", "Order")` (or `("orders.Order")`) takes them; whichever
    function it is (django-oscar's `get_model` wraps Django's), the convention is the same."""
    parts = _get_model_arguments(node)
    if parts is None or not 1 <= len(parts) <= 2:
        return None
    reference = ".".join(parts)
    return reference if reference.count(".") == 1 and all(reference.split(".")) else None


def _get_model_arguments(node: ast.AST) -> list[str] | None:
    """The literal strings a `get_model(...)` call names, positional then `app_label=` and
    `model_name=` (Django's keywords; `require_ready=` changes nothing); None when any is
    not a literal string or the call is not a `get_model`."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name != "get_model":
        return None
    keywords = {k.arg: k.value for k in node.keywords if k.arg != "require_ready"}
    if set(keywords) - {"app_label", "model_name"} or ("app_label" in keywords and node.args):
        return None
    values = [*node.args, *(keywords[k] for k in ("app_label", "model_name") if k in keywords)]
    if not all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values):
        return None
    return [v.value for v in values]


def _app_config_lookup(node: ast.AST, label: str | None) -> str | None:
    """"documents.Document" for `self.get_model("Document")` (or `model_name=`) in a method
    of an AppConfig whose label is `label`: the app's own model, as Django's
    `AppConfig.get_model` looks it up."""
    if label is None or not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                             and isinstance(node.func.value, ast.Name) and node.func.value.id == "self"):
        return None
    parts = _get_model_arguments(node)
    return f"{label}.{parts[0]}" if parts is not None and len(parts) == 1 and "." not in parts[0] else None


def _app_config_label(node: ast.ClassDef) -> str | None:
    """The label of an AppConfig subclass: its `label`, else the last part of its `name`."""
    if not any((dotted_name(base) or "").endswith("AppConfig") for base in node.bases):
        return None
    values = {target.id: statement.value.value for statement in node.body if isinstance(statement, ast.Assign)
              for target in statement.targets if isinstance(target, ast.Name)
              and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)}
    if "label" in values:
        return values["label"]
    return values["name"].rsplit(".", 1)[-1] if "name" in values else None


# The bytes that stand for a file that could not be read (see unreadable_source).
_UNREADABLE = b"\x00layerguard: could not read this file: "


@functools.lru_cache(maxsize=4)
def parse_python(source: bytes) -> ast.Module:
    """`ast.parse`, falling back to libcst and lowering.py for syntax newer than this Python.

    Raises SyntaxError (or ValueError for NUL bytes) when no Python version reads it.
    The last few trees are kept: the facts pass and the rules parse the same bytes one
    after the other when one file is checked (an editor's edit, a touched file), and the
    tree is parsed once for both. Nothing may change a tree it is given (short_code
    copies before it rewrites).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings (invalid escapes) are the checked code's, not ours
        try:
            return ast.parse(source)
        except SyntaxError as original:
            lowered = _lowered(source, original)
            try:
                return ast.parse(lowered)
            except (SyntaxError, ValueError):
                raise original from None


# Source -> its lowered text, for this process: the facts pass and the rules both parse
# a file, and each lowering is a libcst parse (saleor's 11 PEP 695 modules on Python
# 3.11: 0.2 s each). A worker that extracted facts hands its lowerings back with them
# (extract_in_worker), so the rules, in workers forked from the parent, do not lower
# those files again. Bounded, oldest first out: a language server lowers each edit anew.
_LOWERED: dict[bytes, str] = {}
_LOWERED_KEPT = 1024


def _lowered_text(source: bytes) -> str:
    text = _LOWERED.get(source)
    if text is None:
        text = _lowered_by_tokens(source)
        if text is None:
            from layerguard.lowering import lower_isolated

            text = lower_isolated(source).text
        remember_lowered(source, text)
    return text


def _lowered_by_tokens(source: bytes) -> str | None:
    """PEP 695 on one line each, lowered from the tokens (fastlowering.py), if `ast`
    reads the result; else None, and libcst does it."""
    from layerguard.fastlowering import lower_type_parameters

    text = lower_type_parameters(source)
    if text is None:
        return None
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    return text


def remember_lowered(source: bytes, text: str) -> None:
    _LOWERED[source] = text
    if len(_LOWERED) > _LOWERED_KEPT:
        del _LOWERED[next(iter(_LOWERED))]


def _lowered(source: bytes, original: SyntaxError) -> str:
    from layerguard.lowering import LoweringError, refused_by_every_python

    if refused_by_every_python(original) or b"\x00" in source:
        raise original
    try:
        return _lowered_text(source)
    except LoweringError as error:
        if not error.refused:  # libcst crashed or timed out: say so, the limit may be the cause
            message = f"{original.msg}; libcst, which reads newer Python, {error.message}"
            raise SyntaxError(message, (None, original.lineno, original.offset, None)) from None
        raise original from None


def unreadable_source(reason: str) -> bytes:
    """What stands for the bytes of a file that could not be read: extract_facts turns it
    into an LG900 naming the reason, and, a function of the reason alone, it caches."""
    return _UNREADABLE + reason.encode("utf-8", "backslashreplace")


def is_unreadable(source: bytes) -> bool:
    return source.startswith(_UNREADABLE)


def extract_facts(source: bytes) -> ModuleFacts:
    if is_unreadable(source):
        return ModuleFacts(parse_error=source[len(_UNREADABLE):].decode("utf-8", "replace"), unreadable=True)
    try:
        tree = parse_python(source)
    except SyntaxError as error:
        message = error.msg or "invalid syntax"
        return ModuleFacts(parse_error=message, error_line=error.lineno or 1, error_column=error.offset or 1)
    except (ValueError, UnicodeDecodeError) as error:  # NUL bytes, undecodable source
        return ModuleFacts(parse_error=str(error))
    except (RecursionError, MemoryError):
        return ModuleFacts(parse_error="too deeply nested to parse")
    collector = _FactCollector(source)
    try:
        collector.visit(tree)
    except RecursionError:  # a safety net: the collector's walks are loops where depth is unbounded
        return ModuleFacts(parse_error="too deeply nested to read")
    except Exception as error:  # a bug of layerguard's on this file costs this file, not the run
        if os.environ.get("LAYERGUARD_DEBUG"):
            raise
        return ModuleFacts(parse_error=f"layerguard failed on it ({type(error).__name__}); please report this")
    facts = collector.facts
    facts.statement_spans.sort()
    if b"DJANGO_SETTINGS_MODULE" in source:  # a full walk only in the few files that can name one
        facts.names_settings_modules = _named_settings_modules(tree)
    if b"TYPE_CHECKING" in source:
        _mark_type_checking_imports(tree, facts.imports)
    return facts


def _mark_type_checking_imports(tree: ast.Module, imports: list[ImportFact]) -> None:
    """Imports in the body of `if TYPE_CHECKING:` (`typing.TYPE_CHECKING`, `t.TYPE_CHECKING`
    after `import typing as t`, `TC` after `from typing import TYPE_CHECKING as TC`)."""
    flags, typing_modules = {"TYPE_CHECKING"}, {"typing", "typing_extensions"}
    for fact in imports:
        if fact.names is None and fact.module in typing_modules:
            typing_modules.add(fact.asname or fact.module)
        elif fact.module in ("typing", "typing_extensions") and not fact.level:
            flags.update(asname or name for name, asname in fact.names or () if name == "TYPE_CHECKING")

    def is_flag(test: ast.expr) -> bool:
        if isinstance(test, ast.Name):
            return test.id in flags
        return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING" \
            and isinstance(test.value, ast.Name) and test.value.id in typing_modules

    spans = []
    # Module level and the blocks nested there (if/try/with), not function bodies: where
    # TYPE_CHECKING blocks live, without walking every expression of the file.
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and is_flag(node.test) and node.body:
            spans.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[0].lineno))
        for name in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(node, name, None)
            if isinstance(children, list) and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                pending.extend(child for child in children if isinstance(child, (ast.stmt, ast.ExceptHandler)))
    for fact in imports:
        fact.type_checking = any(start <= fact.line <= end for start, end in spans)


def _named_settings_modules(tree: ast.Module) -> list[str]:
    """`os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x")`, `environ["DJANGO_SETTINGS_MODULE"] = "x"`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len(node.args) >= 2:
            key, value = node.args[0], node.args[1]
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
            key, value = node.targets[0].slice, node.value
        else:
            continue
        if isinstance(key, ast.Constant) and key.value == "DJANGO_SETTINGS_MODULE" \
                and isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.append(value.value)
    return found


_STATEMENT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")
_EXPRESSION_NODE_NAMES = {
    name for name, value in vars(ast).items()
    if isinstance(value, type) and issubclass(value, (ast.expr, ast.keyword, ast.comprehension, ast.arguments))
}


class _FactCollector(ast.NodeVisitor):
    def __init__(self, source: bytes = b"") -> None:
        self.facts = ModuleFacts()
        self._texts = _Texts(source)
        self._scope: list[str] = []  # qualname parts
        self._class_stack: list[ClassFact | None] = []  # None marks a function scope
        self._function_depth = 0
        # Per function, local names bound to a literal `get_model(...)`: "Order" -> "shop.Order",
        # so a signal connected in `AppConfig.ready()` with `sender=Order` names its model.
        self._local_lookups: list[dict[str, str]] = []
        self._app_labels: list[str | None] = []  # the AppConfig label of each enclosing class

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.stmt):
            self._record_span(node)
        if self._visits_expressions():
            super().generic_visit(node)
            return
        # Facts live in statements: descending only through statement bodies skips
        # the expression nodes, most of every tree (saleor: collector 3x faster).
        for name in _STATEMENT_FIELDS:
            children = getattr(node, name, None)
            if isinstance(children, list):  # (a Lambda's or IfExp's `body` is one expression)
                for child in children:
                    if isinstance(child, ast.AST):
                        self.visit(child)

    @classmethod
    def _visits_expressions(cls) -> bool:
        if "_expression_visitors" not in cls.__dict__:
            cls._expression_visitors = any(  # NodeVisitor itself defines visit_Constant
                getattr(cls, f"visit_{name}", None) not in (None, getattr(ast.NodeVisitor, f"visit_{name}", None))
                for name in _EXPRESSION_NODE_NAMES
            )
        return cls._expression_visitors

    def _record_span(self, node: ast.stmt) -> None:
        body = getattr(node, "body", None) or getattr(node, "cases", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.AST):
            first_child = body[0].pattern if isinstance(body[0], ast.match_case) else body[0]
            last = first_child.lineno - 1  # a compound statement's header only
            if last > node.lineno:
                self.facts.statement_spans.append((node.lineno, last))
        elif node.end_lineno and node.end_lineno > node.lineno:
            self.facts.statement_spans.append((node.lineno, node.end_lineno))

    # imports -------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        self._record_span(node)
        for alias in node.names:
            self.facts.imports.append(
                ImportFact(node.lineno, node.end_lineno or node.lineno, node.col_offset + 1, alias.name, 0,
                           None, alias.asname, in_function=self._function_depth > 0)
            )

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._record_span(node)
        names = [(alias.name, alias.asname) for alias in node.names if alias.name != "*"]
        if any(alias.name == "*" for alias in node.names):
            self.facts.star_imports.append((node.module or "", node.level or 0))
        self.facts.imports.append(
            ImportFact(node.lineno, node.end_lineno or node.lineno, node.col_offset + 1, node.module or "",
                       node.level or 0, names, in_function=self._function_depth > 0)
        )

    # registrations: `post_save.connect(h, sender=M)`, `admin.site.register(M, A)` ------
    def visit_Expr(self, node: ast.Expr) -> None:
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and not call.args \
                and call.func.attr == "connect" and (signal := dotted_name(call.func.value)):
            keywords = {k.arg: k.value for k in call.keywords}  # `connect(receiver=h, sender=M)`
            if (handler := dotted_name(keywords.get("receiver"))) is not None:
                sender = self._sender(keywords["sender"]) if "sender" in keywords else None
                self.facts.signal_connections.append((signal, handler, sender))
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.args:
            if call.func.attr == "connect" and (signal := dotted_name(call.func.value)) \
                    and (handler := dotted_name(call.args[0])):
                sender = next((self._sender(k.value) for k in call.keywords if k.arg == "sender"), None)
                self.facts.signal_connections.append((signal, handler, sender))
            elif call.func.attr == "register" and len(call.args) >= 2 \
                    and (admin := dotted_name(call.args[1])):
                models = call.args[0].elts if isinstance(call.args[0], (ast.List, ast.Tuple)) else [call.args[0]]
                self.facts.admin_registrations.extend((m, admin) for m in map(dotted_name, models) if m)
        self.generic_visit(node)

    def _sender(self, node: ast.expr) -> str | None:
        """A signal's `sender=`: a dotted name, or "@label.Model" for a model the app
        registry gives (`apps.get_model(...)` in place or bound to a local name before)."""
        if isinstance(node, ast.Name) and self._local_lookups and node.id in self._local_lookups[-1]:
            return "@" + self._local_lookups[-1][node.id]
        reference = self._lookup(node)
        return "@" + reference if reference is not None else dotted_name(node)

    def _lookup(self, node: ast.AST) -> str | None:
        label = self._app_labels[-1] if self._app_labels else None
        return model_lookup(node) or _app_config_lookup(node, label)

    # module-level aliases ---------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        self._record_span(node)
        if self._local_lookups and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            reference = self._lookup(node.value)
            if reference is not None:
                self._local_lookups[-1][node.targets[0].id] = reference
            else:  # rebound: no longer the registry's model
                self._local_lookups[-1].pop(node.targets[0].id, None)
        if not self._scope:
            self.facts.assigned.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        if not self._scope and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            value = dotted_name(node.value)
            if value:
                self.facts.aliases[name] = value
            elif (reference := model_lookup(node.value)) is not None:
                self.facts.model_lookups[name] = reference
            elif isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                self.facts.constants[name] = node.value.value
            elif isinstance(node.value, (ast.List, ast.Tuple)) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.value.elts
            ):
                self.facts.string_lists[name] = [e.value for e in node.value.elts]
        current_class = self._class_stack[-1] if self._class_stack else None
        if current_class is not None:
            self._record_class_attribute(current_class, node)
        if self._visits_expressions():
            super().generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._record_span(node)
        current_class = self._class_stack[-1] if self._class_stack else None
        if current_class is not None and isinstance(node.target, ast.Name):
            text = self._texts.of(node.annotation)
            if text:
                self.facts.class_annotations.setdefault(current_class.qualname, {})[node.target.id] = text
        if current_class is not None and node.value is not None and isinstance(node.target, ast.Name):
            self._record_class_attribute(current_class, ast.Assign(targets=[node.target], value=node.value,
                                                                   lineno=node.lineno, col_offset=node.col_offset))
        if self._visits_expressions():
            super().generic_visit(node)

    def _record_class_attribute(self, cls: ClassFact, node: ast.Assign) -> None:
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            return
        name = node.targets[0].id
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            cls.string_attributes[name] = value.value
            return
        if name in ("model", "serializer_class", "form_class") and (written := dotted_name(value)):
            cls.model_refs["Meta.model" if cls.name == "Meta" and name == "model" else name] = written
            # A `Meta` built in a function (`type(name, bases, {"Meta": Meta})`, ralph's
            # API viewsets) belongs to no class here.
            if cls.name == "Meta" and name == "model" and len(self._class_stack) > 1 \
                    and self._class_stack[-2] is not None:
                self._class_stack[-2].model_refs["Meta.model"] = written
            return
        if name == "queryset" and (root := _queryset_model(value)):
            cls.model_refs["queryset"] = root
        if name == "actions" and isinstance(value, (ast.List, ast.Tuple)):
            cls.actions = [e.value if isinstance(e, ast.Constant) and isinstance(e.value, str) else dotted_name(e)
                           for e in value.elts]
            cls.actions = [action for action in cls.actions if action]
        if not isinstance(value, ast.Call):
            return
        callee = dotted_name(value.func) or ""
        last = callee.rsplit(".", 1)[-1]
        kind = RELATION_FIELDS.get(last) or next((kind for suffix, kind in RELATION_FIELD_SUFFIXES
                                                  if last.endswith(suffix)), None)
        if kind is not None:
            cls.fields.append(_field_fact(name, callee, kind, value))
        elif last.endswith(TAGGABLE_MANAGER_SUFFIX):
            # django-taggit's `tags = TaggableManager()` is a many-to-many field, not a manager:
            # `question.tags.add("x")` writes. Its target is `to=` (taggit's Tag by default,
            # its first argument is a verbose name).
            cls.fields.append(_field_fact(name, callee, "m2m", value, target_by_position=False))
        elif last.endswith(FILE_FIELD_SUFFIXES):
            cls.fields.append(_field_fact(name, callee, "file", value))
        elif last.endswith("Field") and name != "output_field":  # an expression's type (Func, Aggregate)
            cls.field_calls.append(callee)
        elif last.endswith("Manager") or "as_manager" in callee or _is_from_queryset(value):
            cls.managers.append(name)
            self.facts.manager_classes.setdefault(cls.qualname, {})[name] = _manager_parts(value)

    # definitions -------------------------------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        qualname = ".".join([*self._scope, node.name])
        bases = [name for name in (dotted_name(base) for base in node.bases) if name]
        cls = ClassFact(
            name=node.name,
            qualname=qualname,
            line=node.lineno,
            end_line=node.end_lineno or node.lineno,
            column=node.col_offset + 1,
            bases=bases,
            decorators=[_decorator_name(d) for d in node.decorator_list],
        )
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and _decorator_name(decorator).endswith("register"):
                cls.registers.extend(name for name in map(dotted_name, decorator.args) if name)
        cls.abstract = _is_abstract(node)
        self.facts.classes.append(cls)
        self._record_span(node)
        self._scope.append(node.name)
        self._class_stack.append(cls)
        self._app_labels.append(_app_config_label(node))
        for statement in node.body:
            self.visit(statement)
        self._app_labels.pop()
        self._class_stack.pop()
        self._scope.pop()
        for decorator in node.decorator_list:
            self.visit(decorator)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        qualname = ".".join([*self._scope, node.name])
        owner = self._class_stack[-1] if self._class_stack else None
        arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        params = [(arg.arg, annotation_name(arg.annotation)) for arg in arguments]
        self.facts.functions.append(
            FunctionFact(
                name=node.name,
                qualname=qualname,
                line=node.lineno,
                end_line=node.end_lineno or node.lineno,
                column=node.col_offset + 1,
                decorators=[_decorator_name(d) for d in node.decorator_list],
                params=params,
                class_qualname=owner.qualname if owner is not None else None,
                is_async=isinstance(node, ast.AsyncFunctionDef),
                receives=[pair for decorator in node.decorator_list for pair in _receives(decorator)],
            )
        )
        summary = _summarize(node, self._texts, is_method=owner is not None)
        if summary is not None:
            self.facts.summaries[qualname] = summary
            self.facts.called_names.update(call[0].rsplit(".", 1)[-1] for call in summary.calls)
        self._record_span(node)
        self._scope.append(node.name)
        self._class_stack.append(None)
        self._function_depth += 1
        self._local_lookups.append({})
        for statement in node.body:
            self.visit(statement)
        self._local_lookups.pop()
        self._function_depth -= 1
        self._class_stack.pop()
        self._scope.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function


def _queryset_model(value: ast.expr) -> str | None:
    """`Order.objects.filter(...).select_related(...)` -> "Order"."""
    node = value
    while isinstance(node, (ast.Call, ast.Attribute)):
        if isinstance(node, ast.Call):
            node = node.func
        elif node.attr in ("objects", "_default_manager"):
            return dotted_name(node.value)
        else:
            node = node.value
    return None


def _receives(node: ast.expr) -> list[tuple[str, str | None]]:
    """`receiver(post_save, sender=Order)` -> [("post_save", "Order")]; a list or tuple of
    signals (`receiver([post_save, post_delete], sender=Order)`) gives one pair each."""
    if not (isinstance(node, ast.Call) and _decorator_name(node).endswith("receiver") and node.args):
        return []
    first = node.args[0]
    signals = first.elts if isinstance(first, (ast.List, ast.Tuple)) else [first]
    sender = next((_decorator_sender(k.value) for k in node.keywords if k.arg == "sender"), None)
    return [(signal, sender) for signal in map(dotted_name, signals) if signal]
def _decorator_sender(node: ast.expr) -> str | None:
    reference = model_lookup(node)
    return "@" + reference if reference is not None else dotted_name(node)


def _manager_parts(call: ast.Call) -> list[str]:
    """The classes a manager is made of: `M()`, `Q.as_manager()`, `M.from_queryset(Q)()`."""
    parts = []
    func = call.func
    if isinstance(func, ast.Call):  # M.from_queryset(Q)()
        if isinstance(func.func, ast.Attribute):
            parts.append(dotted_name(func.func.value))
        parts.extend(dotted_name(argument) for argument in func.args)
    elif isinstance(func, ast.Attribute) and func.attr == "as_manager":
        parts.append(dotted_name(func.value))
    else:
        parts.append(dotted_name(func))
    return [part for part in parts if part]


class _Texts:
    """Source text of a node, by slicing the file's bytes at the node's positions."""

    LIMIT = 400

    def __init__(self, source: bytes):
        self.source = source
        self._starts: list[int] | None = None

    def of(self, node: ast.AST | None) -> str | None:
        if node is None or not self.source or getattr(node, "end_lineno", None) is None:
            return None
        if self._starts is None:
            self._starts = [0, *(match.end() for match in re.finditer(b"\n", self.source))]
        starts = self._starts
        if node.end_lineno > len(starts):
            return None
        start = starts[node.lineno - 1] + node.col_offset
        end = starts[node.end_lineno - 1] + node.end_col_offset
        if end - start > self.LIMIT or end <= start:
            return None
        text = self.source[start:end].decode("utf-8", "replace")
        if node.end_lineno != node.lineno:
            # A value over several lines is kept canonical: a comment or a re-indented
            # line inside it changes nothing it means, and must not change the file's
            # signature (which re-checks every other file, and rebuilds the server's model).
            return _canonical_lines(text, node)
        return text


def _canonical_lines(text: str, node: ast.AST) -> str:
    """A multi-line expression's text without its comments, each line stripped, blank
    lines dropped: what is left is what the expression says (a string literal spanning
    lines keeps its words, its margins may go), at a third of the cost of `ast.unparse`.
    Texts with a `#` are tokenized to tell a comment from a `#` inside a string."""
    if "#" in text:
        without = _without_comments(text)
        if without is None:  # not Python this tokenizer reads (newer syntax, lowered)
            return ast.unparse(node)
        text = without
    return "\n".join(line for line in (line.strip() for line in text.split("\n")) if line)


def _without_comments(text: str) -> str | None:
    import io
    import tokenize

    lines = text.split("\n")
    comments = []
    try:  # in brackets, so that every line break is one inside an expression
        for token in tokenize.generate_tokens(io.StringIO(f"(\n{text}\n)").readline):
            if token.type == tokenize.COMMENT:
                comments.append(token.start)
    except (tokenize.TokenError, SyntaxError):
        return None
    for line, column in comments:
        index = line - 2  # the bracket's line comes first
        if 0 <= index < len(lines):
            lines[index] = lines[index][:column]
    return "\n".join(lines)


# Callees whose calls never tell anything about a project function's parameters.
_NOT_PROJECT_CALLEES = {
    "len", "str", "int", "float", "bool", "list", "dict", "set", "tuple", "isinstance", "issubclass", "getattr",
    "setattr", "hasattr", "print", "repr", "sorted", "reversed", "enumerate", "zip", "map", "filter", "any", "all",
    "min", "max", "sum", "range", "type", "super", "iter", "next", "id", "hash", "format", "round", "abs",
    "append", "extend", "insert", "pop", "get", "items", "keys", "values", "join", "split", "strip", "replace",
    "startswith", "endswith", "lower", "upper", "encode", "decode", "debug", "info", "warning", "error",
    "exception", "critical", "filter", "exclude", "order_by", "select_related", "prefetch_related", "annotate",
    "values_list", "only", "defer", "distinct", "using", "none", "all", "count", "exists", "first", "last",
    "create", "update", "delete", "save", "add", "remove", "set", "clear", "bulk_create", "bulk_update",
    "get_or_create", "update_or_create", "Q", "F", "_", "gettext", "gettext_lazy", "ugettext", "ugettext_lazy",
    "reverse", "Response", "render", "redirect", "HttpResponse", "JsonResponse", "format_html", "mark_safe",
}
_CARRIES_VALUE = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Await)
# Calls that run a function with arguments they are given: `threading.Thread(target=f,
# args=[a], kwargs={...})`, `executor.submit(f, a)`; each is a call site of `f`.
_THREAD_CALLEES = ("Thread", "Timer")
_SUBMIT_METHODS = ("submit",)


def _handed_off(call: ast.Call) -> ast.Call | None:
    """The call of its target a thread start or an executor's `submit` makes, if literal."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name in _THREAD_CALLEES:
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        target, args, kwargs = keywords.get("target"), keywords.get("args"), keywords.get("kwargs")
        if target is None or (args is not None and not isinstance(args, (ast.List, ast.Tuple))) \
                or (kwargs is not None and not isinstance(kwargs, ast.Dict)):
            return None
        arguments = list(args.elts) if args is not None else []
        named = [ast.keyword(arg=k.value, value=v) for k, v in zip(kwargs.keys, kwargs.values)
                 if isinstance(k, ast.Constant) and isinstance(k.value, str)] if kwargs is not None else []
    elif name in _SUBMIT_METHODS and isinstance(func, ast.Attribute) and call.args:
        target, arguments, named = call.args[0], list(call.args[1:]), list(call.keywords)
    else:
        return None
    if not isinstance(target, (ast.Name, ast.Attribute)) or not (arguments or named):
        return None
    return ast.Call(func=target, args=arguments, keywords=named)
# The statements that hold others, and their fields that do, in _STATEMENT_FIELDS' order.
_NESTED_STATEMENTS = {
    kind: tuple(name for name in _STATEMENT_FIELDS if name in kind._fields)
    for kind in (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Match, ast.Try,
                 getattr(ast, "TryStar", ast.Try), ast.ExceptHandler, ast.match_case)
}


def _summarize(node: ast.FunctionDef | ast.AsyncFunctionDef, texts: _Texts, is_method: bool
               ) -> FunctionSummary | None:
    """A function's returns, `self.x = ...` assignments and value-carrying calls, and the
    local bindings of the names they read: one walk of the function's own statements."""
    summary = FunctionSummary(returns=texts.of(node.returns))
    read: set[str] = set()
    bindings: dict[str, list[tuple[str, ast.AST | None]]] = {}

    def keep(value: ast.AST | None) -> str | None:
        if value is None:
            return None
        roots = [value]
        while roots:  # `doc.parent or doc`, `a if c else b`: each operand's root name
            root = roots.pop()
            if isinstance(root, ast.BoolOp):
                roots.extend(root.values)
                continue
            if isinstance(root, ast.IfExp):
                roots.extend((root.body, root.orelse))
                continue
            if isinstance(root, (ast.Tuple, ast.List)):  # `return ticket, queue`: each element's
                roots.extend(root.elts)
                continue
            while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call, ast.Await)):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name):
                read.add(root.id)
        if isinstance(value, ast.Call):  # names passed to a call (`get_object_or_404(Feed, ...)`)
            read.update(a.id for a in value.args if isinstance(a, ast.Name))
        return texts.of(value)

    def bind(target: ast.AST, kind: str, value: ast.AST | None) -> None:
        if isinstance(target, ast.Name):
            bindings.setdefault(target.id, []).append((kind, value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for position, element in enumerate(target.elts):
                if isinstance(element, ast.Name):
                    bindings.setdefault(element.id, []).append(("first" if position == 0 else "unknown", value))

    def call(value: ast.AST | None) -> None:
        # The calls along the value's receiver chain: `self.create_user(user).id`,
        # `Notifier(order).send()`, `Thread(target=f, args=[a]).start()`.
        while value is not None:
            if isinstance(value, ast.Call):
                one_call(value)
                value = value.func
            elif isinstance(value, (ast.Attribute, ast.Subscript, ast.Await)):
                value = value.value
            else:
                return

    def one_call(value: ast.Call) -> None:
        if not (value.args or value.keywords):
            return
        handed = _handed_off(value)
        if handed is not None:
            value = handed  # `Thread(target=f, args=[a, b])` calls `f(a, b)`
        func = value.func  # `f(...)`, `self.m(...)`, `module.f(...)`: callees a project defines
        if isinstance(func, ast.Attribute):
            if func.attr in _NOT_PROJECT_CALLEES or not isinstance(func.value, ast.Name):
                return
            receiver = func.value.id  # `integration.do_export(...)`: the local's binding types the callee
        elif not isinstance(func, ast.Name):
            return
        callee = dotted_name(func)
        if not callee or "()" in callee or callee.rsplit(".", 1)[-1] in _NOT_PROJECT_CALLEES:
            return
        arguments = [a for a in value.args if not isinstance(a, ast.Starred)]
        keywords = [k for k in value.keywords if k.arg]
        if any(isinstance(v, _CARRIES_VALUE) for v in [*arguments, *(k.value for k in keywords)]):
            if isinstance(func, ast.Attribute) and receiver not in ("self", "cls"):
                read.add(receiver)
            summary.calls.append((
                callee,
                [keep(a) if isinstance(a, _CARRIES_VALUE) else None for a in value.args],
                [(k.arg, keep(k.value) if isinstance(k.value, _CARRIES_VALUE) else None) for k in keywords],
            ))

    # Statements only (the expression trees are most of a file): returns, assignments, loop and
    # `with` targets, and the calls that are a statement or a statement's whole value.
    stack = list(node.body)
    pop, extend = stack.pop, stack.extend
    while stack:
        current = pop()
        kind = type(current)  # (by type, not isinstance: this loop runs for every statement)
        if kind is ast.Return:
            if current.value is not None:
                if summary.returns is None:  # an annotation is what it returns
                    summary.return_values.append(keep(current.value))
                call(current.value)
            continue
        if kind is ast.Expr:
            call(current.value)
            continue
        if kind is ast.Assign:
            call(current.value)
            for target in current.targets:
                if is_method and isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                        and target.value.id == "self":
                    summary.self_attributes.append((target.attr, keep(current.value)))
                else:
                    bind(target, "assign", current.value)
            continue
        if kind is ast.AnnAssign:
            call(current.value)
            if isinstance(current.target, ast.Name):
                if current.value is not None:
                    bind(current.target, "assign", current.value)
                else:
                    bind(current.target, "annotation", current.annotation)
            continue
        nested = _NESTED_STATEMENTS.get(kind)
        if nested is None:  # a simple statement, or a definition (summarized on its own)
            continue
        if kind is ast.For or kind is ast.AsyncFor:
            bind(current.target, "loop", current.iter)
        elif kind is ast.With or kind is ast.AsyncWith:
            for item in current.items:
                if item.optional_vars is not None:
                    bind(item.optional_vars, "unknown", None)
        elif kind is ast.If or kind is ast.While:
            test = current.test  # `if x := ...`, `elif a and (x := ...)`
            for named in [test] if not isinstance(test, ast.BoolOp) else test.values:
                if isinstance(named, ast.UnaryOp) and isinstance(named.op, ast.Not):
                    named = named.operand
                if isinstance(named, ast.NamedExpr):
                    bind(named.target, "assign", named.value)
                    named = named.value
                call(named)  # `if _remove_member(profile, user):`, `if not f(x) and ...`
        for name in nested:
            extend(getattr(current, name))
        if kind is ast.match_case:
            extend(current.body)
    if not (summary.returns or summary.return_values or summary.self_attributes or summary.calls):
        return None
    # Walked from the end: put everything back in source order.
    summary.return_values.reverse()
    summary.self_attributes.reverse()
    summary.calls.reverse()
    pending = [name for name in read if name in bindings]
    while pending:  # the names the kept bindings read, in turn (`qs = ...; order = qs.first()`)
        for _, value in bindings[pending.pop()]:
            before = set(read)
            keep(value)
            pending.extend(name for name in read - before if name in bindings)
    for name in sorted(read):
        if name in bindings:
            summary.bindings[name] = [(kind, texts.of(value) if kind != "unknown" else None)
                                      for kind, value in reversed(bindings[name])]
    return summary


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    return dotted_name(target) or ""


def annotation_name(node: ast.expr | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.strip()
    if isinstance(node, ast.BinOp):  # `Order | None`: the first operand with a name
        operands, stack = [], [node]
        while stack:  # a loop, not a recursion: `A | B | ...` may be long
            current = stack.pop()
            if isinstance(current, ast.BinOp):
                stack += [current.right, current.left]
            else:
                operands.append(current)
        return next((name for name in map(annotation_name, operands) if name), None)
    if isinstance(node, ast.Subscript) and dotted_name(node.value) in ("Optional", "typing.Optional"):
        return annotation_name(node.slice)
    return dotted_name(node)


def _is_from_queryset(call: ast.Call) -> bool:
    inner = call.func
    return isinstance(inner, ast.Call) and (dotted_name(inner.func) or "").endswith("from_queryset")


def _is_abstract(node: ast.ClassDef) -> bool:
    for statement in node.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
            for item in statement.body:
                if (
                    isinstance(item, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "abstract" for t in item.targets)
                    and isinstance(item.value, ast.Constant)
                    and item.value.value is True
                ):
                    return True
    return False


def _field_fact(name: str, callee: str, kind: str, call: ast.Call, target_by_position: bool = True) -> FieldFact:
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    # A GenericForeignKey's arguments name its own fields, not a target: it points at any model.
    # A file field's (and a TaggableManager's) first argument is its verbose name.
    if kind in ("gfk", "file"):
        target_node = None
    elif call.args and target_by_position:
        target_node = call.args[0]
    else:
        target_node = keywords.get("to")
    target, target_is_string = _reference(target_node)
    through, through_is_string = _reference(keywords.get("through"))
    related = keywords.get("related_name")
    related_name = related.value if isinstance(related, ast.Constant) and isinstance(related.value, str) else None
    return FieldFact(
        name=name,
        field_call=callee,
        kind=kind,
        line=call.lineno,
        column=call.col_offset + 1,
        end_line=call.end_lineno or call.lineno,
        end_column=(call.end_col_offset or call.col_offset) + 1,
        target=target,
        target_is_string=target_is_string,
        related_name=related_name,
        through=through,
        through_is_string=through_is_string,
    )


def _reference(node: ast.expr | None) -> tuple[str | None, bool]:
    if node is None:
        return None, False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, True
    return dotted_name(node), False


def signature(facts: ModuleFacts) -> str:
    """A hash of what other files can depend on: the facts without positions.

    Two versions of a file with the same signature give every *other* file the same
    verdicts, so a cache may keep theirs when only this file's lines moved.
    """
    from layerguard.hashes import blake2b

    public = (
        facts.parse_error,
        facts.unreadable,
        [(i.module, i.level, i.names, i.asname, i.in_function, i.type_checking) for i in facts.imports],
        facts.star_imports,
        sorted(facts.aliases.items()),
        sorted(facts.constants.items()),
        sorted(facts.string_lists.items()),
        sorted(set(facts.assigned)),
        facts.names_settings_modules,
        [(c.name, c.qualname, c.bases, c.decorators, c.managers, c.abstract, sorted(c.string_attributes.items()),
          [(f.name, f.field_call, f.kind, f.target, f.target_is_string, f.related_name, f.through,
            f.through_is_string) for f in c.fields], c.field_calls) for c in facts.classes],
        [(f.name, f.qualname, f.decorators, f.params, f.class_qualname, f.is_async, f.receives)
         for f in facts.functions],
        [sorted(c.model_refs.items()) + c.registers + c.actions for c in facts.classes],
        facts.signal_connections,
        facts.admin_registrations,
        sorted(facts.model_lookups.items()),
        # What the flow solver reads: a changed return, call or `self.x =` re-checks every file.
        sorted((name, repr(vars(summary))) for name, summary in facts.summaries.items()),
        sorted((name, sorted(items.items())) for name, items in facts.class_annotations.items()),
        sorted((name, sorted(items.items())) for name, items in facts.manager_classes.items()),
    )
    return blake2b(repr(public).encode(), digest_size=16).hexdigest()


def extract_with_signature(source: bytes) -> tuple[ModuleFacts, str]:
    """Facts and signature of one file."""
    facts = extract_facts(source)
    return facts, signature(facts)


def extract_in_worker(source: bytes) -> tuple[ModuleFacts, str, str | None]:
    """The unit of work sent to worker processes: facts, signature, and the lowered text
    if the file needed lowering (for the parent to remember_lowered)."""
    facts, file_signature = extract_with_signature(source)
    return facts, file_signature, _LOWERED.pop(source, None)
