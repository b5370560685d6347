"""LG101 follows values across function boundaries (typemodel/solver.py), through the real
CLI: returns (annotated and not), custom manager and queryset methods, parameters typed
by agreeing call sites, `self.x` attributes and class attribute annotations."""

from __future__ import annotations

from conftest import copy_fixture, run_cli


def _lg101_lines(project):
    result = run_cli("check", "--select", "LG101", "--format", "json", ".", cwd=project)
    assert result.exit_code in (0, 1), result.stderr
    return sorted((v["path"], v["line"]) for v in result.json["violations"])


def test_values_returned_passed_and_stored_are_typed(tmp_path):
    project = copy_fixture("values_across_functions", tmp_path)
    lines = _lg101_lines(project)
    views = [line for path, line in lines if path == "shop/views.py"]
    # ticket = get_ticket() (-> Ticket), maybe_ticket() (-> Optional), board_for() (-> tuple[Board, bool]),
    # basket_for() (returns get_or_create()[0]), a custom queryset method, a manager method
    # annotated with a string, Importer(pk).feed (self.feed set in __init__), request.account.
    assert views == [11, 12, 14, 16, 21, 22, 23, 26]
    helpers = [line for path, line in lines if path == "shop/helpers.py"]
    # import_all(feed): its one call site passes get_object_or_404(Feed, ...); mixed(thing) is
    # called with a Feed and with a Ticket, so `thing` is unknown (line 22 silent).
    assert helpers == [12, 15, 19, 29]


def test_a_changed_return_re_checks_its_callers(tmp_path):
    project = copy_fixture("values_across_functions", tmp_path)
    assert ("shop/views.py", 11) in _lg101_lines(project)
    helpers = project / "shop" / "helpers.py"
    helpers.write_text(helpers.read_text().replace("def get_ticket(pk) -> Ticket:", "def get_ticket(pk) -> dict:"))
    # A warm run: views.py's bytes did not change, its verdict must.
    assert ("shop/views.py", 11) not in _lg101_lines(project)


def test_show_untyped_lists_the_silent_writes_with_the_reason(tmp_path):
    project = copy_fixture("values_across_functions", tmp_path)
    plain = run_cli("check", "--select", "LG101", "--format", "json", ".", cwd=project)
    assert "untyped" not in plain.json
    result = run_cli("check", "--select", "LG101", "--format", "json", "--show-untyped", ".", cwd=project)
    assert result.exit_code == 1, result.stderr
    assert result.json["violations"] == plain.json["violations"]  # the flag changes no verdict
    assert result.json["untyped"] == [{
        "path": "shop/helpers.py", "line": 22, "column": 5, "call": "thing.save()",
        "reason": "`thing` is a parameter without annotation whose call sites do not agree on one model",
    }]
    text = run_cli("check", "--select", "LG101", "--show-untyped", ".", cwd=project)
    assert text.stdout.splitlines()[-2:] == [
        "LG101 stayed silent on 1 write-shaped call it could not type (--show-untyped):",
        "shop/helpers.py:22:5: thing.save(): `thing` is a parameter without annotation whose call sites "
        "do not agree on one model",
    ]


def test_copies_annotated_locals_and_querysets_built_up_in_a_helper_are_typed(tmp_path):
    project = copy_fixture("built_up_copied_and_annotated_values", tmp_path)
    views = [line for path, line in _lg101_lines(project) if path == "gym/views.py"]
    # copy.copy(routine) annotated Routine, copy.deepcopy of a loop variable over a reverse
    # manager, `routine: Routine | None = data.get(...)`, and templates() whose `routines`
    # is rebound with `.filter()`; template_or_first() (queryset or instance), the dict
    # annotated `dict` and the copy of request.GET stay silent.
    assert views == [13, 17, 23, 29]


