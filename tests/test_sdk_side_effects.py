"""Well-known SDKs are side effects by default (LG201/LG301), the list is extendable
(`extend-side-effects`) and replaceable (`side-effects`), and local SDK helpers are not."""

from __future__ import annotations

from conftest import copy_fixture, run_cli

DEFAULT_FINDINGS = [
    ("LG201", "shop/views.py", 11),  # stripe.Refund.create
    ("LG201", "shop/views.py", 12),  # twilio.rest.Client
    ("LG201", "shop/views.py", 13),  # sendgrid.SendGridAPIClient
    ("LG201", "shop/views.py", 14),  # slack_sdk.WebClient
    ("LG201", "shop/views.py", 15),  # firebase_admin.messaging.send
    ("LG201", "shop/views.py", 20),  # boto3.client
    ("LG301", "shop/serializers.py", 9),  # stripe.Token.retrieve in validate_token
]


def test_well_known_sdk_calls_are_side_effects_by_default(tmp_path):
    project = copy_fixture("sdk_side_effects", tmp_path)
    result = run_cli("check", "--format", "json", ".", cwd=project)
    assert result.exit_code == 1, result.stderr
    assert sorted(result.found()) == DEFAULT_FINDINGS  # not stripe.Webhook.construct_event (line 26)


def test_side_effects_replaces_the_sdk_list_for_both_rules_and_extend_adds(tmp_path):
    project = copy_fixture("sdk_side_effects", tmp_path)
    (project / "pyproject.toml").write_text(
        '[tool.layerguard.lint.LG201]\nside-effects = ["boto3.*"]\n'
        '[tool.layerguard.lint.LG301]\nextend-side-effects = ["slack_sdk.*"]\n')
    result = run_cli("check", "--format", "json", ".", cwd=project)
    assert sorted(result.found()) == [("LG201", "shop/views.py", 14), ("LG201", "shop/views.py", 20)]


def test_an_empty_side_effects_list_turns_sdk_calls_off(tmp_path):
    project = copy_fixture("sdk_side_effects", tmp_path)
    (project / "pyproject.toml").write_text('[tool.layerguard.lint.LG201]\nside-effects = []\n')
    result = run_cli("check", "--format", "json", ".", cwd=project)
    assert result.exit_code == 0 and result.found() == []
