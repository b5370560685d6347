"""Load and validate settings. Every error names the key and the file: a typo
in a linter's config must never silently fall back to a default."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pathspec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_FILENAMES = (".layerguard.toml", "layerguard.toml", "pyproject.toml")

DEFAULT_SERVICE_MODULES = ["**/services.py", "**/services/**/*.py"]
DEFAULT_SELECTOR_MODULES = ["**/selectors.py", "**/selectors/**/*.py"]
DEFAULT_VIEW_MODULES = ["**/views.py", "**/views/**/*.py", "**/apis.py", "**/api.py", "**/viewsets.py"]
# Exempt from LG1/LG2/LG3: code that legitimately writes, or is not application code.
DEFAULT_EXEMPT_MODULES = [
    "**/migrations/**",
    "**/tests/**",
    "**/test/**",
    "**/testing/**",  # test-support packages (netbox's utilities/testing, django.test-like helpers)
    "**/test_utils/**",  # django-cms's cms/test_utils, misago's testutils: helpers of the tests
    "**/testutils/**",
    "**/test_*/**",  # nautobot's extras/test_jobs: jobs that exist for the tests
    "**/tests.py",
    "**/test.py",
    "**/testing.py",
    "**/test_*.py",
    "**/*_tests.py",
    "**/*_test.py",
    "**/conftest.py",
    "**/factories.py",
    "**/factories/**",
]
# Settings modules are exempt too, found by what they are (exemptions.py), not by these globs alone.
DEFAULT_MODEL_MODULES = ["**/models.py", "**/models/**/*.py", "**/managers.py", "**/querysets.py"]
# Never part of the project: tool caches, virtualenvs, build output (ruff's habit).
DEFAULT_EXCLUDE = [
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
    "build",
    "dist",
    "site-packages",
    "__pypackages__",
]


class ConfigError(Exception):
    """A configuration problem; the message names the file and the key."""


@dataclass
class Settings:
    root: Path
    config_file: Path | None = None
    include: list[str] = field(default_factory=lambda: ["**/*.py"])
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    select: list[str] = field(default_factory=lambda: ["LG"])
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    service_modules: list[str] = field(default_factory=lambda: list(DEFAULT_SERVICE_MODULES))
    selector_modules: list[str] = field(default_factory=lambda: list(DEFAULT_SELECTOR_MODULES))
    view_modules: list[str] = field(default_factory=lambda: list(DEFAULT_VIEW_MODULES))
    exempt_modules: list[str] = field(default_factory=lambda: list(DEFAULT_EXEMPT_MODULES))
    model_modules: list[str] = field(default_factory=lambda: list(DEFAULT_MODEL_MODULES))
    baseline: str | None = None
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def option(self, code: str, name: str, default: Any) -> Any:
        return self.rule_options.get(code, {}).get(name, default)


# key -> (Settings attribute, expected shape)
_LIST = "list of strings"
_KEYS: dict[str, tuple[str, str]] = {
    "include": ("include", _LIST),
    "exclude": ("exclude", _LIST),
    "extend-exclude": ("extend_exclude", _LIST),
    "select": ("select", _LIST),
    "ignore": ("ignore", _LIST),
    "per-file-ignores": ("per_file_ignores", "table of glob = list of codes"),
    "service-modules": ("service_modules", _LIST),
    "selector-modules": ("selector_modules", _LIST),
    "view-modules": ("view_modules", _LIST),
    "exempt-modules": ("exempt_modules", _LIST),
    "model-modules": ("model_modules", _LIST),
    "baseline": ("baseline", "string"),
    "lint": ("rule_options", "table of rule tables"),
}
_GLOB_KEYS = {"include", "exclude", "extend-exclude", "service-modules", "selector-modules",
              "view-modules", "exempt-modules", "model-modules"}


def find_config_file(start: Path) -> Path | None:
    """Walk up from `start` to the first directory holding a layerguard config."""
    directory = start if start.is_dir() else start.parent
    for candidate_dir in [directory, *directory.parents]:
        for name in CONFIG_FILENAMES:
            candidate = candidate_dir / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_tool_table(candidate)):
                return candidate
    return None


def _has_tool_table(pyproject: Path) -> bool:
    try:
        return "layerguard" in _read_toml(pyproject).get("tool", {})
    except ConfigError:
        # A broken pyproject.toml that may be ours: load it to report the error.
        return "[tool.layerguard" in pyproject.read_text(encoding="utf-8", errors="replace")


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None


def load_settings(
    config_file: Path | None,
    root: Path,
    rule_catalog: Mapping[str, Mapping[str, tuple[type, Any]]],
) -> Settings:
    """Settings from `config_file` (or defaults), validated against the rules that exist.

    `rule_catalog` maps each rule code to its options: name -> (type, default).
    """
    settings = Settings(root=root, config_file=config_file)
    if config_file is None:
        return settings
    data = _read_toml(config_file)
    if config_file.name == "pyproject.toml":
        table = data.get("tool", {}).get("layerguard", {})
        prefix = "tool.layerguard."
    else:
        table = data
        prefix = ""
    if not isinstance(table, dict):
        raise ConfigError(f"{config_file}: `{prefix.rstrip('.')}` must be a table")
    for key, value in table.items():
        where = f"{config_file}: `{prefix}{key}`"
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown key (known: {', '.join(sorted(_KEYS))})")
        attribute, shape = _KEYS[key]
        if key == "lint":
            value = _validate_lint(value, where, config_file, prefix, rule_catalog)
        elif key == "per-file-ignores":
            value = _validate_per_file_ignores(value, where, rule_catalog)
        elif shape == _LIST:
            if not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
                raise ConfigError(f"{where}: expected a {shape}, got {_describe(value)}")
            if key in _GLOB_KEYS:
                for glob in value:
                    _validate_glob(glob, where)
            if key in ("select", "ignore"):
                for code in value:
                    validate_code_selector(code, rule_catalog, where)
        elif shape == "string" and not isinstance(value, str):
            raise ConfigError(f"{where}: expected a {shape}, got {_describe(value)}")
        setattr(settings, attribute, value)
    return settings


def _validate_lint(value, where, config_file, prefix, rule_catalog) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table of rule tables, got {_describe(value)}")
    options: dict[str, dict[str, Any]] = {}
    for code, table in value.items():
        rule_where = f"{config_file}: `{prefix}lint.{code}`"
        if code not in rule_catalog:
            raise ConfigError(f"{rule_where}: unknown rule code")
        if not isinstance(table, dict):
            raise ConfigError(f"{rule_where}: expected a table, got {_describe(table)}")
        known = rule_catalog[code]
        for name, option_value in table.items():
            option_where = f"{config_file}: `{prefix}lint.{code}.{name}`"
            if name not in known:
                hint = f"known: {', '.join(sorted(known))}" if known else f"{code} has no options"
                raise ConfigError(f"{option_where}: unknown option ({hint})")
            expected, _default = known[name]
            if not _matches_type(option_value, expected):
                raise ConfigError(
                    f"{option_where}: expected {_type_name(expected)}, got {_describe(option_value)}"
                )
            if expected is list and any(not item.strip() for item in option_value):
                raise ConfigError(f"{option_where}: an empty entry matches nothing")
        options[code] = dict(table)
    return options


def _validate_per_file_ignores(value, where, rule_catalog) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table of glob = list of codes, got {_describe(value)}")
    for glob, codes in value.items():
        if not (isinstance(codes, list) and all(isinstance(code, str) for code in codes)):
            raise ConfigError(f"{where}.\"{glob}\": expected a list of codes, got {_describe(codes)}")
        _validate_glob(glob, where)
        for code in codes:
            validate_code_selector(code, rule_catalog, f"{where}.\"{glob}\"")
    return value


def validate_code_selector(selector: str, rule_catalog: Mapping[str, Any], where: str) -> None:
    """`LG` selects all, `LG1` a family, `LG101` one rule; anything else is a typo."""
    if not any(code.startswith(selector) for code in rule_catalog) or not selector.startswith("LG"):
        raise ConfigError(f"{where}: unknown rule code `{selector}`")


def _validate_glob(glob: str, where: str) -> None:
    if not glob.strip():
        raise ConfigError(f"{where}: an empty glob matches nothing")
    if glob.count("[") != glob.count("]"):
        # gitignore would read `[` literally; in a config it is a typo far more often.
        raise ConfigError(f"{where}: invalid glob `{glob}`: unbalanced brackets")
    try:
        pathspec.GitIgnoreSpec.from_lines([glob])
    except Exception as error:  # pathspec raises several types for bad patterns
        raise ConfigError(f"{where}: invalid glob `{glob}`: {error}") from None


def _matches_type(value: Any, expected: type) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is list:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, expected)


def _type_name(expected: type) -> str:
    return {int: "an integer", list: "a list of strings", str: "a string", bool: "a boolean"}.get(
        expected, expected.__name__
    )


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"
