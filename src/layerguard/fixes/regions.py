"""What a move would take along: the statements, the names they read and bind, and
whether moving them keeps behaviour. Plain `ast` on the checked file's tree (cheap);
libcst only touches the files being fixed (codemod.py).

A region is a run of consecutive statements of one block of one function. Moving it
into a service function is behaviour-preserving when:
- it has no control flow that leaves it (`return`, `yield`, `await`, `break`,
  `continue`, `global`, `nonlocal`), apart from a single `return <write>`;
- every name it reads is a local of the function (it becomes a keyword-only
  parameter), a module-level import (the import is repeated in the service
  module), or a builtin; a name defined in the module itself would make the
  service import the view, and `self` / a request cannot go into a service (LG501);
- no name is both read from before the region and rebound in it (the caller's
  variable would silently keep its old value);
- names it binds that the function reads elsewhere are returned.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from functools import lru_cache

BUILTIN_NAMES = frozenset(dir(builtins))
# Block fields of compound statements, in source order.
BLOCK_FIELDS = ("body", "orelse", "finalbody")
LEAVING_FLOW = (ast.Return, ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal)
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass(frozen=True)
class Refusal:
    """No fix for this violation, and why (shown as the violation's fix note)."""

    reason: str


@dataclass
class Region:
    kind: str  # "write" (LG101) or "transaction" (LG202/LG303)
    function: ast.FunctionDef | ast.AsyncFunctionDef
    block: list[ast.stmt]
    start: int  # index of the first statement in `block`
    stop: int  # one past the last
    model: str | None  # qualified name of the model written, for the service's name
    verb: str
    parameters: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    imports: dict[str, ast.stmt] = field(default_factory=dict)  # free module-level name -> its import
    returns_value: bool = False  # the region is `return <write>`
    decorator: str | None = None  # "@transaction.atomic" for a transaction region
    # Names of the parameters / outputs -> annotation text and the import it needs.
    annotations: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def statements(self) -> list[ast.stmt]:
        return self.block[self.start:self.stop]

    @property
    def first_line(self) -> int:
        return self.statements[0].lineno

    @property
    def last_line(self) -> int:
        return self.statements[-1].end_lineno or self.statements[-1].lineno

    def contains(self, other: "Region") -> bool:
        return (self.function is other.function and self.first_line <= other.first_line
                and other.last_line <= self.last_line)

    def key(self) -> tuple:
        return (self.first_line, self.last_line, self.kind)


def enclosing_function(tree: ast.Module, line: int, column: int):
    """The innermost function whose body holds the statement at (line, byte column)."""
    best = None
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.stmt, ast.excepthandler)) and not node.lineno <= line <= (node.end_lineno or node.lineno):
            continue  # nothing inside a statement lies outside its lines: one path down, not the whole file
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.lineno <= line <= (node.end_lineno or node.lineno) and any(
                    s.lineno <= line <= (s.end_lineno or s.lineno) for s in node.body):
                best = node
                stack.extend(node.body)
                continue
        if isinstance(node, ast.stmt):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt) or isinstance(child, ast.excepthandler) or \
                        type(child).__name__ == "match_case":
                    stack.append(child)
        elif hasattr(node, "body"):
            stack.extend(getattr(node, "body"))
    return best


