"""The cache is never wrong: a changed base class or model elsewhere changes a file's
verdict, a corrupt cache is ignored and rewritten, concurrent runs agree, and the
number of workers never changes the output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import write_tree

BASE_AS_VIEW = "from rest_framework.views import APIView\n\n\nclass Base(APIView):\n    pass\n"
BASE_AS_PLAIN = "class Base:\n    pass\n"
ROUTE = ("from django.db import transaction\n\nfrom shop.base import Base\n\n\nclass Pay(Base):\n"
         "    def post(self, request):\n        with transaction.atomic():\n            return None\n")


def _run(project, cache_dir, *arguments):
    environment = {**os.environ, "LAYERGUARD_CACHE_DIR": str(cache_dir), "NO_COLOR": "1"}
    completed = subprocess.run([sys.executable, "-m", "layerguard", "check", "--format", "json", *arguments, "."],
                               cwd=project, capture_output=True, text=True, env=environment)
    return completed


def test_editing_a_base_class_in_one_file_changes_a_verdict_in_another(scaffold, tmp_path):
    cache = tmp_path / "cache"
    write_tree(scaffold, {"shop/base.py": BASE_AS_VIEW, "shop/routes.py": ROUTE})
    assert '"LG202"' in _run(scaffold, cache).stdout
    assert '"LG202"' in _run(scaffold, cache).stdout  # warm: from the cache
    write_tree(scaffold, {"shop/base.py": BASE_AS_PLAIN})
    assert '"LG202"' not in _run(scaffold, cache).stdout  # routes.py unchanged, verdict changed
    write_tree(scaffold, {"shop/base.py": BASE_AS_VIEW})
    assert '"LG202"' in _run(scaffold, cache).stdout


def test_editing_a_model_elsewhere_changes_a_related_manager_verdict(scaffold, tmp_path):
    cache = tmp_path / "cache"
    view = "from shop.models import Order\n\n\ndef tag(request):\n    order = Order.objects.get(pk=1)\n    order.labels.add(1)\n"
    write_tree(scaffold, {"shop/views.py": view})
    assert '"LG101"' not in _run(scaffold, cache).stdout  # Order has no `labels` relation
    models = (scaffold / "shop/models.py").read_text().replace("tags = models.ManyToManyField(Tag)",
                                                               "labels = models.ManyToManyField(Tag)")
    write_tree(scaffold, {"shop/models.py": models})
    assert '"LG101"' in _run(scaffold, cache).stdout


def test_a_corrupt_cache_is_ignored_and_rewritten(scaffold, tmp_path):
    cache = tmp_path / "cache"
    write_tree(scaffold, {"shop/views.py": "from shop.models import Order\n\n\ndef c(request):\n    Order.objects.create()\n"})
    first = _run(scaffold, cache).stdout
    for entry in cache.iterdir():
        entry.write_bytes(b"not a pickle")
    assert _run(scaffold, cache).stdout == first
    assert all(entry.read_bytes() != b"not a pickle" for entry in cache.iterdir())


def test_two_checks_at_once_both_give_the_right_answer(scaffold, tmp_path):
    cache = tmp_path / "cache"
    write_tree(scaffold, {"shop/views.py": "from shop.models import Order\n\n\ndef c(request):\n    Order.objects.create()\n"})
    expected = _run(scaffold, tmp_path / "other-cache", "--no-cache").stdout
    environment = {**os.environ, "LAYERGUARD_CACHE_DIR": str(cache)}
    processes = [subprocess.Popen([sys.executable, "-m", "layerguard", "check", "--format", "json", "."], cwd=scaffold,
                                  stdout=subprocess.PIPE, text=True, env=environment) for _ in range(3)]
    outputs = [process.communicate()[0] for process in processes]
    assert outputs == [expected] * 3
    assert _run(scaffold, cache).stdout == expected


def test_no_cache_writes_nothing(scaffold, tmp_path):
    cache = tmp_path / "cache"
    _run(scaffold, cache, "--no-cache")
    assert not cache.exists()


@pytest.mark.parametrize("fixture", ["tangled_monolith", "views_outside_views_modules"])
def test_jobs_1_and_jobs_2_give_byte_identical_json(tmp_path, fixture, monkeypatch):
    from conftest import copy_fixture
    import layerguard.engine

    project = copy_fixture(fixture, tmp_path)
    # Make the fixture big enough to use workers: copies of its apps' modules.
    for index in range(layerguard.engine.PARALLEL_THRESHOLD):
        write_tree(project, {f"bulk/pkg{index}/__init__.py": "", f"bulk/pkg{index}/views.py":
                             "import requests\n\n\ndef view(request):\n    requests.get('x')\n"})
    one = _run(project, tmp_path / "c1", "--no-cache", "--jobs", "1").stdout
    two = _run(project, tmp_path / "c2", "--no-cache", "--jobs", "2").stdout
    assert one == two and '"LG201"' in one
