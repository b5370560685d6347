"""What layerguard guesses about code it cannot see (docs/design.md, "What counts as
what"): a class of a third-party package is a view, a model or a serializer by where it
comes from and its name, and a task of an unseen `tasks` module is a Celery task. Each
guess is checked both ways (the guess fires; a near miss does not), through the CLI.

None of these packages is installed, or needs to be: layerguard never imports code."""

from __future__ import annotations

import pytest

from conftest import run_cli, write_tree

ATOMIC = "    def post(self, request):\n        with transaction.atomic():\n            return None\n"


def _found(project, *files: str) -> list[tuple[str, str, int]]:
    result = run_cli("check", "--format", "json", *files, cwd=project)
    assert result.exit_code in (0, 1), result.stderr
    return result.found()


@pytest.mark.parametrize("base, is_view", [
    ("django_filters.views.FilterView", True),          # a `views` module of a package
    ("allauth.account.views.LoginView", True),
    ("rest_framework_nested.viewsets.NestedViewSetMixin", True),  # a `viewsets` module
    ("django_filters.filterset.FilterSet", False),      # no views/viewsets module
    ("reporting.viewsutils.Base", False),               # `viewsutils` is not `views`
])
def test_a_class_from_a_third_party_views_module_is_a_view(scaffold, base, is_view):
    module, name = base.rsplit(".", 1)
    write_tree(scaffold, {"shop/web.py": f"from django.db import transaction\nfrom {module} import {name}\n\n\n"
                                         f"class Search({name}):\n{ATOMIC}"})
    expected = [("LG202", "shop/web.py", 7)] if is_view else []
    assert _found(scaffold, "shop/web.py") == expected


@pytest.mark.parametrize("base, is_model", [
    ("django_extensions.db.models.TimeStampedModel", True),  # `<package>.models.<Name>Model`
    ("model_utils.models.SoftDeletableModel", True),
    ("model_utils.managers.InheritanceManagerModel", False),  # not from a `models` module
    ("django_extensions.db.models.ActivatorQuerySet", False),  # from `models`, not a `...Model`
    ("django.contrib.sessions.base_session.AbstractBaseSession", True),  # Django's own bases
    ("django.contrib.admin.models.LogEntry", True),
])
def test_a_subclass_of_a_third_party_model_base_is_a_model(scaffold, base, is_model):
    module, name = base.rsplit(".", 1)
    write_tree(scaffold, {
        "shop/models.py": (scaffold / "shop/models.py").read_text()
        + f"\n\nfrom {module} import {name}\n\n\nclass Article({name}):\n    title = 'a class attribute'\n",
        "shop/views.py": "from shop.models import Article\n\n\ndef publish(request):\n    Article.objects.create(title='x')\n",
    })
    expected = [("LG101", "shop/views.py", 5)] if is_model else []
    assert _found(scaffold, "shop/views.py") == expected


@pytest.mark.parametrize("declaration, is_model", [
    # A base layerguard does not know (an internal package's), with Django model fields.
    ("from auditing.bases import Audited\n\n\nclass Article(Audited):\n    data = models.JSONField()\n", True),
    ("from auditing.bases import Audited\nfrom django.contrib.postgres.fields import ArrayField\n\n\n"
     "class Article(Audited):\n    tags = ArrayField(models.CharField(max_length=9))\n", True),
    # Look-alikes: a form's and a serializer's fields, a query expression's output field.
    ("from django import forms\n\n\nclass Article(forms.Form):\n    title = forms.CharField()\n", False),
    ("from rest_framework import serializers\n\n\nclass Article(serializers.Serializer):\n"
     "    title = serializers.CharField()\n", False),
    ("from django.db.models import Func\n\n\nclass Article(Func):\n    function = 'JSONB_SET'\n"
     "    output_field = models.JSONField()\n", False),
    ("from django.db.models.expressions import Expression\n\n\nclass Article(Expression):\n"
     "    template = models.TextField()\n", False),
])
def test_django_model_fields_make_a_class_of_an_unknown_base_a_model(scaffold, declaration, is_model):
    write_tree(scaffold, {
        "shop/models.py": (scaffold / "shop/models.py").read_text() + "\n\n" + declaration,
        "shop/views.py": "from shop.models import Article\n\n\ndef publish(request):\n    Article.objects.create(title='x')\n",
    })
    expected = [("LG101", "shop/views.py", 5)] if is_model else []
    assert _found(scaffold, "shop/views.py") == expected


def test_a_third_party_model_class_reached_through_objects_is_a_model(scaffold):
    write_tree(scaffold, {"shop/views.py": (
        "from django_celery_beat.models import PeriodicTask\nfrom reporting.helpers import Registry\n\n\n"
        "def reset(request):\n    PeriodicTask.objects.all().delete()\n    Registry.objects.create(name='x')\n")})
    assert _found(scaffold, "shop/views.py") == [("LG101", "shop/views.py", 6)]


