"""Code valid under any Python 3.10-3.14 is read whatever Python runs layerguard (issue 10,
point 2): where `ast` refuses it, lowering.py rewrites it in place, and semgrep gets a
lowered copy of what its own parser refuses.

tests/fixtures/newer_syntax holds one view module per construct; every line ending in
`# expect` holds a write LG101 must report there.
"""

from __future__ import annotations

import ast
import glob
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, copy_fixture, run_cli

VIEWS = FIXTURES / "newer_syntax" / "shop" / "views"
MODULES = sorted(path for path in VIEWS.glob("*.py") if path.name != "__init__.py")


def _expected(path: Path) -> set[tuple[str, str, int]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {("LG101", f"shop/views/{path.name}", n) for n, line in enumerate(lines, 1) if line.endswith("# expect")}


@pytest.fixture(scope="module")
def newer_run(tmp_path_factory):
    project = copy_fixture("newer_syntax", tmp_path_factory.mktemp("newer"))
    return run_cli("check", "--no-cache", "--format", "json", ".", cwd=project)


def test_no_construct_of_python_3_10_to_3_14_is_a_parse_error(newer_run):
    assert newer_run.exit_code == 1, newer_run.stderr
    assert [(v["path"], v["message"]) for v in newer_run.json["violations"] if v["code"] == "LG900"] == []


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.stem)
def test_each_write_in_a_newer_construct_is_reported_at_its_line(newer_run, module):
    expected = _expected(module)
    assert expected, f"{module.name} has no `# expect` line"
    assert {v for v in newer_run.found("LG101") if v[1] == f"shop/views/{module.name}"} == expected


@pytest.mark.parametrize("module, line", [("pep701_fstrings.py", 7), ("pep701_fstrings.py", 9),
                                          ("pep750_tstrings.py", 5)])
def test_a_write_inside_an_f_or_t_string_is_reported_at_its_column(newer_run, module, line):
    text = (VIEWS / module).read_text(encoding="utf-8").splitlines()[line - 1]
    (violation,) = [v for v in newer_run.json["violations"] if v["path"] == f"shop/views/{module}" and v["line"] == line]
    assert violation["column"] == text.index("Order.objects") + 1


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.stem)
def test_lowering_keeps_every_line_and_byte_offset(module):
    from layerguard.lowering import lower

    source = module.read_bytes()
    lowered = lower(source, (3, 10))
    text = lowered.text.encode("utf-8")
    assert text.count(b"\n") == source.count(b"\n")
    assert len(text) == len(source) + len(lowered.insertions)
    if not lowered.insertions:  # every kept name stays at its byte offset
        assert [m.start() for m in re.finditer(rb"Order\.objects", text)] == \
               [m.start() for m in re.finditer(rb"Order\.objects", source)]


def test_a_blank_line_inside_multi_line_type_parameters_maps_offsets_back():
    from layerguard.lowering import lower

    source = b"def f[\n    T,\n\n](x):\n    Order.objects.create()\n"
    lowered = lower(source, (3, 11))
    assert lowered.insertions  # the empty line needed a `\` of its own
    ast.parse(lowered.text)
    offset = lowered.text.encode().index(b"Order")
    assert lowered.original_offset(offset) == source.index(b"Order")


def _pythons() -> dict[tuple[int, int], str]:
    """Other CPython interpreters on this machine (pyenv's, or on PATH), by version."""
    found = {}
    candidates = glob.glob(os.path.expanduser("~/.pyenv/versions/3.1*/bin/python3"))
    candidates += [f"/usr/bin/python3.{minor}" for minor in range(10, 15)]
    for candidate in candidates:
        try:
            version = subprocess.run([candidate, "-c", "import sys; print(*sys.version_info[:2])"],
                                     capture_output=True, text=True, timeout=30).stdout.split()
        except OSError:
            continue
        if len(version) == 2:
            found.setdefault((int(version[0]), int(version[1])), candidate)
    return {version: path for version, path in found.items() if (3, 10) <= version <= (3, 14)}


PYTHONS = _pythons()


