from __future__ import annotations

from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.violation import Violation


class ParseError(Rule):
    """## What it does
    Reports a file that could not be parsed: a syntax error, an undecodable
    encoding, a NUL byte. The file is reported once and every other file is
    still checked.

    ## Why is this bad?
    A file layerguard cannot read is a file it cannot vouch for: none of the other
    rules looked at it. Code written for a newer Python than the one running
    layerguard (3.12 generics under 3.11, say) is not a parse error: layerguard
    reads it with libcst's parser.

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
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        facts = context.facts
        if facts.parse_error is None:
            return
        app = context.project.app_of(context.path)
        yield Violation(
            path=context.path,
            line=facts.error_line,
            column=max(facts.error_column, 1),
            code=self.code,
            end_line=facts.error_line,
            end_column=max(facts.error_column, 1),
            message=f"could not parse this file: {facts.parse_error}",
            app=app.label if app else None,
        )