def test_admin_actions_named_in_actions_and_receivers_of_signal_lists_are_typed(tmp_path):
    project = copy_fixture("admin_actions_and_signal_lists", tmp_path)
    # publish() (imported, parameters named as it likes) and the method named "unpublish"
    # in `actions` get the admin's queryset; a method not in `actions` stays silent; a
    # receiver of [post_save, post_delete] gets the sender's instance.
    assert _lg101_lines(project) == [("blog/actions.py", 2), ("blog/admin.py", 12), ("blog/handlers.py", 9)]


def test_auth_signals_contrib_managers_formsets_tuple_loops_and_partial_call_sites_are_typed(tmp_path):
    project = copy_fixture("auth_signals_formsets_and_partial_call_sites", tmp_path)
    lines = _lg101_lines(project)
    # A third-party admin base registered for Team: save_model's obj, a leader of
    # form.instance.leaders in save_related, formset.save(commit=False) and deleted_objects in
    # save_formset; TranslationOptions registered with the translator stays silent (27).
    assert [line for path, line in lines if path == "club/admin.py"] == [10, 15, 19, 21]
    # user_logged_in (decorator) and user_logged_out (connect, through `auth.signals`) give the
    # user; user_login_failed's credentials stay silent (17).
    assert [line for path, line in lines if path == "club/handlers.py"] == [8, 12]
    # rename(user): request.user at one call site, request.POST.get(...) at the other (no
    # evidence); promote(thing) gets a Team and a User: unknown (9).
    assert [line for path, line in lines if path == "club/helpers.py"] == [5]
    # Site.objects.get_current(), ContentType.objects.get_for_model(), enumerate() and zip()
    # loop targets, any_team() -> team_of() -> `member.team.parent or member.team`; a dict's
    # items stay silent (17); a list of tuples built by append() (31), not one also extended (36).
    assert [line for path, line in lines if path == "club/views.py"] == [10, 11, 13, 15, 22, 31]
    # A GenericForeignKey's target, authenticate()'s user, a list annotated and built empty.
    assert [line for path, line in lines if path == "club/moderation.py"] == [8, 10, 14]


def test_overrides_constructors_model_bound_savers_and_undeclared_managers_are_typed(tmp_path):
    project = copy_fixture("overrides_constructors_and_model_bound_savers", tmp_path)
    lines = _lg101_lines(project)
    # Importer.run calls self.finish(self.parse(text)): parse() is abstract, its overrides
    # agree on a Recipe, so Json.finish's `recipe` is one (10); Plain(Recipe...) passes
    # __init__'s `recipe`, inherited by a subclass that does not define __init__ (16).
    # export() is called through a Thread's target on what exporter_for() returns: Json or
    # Html, so an Importer (19).
    assert [line for path, line in lines if path.startswith("recipes/importers/")] == [16, 19, 10]
    # Static methods' parameters, called directly and through an executor's submit().
    assert [line for path, line in lines if path == "recipes/exports.py"] == [17, 21]
    # An abstract ModelSerializer's update(instance) is some model's instance (16); a plain
    # Serializer's is anything (22, silent).
    assert [line for path, line in lines if path == "recipes/serializers.py"] == [16]
    # A third-party ModelSerializer's save() gives its Meta.model (9), list() built by
    # append (14), a soft-delete base's undeclared manager (19), an ImageField's save() and
    # delete() (25, 28; not with save=False, 26 and 29), a model known only by its fields
    # (30), a mixin's self.model.objects (35); Recipe.STATUS_LABELS.values() and Trainer's
    # self.model.save() stay silent.
    assert [line for path, line in lines if path == "recipes/views.py"] == [9, 14, 19, 25, 28, 30, 35]
    # Seed data outside the tests: what factory_boy factories build (6, 8).
    assert [line for path, line in lines if path == "recipes/sampledata.py"] == [6, 8]
    # django-allauth adapters: super().save_user() is the user (9: its profile; 16).
    assert [line for path, line in lines if path == "recipes/adapters.py"] == [9, 16]
    # A two-argument super() names the ModelForm whose parent saves (19); a closure reads
    # its enclosing function's annotated parameter (25); a call site in an `if` test (31);
    # `if isinstance(source, Recipe):` (42).
    assert [line for path, line in lines if path == "recipes/forms.py"] == [19, 25, 31, 42]


