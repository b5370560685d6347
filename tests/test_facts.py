"""The cheap per-file pass finds definitions wherever statements nest."""

from __future__ import annotations

import textwrap

import pytest

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


def test_imports_under_type_checking_are_marked_in_every_spelling():
    facts = extract_facts(textwrap.dedent('''
        import typing as t
        from typing import TYPE_CHECKING as TC
        if TC:
            from shop.models import Order
        elif len(t.__name__) > 3:
            from shop.models import Item
        else:
            from shop.models import Tag
        if t.TYPE_CHECKING:
            if True:
                import shop.models
        if not TC:
            from shop.models import Customer
    ''').encode())
    marked = {(i.module, tuple(name for name, _ in i.names or ())): i.type_checking for i in facts.imports}
    assert marked[("shop.models", ("Order",))] is True
    assert marked[("shop.models", ())] is True  # nested inside another `if`
    assert marked[("shop.models", ("Item",))] is False  # an `elif` belongs to the `else:` branch, which runs
    assert marked[("shop.models", ("Tag",))] is False
    assert marked[("shop.models", ("Customer",))] is False


def test_a_comment_or_reindent_inside_a_multi_line_value_keeps_the_signature():
    """Typing in a function body (a comment, re-indenting a dict) changes nothing other
    files can depend on: the signature stays, so the editor server does not rebuild the
    project model and a cached run re-checks only this file."""
    from layerguard.facts import signature

    before = textwrap.dedent("""
        def context(pk):
            return {
                'pk': pk,
                'order': get_order(pk),
            }
        """).encode()
    commented = before.replace(b"return {", b"return {  # the page's context")
    reindented = before.replace(b"        'pk': pk,", b"            'pk': pk,")
    changed = before.replace(b"'pk': pk,", b"'pk': pk + 1,")
    base = signature(extract_facts(before))
    assert signature(extract_facts(commented)) == base
    assert signature(extract_facts(reindented)) == base
    assert signature(extract_facts(changed)) != base  # not blind: a real change does count


def test_a_hash_inside_a_string_of_a_multi_line_value_is_not_a_comment():
    """Comments are dropped from a multi-line value's kept text, a `#` inside a string is not."""
    from layerguard.facts import signature

    before = textwrap.dedent("""
        def link(pk):
            return get_link(
                "/orders/#" + pk,
                anchor="#top",
            )
        """).encode()
    commented = before.replace(b'anchor="#top",', b'anchor="#top",  # the page\'s top')
    facts = extract_facts(before)
    assert facts.summaries["link"].return_values == ['get_link(\n"/orders/#" + pk,\nanchor="#top",\n)']
    assert signature(extract_facts(commented)) == signature(facts)


def test_summaries_and_spans_are_unpickled_only_when_asked_for():
    """The cache loads every file's facts; the bulky fields the solver and the suppression
    filter read for a few files only stay packed until then, and come back equal."""
    import pickle

    from layerguard.facts import extract_facts

    facts = extract_facts(b"def make(x):\n    return helper(\n        x,\n    )\n")
    loaded = pickle.loads(pickle.dumps(facts))
    assert "summaries" not in vars(loaded) and "statement_spans" not in vars(loaded)
    assert loaded.summaries == facts.summaries and loaded.summaries
    assert loaded.statement_start(3) == facts.statement_start(3) == 2
    assert pickle.loads(pickle.dumps(loaded)) == facts  # packed again as it was


# -- the cache's form: facts unpickled when first read (ModuleFacts.stored) ---------------
def test_stored_facts_read_back_as_the_facts_they_were():
    import pickle
    from dataclasses import MISSING, fields

    from layerguard.facts import ModuleFacts, extract_facts

    source = b"from django.db import models\n\n\nclass Order(models.Model):\n    total = models.IntegerField()\n"
    for facts in (extract_facts(source), extract_facts(b"def broken(:\n")):
        lazy = ModuleFacts.from_stored(facts.stored())
        assert "_stored" in lazy.__dict__  # nothing unpickled yet
        assert lazy.parse_error == facts.parse_error and lazy.error_line == facts.error_line  # kept beside
        assert "_stored" in lazy.__dict__
        assert pickle.loads(pickle.dumps(lazy)) == facts  # a lazy one pickles as it is
        assert lazy == facts and "_stored" not in lazy.__dict__ and lazy.classes == facts.classes
        assert ModuleFacts.from_stored(lazy.stored()) == facts
    # Every field whose default a class attribute holds is kept beside the bytes.
    assert set(ModuleFacts._EAGER) == {f.name for f in fields(ModuleFacts) if f.default is not MISSING}



def test_a_meta_class_built_inside_a_function_is_read():
    """ralph's viewsets build a serializer's `Meta` in a method and pass it to type()."""
    facts = extract_facts(textwrap.dedent('''
        class Viewset:
            def get_serializer_class(self):
                class Meta(Base.Meta):
                    model = self.queryset.model
                return type("SaveSerializer", (Base,), {"Meta": Meta})
    ''').encode())
    assert facts.parse_error is None
    assert [c.name for c in facts.classes] == ["Viewset", "Meta"]


def test_a_bug_of_layerguards_on_one_file_is_that_files_lg900_and_the_rest_is_checked(
        monkeypatch, scaffold, tmp_path):
    """The facts pass failing on a file (a bug, simulated here) reports that file and
    checks every other one; LAYERGUARD_DEBUG=1 lets the error through."""
    import json

    from click.testing import CliRunner

    import layerguard.facts
    from conftest import write_tree
    from layerguard.cli import main

    visit_class = layerguard.facts._FactCollector.visit_ClassDef

    def failing(self, node):
        if node.name == "Trigger":
            raise AttributeError("a bug")
        return visit_class(self, node)

    monkeypatch.setattr(layerguard.facts._FactCollector, "visit_ClassDef", failing)
    write_tree(scaffold, {
        "shop/odd.py": "class Trigger:\n    pass\n",
        "shop/views.py": "from shop.models import Order\n\n\ndef pay(request):\n    Order.objects.create()\n"})
    monkeypatch.chdir(scaffold)
    monkeypatch.setenv("LAYERGUARD_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json", "."])
    found = {(v["code"], v["path"]): v["message"] for v in json.loads(result.output)["violations"]}
    assert found[("LG900", "shop/odd.py")] == "could not parse this file: layerguard failed on it (AttributeError); please report this"
    assert ("LG101", "shop/views.py") in found
    monkeypatch.setenv("LAYERGUARD_DEBUG", "1")
    with pytest.raises(AttributeError):
        extract_facts(b"class Trigger:\n    pass\n")


@pytest.mark.parametrize(("call", "reference"), [
    ('apps.get_model("shop", "Order")', "shop.Order"),
    ('apps.get_model("shop.Order")', "shop.Order"),
    ('apps.get_model(app_label="shop", model_name="Order")', "shop.Order"),
    ('apps.get_model("shop", model_name="Order", require_ready=False)', "shop.Order"),
    ('get_model("shop", "Order")', "shop.Order"),  # django-oscar's loader
    ('apps.get_model(label, "Order")', None),  # not literal
    ('apps.get_model("shop", app_label="x")', None),  # two app labels: not Django's signature
    ('apps.get_model("Order")', None),  # no app label
    ('registry.get("shop", "Order")', None),
])
def test_a_literal_get_model_names_its_model_in_any_of_djangos_spellings(call, reference):
    assert extract_facts(f"Model = {call}\n".encode()).model_lookups.get("Model") == reference
