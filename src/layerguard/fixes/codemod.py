"""The libcst edits of the move fixes: statements out of the checked file, a service
function into the service module, imports on both sides.

Only the moved statements, the call that replaces them and the import lines change;
every other byte of both files stays as the user wrote it (libcst round-trips the
rest). Positions come from libcst's PositionProvider only; scope metadata (for
RemoveImportsVisitor) is resolved on the files being fixed, never project-wide.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider

from layerguard.fixes.regions import Region, import_parts, module_bindings


@dataclass
class Move:
    """One region planned for one service module."""

    region: Region
    service_path: str
    service_module: str  # dotted
    source_package: str  # for relative imports of the checked file
    name_hint: str  # `<model>_<verb>`
    # Filled by apply(): the function name used (new or reused).
    name: str = ""
    reused: bool = False


@dataclass
class Applied:
    source: str
    services: dict[str, str] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)
    skipped: list[tuple[Move, str]] = field(default_factory=list)


def apply(source: str, tree: ast.Module, moves: list[Move], services: dict[str, str]) -> Applied:
    """Edit `source` (the checked file) and the service modules' texts for `moves`."""
    module = cst.parse_module(source)
    by_start, top_of = _statements_by_start(module, tree, {s.lineno for m in moves for s in m.region.statements})
    taken_in_source = set(module_bindings(tree))
    result = Applied(source=source, services=dict(services))
    replacements: dict[cst.CSTNode, cst.CSTNode | None] = {}
    removals: list[tuple[str, tuple[str, str | None, str | None]]] = []
    # The file's package, for libcst to read its relative imports (`from ..models import X`):
    # without it an import only the moved code used stayed behind, unused.
    source_context = CodemodContext(full_package_name=moves[0].source_package if moves else None)
    for move in moves:
        region = move.region
        nodes = [by_start.get((s.lineno, s.col_offset)) for s in region.statements]
        if any(n is None for n in nodes) or any(isinstance(n, cst.SimpleStatementLine) and len(n.body) != 1
                                                 for n in nodes):
            result.skipped.append((move, "a statement shares its line with others"))
            continue
        service_text = result.services.get(move.service_path)
        service_tree = cst.parse_module(service_text) if service_text is not None else None
        body = _service_body(region, nodes)
        taken = taken_in_source | _top_level_names(service_tree) | _function_names(region)
        function = _service_function(region, "__layerguard_name__", body)
        existing = _identical(service_tree, function)
        if existing is not None:
            move.name, move.reused = existing, True
        else:
            move.name = _unique(move.name_hint, taken)
            function = function.with_changes(name=cst.Name(move.name))
            result.services[move.service_path] = _append_function(service_text, service_tree, function, region,
                                                                  move.source_package)
        taken_in_source.add(move.name)
        call = _call_statement(region, move.name, nodes[0])
        replacements[nodes[0]] = call
        for node in nodes[1:]:
            replacements[node] = None
        AddImportsVisitor.add_needed_import(source_context, move.service_module, move.name)
        for name, binding in region.imports.items():
            removals.extend((name, part) for part in import_parts(binding, name, move.source_package))
        result.moves.append(move)
    if not replacements:
        return result
    still_used = _names_used_outside(tree, [m.region for m in result.moves])
    for name, (module_name, obj, asname) in removals:
        if name not in still_used:
            RemoveImportsVisitor.remove_unused_import(source_context, module_name, obj, asname)
    touched = {top_of[node] for node in replacements}
    body = [top.visit(_Replace(replacements)) if top in touched else top for top in module.body]
    edited = module.with_changes(body=body) if all(isinstance(b, cst.CSTNode) for b in body) \
        else module.visit(_Replace(replacements))  # a top-level statement itself replaced
    result.source = _edit_imports(edited, source_context).code
    return result


def _names_used_outside(tree: ast.Module, regions: list[Region]) -> set[str]:
    """Names read anywhere but in the moved regions (and `__all__`'s strings): the
    imports the file still needs after the move."""
    spans = [(r.first_line, r.last_line) for r in regions]
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not any(a <= node.lineno <= b for a, b in spans):
            used.add(node.id)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                  for t in node.targets):
            used.update(c.value for c in ast.walk(node.value)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str))
    return used


def _edit_imports(module: cst.Module, context: CodemodContext) -> cst.Module:
    """libcst's import visitors run on the leading import block only: over a whole large
    module they cost seconds (6 s a file on netbox's views), and the block is where they
    add and remove. Removals were checked against the whole file beforehand
    (_names_used_outside). A module with imports after its first code is edited whole."""
    end = _import_block_end(module)
    if end is None:
        module = AddImportsVisitor(context).transform_module(module)
        return RemoveImportsVisitor(context).transform_module(module)
    head = module.with_changes(body=module.body[:end])
    head = AddImportsVisitor(context).transform_module(head)
    head = RemoveImportsVisitor(context).transform_module(head)
    return module.with_changes(body=[*head.body, *module.body[end:]])


def _import_block_end(module: cst.Module) -> int | None:
    """How many leading statements are the docstring and imports; None when an import
    statement follows code at the top level (the visitors then need the whole module)."""
    def is_import(statement) -> bool:
        return isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(item, (cst.Import, cst.ImportFrom)) for item in statement.body)

    end = 0
    for index, statement in enumerate(module.body):
        docstring = (index == 0 and isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
                     and isinstance(statement.body[0], cst.Expr)
                     and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))
        if not (docstring or is_import(statement)):
            break
        end = index + 1
    if any(is_import(statement) for statement in module.body[end:]):
        return None
    return end