@pytest.mark.parametrize("base, is_serializer", [
    ("rest_framework_gis.serializers.GeoFeatureModelSerializer", True),  # `...serializers.<Name>Serializer`
    ("drf_writable_nested.serializers.WritableNestedModelSerializer", True),
    ("rest_framework.serializers.ModelSerializer", True),
    ("reporting.serializers.JSONEncoder", False),        # from `serializers`, not a `...Serializer`
    ("reporting.encoders.PayloadSerializer", False),     # a `...Serializer` not from `serializers`
])
def test_a_subclass_of_a_third_party_serializer_is_a_serializer(scaffold, base, is_serializer):
    module, name = base.rsplit(".", 1)
    write_tree(scaffold, {"shop/geo.py": (
        f"import requests\nfrom {module} import {name}\n\n\nclass PlaceSerializer({name}):\n"
        f"    def validate(self, attrs):\n        requests.post('https://geo.example.com', json=attrs)\n"
        f"        return attrs\n")})
    expected = [("LG301", "shop/geo.py", 7)] if is_serializer else []
    assert _found(scaffold, "shop/geo.py") == expected


def test_delay_on_a_task_of_an_unseen_tasks_module_is_task_dispatch(scaffold):
    """`notifications` is not part of the project: its `tasks` module name is the clue.
    The same call on something from a module of another name is not dispatch."""
    write_tree(scaffold, {"shop/views.py": (
        "from notifications.tasks import send_push\nfrom notifications.helpers import Timer\n\n\n"
        "def ping(request):\n    send_push.delay(request.user.pk)\n    send_push.apply_async(args=[1])\n"
        "    Timer.delay(3)\n    return None\n")})
    assert _found(scaffold, "shop/views.py") == [("LG201", "shop/views.py", 6), ("LG201", "shop/views.py", 7)]


def test_a_seen_function_is_a_task_only_when_decorated_as_one(scaffold):
    """Inside the project the decorator decides, not the module name."""
    write_tree(scaffold, {
        "shop/tasks.py": "from celery import shared_task\n\n\n@shared_task\ndef sync(pk):\n    pass\n\n\n"
                         "def plain(pk):\n    pass\n",
        "shop/views.py": "from shop.tasks import plain, sync\n\n\ndef ping(request):\n    sync.delay(1)\n"
                         "    plain.delay(1)\n",
    })
    assert _found(scaffold, "shop/views.py") == [("LG201", "shop/views.py", 5)]


def test_send_task_on_a_celery_app_is_task_dispatch(scaffold):
    """`send_task` dispatches by name, so no task needs to be known: the receiver is a
    Celery app (celery's own `current_app`, or a project's `app = Celery(...)`)."""
    write_tree(scaffold, {
        "config/__init__.py": "",
        "config/celery.py": "from celery import Celery\n\napp = Celery('config')\n",
        "shop/mailer.py": "class Client:\n    def send_task(self, name):\n        return name\n\n\nclient = Client()\n",
        "shop/views.py": ("from celery import current_app\n\nfrom config.celery import app\nfrom shop.mailer import client\n"
                          "\n\ndef export(request):\n    app.send_task('reports.export', args=[1])\n"
                          "    current_app.send_task('reports.export')\n    client.send_task('not celery')\n"),
    })
    assert _found(scaffold, "shop/views.py") == [("LG201", "shop/views.py", 8), ("LG201", "shop/views.py", 9)]


@pytest.mark.parametrize("field, write, found", [
    ("PolymorphicManyToManyField(Tag)", "article.labels.add(1)", True),  # ralph's
    ("SortedManyToManyField(Tag)", "article.labels.clear()", True),  # django-sortedm2m
    ("ChainedForeignKey(Tag, on_delete=models.CASCADE)", "article.labels.save()", True),  # smart-selects
    ("AutoOneToOneField(Tag, on_delete=models.CASCADE)", "article.labels.delete()", True),  # django-annoying
    ("RichTextField()", "article.labels.clear()", False),  # look-alike: no relation, a value
])
def test_relation_fields_named_for_djangos_are_relations(scaffold, field, write, found):
    """Third-party and project relation fields named for Django's (`*ManyToManyField`,
    `*OneToOneField`, `*ForeignKey`): what they hold writes as Django's would."""
    module = field.split("(")[0]
    write_tree(scaffold, {
        "shop/models.py": (scaffold / "shop/models.py").read_text()
        + f"\n\nfrom fields.lib import {module}\n\n\nclass Article(models.Model):\n    labels = {field}\n",
        "shop/views.py": f"from shop.models import Article\n\n\ndef publish(request):\n"
                         f"    article = Article.objects.get(pk=1)\n    {write}\n",
    })
    assert _found(scaffold, "shop/views.py") == ([("LG101", "shop/views.py", 6)] if found else [])