def test_a_name_passed_through_a_method_that_returns_it_keeps_its_type(scaffold):
    """`user = self.sync(user=user)`, `sync` returning its parameter: the name keeps its
    model, at the call sites before and after it (plane's login adapter)."""
    from conftest import write_tree

    write_tree(scaffold, {"shop/adapter.py": (
        "from shop.models import Order\n\n\n"
        "class Adapter:\n"
        "    def sync(self, order):\n"
        "        self.clean(order=order)\n"
        "        return order\n\n"
        "    def clean(self, order):\n"
        "        order.save()\n\n"
        "    def store(self, order):\n"
        "        order.save()\n"
        "        return order\n\n"
        "    def replace(self, order):\n"  # look-alike: returns its parameter, rebound first
        "        order = {'pk': order}\n"
        "        return order\n\n"
        "    def swap(self, order, other):\n"  # look-alike: returns the parameter it was not given
        "        return other\n\n"
        "    def complete(self, pk):\n"
        "        order = Order.objects.filter(pk=pk).first()\n"
        "        if not order:\n"
        "            order = Order(total=1)\n"
        "        if pk:\n"
        "            order = self.sync(order=order)\n"
        "        order = self.store(order)\n"
        "        order.save()\n\n"
        "    def look_alikes(self, pk):\n"
        "        first = Order.objects.get(pk=pk)\n"
        "        first = self.replace(first)\n"
        "        first.update(paid=True)\n"
        "        second = Order.objects.get(pk=pk)\n"
        "        second = self.swap(second, {'pk': pk})\n"
        "        second.update(paid=True)\n")})
    assert [line for path, line in _lg101_lines(scaffold) if path == "shop/adapter.py"] == [10, 13, 30]


def test_a_loop_over_a_querysets_iterator_gives_its_instances(scaffold):
    """`for post in qs.iterator(chunk_size=50)` (misago's signal receivers), also through
    enumerate(); a values() queryset's iterator still gives dicts."""
    from conftest import write_tree

    write_tree(scaffold, {"shop/loops.py": (
        "from shop.models import Customer, Order\n\n\n"
        "def purge(customer: Customer):\n"
        "    for order in customer.orders.filter(paid=False).iterator(chunk_size=50):\n"
        "        order.delete()\n"
        "    for index, order in enumerate(Order.objects.all().iterator()):\n"
        "        order.save()\n"
        "    for row in Order.objects.values('pk').iterator():\n"
        "        row.update(total=2)\n"
        "    pending = Order.objects.filter(paid=False).iterator()\n"
        "    pending.clear()\n")})
    assert [line for path, line in _lg101_lines(scaffold) if path == "shop/loops.py"] == [6, 8]


def test_request_user_and_a_foreign_key_to_the_user_model_agree(tmp_path):
    """A helper's `user` passed `request.user` (Django's User, standing for the swappable
    one) at one call site and `reading.user` (a foreign key to AUTH_USER_MODEL) at another
    holds the project's user model (misago's get_user_ban)."""
    from conftest import write_tree

    project = copy_fixture("framework_signatures", tmp_path)
    write_tree(project, {
        "blog/bans.py": "def ban(user):\n    user.is_active = False\n    user.save()\n",
        "blog/moderation.py": (
            "from blog.bans import ban\nfrom blog.models import Reading\n\n\n"
            "def moderate(request):\n    ban(request.user)\n\n\n"
            "def sweep():\n    for reading in Reading.objects.all():\n        ban(reading.user)\n")})
    assert ("blog/bans.py", 3) in _lg101_lines(project)


