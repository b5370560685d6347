"""PEP 695 lowered without libcst, for the facts pass on Python 3.11 and older.

lowering.py rewrites what the running `ast` cannot read by parsing the file with libcst
and its position metadata: 0.05-1 s per module (saleor's 11 modules with type
parameters: 2 s of a cold run's CPU). The most common case, type parameters on a `def`
or `class` and a `type X = ...` alias, each on one line, needs only the tokens:
the brackets of the parameters become spaces, and `type X = v` becomes `type;X = v`,
every byte where it was, exactly as lowering.py's editor does. Anything else (brackets
over several lines, a token this Python's tokenizer refuses, another encoding) is None,
and lowering.py does the work; so does any text `ast` still refuses (facts.py).
"""

from __future__ import annotations

import io
import sys
import tokenize

_STATEMENT_START = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
_SKIPPED = {tokenize.NL, tokenize.COMMENT}


def lower_type_parameters(source: bytes) -> str | None:
    """The source with PEP 695 type parameters and aliases rewritten for Python 3.11's
    `ast` (lines and byte offsets kept), or None when this way cannot do it."""
    if sys.version_info >= (3, 12) or b"[" not in source and b"type" not in source:
        return None
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.startswith("\ufeff") or _declares_another_encoding(source):
        return None
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in _SKIPPED]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    line_starts = [0]
    for line in text.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    index = lambda position: line_starts[position[0] - 1] + position[1]  # noqa: E731
    replacements: dict[int, str] = {}  # str index -> text of the same UTF-8 length
    for i, token in enumerate(tokens):
        if token.type != tokenize.NAME or i + 2 >= len(tokens) or tokens[i + 1].type != tokenize.NAME:
            continue
        if token.string in ("def", "class") and tokens[i + 2].string == "[":
            if not _blank_brackets(tokens, i + 2, text, index, replacements):
                return None
        elif token.string == "type" and (i == 0 or tokens[i - 1].type in _STATEMENT_START
                                         or tokens[i - 1].string == ";"):
            after = tokens[i + 2]
            if after.string == "[":
                if not _blank_brackets(tokens, i + 2, text, index, replacements):
                    return None
            elif after.string != "=":
                continue
            gap = range(index(token.end), index(tokens[i + 1].start))
            blank = next((k for k in gap if text[k] in " \t"), None)
            if blank is None or token.end[0] != tokens[i + 1].start[0]:
                return None
            replacements[blank] = ";"
    if not replacements:
        return None
    pieces, previous = [], 0
    for position in sorted(replacements):
        pieces += [text[previous:position], replacements[position]]
        previous = position + 1
    pieces.append(text[previous:])
    return "".join(pieces)


def _blank_brackets(tokens, opening: int, text: str, index, replacements: dict[int, str]) -> bool:
    """Spaces over `[...]` from tokens[opening] to its closing bracket, on one line."""
    depth = 0
    for closing in range(opening, len(tokens)):
        string = tokens[closing].string
        if tokens[closing].type == tokenize.OP and string in "([{":
            depth += 1
        elif tokens[closing].type == tokenize.OP and string in ")]}":
            depth -= 1
            if depth == 0:
                break
    else:
        return False
    start, end = tokens[opening].start, tokens[closing].end
    if start[0] != end[0]:
        return False  # over several lines: the blanked lines need continuations (lowering.py)
    for k in range(index(start), index(end)):
        replacements[k] = " " * len(text[k].encode("utf-8"))
    return True


def _declares_another_encoding(source: bytes) -> bool:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError:
        return True
    return encoding not in ("utf-8", "utf-8-sig")
