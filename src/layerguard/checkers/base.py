"""What every rule is: a class whose docstring is its documentation and whose
VALID / INVALID examples are its tests (STYLE.md §1)."""

from __future__ import annotations

import ast
import bisect
import inspect
import re
import textwrap
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Iterable

from layerguard.config import Settings
from layerguard.facts import ModuleFacts, parse_python
from layerguard.project import ModuleInfo, ProjectModel
from layerguard.typemodel import FileTypes
from layerguard.semgrep import RULES_DIR, SemgrepMatch, SemgrepRule, load_rules
from layerguard.violation import Violation

DOC_HEADINGS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead")
EXPECT_MARKER = "# expect"


@dataclass(frozen=True)
class Example:
    """A small Django project for a rule's tests.

    `code` is written to `path` inside a default project (an app `shop` with
    models Customer, Order, Item and Tag; see tests/test_rule_examples.py), and
    `files` adds or replaces other files. In INVALID examples every line that must
    be reported ends with `# expect`.
    """

    code: str
    path: str = "shop/views.py"
    files: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")

    def expected_lines(self) -> list[int]:
        return [number for number, line in enumerate(self.source.splitlines(), 1) if line.rstrip().endswith(EXPECT_MARKER)]


class FileContext:
    """One checked file, as the rules see it: its bytes, facts, place in the project."""

    def __init__(self, path: str, source: bytes, facts: ModuleFacts, project: ProjectModel, settings: Settings):
        self.path = path
        self.source = source
        self.facts = facts
        self.project = project
        self.settings = settings
        self.module: ModuleInfo = project.modules_by_path[path]
        # Results several rules share (one walk for LG201 and LG301), by name.
        self.memo: dict[str, Any] = {}
        # Set by the engine when semgrep skipped or gave up on this file (LG900 reports it).
        self.semgrep_failure = None

    @cached_property
    def tree(self) -> ast.Module:
        return parse_python(self.source)

    @cached_property
    def types(self) -> FileTypes:
        """What this file's expressions are: the one place rules ask (typemodel/)."""
        return FileTypes(self)

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        for match in re.finditer(rb"\n", self.source):
            starts.append(match.end())
        return starts

    def line_bytes(self, line: int) -> bytes:
        starts = self._line_starts
        end = starts[line] if line < len(starts) else len(self.source)
        return self.source[starts[line - 1]:end]

    def position(self, offset: int) -> tuple[int, int]:
        """(line, byte column 0-based) of a byte offset, as `ast` counts columns."""
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1]

    def column(self, line: int, byte_column: int) -> int:
        """1-based character column from `ast`'s 0-based byte column."""
        return len(self.line_bytes(line)[:byte_column].decode("utf-8", "replace")) + 1

    @cached_property
    def _index(self) -> tuple[dict[tuple[int, int], list[ast.AST]], list[ast.Call]]:
        """One walk of the tree: nodes by start position, and every call in source order."""
        by_start: dict[tuple[int, int], list[ast.AST]] = {}
        calls: list[ast.Call] = []
        for node in ast.walk(self.tree):
            if hasattr(node, "col_offset"):
                by_start.setdefault((node.lineno, node.col_offset), []).append(node)
                if isinstance(node, ast.Call):
                    calls.append(node)
        calls.sort(key=lambda call: (call.lineno, call.col_offset))
        return by_start, calls

    @property
    def _nodes_by_start(self) -> dict[tuple[int, int], list[ast.AST]]:
        return self._index[0]

    def nodes_at(self, line: int, byte_column: int) -> list[ast.AST]:
        return self._nodes_by_start.get((line, byte_column), [])

    def nodes_on_line(self, line: int) -> Iterable[ast.AST]:
        for (node_line, _), nodes in self._nodes_by_start.items():
            if node_line == line:
                yield from nodes

    @property
    def calls(self) -> list[ast.Call]:
        """Every call in the file, in source order."""
        return self._calls

    @property
    def _calls(self) -> list[ast.Call]:
        return self._index[1]

    def calls_within(self, start: tuple[int, int], end: tuple[int, int]) -> list[ast.Call]:
        """Calls inside a span of (line, byte column) positions, outermost first.

        semgrep's spans may include parentheses around an expression, so a match is
        mapped to the calls it contains rather than to one exact position.
        """
        first = bisect.bisect_left(self._calls, start, key=lambda call: (call.lineno, call.col_offset))
        found = []
        for call in self._calls[first:]:
            if (call.lineno, call.col_offset) > end:
                break
            if (call.end_lineno, call.end_col_offset) <= end:
                found.append(call)
        return found

    def function_node(self, function) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The `ast` node of a FunctionFact (found by its `def` position)."""
        return next((node for node in self.nodes_at(function.line, function.column - 1)
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))), None)

    @staticmethod
    def def_line(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Any:
        """Where a function-level violation is reported: `def name` (or `async def name`)."""
        keyword = "async def " if isinstance(node, ast.AsyncFunctionDef) else "def "
        return Span(node.lineno, node.col_offset, node.lineno, node.col_offset + len(keyword) + len(node.name))

    def violation(self, code: str, node: Any, message: str) -> Violation:
        """A violation at `node` (anything with ast positions)."""
        line, end_line = node.lineno, node.end_lineno or node.lineno
        app = self.project.app_of(self.path)
        return Violation(
            path=self.path,
            line=line,
            column=self.column(line, node.col_offset),
            code=code,
            end_line=end_line,
            end_column=self.column(end_line, node.end_col_offset or node.col_offset),
            message=message,
            app=app.label if app else None,
        )


@dataclass(frozen=True)
class Span:
    """A source range in `ast` terms (1-based lines, 0-based byte columns)."""

    lineno: int
    col_offset: int
    end_lineno: int
    end_col_offset: int


class Rule:
    """Base of every rule. Subclasses set the class attributes and implement one back-end."""

    code: ClassVar[str]
    name: ClassVar[str]
    # name -> (type, default); `[tool.layerguard.lint.<code>]` is validated against it.
    OPTIONS: ClassVar[dict[str, tuple[type, Any]]] = {}
    VALID: ClassVar[list[Example]] = []
    INVALID: ClassVar[list[Example]] = []
    # The YAML file in rules/ holding this rule's semgrep half, if it has one.
    semgrep_file: ClassVar[str | None] = None
    # The rule's fix, as ruff declares a rule's fix availability: the fix kind (a module
    # of layerguard/fixes/) and how safe it is ("safe", or "unsafe": it moves code
    # between modules and needs --unsafe-fixes). Which violations it applies to is the
    # fix module's call (a write inside a larger expression has none).
    fix_kind: ClassVar[str | None] = None
    fix_safety: ClassVar[str] = "none"
    # Whether exempt modules (migrations, tests, settings, ...) are skipped.
    skips_exempt_modules: ClassVar[bool] = True

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        """The first sentence of "What it does", without its parentheses and lists: one line."""
        doc = cls.documentation()
        section = doc.split(DOC_HEADINGS[0], 1)[-1].split("##", 1)[0]
        text = " ".join(section.split()).split(". ")[0]
        text = re.sub(r"\s*\([^()]*\)", "", text).split(": ")[0]
        return text.rstrip(".") + "."

    @classmethod
    def semgrep_rules(cls) -> list[SemgrepRule]:
        return load_rules(RULES_DIR / cls.semgrep_file) if cls.semgrep_file else []

    @classmethod
    def semgrep_path(cls) -> Path | None:
        return RULES_DIR / cls.semgrep_file if cls.semgrep_file else None

    def check_match(self, match: SemgrepMatch, rule: SemgrepRule, context: FileContext) -> Violation | None:
        """Turn one semgrep match into a violation, or drop it (semgrep-backed rules)."""
        return None

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        """Violations found from the file and the project model (Python-backed rules)."""
        return ()


def interpolate(template: str, values: dict[str, str]) -> str:
    """Fill a YAML message's `$NAME` placeholders with layerguard's display values."""
    return re.sub(r"\$([A-Z_][A-Z0-9_]*)", lambda m: values.get(m.group(1), m.group(0)), template)
