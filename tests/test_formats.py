"""The CI formats: SARIF for code scanning, GitHub annotations, JUnit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest

from conftest import run_cli, write_tree

VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create(total=1)\n"
# The official OASIS schema is public data layerguard does not redistribute; the steering
# repo's shared/ folder (or LAYERGUARD_SARIF_SCHEMA) may hold it.
OFFICIAL_SCHEMA_CANDIDATES = [
    os.environ.get("LAYERGUARD_SARIF_SCHEMA", ""),
    str(Path(__file__).resolve().parents[2] / "shared" / "sarif-schema-2.1.0.json"),
]
# What GitHub code scanning reads from an upload, as a schema of our own.
CODE_SCANNING_SCHEMA = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name", "rules"],
                    "properties": {"rules": {"type": "array", "items": {
                        "type": "object", "required": ["id", "shortDescription", "help"]}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["ruleId", "message", "locations", "partialFingerprints"],
                    "properties": {
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": {"type": "object", "required": ["text"]},
                        "locations": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["physicalLocation"],
                            "properties": {"physicalLocation": {
                                "type": "object", "required": ["artifactLocation", "region"],
                                "properties": {
                                    "artifactLocation": {"type": "object", "required": ["uri"]},
                                    "region": {"type": "object", "required": ["startLine", "startColumn"],
                                               "properties": {"startLine": {"type": "integer", "minimum": 1}}},
                                }}}}},
                    }}},
            }}},
    },
}


@pytest.fixture
def violating(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    return scaffold


def test_sarif_has_what_code_scanning_reads(violating):
    result = run_cli("check", "--format", "sarif", ".", cwd=violating)
    document = json.loads(result.stdout)
    jsonschema.validate(document, CODE_SCANNING_SCHEMA)
    (sarif_result,) = document["runs"][0]["results"]
    assert sarif_result["ruleId"] == "LG101"
    assert sarif_result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "shop/views.py"
    assert sarif_result["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    rules = {rule["id"]: rule for rule in document["runs"][0]["tool"]["driver"]["rules"]}
    assert "## Why is this bad?" in rules["LG101"]["help"]["markdown"]


@pytest.fixture(scope="module")
def official_sarif_schema(tmp_path_factory) -> dict:
    """The SARIF 2.1.0 JSON schema as Microsoft's @microsoft/jest-sarif package ships it
    (fetched from the npm registry at test time, not redistributed here), unless a copy
    is given in shared/ or LAYERGUARD_SARIF_SCHEMA."""
    given = next((Path(c) for c in OFFICIAL_SCHEMA_CANDIDATES if c and Path(c).is_file()), None)
    if given is not None:
        return json.loads(given.read_text())
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so the official SARIF schema cannot be fetched")
    directory = tmp_path_factory.mktemp("sarif-schema")
    packed = subprocess.run([npm, "pack", "--silent", "@microsoft/jest-sarif@1.0.0-beta.0", "--pack-destination",
                             str(directory)], capture_output=True, text=True, timeout=300)
    if packed.returncode != 0:
        pytest.skip(f"npm could not fetch @microsoft/jest-sarif: {packed.stderr.strip()[-200:]}")
    with tarfile.open(next(directory.glob("*.tgz"))) as archive:
        member = archive.extractfile("package/lib/schemas/sarif-2.1.0-rtm.5.json")
        return json.loads(member.read())


def test_sarif_validates_against_the_official_schema(violating, official_sarif_schema):
    schema = official_sarif_schema
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    result = run_cli("check", "--format", "sarif", ".", cwd=violating)
    jsonschema.Draft4Validator(schema).validate(json.loads(result.stdout))


def test_the_official_schema_really_rejects_a_broken_log(official_sarif_schema):
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]}  # driver lacks `name`
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(official_sarif_schema).validate(broken)


def test_github_format_is_workflow_commands(violating):
    result = run_cli("check", "--format", "github", ".", cwd=violating)
    assert result.stdout == (
        "::error file=shop/views.py,line=5,col=5,endLine=5,endColumn=34,title=LG101::"
        "Order.objects.create() writes to the database in a view; move it to shop/services.py\n"
    )
    assert result.exit_code == 1


def test_junit_has_one_testcase_per_checked_file(violating):
    result = run_cli("check", "--format", "junit", ".", cwd=violating)
    root = ElementTree.fromstring(result.stdout.encode())
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 7
    failing = [case for case in cases if case.find("failure") is not None]
    assert [case.get("name") for case in failing] == ["shop/views.py"]
    assert failing[0].find("failure").get("type") == "LG101"
    assert root.find("testsuite").get("failures") == "1"


# -- the indented JSON writer (reporters/indented_json.py) ------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from layerguard.reporters import indented_json  # noqa: E402

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_indented_json_is_the_standard_librarys_byte_for_byte(value):
    assert indented_json.dumps(value) == json.dumps(value, indent=2)


def test_indented_json_leaves_what_it_does_not_lay_out_to_the_standard_library():
    class Text(str):
        pass

    for value in [{1: "a"}, {None: [1]}, (1, (2,)), [Text("x"), True, 10**40, float("inf")]]:
        assert indented_json.dumps(value) == json.dumps(value, indent=2)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["LG101", "LG201", "LG900"]), st.text(), st.integers(1, 10**6),
                          st.text(), st.none() | st.text(), st.sampled_from(["none", "safe", "unsafe"]),
                          st.text()), max_size=5))
def test_the_json_format_lays_out_violations_as_the_standard_library(entries):
    """json_format lays the violations out with a template of its own: the output is still
    `json.dumps(document, indent=2)` byte for byte, whatever the strings hold."""
    from layerguard.report import Report
    from layerguard.reporters.json_format import render
    from layerguard.violation import Violation

    violations = [Violation(path=path, line=line, column=1, code=code, end_line=line, end_column=2,
                            message=message, app=app, fingerprint="f" * 16, fix=fix, fix_note=note)
                  for code, path, line, message, app, fix, note in entries]
    text = render(Report(violations=violations, files=3))
    document = json.loads(text)
    assert text == json.dumps(document, indent=2) + "\n"
    assert [(v["path"], v["line"], v["message"], v["app"], v["fix_note"]) for v in document["violations"]] == [
        (path, line, message, app, note) for _, path, line, message, app, _, note in entries]
