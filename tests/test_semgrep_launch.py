"""The fast way of starting semgrep (semgrep-core as `osemgrep`) and the fallback (the
`semgrep` wrapper, chosen with LAYERGUARD_SEMGREP) give the same findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_fixture, write_tree

WRAPPER = Path(sys.executable).parent / "semgrep"


def _check(project: Path, **environment: str) -> str:
    completed = subprocess.run([sys.executable, "-m", "layerguard", "check", "--no-cache", "--format", "json", "."],
                               cwd=project, capture_output=True, text=True, timeout=300,
                               env={**os.environ, "NO_COLOR": "1", **environment})
    assert completed.returncode in (0, 1), completed.stderr
    return completed.stdout


@pytest.mark.parametrize("fixture", ["tangled_monolith", "views_outside_views_modules"])
def test_the_fast_launch_and_the_wrapper_give_the_same_findings(tmp_path, fixture):
    project = copy_fixture(fixture, tmp_path)
    fast = _check(project)
    wrapper = _check(project, LAYERGUARD_SEMGREP=str(WRAPPER))
    assert fast == wrapper
    assert json.loads(fast)["violations"]


def test_both_launches_agree_on_every_yaml_backed_rule(scaffold):
    write_tree(scaffold, {
        "shop/views.py": "from shop.models import Order\n\n\ndef c(request):\n    Order.objects.create()\n",
        "shop/routes.py": ("from django.db import transaction\nfrom rest_framework.views import APIView\n\n\n"
                           "class Pay(APIView):\n    def post(self, request):\n"
                           "        with transaction.atomic():\n            return None\n"),
    })
    fast = _check(scaffold)
    assert fast == _check(scaffold, LAYERGUARD_SEMGREP=str(WRAPPER))
    assert {"LG101", "LG202"} <= {violation["code"] for violation in json.loads(fast)["violations"]}