def _statements_by_start(module: cst.Module, tree: ast.Module, lines: set[int]
                         ) -> tuple[dict[tuple[int, int], cst.CSTNode], dict[cst.CSTNode, cst.CSTNode]]:
    """The statements of the top-level statements holding `lines`, by (line, column) as
    `ast` gives them. Positions are resolved on each such top-level statement alone (a
    one-statement module, offset back): PositionProvider over a whole large module costs
    seconds, the fixed function's class a fraction of that. Also each statement's
    top-level statement, so the edit visits only those."""
    by_start: dict[tuple[int, int], cst.CSTNode] = {}
    top_of: dict[cst.CSTNode, cst.CSTNode] = {}
    index = 0
    for top in module.body:
        count = len(top.body) if isinstance(top, cst.SimpleStatementLine) else 1
        first, last = tree.body[index], tree.body[index + count - 1]
        index += count
        if not any(first.lineno <= line <= last.end_lineno for line in lines):
            continue
        positions = MetadataWrapper(cst.Module(body=[top]), unsafe_skip_copy=True).resolve(PositionProvider)
        offset = first.lineno - positions[top].start.line  # the `def`/`class` line, as ast's lineno
        for node, where in positions.items():
            if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                by_start.setdefault((where.start.line + offset, where.start.column), node)
                top_of[node] = top
    return by_start, top_of


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.CSTNode, cst.CSTNode | None]):
        self.replacements = replacements

    def on_leave(self, original_node, updated_node):
        if original_node in self.replacements:
            replacement = self.replacements[original_node]
            return cst.RemoveFromParent() if replacement is None else replacement
        return updated_node


def _service_body(region: Region, nodes: list[cst.CSTNode]) -> list[cst.BaseStatement]:
    if region.kind == "transaction":
        block = nodes[0].body
        if isinstance(block, cst.SimpleStatementSuite):
            statements = [cst.SimpleStatementLine(body=list(block.body))]
        else:
            statements = list(block.body)
    else:
        statements = list(nodes)
    # The comment above the first moved statement stays at the call site.
    statements[0] = statements[0].with_changes(leading_lines=())
    if region.outputs and not region.returns_value:
        returned = ", ".join(region.outputs)
        statements.append(cst.parse_statement(f"return {returned}\n"))
    return statements


def _service_function(region: Region, name: str, body: list[cst.BaseStatement]) -> cst.FunctionDef:
    parameters = []
    for parameter in region.parameters:
        annotation = region.annotations.get(parameter)
        parameters.append(f"{parameter}: {annotation[0]}" if annotation else parameter)
    signature = f"*, {', '.join(parameters)}" if parameters else ""
    returns = ""
    if region.returns_value or region.outputs:
        known = region.annotations.get("return")
        returns = f" -> {known[0]}" if known else ""
    else:
        returns = " -> None"
    decorator = f"{region.decorator}\n" if region.decorator else ""
    header = cst.parse_statement(f"{decorator}def {name}({signature}){returns}:\n    pass\n")
    return header.with_changes(body=cst.IndentedBlock(body=body))


def _call_statement(region: Region, name: str, first: cst.CSTNode) -> cst.BaseStatement:
    arguments = ", ".join(f"{p}={p}" for p in region.parameters)
    call = f"{name}({arguments})"
    if region.returns_value:
        text = f"return {call}\n"
    elif region.outputs:
        text = f"{', '.join(region.outputs)} = {call}\n"
    else:
        text = f"{call}\n"
    statement = cst.parse_statement(text)
    return statement.with_changes(leading_lines=first.leading_lines)


def _identical(service_tree: cst.Module | None, function: cst.FunctionDef) -> str | None:
    """An existing service function with the same signature and body, by text."""
    if service_tree is None:
        return None
    wanted = _normalised(service_tree, function)
    for statement in service_tree.body:
        if isinstance(statement, cst.FunctionDef):
            renamed = statement.with_changes(name=cst.Name("__layerguard_name__"), leading_lines=())
            if _normalised(service_tree, renamed) == wanted:
                return statement.name.value
    return None


def _normalised(module: cst.Module, function: cst.FunctionDef) -> str:
    code = module.code_for_node(function.with_changes(leading_lines=()))
    return "\n".join(line.rstrip() for line in code.strip().splitlines() if line.strip())


def _append_function(text: str | None, tree: cst.Module | None, function: cst.FunctionDef, region: Region,
                     source_package: str) -> str:
    if tree is None:
        tree = cst.parse_module('"""Services: the writes of this app (layerguard --fix moved some here)."""\n')
    function = function.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
    tree = tree.with_changes(body=[*tree.body, function])
    context = CodemodContext()
    for name, binding in region.imports.items():
        for module_name, obj, asname in import_parts(binding, name, source_package):
            AddImportsVisitor.add_needed_import(context, module_name, obj, asname)
    for key, (_, needed) in region.annotations.items():
        if needed:
            module_name, _, obj = needed.rpartition(".")
            AddImportsVisitor.add_needed_import(context, module_name, obj)
    if region.decorator:
        AddImportsVisitor.add_needed_import(context, "django.db", "transaction")
    code = _edit_imports(tree, context).code
    return code if code.endswith("\n") else code + "\n"


def _top_level_names(tree: cst.Module | None) -> set[str]:
    if tree is None:
        return set()
    try:
        return set(module_bindings(ast.parse(tree.code)))
    except SyntaxError:
        return set()


def _function_names(region: Region) -> set[str]:
    from layerguard.fixes.regions import function_locals

    return function_locals(region.function)


def _unique(base: str, taken: set[str]) -> str:
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name


