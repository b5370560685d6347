"""Newer Python syntax, lowered to what an older `ast` (or semgrep's parser) reads.

layerguard reads code with the `ast` of the Python that runs it, which refuses syntax
newer than itself: PEP 695 generics under 3.11, PEP 758's `except A, B:` under 3.13.
libcst parses every version up to 3.14, so a file `ast` refuses is parsed with libcst
and each newer construct is rewritten *in place*, as a text edit that keeps every
line and every UTF-8 byte offset, so the violations found in the lowered text are at
the user's lines and columns:

| construct (version)                          | becomes                                     |
|----------------------------------------------|---------------------------------------------|
| `def f[T](x)`, `class C[T]:` (3.12, PEP 695) | the type parameters blanked: `def f   (x)`  |
| `type X[T] = v` (3.12, PEP 695)              | `type;X    = v`                             |
| type parameter defaults (3.13, PEP 696)      | blanked with their type parameters          |
| f-strings that reuse quotes, hold `\\` or `#` | a tuple of their expressions, each kept at  |
| in their expressions (3.12, PEP 701)         | its column: `f"{a["k"]}"` -> `(  a["k"] )`  |
| t-strings (3.14, PEP 750)                    | a tuple of their expressions, the same way  |
| `except A, B:`, `except* A, B:` (3.14, 758)  | `except A| B:`                              |
| `except*` (3.11, PEP 654), for 3.10          | `except `                                   |
| `*args: *Ts`, `x[*Ts]` (3.11, PEP 646)       | the star blanked                            |
| `case {"a": 1, **rest}:` (semgrep only)      | `case {"a": 1        }:`                    |

Blanked text keeps its newlines; where it spans lines outside brackets (type
parameters written over several lines), the line ends get a `\\` continuation. Only
when a blank line inside such a region leaves no room for the `\\` is a byte inserted;
`Lowered.original_offset` maps offsets back for those rare files.

libcst is slow (12x `ast` on real projects) and a native extension that a hostile file
can crash (100,000 nested brackets overflow its stack), so `lower_isolated` runs it in
a forked child with a deadline: a crash or a hang is that file's LG900, not the run's end.
"""

from __future__ import annotations

import ast
import os
import pickle
import re
import select
import signal
import sys
import time
import warnings
from dataclasses import dataclass, field

import libcst
from libcst.metadata import MetadataWrapper, PositionProvider

RUNNING = sys.version_info[:2]
# A file libcst takes longer than this to read is an LG900 naming the limit.
PARSE_TIMEOUT_SECONDS = float(os.environ.get("LAYERGUARD_PARSE_TIMEOUT", "30"))
# ast's own limits, the same in every CPython: no Python reads such a file, so libcst
# is not asked (it would try, slowly or fatally).
_LIMITS_OF_EVERY_PYTHON = ("too many nested parentheses", "too many levels of indentation",
                           "too many statically nested blocks")
_NEWLINE = re.compile(r"\r\n|\r|\n")


class LoweringError(Exception):
    """libcst refused the file too (`refused`: no Python reads it), or it crashed, failed
    or took too long (the message says which)."""

    def __init__(self, message: str, refused: bool = False):
        super().__init__(message, refused)  # all in args: it crosses a pipe pickled
        self.message, self.refused = message, refused

    def __str__(self) -> str:
        return self.message


@dataclass
class Lowered:
    """Source text the target Python reads, with the original's lines and byte offsets."""

    text: str
    # Byte offsets (in the original) at which a byte was inserted, ascending.
    insertions: list[int] = field(default_factory=list)
    constructs: list[str] = field(default_factory=list)  # what was lowered, for messages and tests
    # libcst regenerates the text it parsed; in rare corners of new syntax it drops a
    # space (`except A, B, :`). Lines still hold; byte offsets on such a line may not.
    exact: bool = True

    @property
    def changed(self) -> bool:
        return bool(self.constructs)

    def original_offset(self, offset: int) -> int:
        """A byte offset in `text` mapped back to the original source."""
        if not self.insertions:
            return offset
        shift = 0
        for inserted in self.insertions:
            if inserted + shift < offset:
                shift += 1
            else:
                break
        return offset - shift


def refused_by_every_python(error: SyntaxError) -> bool:
    return any(limit in (error.msg or "") for limit in _LIMITS_OF_EVERY_PYTHON)