@pytest.mark.parametrize("version", sorted(PYTHONS), ids=lambda v: f"{v[0]}.{v[1]}")
def test_what_is_lowered_for_a_python_is_read_by_that_pythons_ast(version):
    """The lowering runs here; the ast of the other Python (stdlib only) reads its output."""
    from layerguard.lowering import lower

    checker = "import ast, sys\nfor path in sys.argv[1:]:\n    ast.parse(open(path, encoding='utf-8').read(), path)\n"
    lowered_files = []
    for module in MODULES:
        target = Path(os.environ.get("TMPDIR", "/tmp")) / f"layerguard-lowered-{os.getpid()}-{module.name}"
        target.write_text(lower(module.read_bytes(), version).text, encoding="utf-8")
        lowered_files.append(str(target))
    try:
        completed = subprocess.run([PYTHONS[version], "-c", checker, *lowered_files],
                                   capture_output=True, text=True, timeout=120)
    finally:
        for path in lowered_files:
            os.unlink(path)
    assert completed.returncode == 0, completed.stderr


def test_code_no_python_accepts_is_still_lg900(tmp_path):
    project = copy_fixture("newer_syntax", tmp_path)
    (project / "shop" / "views" / "broken.py").write_text("type X[T = int\n\ndef f(:\n    pass\n")
    result = run_cli("check", "--no-cache", "--format", "json", "shop/views/broken.py", cwd=project)
    assert result.found() == [("LG900", "shop/views/broken.py", 1)]


SNIPPETS = {
    "concatenated f-strings": 'x = ("a" f"{d["k"]}"\n     "b" f"{e}")\n',
    "nested f-strings": 'x = f"{f"{a["b"]}"} é {c!r:>{w}} {d=}"\n',
    "comment in an f-string": 'x = f"{\n    a  # the total\n    + b}"\n',
    "backslash in an f-string": "x = f'{\"\\n\".join(a)}'\n",
    "CRLF line ends": 'def f[T](\r\n    x: T,\r\n):\r\n    return f"{x["k"]}"\r\n',
    "non-ASCII inside blanked text": 'x = t"café {y} naïve"\ntype Ünïcode = int\n',
    "type alias over lines": "type X[\n    T,\n] = list[T]\n",
    "trailing comma after exception types": "try:\n    pass\nexcept A, B,:\n    pass\n",
    "t-string in a call": "f(t'{x}', y)\n",
    "except* with parentheses": "try:\n    pass\nexcept* (A, B):\n    pass\n",
}


@pytest.mark.parametrize("source", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_a_lowered_snippet_is_read_by_ast_with_its_lines_and_bytes(source):
    from layerguard.lowering import lower

    lowered = lower(source.encode("utf-8"), (3, 10))
    ast.parse(lowered.text)
    assert lowered.text.count("\n") == source.count("\n")
    assert len(lowered.text.encode("utf-8")) == len(source.encode("utf-8")) + len(lowered.insertions)


# -- PEP 695 lowered from the tokens (fastlowering.py) -------------------------------------
_FAST_CASES = [
    "def first[T](items: list[T]) -> T:\n    return items[0]\n",
    "class Box[T: (int, str), *Ts, **P]:\n    pass\n",
    "@decorated\nasync def fetch[K, V](key: K) -> V: ...\n",
    "type Orders = list[int]\ntype Pair[T] = tuple[T, T]\n",
    "if True:\n    type Nested = dict[str, 'ünïcode']\nx = 1; type Inline = int\n",
    "def f[T: 'é'](x): return x  # a comment [with brackets]\n",
    "label = 'def f[T](x)'\ntype = 3\nprint(type(label), type)\n" "def g[T](): pass\n",
]
_REFUSED = [
    "def spread[\n    T,\n](x): return x\n",  # brackets over two lines: lowering.py adds continuations
    "x = 1\n",  # nothing to lower
]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="Python 3.12 reads PEP 695 itself")
@pytest.mark.parametrize("source", _FAST_CASES)
def test_type_parameters_lowered_from_the_tokens_read_as_libcsts_lowering_does(source):
    from layerguard.fastlowering import lower_type_parameters
    from layerguard.lowering import lower

    fast = lower_type_parameters(source.encode())
    assert fast is not None and len(fast.encode()) == len(source.encode())
    assert ast.dump(ast.parse(fast), include_attributes=True) == \
        ast.dump(ast.parse(lower(source.encode()).text), include_attributes=True)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="Python 3.12 reads PEP 695 itself")
@pytest.mark.parametrize("source", _REFUSED)
def test_what_the_tokens_cannot_lower_is_left_to_libcst(source):
    from layerguard.fastlowering import lower_type_parameters

    assert lower_type_parameters(source.encode()) is None