def test_a_model_class_attribute_and_a_name_bound_to_none_first_are_typed(scaffold):
    """`model = Basket` in a class body (shuup's basket storage, django-cms's tree
    helper): `self.model(...)` and `self.model.objects...first()` are its instances; a
    name bound to None before the branches that bind it holds what they bind."""
    from conftest import write_tree

    write_tree(scaffold, {"shop/storage.py": (
        "from shop.forms import OrderForm\nfrom shop.models import Order\n\n\n"
        "class Storage:\n"
        "    model = Order\n\n"
        "    def load(self, key):\n"
        "        stored = None\n"
        "        if key:\n"
        "            stored = self.model.objects.filter(pk=key).first()\n"
        "        if not stored:\n"
        "            stored = self.model(total=1)\n"
        "        return stored\n\n"
        "    def save(self, key):\n"
        "        self.load(key).save()\n\n\n"
        "class Forms:\n"  # look-alike: a `model` attribute that is no model
        "    model = OrderForm\n\n"
        "    def build(self):\n"
        "        return self.model(data={})\n\n"
        "    def save(self):\n"
        "        self.build().save()\n")})
    assert [line for path, line in _lg101_lines(scaffold) if path == "shop/storage.py"] == [17]


def test_a_property_gives_what_its_getter_returns(tmp_path):
    """`org.admin_usergroup.user_set.add(user)` (peeringdb), `self.object.order.notes.create()`
    (django-oscar): an attribute that is a `@property` or `@cached_property` of a project
    class is what the getter returns; a property returning a dict and a method read
    without a call are not."""
    from conftest import write_tree

    project = copy_fixture("framework_signatures", tmp_path)
    write_tree(project, {
        "blog/teams.py": (
            "from functools import cached_property\n\n"
            "from django.contrib.auth.models import Group\n"
            "from django.db import models\n\n\n"
            "class Team(models.Model):\n"
            "    name = models.CharField(max_length=20)\n\n"
            "    @property\n"
            "    def group(self):\n"
            "        return Group.objects.get(name=self.name)\n\n"
            "    @cached_property\n"
            "    def options(self):\n"
            "        return {'name': self.name}\n\n"
            "    def members(self):\n"
            "        return Group.objects.all()\n"),
        "blog/teamwork.py": (
            "from blog.teams import Team\n\n\n"
            "def join(user, pk):\n"
            "    team = Team.objects.get(pk=pk)\n"
            "    team.group.user_set.add(user)\n"
            "    team.options.update(seen=True)\n"
            "    team.members.update(seen=True)\n")})
    assert [line for path, line in _lg101_lines(project) if path == "blog/teamwork.py"] == [6]


def test_what_the_framework_passes_is_followed_into_the_helpers_it_is_passed_to(scaffold):
    """An admin action's queryset and a signal receiver's instance are typed by the
    framework (typemodel/signatures.py); a helper in another module that is passed them
    (kiwi's `user_utils.deactivate(user)` in an admin action, shuup's signal handler's
    `set_shop_product_category(instance)`) holds them too."""
    from conftest import write_tree

    write_tree(scaffold, {
        "shop/helpers.py": "def close(order):\n    order.save()\n\n\ndef touch(order):\n    order.delete()\n",
        "shop/admin.py": (
            "from django.contrib import admin\n\nfrom shop import helpers\nfrom shop.models import Order\n\n\n"
            "@admin.register(Order)\nclass OrderAdmin(admin.ModelAdmin):\n"
            "    actions = [\"close_selected\"]\n\n"
            "    @admin.action(description=\"Close\")\n"
            "    def close_selected(self, request, queryset):\n"
            "        for order in queryset:\n"
            "            helpers.close(order)\n"),
        "shop/signals.py": (
            "from django.db.models.signals import post_save\nfrom django.dispatch import receiver\n\n"
            "from shop import helpers\nfrom shop.models import Order\n\n\n"
            "@receiver(post_save, sender=Order)\ndef on_save(sender, instance, **kwargs):\n"
            "    helpers.touch(instance)\n")})
    assert [line for path, line in _lg101_lines(scaffold) if path == "shop/helpers.py"] == [2, 6]
