from __future__ import annotations

from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.violation import Violation


class ParseError(Rule):
    """## What it does
    Reports a file that could not be parsed (a syntax error, an undecodable
    encoding, a NUL byte), or not read at all (no read permission, a symlink loop
    or a dangling symlink, as ruff's E902), or that a parser or semgrep gave up on
    (a time or size limit, named in the message). The file is reported once and
    every other file is still checked.

    ## Why is this bad?
    A file layerguard cannot read is a file it cannot vouch for: none of the other
    rules looked at it. Code written for a newer Python than the one running
    layerguard (3.12 generics under 3.11, 3.14's `except A, B:` under 3.13) is not
    a parse error: layerguard reads it with libcst's parser and lowers it.

    ## Example
    ```python
    def create_order(request:
        Order.objects.create()
    ```

    ## Use instead
    Fix the syntax, or exclude the file (`extend-exclude`) if it is not Python
    your project runs (a template rendered into Python, a vendored Python 2 file).
    """

    code = "LG900"
    name = "parse-error"
    skips_exempt_modules = False

    INVALID = [
        Example("""
            def create_order(request:  # expect
                return 1
            """),
        Example("""
            from shop.models import Order

            if True:
                Order.objects.create()
              Order.objects.create()  # expect
            """, path="shop/migrations/0003_broken.py"),
    ]
    VALID = [
        Example("""
            def first[T](items: list[T]) -> T:
                return items[0]

            type Pair = tuple[int, int]
            """, path="shop/utils.py"),
        Example("""
            def greet(name: str) -> str:
                return f"héllo {name}"
            """),
        Example("""
            def parse(text, names):
                try:
                    return int(text), f"{names["first"]}"
                except ValueError, TypeError:
                    return None
            """, path="shop/utils.py"),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        facts = context.facts
        if facts.parse_error is not None:
            verb = "read" if facts.unreadable else "parse"
            yield self._at(context, facts.error_line, facts.error_column,
                           f"could not {verb} this file: {facts.parse_error}")
        elif context.semgrep_failure is not None:
            # The YAML halves of LG101, LG202/LG303 and LG402 did not see (all of) it.
            yield self.not_fully_checked(context, context.semgrep_failure.reason, context.semgrep_failure.line)

    def not_fully_checked(self, context: FileContext, reason: str, line: int = 1) -> Violation:
        """A file some rules could not finish on: semgrep's limits, layerguard's own."""
        return self._at(context, line, 1, f"not fully checked: {reason}")

    def _at(self, context: FileContext, line: int, column: int, message: str) -> Violation:
        app = context.project.app_of(context.path)
        return Violation(path=context.path, line=line, column=max(column, 1), code=self.code, end_line=line,
                         end_column=max(column, 1), message=message, app=app.label if app else None)