def statement_at(function, line: int) -> tuple[list[ast.stmt], int] | None:
    """The innermost statement of `function` starting on or containing `line`: its block
    and index. Nested functions and classes are not entered (their code is theirs)."""
    block = function.body
    while True:
        index = next((i for i, s in enumerate(block) if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
        if index is None:
            return None
        statement = block[index]
        inner = None
        if not isinstance(statement, SCOPES):
            for sub in _sub_blocks(statement):
                if any(s.lineno <= line <= (s.end_lineno or s.lineno) for s in sub) and sub[0].lineno <= line:
                    inner = sub
                    break
        if inner is None:
            return block, index
        block = inner


def _sub_blocks(statement: ast.stmt) -> list[list[ast.stmt]]:
    blocks = [getattr(statement, name) for name in BLOCK_FIELDS if getattr(statement, name, None)]
    for handler in getattr(statement, "handlers", []) or []:
        blocks.append(handler.body)
    for case in getattr(statement, "cases", []) or []:
        blocks.append(case.body)
    return blocks


class _Flow(ast.NodeVisitor):
    """Reads and binds of a region, in evaluation order, and what leaves it."""

    def __init__(self) -> None:
        self.free: dict[str, ast.Name] = {}  # read before any bind in the region
        self.bound: dict[str, ast.AST] = {}
        self.rebound_free: list[str] = []
        self.leaving: ast.AST | None = None
        self.loop_depth = 0

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if node.id not in self.bound and node.id not in self.free:
                self.free[node.id] = node
        else:
            if node.id in self.free and node.id not in self.rebound_free:
                self.rebound_free.append(node.id)
            self.bound.setdefault(node.id, node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.visit(ast.copy_location(ast.Name(node.target.id, ast.Load()), node.target))
        self.visit(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.visit(node.target)

    def _loop(self, node) -> None:
        self.visit(node.iter if hasattr(node, "iter") else node.test)
        if hasattr(node, "target"):
            self.visit(node.target)
        self.loop_depth += 1
        for statement in node.body:
            self.visit(statement)
        self.loop_depth -= 1
        for statement in node.orelse:
            self.visit(statement)

    visit_For = visit_While = _loop

    def visit_AsyncFor(self, node) -> None:
        self.leaving = self.leaving or node

    visit_AsyncWith = visit_AsyncFor

    def visit_Break(self, node) -> None:
        if self.loop_depth == 0:
            self.leaving = self.leaving or node

    visit_Continue = visit_Break

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, LEAVING_FLOW):
            self.leaving = self.leaving or node
        super().generic_visit(node)

    def _scope(self, node) -> None:
        # A nested function, lambda or comprehension: its own names are its own; the
        # names it reads from outside are reads of the region.
        inner = _Flow()
        for child in ast.iter_child_nodes(node):
            inner.visit(child)
        local = _scope_locals(node)
        for name, read in inner.free.items():
            if name not in local and name not in self.bound and name not in self.free:
                self.free[name] = read
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.bound.setdefault(node.name, node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = _scope
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _scope


def _scope_locals(node) -> set[str]:
    names = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        arguments = node.args
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                         arguments.vararg, arguments.kwarg]:
            if argument is not None:
                names.add(argument.arg)
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and not isinstance(child.ctx, ast.Load):
            names.add(child.id)
    return names


def function_locals(function) -> set[str]:
    """Every name the function binds (parameters included): what a region may read."""
    return set(_function_locals(function))


# A file's violations are assessed one by one, often several in one function: its walks
# are made once (saleor's order/utils.py, 27 assessed in a one-file re-check: 0.02 s).
# The few entries hold their trees only until newer ones push them out.
@lru_cache(maxsize=16)
def _function_locals(function) -> frozenset[str]:
    return frozenset(_scope_locals(function))


@lru_cache(maxsize=16)
def _loaded_names(function) -> tuple[tuple[str, int], ...]:
    """(name, line) of every read of a name in the function, nested scopes included."""
    return tuple((node.id, node.lineno) for node in ast.walk(function)
                 if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load))


def module_bindings(tree: ast.Module) -> dict[str, ast.stmt]:
    """Top-level names of the module and the statement binding each (imports, defs, assignments)."""
    return dict(_module_bindings(tree))


@lru_cache(maxsize=4)
def _module_bindings(tree: ast.Module) -> dict[str, ast.stmt]:
    bound: dict[str, ast.stmt] = {}
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                name = alias.asname or alias.name.split(".")[0]
                bound[name] = statement
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[statement.name] = statement
        elif isinstance(statement, (ast.If, ast.Try)):
            for inner in ast.walk(statement):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    for alias in inner.names:
                        bound.setdefault(alias.asname or alias.name.split(".")[0], statement)
        else:
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    bound.setdefault(node.id, statement)
    return bound


def analyse(region: Region, tree: ast.Module, is_request=lambda name: False) -> Region | Refusal:
    """Fill the region's parameters, outputs and imports, or say why it cannot move."""
    flow = _Flow()
    statements = region.statements
    if region.returns_value:
        flow.visit(statements[0].value)
    else:
        for statement in statements:
            flow.visit(statement)
    if flow.leaving is not None:
        what = {ast.Return: "`return`", ast.Yield: "`yield`", ast.YieldFrom: "`yield from`",
                ast.Await: "`await`", ast.Break: "`break`", ast.Continue: "`continue`",
                ast.Global: "`global`", ast.Nonlocal: "`nonlocal`", ast.AsyncFor: "`async for`",
                ast.AsyncWith: "`async with`"}.get(type(flow.leaving), "control flow")
        return Refusal(f"the code uses {what} (line {flow.leaving.lineno}): moving it would change what the caller does")
    if flow.rebound_free:
        name = flow.rebound_free[0]
        return Refusal(f"the code reads `{name}` and rebinds it: the caller's `{name}` would keep its old value")
    local = _function_locals(region.function)
    module = _module_bindings(tree)
    parameters = []
    for name in flow.free:
        if name in ("self", "cls"):
            return Refusal(f"the code reads `{name}`: pass the values it needs instead of the {name} object")
        if name in local:
            if is_request(name):
                return Refusal(f"the code reads the request `{name}`: a service must not take it (LG501)")
            parameters.append(name)
        elif name in module:
            binding = module[name]
            if isinstance(binding, (ast.Import, ast.ImportFrom)):
                region.imports[name] = binding
            else:
                return Refusal(f"the code uses `{name}`, defined in this module: the service would import it back")
        elif name in BUILTIN_NAMES:
            continue
        else:
            return Refusal(f"cannot tell where `{name}` comes from")
    outer = _reads_outside(region, local)
    region.parameters = parameters
    region.outputs = [name for name in flow.bound if name in outer and not name.startswith("__")]
    return region


def _reads_outside(region: Region, local: set[str]) -> set[str]:
    """Names of the function read outside the region (the region's results in use)."""
    first, last = region.first_line, region.last_line
    return {name for name, line in _loaded_names(region.function)
            if name in local and not first <= line <= last}


def snake(name: str) -> str:
    """`CartItem` -> `cart_item`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


GENERIC_WORDS = {"view", "views", "api", "apiview", "viewset", "post", "get", "put", "patch", "delete", "perform",
                 "handle", "do", "process", "form", "valid", "save", "model", "create", "update", "destroy",
                 "request", "serializer", "command", "task", "the", "a", "an", "on", "with", "and", "to", "of",
                 "for", "by", "from", "in", "admin", "mixin", "generic", "list", "detail", "run", "execute",
                 "dispatch", "action", "response", "self", "helper", "base"}


def verb_from_names(names: list[str], model_words: set[str]) -> str | None:
    """A verb for the service from the enclosing function's and class's names:
    `pay_order` / `OrderPay.post` -> "pay"."""
    for name in names:
        for word in snake(name).strip("_").split("_"):
            if word and word not in GENERIC_WORDS and word not in model_words and word.isalpha():
                return word
    return None


def service_name(region: Region, app: str | None = None) -> str:
    """`<model>_<verb>` as the styleguide names services (`order_cancel`); raw SQL with no
    model is named after the app."""
    noun = snake(region.model.rpartition(".")[2]) if region.model else (app or "record")
    return f"{noun}_{region.verb}"


def import_parts(binding: ast.stmt, name: str, package: str) -> list[tuple[str, str | None, str | None]]:
    """The (module, object, asname) the import statement `binding` binds `name` with,
    relative imports made absolute (the service module may sit elsewhere)."""
    from layerguard.project import _absolute

    parts = []
    for alias in binding.names:
        if (alias.asname or alias.name.split(".")[0]) != name:
            continue
        if isinstance(binding, ast.ImportFrom):
            parts.append((_absolute(binding.module or "", binding.level or 0, package), alias.name, alias.asname))
        else:
            parts.append((alias.name, None, alias.asname))
    return parts
