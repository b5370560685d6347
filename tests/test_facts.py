"""The cheap per-file pass finds definitions wherever statements nest."""

from __future__ import annotations

import textwrap

from layerguard.facts import extract_facts

SOURCE = textwrap.dedent('''
    import os
    from django.db import models

    try:
        from .local import Base
    except ImportError:
        Base = models.Model

    if os.environ.get("X"):
        class Order(Base):
            customer = models.ForeignKey("shop.Customer", related_name="orders", on_delete=models.CASCADE)
            objects = models.Manager()
    else:
        pick = lambda items: items[0] if items else None

    with open(__file__) as handle:
        def helper(order: "Order" = None):
            def inner():
                from shop.models import Item
            return inner

    match os.name:
        case "posix":
            class Command:
                pass
    total = (
        1 +
        2
    )
''')


def test_definitions_inside_if_try_with_and_match_are_found():
    facts = extract_facts(SOURCE.encode())
    assert [c.qualname for c in facts.classes] == ["Order", "Command"]
    assert [f.qualname for f in facts.functions] == ["helper", "helper.inner"]
    order = facts.classes[0]
    assert order.bases == ["Base"] and order.managers == ["objects"]
    (field,) = order.fields
    assert (field.name, field.kind, field.target, field.target_is_string, field.related_name) == (
        "customer", "fk", "shop.Customer", True, "orders")
    assert facts.functions[0].params == [("order", "Order")]


def test_imports_record_level_and_whether_they_are_inside_a_function():
    facts = extract_facts(SOURCE.encode())
    found = [(i.module, i.level, i.in_function) for i in facts.imports]
    assert found == [("os", 0, False), ("django.db", 0, False), ("local", 1, False), ("shop.models", 0, True)]


def test_a_multi_line_statement_maps_to_its_first_line():
    facts = extract_facts(SOURCE.encode())
    assert facts.statement_start(29) == 27
    assert facts.statement_start(26) == 26  # inside a `case` block: the `match` line is not its statement
