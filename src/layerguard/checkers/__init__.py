"""Every rule, in one registry. Adding a rule is adding its module here."""

from __future__ import annotations

from layerguard.checkers.base import Rule
from layerguard.checkers.lg101_orm_write_outside_service import OrmWriteOutsideService
from layerguard.checkers.lg201_side_effect_in_view import SideEffectInView
from layerguard.checkers.lg202_transaction_in_view import TransactionInView
from layerguard.checkers.lg203_complex_view import ComplexView
from layerguard.checkers.lg204_complex_query_in_view import ComplexQueryInView
from layerguard.checkers.lg205_query_in_loop_in_view import QueryInLoopInView
from layerguard.checkers.lg301_side_effect_in_serializer import SideEffectInSerializer
from layerguard.checkers.lg302_logic_in_serializer_save import LogicInSerializerSave
from layerguard.checkers.lg303_transaction_in_serializer import TransactionInSerializer
from layerguard.checkers.lg304_query_in_serializer import QueryInSerializer
from layerguard.checkers.lg401_cross_app_foreign_key import CrossAppForeignKey
from layerguard.checkers.lg402_cross_app_model_import import CrossAppModelImport
from layerguard.checkers.lg501_http_in_service import HttpInService
from layerguard.checkers.lg900_parse_error import ParseError

ALL_RULES: tuple[type[Rule], ...] = (
    OrmWriteOutsideService,
    SideEffectInView,
    TransactionInView,
    ComplexView,
    ComplexQueryInView,
    QueryInLoopInView,
    SideEffectInSerializer,
    LogicInSerializerSave,
    TransactionInSerializer,
    QueryInSerializer,
    CrossAppForeignKey,
    CrossAppModelImport,
    HttpInService,
    ParseError,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}


def rule_catalog() -> dict[str, dict]:
    """code -> options schema, for config validation."""
    return {rule.code: rule.OPTIONS for rule in ALL_RULES}


def selected_rules(select: list[str], ignore: list[str]) -> list[type[Rule]]:
    """Rules whose code starts with a selected prefix and with no ignored one (longest wins).

    LG900 is always on unless ignored: a file nobody could read must not pass silently.
    """
    chosen = []
    for rule in ALL_RULES:
        selected = max((len(s) for s in select if rule.code.startswith(s)), default=-1)
        ignored = max((len(s) for s in ignore if rule.code.startswith(s)), default=-1)
        if selected > ignored or (rule.code == "LG900" and ignored < 0):
            chosen.append(rule)
    return chosen


def rule_page(rule) -> str:
    """The rule's page, as `explain` prints it, the language server's hover shows it and
    docs/rules.md collects it."""
    page = f"# {rule.name} ({rule.code})\n\n{rule.documentation()}\n"
    if rule.OPTIONS:
        page += "\n## Options\n"
        for name, (kind, default) in rule.OPTIONS.items():
            page += f"- `{name}` ({kind.__name__}, default `{default!r}`): `[tool.layerguard.lint.{rule.code}]`\n"
    return page