def lower(source: bytes | str, target: tuple[int, int] = RUNNING, for_semgrep: bool = False) -> Lowered:
    """The source with every construct newer than `target` rewritten (see the table).
    `for_semgrep` also rewrites what semgrep's parser lacks whatever the version: a
    mapping pattern's `**rest` (`case {"a": 1, **rest}:`, Python 3.10).

    Raises LoweringError when libcst cannot parse it either: no Python version reads it.
    """
    try:
        module = libcst.parse_module(source)
    except libcst.ParserSyntaxError as error:
        raise LoweringError(error.message, refused=True) from None
    except (UnicodeDecodeError, LookupError) as error:  # undecodable bytes, an unknown coding cookie
        raise LoweringError(f"cannot decode it ({error})", refused=True) from None
    except (RecursionError, MemoryError) as error:
        raise LoweringError(f"found it too deeply nested ({type(error).__name__})") from None
    except Exception as error:  # libcst's own checks (CSTLogicError on concatenated t-strings)
        raise LoweringError(f"failed ({type(error).__name__}: {error})") from None
    lowered = _Editor(module, target, for_semgrep).run()
    original = source.decode(module.encoding, "replace").lstrip("\ufeff") if isinstance(source, bytes) else source
    lowered.exact = module.code == original
    return lowered


def lower_isolated(source: bytes, target: tuple[int, int] = RUNNING, for_semgrep: bool = False,
                   deadline_seconds: float = PARSE_TIMEOUT_SECONDS) -> Lowered:
    """`lower` in a forked child that is killed after `deadline_seconds`; a crash or a
    timeout of libcst is a LoweringError naming it. Without fork (Windows), in-process."""
    if not hasattr(os, "fork"):
        return lower(source, target, for_semgrep)
    libcst.parse_module("")  # loads the native parser once here, not in every child

    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: the child only parses
        pid = os.fork()
    if pid == 0:  # the child: parse, send the result, leave without cleanup handlers
        status = 0
        try:
            os.close(read_end)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            try:
                result: object = lower(source, target, for_semgrep)
            except LoweringError as error:
                result = error
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    chunks: list[bytes] = []
    started = time.monotonic()
    timed_out = finished = False
    try:
        while True:
            remaining = deadline_seconds - (time.monotonic() - started)
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_end], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        finished = not timed_out
    finally:  # on a timeout, or anything raised here (Ctrl-C), the child goes too
        os.close(read_end)
        if not finished:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise LoweringError(f"took longer than {deadline_seconds:g} s (LAYERGUARD_PARSE_TIMEOUT)")
    if os.WIFSIGNALED(status):
        raise LoweringError(f"crashed (signal {os.WTERMSIG(status)})")
    try:
        result = pickle.loads(b"".join(chunks))
    except Exception:
        raise LoweringError("failed without a reason") from None
    if isinstance(result, LoweringError):
        raise result
    return result


class _Editor:
    """Collects same-length replacements on the module's text, then applies them."""

    def __init__(self, module, target: tuple[int, int], for_semgrep: bool = False):
        self.module = module
        self.target = target
        self.for_semgrep = for_semgrep
        self.code: str = module.code
        self.line_starts = [0] + [match.end() for match in _NEWLINE.finditer(self.code)]
        self.replacements: dict[int, str] = {}  # str index -> replacement text
        self.constructs: list[str] = []

    # -- positions ------------------------------------------------------------------
    def run(self) -> Lowered:
        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.positions = wrapper.resolve(PositionProvider)
        visitor = _Finder(self)
        wrapper.visit(visitor)
        return self._apply()

    def span(self, node) -> tuple[int, int]:
        """[start, end) str indices of a node (without its leading lines)."""
        code_range = self.positions[node]
        return (self.line_starts[code_range.start.line - 1] + code_range.start.column,
                self.line_starts[code_range.end.line - 1] + code_range.end.column)

    # -- edits ----------------------------------------------------------------------
    def put(self, index: int, text: str) -> None:
        """Replace the character at `index` by ASCII `text` of the same UTF-8 length (padded)."""
        width = len(self.code[index].encode("utf-8", "surrogatepass"))
        self.replacements[index] = text + " " * (width - len(text)) if len(text) <= width else text

    def blank(self, start: int, end: int, keep: list[tuple[int, int]] = (), continue_lines: bool = False) -> None:
        """Spaces over [start, end) except `keep` ranges and newlines. With `continue_lines`,
        each newline inside gets a `\\` before it (the region is outside brackets)."""
        kept = sorted(keep)
        k = 0
        for index in range(start, end):
            while k < len(kept) and kept[k][1] <= index:
                k += 1
            if k < len(kept) and kept[k][0] <= index < kept[k][1]:
                continue
            character = self.code[index]
            if character in "\r\n":
                if continue_lines and not (character == "\n" and index > 0 and self.code[index - 1] == "\r"):
                    self._continue_line(start, index)
                continue
            self.put(index, " ")

    def _continue_line(self, start: int, newline: int) -> None:
        before = newline - 1
        if before >= start and self.code[before] not in "\r\n":
            width = len(self.code[before].encode("utf-8", "surrogatepass"))
            self.replacements[before] = " " * (width - 1) + "\\"
        else:  # an empty line: no room, insert a byte
            self.replacements[newline] = "\\" + self.code[newline]

    def _apply(self) -> Lowered:
        pieces = []
        insertions = []
        byte_offset = 0
        previous = 0
        for index in sorted(self.replacements):
            pieces.append(self.code[previous:index])
            byte_offset += len(self.code[previous:index].encode("utf-8", "surrogatepass"))
            original = self.code[index]
            replacement = self.replacements[index]
            extra = len(replacement.encode("utf-8", "surrogatepass")) - len(original.encode("utf-8", "surrogatepass"))
            insertions.extend([byte_offset] * max(extra, 0))
            pieces.append(replacement)
            byte_offset += len(original.encode("utf-8", "surrogatepass"))
            previous = index + 1
        pieces.append(self.code[previous:])
        return Lowered("".join(pieces), insertions, self.constructs)

    def note(self, construct: str) -> None:
        if construct not in self.constructs:
            self.constructs.append(construct)


