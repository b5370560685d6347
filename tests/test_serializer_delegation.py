"""LG302: preparing the arguments of one service or super() call is delegation; the
message names the first statement that is logic."""

from __future__ import annotations

from conftest import copy_fixture, run_cli


def test_prepared_delegation_is_silent_and_logic_is_named(tmp_path):
    project = copy_fixture("serializer_prepares_arguments", tmp_path)
    result = run_cli("check", "--select", "LG302", "--format", "json", ".", cwd=project)
    assert result.exit_code == 1, result.stderr
    messages = {v["line"]: v["message"] for v in result.json["violations"]}
    hint = "; move it to shop/services.py"
    assert messages == {
        56: "`TaggedLinkSerializer.create()` holds logic instead of calling a service: "
            "`Link.objects.filter(...).exists()` queries the database (line 58)" + hint,
        64: "`TaggedLinkSerializer.update()` holds logic instead of calling a service: "
            "`link_notify()` is a second service call after `link_create()` (line 66)" + hint,
        69: "`TaggedLinkSerializer.save()` holds logic instead of calling a service: "
            "`for key in (\"url\", \"tags\"):` loops (line 70)" + hint,
        # ScopedLinkSerializer.create()'s helper only prepares (silent); update()'s queries.
        86: "`ScopedLinkSerializer.update()` holds logic instead of calling a service: "
            "`self.deduplicated()` is not a service (line 87)" + hint,
    }
