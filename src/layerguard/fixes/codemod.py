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
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    by_start: dict[tuple[int, int], cst.CSTNode] = {}
    for node, where in positions.items():
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            by_start.setdefault((where.start.line, where.start.column), node)
    taken_in_source = set(module_bindings(tree))
    result = Applied(source=source, services=dict(services))
    replacements: dict[cst.CSTNode, cst.CSTNode | None] = {}
    source_context = CodemodContext()
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
            for module_name, obj, asname in import_parts(binding, name, move.source_package):
                RemoveImportsVisitor.remove_unused_import(source_context, module_name, obj, asname)
        result.moves.append(move)
    if not replacements:
        return result
    edited = module.visit(_Replace(replacements))
    edited = AddImportsVisitor(source_context).transform_module(edited)
    edited = RemoveImportsVisitor(source_context).transform_module(edited)
    result.source = edited.code
    return result


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
    code = AddImportsVisitor(context).transform_module(tree).code
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


