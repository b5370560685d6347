"""A file's cached verdict is reused only while everything it depends on is unchanged.

Each case is one kind of dependency between files (what docs/performance.md calls the
project signature): an edit to the file depended on must change the verdict of a file
that was not edited, and the warm run after the edit must print exactly what a run
without the cache prints, byte for byte. Each case also checks that the verdict really
changed, so a case that tests nothing fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from conftest import write_tree

APIVIEW_BASE = "from rest_framework.views import APIView\n\n\nclass Base(APIView):\n    pass\n"
PLAIN_BASE = "class Base:\n    pass\n"
ATOMIC_POST = ("from django.db import transaction\n\n{import_line}\n\n\nclass Pay({base}):\n"
               "    def post(self, request):\n        with transaction.atomic():\n            return None\n")


@dataclass
class Case:
    name: str
    tree: dict[str, str]  # written first
    edit: dict[str, str]  # then these files change
    watched: str  # a file not edited, whose verdict the edit must change
    code: str  # the rule whose finding in `watched` appears or disappears


CASES = [
    Case("a base class two files up an inheritance chain",
         {"shop/base.py": APIVIEW_BASE,
          "shop/middle.py": "from shop.base import Base\n\n\nclass Middle(Base):\n    pass\n",
          "shop/routes.py": ATOMIC_POST.format(import_line="from shop.middle import Middle", base="Middle")},
         {"shop/base.py": PLAIN_BASE}, "shop/routes.py", "LG202"),
    Case("a class re-exported by a package's __init__",
         {"shop/api/__init__.py": "from shop.api.base import Base\n", "shop/api/base.py": APIVIEW_BASE,
          "shop/routes.py": ATOMIC_POST.format(import_line="from shop.api import Base", base="Base")},
         {"shop/api/base.py": PLAIN_BASE}, "shop/routes.py", "LG202"),
    Case("the re-export itself pointing elsewhere",
         {"shop/api/__init__.py": "from shop.api.plain import Base\n", "shop/api/plain.py": PLAIN_BASE,
          "shop/api/drf.py": APIVIEW_BASE,
          "shop/routes.py": ATOMIC_POST.format(import_line="from shop.api import Base", base="Base")},
         {"shop/api/__init__.py": "from shop.api.drf import Base\n"}, "shop/routes.py", "LG202"),
    Case("a field of an abstract model base in another file",
         {"shop/stamped.py": "from django.db import models\n\n\nclass Stamped(models.Model):\n"
                             "    class Meta:\n        abstract = True\n",
          "shop/baskets.py": "from shop.stamped import Stamped\n\n\nclass Basket(Stamped):\n    pass\n",
          "shop/views.py": "from shop.baskets import Basket\n\n\ndef tag(request):\n"
                           "    basket = Basket.objects.get(pk=1)\n    basket.notes.add(1)\n"},
         {"shop/stamped.py": "from django.db import models\n\n\nclass Stamped(models.Model):\n"
                             "    notes = models.ManyToManyField(\"shop.Tag\")\n\n"
                             "    class Meta:\n        abstract = True\n"},
         "shop/views.py", "LG101"),
    Case("what a helper in another file returns",
         {"shop/helpers.py": "from shop.models import Order\n\n\ndef load(pk):\n    return {\"pk\": pk}\n",
          "shop/views.py": "from shop.helpers import load\n\n\ndef pay(request):\n"
                           "    order = load(1)\n    order.save()\n"},
         {"shop/helpers.py": "from shop.models import Order\n\n\ndef load(pk):\n"
                             "    return Order.objects.get(pk=pk)\n"},
         "shop/views.py", "LG101"),
    Case("what the callers in another file pass to a parameter",
         {"shop/helpers.py": "def close(order):\n    order.save()\n",
          "shop/views.py": "from shop.helpers import close\n\n\ndef pay(request):\n    close({\"pk\": 1})\n"},
         {"shop/views.py": "from shop.helpers import close\nfrom shop.models import Order\n\n\n"
                           "def pay(request):\n    close(Order.objects.get(pk=1))\n"},
         "shop/helpers.py", "LG101"),
    Case("a caller of a parameter's function in a file that did not call it before",
         {"shop/helpers.py": "def close(order):\n    order.save()\n",
          "shop/tasks.py": "def tick():\n    return None\n"},
         {"shop/tasks.py": "from shop.helpers import close\nfrom shop.models import Order\n\n\n"
                           "def tick():\n    close(Order.objects.get(pk=1))\n"},
         "shop/helpers.py", "LG101"),
    Case("a Django model field declared on a class of a base layerguard does not know",
         {"shop/articles.py": "from auditing.bases import Audited\n\n\nclass Article(Audited):\n    pass\n",
          "shop/views.py": "from shop.articles import Article\n\n\ndef publish(request):\n"
                           "    Article.objects.create(title=1)\n"},
         {"shop/articles.py": "from django.db import models\nfrom auditing.bases import Audited\n\n\n"
                              "class Article(Audited):\n    data = models.JSONField()\n"},
         "shop/views.py", "LG101"),
    Case("an attribute a base class in another file sets in __init__",
         {"shop/loaders.py": "class Loader:\n    def __init__(self):\n        self.order = None\n",
          "shop/views.py": "from shop.loaders import Loader\n\n\nclass Pay(Loader):\n"
                           "    def run(self, request):\n        self.order.save()\n"},
         {"shop/loaders.py": "from shop.models import Order\n\n\nclass Loader:\n    def __init__(self):\n"
                             "        self.order = Order.objects.get(pk=1)\n"},
         "shop/views.py", "LG101"),
    Case("a signal handler connected in another file",
         {"shop/handlers.py": "def stamp(sender, instance, **kwargs):\n    instance.save()\n",
          "shop/wiring.py": "from shop.handlers import stamp\n"},
         {"shop/wiring.py": "from django.db.models.signals import post_save\n\nfrom shop.handlers import stamp\n"
                            "from shop.models import Order\n\npost_save.connect(stamp, sender=Order)\n"},
         "shop/handlers.py", "LG101"),
]


def _run(project, cache_dir, *options) -> str:
    environment = {**os.environ, "LAYERGUARD_CACHE_DIR": str(cache_dir), "NO_COLOR": "1"}
    completed = subprocess.run([sys.executable, "-m", "layerguard", "check", "--format", "json", "--exit-zero",
                                *options, "."], cwd=project, capture_output=True, text=True, env=environment)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def _has(output: str, path: str, code: str) -> bool:
    return any(v["path"] == path and v["code"] == code for v in json.loads(output)["violations"])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_an_edit_re_checks_the_files_that_depend_on_it(case, scaffold, tmp_path):
    cache = tmp_path / "cache"
    write_tree(scaffold, case.tree)
    before = _run(scaffold, cache)
    assert _run(scaffold, cache) == before  # warm, from the cache
    write_tree(scaffold, case.edit)
    after = _run(scaffold, cache)
    assert after == _run(scaffold, tmp_path / "unused", "--no-cache")
    assert _has(before, case.watched, case.code) != _has(after, case.watched, case.code), \
        f"the edit did not change {case.code} in {case.watched}: the case tests nothing"
    write_tree(scaffold, case.tree)  # and back: the first verdict again, still from the cache
    assert _run(scaffold, cache) == before