class _Finder(libcst.CSTVisitor):
    """Finds the constructs newer than the target and asks the editor to rewrite them."""

    def __init__(self, editor: _Editor):
        super().__init__()
        self.editor = editor
        self.target = editor.target
        self._lowered_strings: set[int] = set()

    # PEP 695 / 696 ------------------------------------------------------------
    def _type_parameters_too_new(self, parameters) -> bool:
        if parameters is None:
            return False
        if self.target < (3, 12):
            return True
        return self.target < (3, 13) and any(p.default is not None for p in parameters.params)

    def _blank_type_parameters(self, parameters) -> None:
        start, end = self.editor.span(parameters)
        self.editor.blank(start, end, continue_lines=True)
        self.editor.note("PEP 696 type parameter default" if self.target >= (3, 12) else "PEP 695 type parameters")

    def visit_FunctionDef(self, node) -> None:
        if self._type_parameters_too_new(node.type_parameters):
            self._blank_type_parameters(node.type_parameters)

    def visit_ClassDef(self, node) -> None:
        if self._type_parameters_too_new(node.type_parameters):
            self._blank_type_parameters(node.type_parameters)

    def visit_TypeAlias(self, node) -> None:
        if self.target >= (3, 12) and not self._type_parameters_too_new(node.type_parameters):
            return
        if node.type_parameters is not None:
            self._blank_type_parameters(node.type_parameters)
        if self.target >= (3, 12):  # 3.12 reads `type`; only the defaults were too new
            return
        # `type X = v` -> `type;X = v`: the name `type` alone, then a plain assignment,
        # every character where it was.
        editor = self.editor
        start, _ = editor.span(node)
        name_start, _ = editor.span(node.name)
        blank = next((i for i in range(start + len("type"), name_start) if editor.code[i] in " \t"), None)
        if blank is not None:
            editor.put(blank, ";")
            editor.note("PEP 695 type alias")

    # PEP 758 / PEP 654 -----------------------------------------------------------
    def visit_ExceptHandler(self, node) -> None:
        self._unparenthesized_types(node)

    def visit_ExceptStarHandler(self, node) -> None:
        if self.target < (3, 11):
            start, _ = self.editor.span(node)
            star = start + len("except") + len(node.whitespace_after_except.value)
            self.editor.put(star, " ")
            self.editor.note("PEP 654 except*")
        self._unparenthesized_types(node)

    def _unparenthesized_types(self, node) -> None:
        types = node.type
        if self.target >= (3, 14) or not isinstance(types, libcst.Tuple) or types.lpar:
            return
        editor = self.editor
        for position, element in enumerate(types.elements):
            if isinstance(element.comma, libcst.Comma):
                start, end = editor.span(element.comma)
                comma = editor.code.index(",", start, end)
                last = position == len(types.elements) - 1
                editor.put(comma, " " if last else "|")
        editor.note("PEP 758 except without parentheses")

    # semgrep's own gaps ------------------------------------------------------------
    def visit_MatchMapping(self, node) -> None:
        if not self.editor.for_semgrep or node.rest is None:
            return
        editor = self.editor
        rest_start, rest_end = editor.span(node.rest)
        stars = editor.code.rindex("**", 0, rest_start)
        start = stars
        if node.elements and isinstance(node.elements[-1].comma, libcst.Comma):
            start, _ = editor.span(node.elements[-1].comma)
        end = rest_end
        if isinstance(node.trailing_comma, libcst.Comma):
            _, end = editor.span(node.trailing_comma)
        editor.blank(start, end)
        editor.note("mapping pattern **rest (semgrep)")

    # PEP 646 ---------------------------------------------------------------------
    def visit_Annotation(self, node) -> None:
        if self.target < (3, 11) and isinstance(node.annotation, libcst.StarredElement):
            start, _ = self.editor.span(node.annotation)
            self.editor.put(start, " ")
            self.editor.note("PEP 646 starred annotation")

    def visit_Index(self, node) -> None:
        if self.target < (3, 11) and node.star:
            start, _ = self.editor.span(node)
            self.editor.put(start, " ")
            self.editor.note("PEP 646 starred subscript")

    # PEP 701 / PEP 750 -----------------------------------------------------------
    def visit_ConcatenatedString(self, node) -> bool:
        parts = _string_parts(node)
        if any(self._string_too_new(part) for part in parts):
            self._lower_strings(node, parts)
            return False  # its parts are done; their expressions are visited below
        return True

    def visit_FormattedString(self, node) -> bool:
        if id(node) not in self._lowered_strings and self._string_too_new(node):
            self._lower_strings(node, [node])
            return False
        return True

    def visit_TemplatedString(self, node) -> bool:
        return self.visit_FormattedString(node)

    def _string_too_new(self, node) -> bool:
        if isinstance(node, libcst.TemplatedString):
            return self.target < (3, 14)
        if not isinstance(node, libcst.FormattedString) or self.target >= (3, 12):
            return False
        text = self.editor.module.code_for_node(node)
        if RUNNING < (3, 12):  # this ast knows the old rules exactly
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ast.parse(f"(\n{text}\n)")
                return False
            except (SyntaxError, ValueError):
                return True
        return _uses_pep701(node, text)

    def _lower_strings(self, node, parts) -> None:
        editor = self.editor
        start, end = editor.span(node)  # (a span leaves out the node's parentheses)
        expressions = []
        for part in parts:
            self._lowered_strings.add(id(part))
            if isinstance(part, (libcst.FormattedString, libcst.TemplatedString)):
                expressions.extend(_expressions(part))
                editor.note("PEP 750 t-string" if isinstance(part, libcst.TemplatedString) else "PEP 701 f-string")
        kept = sorted(editor.span(expression) for expression in expressions)
        editor.blank(start, end, keep=kept)
        editor.put(start, "(")
        editor.put(end - 1, ")")
        for (_, previous_end), (next_start, _) in zip(kept, kept[1:]):
            for index in range(previous_end, next_start):
                if editor.code[index] not in "\r\n":
                    editor.put(index, ",")
                    break
        for expression in expressions:  # strings nested in the kept expressions
            expression.visit(self)


def _string_parts(node) -> list:
    if isinstance(node, libcst.ConcatenatedString):
        return [*_string_parts(node.left), *_string_parts(node.right)]
    return [node]


def _expressions(node) -> list:
    """The expressions of an f- or t-string's replacement fields, format specs included."""
    return _field_expressions(node.parts)


def _field_expressions(parts) -> list:
    found = []
    for part in parts or ():
        if isinstance(part, (libcst.FormattedStringExpression, libcst.TemplatedStringExpression)):
            found.append(part.expression)
            found.extend(_field_expressions(part.format_spec))
    return found


def _uses_pep701(node, text: str) -> bool:
    """Whether an f-string needs 3.12's grammar: a replacement field holding its own quote,
    a backslash, a comment, or (single-quoted) a line break."""
    quote = node.end
    module = libcst.Module(body=[])
    for expression in _expressions(node):
        field = module.code_for_node(expression)
        if "\\" in field or "#" in field or (len(quote) == 1 and ("\n" in field or "\r" in field)):
            return True
        if quote in field:
            return True
    return False
