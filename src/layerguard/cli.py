"""Command line: parse options, call the engine, pick a reporter. Wiring only."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from layerguard import __version__
from layerguard.checkers import ALL_RULES, RULES_BY_CODE, rule_catalog, rule_page  # noqa: F401 (rule_page: used by scripts)
from layerguard.baseline import DEFAULT_BASELINE, BaselineError, read_baseline, write_baseline
from layerguard import runrecord
from layerguard.config import (CONFIG_FILENAMES, ConfigError, Settings, find_config_file, load_settings,
                               validate_code_selector)
from layerguard.discover import resolved_path
from layerguard.engine import build_project
from layerguard.gitdiff import DiffError, changed_python_files
from layerguard.engine import check as run_check
from layerguard.graph import RENDERERS, coupling_graph
from layerguard.progress import TerminalProgress
from layerguard.reporters import REPORTERS
from layerguard.semgrep import SemgrepError

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2
ROOT_MARKERS = ("manage.py", ".git", "pyproject.toml", "setup.cfg", "setup.py")


class LayerguardError(click.ClickException):
    """A one-line error and exit 2: config, semgrep, usage."""

    exit_code = EXIT_ERROR

    def show(self, file=None) -> None:
        click.echo(f"layerguard: error: {self.format_message()}", err=True)


def _split_codes(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [code.strip().upper() for code in value.split(",") if code.strip()]


def _project_root(start: Path) -> Path:
    """Without a config file: the nearest ancestor that looks like a project root."""
    directory = start if start.is_dir() else start.parent
    for candidate in [directory, *directory.parents]:
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return directory


def _load(config_file: Path | None, first_path: Path) -> Settings:
    first_path = resolved_path(first_path)
    if config_file is None:
        config_file = find_config_file(first_path)
    root = config_file.resolve().parent if config_file else _project_root(first_path)
    if root not in (first_path, *first_path.parents):
        # `--config /elsewhere/layerguard.toml`: the settings come from there, but the
        # project is still the one being checked, not the config file's folder.
        root = _project_root(first_path)
    try:
        return load_settings(config_file, root, rule_catalog())
    except ConfigError as error:
        raise LayerguardError(str(error)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="layerguard")
def main() -> None:
    """Keep Django and DRF code in the simple service layer style."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", help="Comma-separated codes or prefixes to enable (LG, LG1, LG101).")
@click.option("--ignore", help="Comma-separated codes or prefixes to disable.")
@click.option("--format", "output_format", type=click.Choice(sorted(REPORTERS)), default="text", show_default=True)
@click.option("--output", "output_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Use this config file instead of looking for one.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Fail only on violations not recorded in this baseline file.")
@click.option("--write-baseline", "write_baseline_file", is_flag=False, flag_value="", default=None,
              metavar="[FILE]", help=f"Record today's violations in FILE (default: the config's `baseline`, "
                                     f"else {DEFAULT_BASELINE}) and exit 0.")
@click.option("--diff", "diff_ref", metavar="REF",
              help="Check only Python files changed since the merge-base with git REF (e.g. origin/main).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when violations are found.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Processes for parsing changed files (default: the number of CPUs).")
@click.option("--verbose", "-v", is_flag=True, help="List every skipped path with the reason (on standard error).")
@click.option("--show-untyped", is_flag=True,
              help="Also list the write-shaped calls LG101 stayed silent on because it could not type the "
                   "receiver, with the reason (text and json).")
@click.option("--fix", is_flag=True, help="Apply the fixes marked [*] (safe ones), then report what is left.")
@click.option("--unsafe-fixes", is_flag=True,
              help="With --fix, also apply fixes that move code between modules (marked [*unsafe]).")
@click.option("--dry-run", is_flag=True, help="With --fix: print the fixes as a unified diff and write nothing "
                                              "(exit 1 when there is something to fix).")
@click.option("--add-noqa", is_flag=True, help="Add `# layerguard: ignore[CODE]` to every violation's line.")
def check(paths, select, ignore, output_format, output_file, config_file, baseline_file, write_baseline_file,
          diff_ref, exit_zero, no_cache, jobs, verbose, show_untyped, fix, unsafe_fixes, dry_run, add_noqa) -> None:
    """Check PATHS (default: the current directory)."""
    if dry_run and not fix:
        raise LayerguardError("--dry-run goes with --fix (print the fixes without writing them)")
    if add_noqa and fix:
        raise LayerguardError("--add-noqa and --fix are separate steps: fix first, then suppress what is left")
    paths = list(paths)
    if write_baseline_file and (Path(write_baseline_file).is_dir() or write_baseline_file.endswith(".py")):
        # `--write-baseline .` means "write the default baseline for .": FILE is optional,
        # and a directory or a .py file is a path to check, never a baseline file.
        paths.insert(0, Path(write_baseline_file))
        write_baseline_file = ""
    paths = paths or [Path(".")]
    for path in paths:  # one line, as every other error (a dangling link exists: it is an LG900)
        if not os.path.lexists(path):
            raise LayerguardError(f"path `{path}` does not exist")
    first_path = paths[0]
    settings = _load(config_file, first_path)
    # As ruff: `--select` starts the selection afresh (the config's `ignore` no longer
    # applies, so `--select LG101` runs LG101 whatever the config ignores); `--ignore`
    # alone adds to the config's `ignore`.
    select_codes = _split_codes(select) or settings.select
    ignore_codes = [*([] if _split_codes(select) else settings.ignore), *(_split_codes(ignore) or [])]
    for option, codes in (("--select", _split_codes(select) or []), ("--ignore", _split_codes(ignore) or [])):
        for code in codes:
            try:
                validate_code_selector(code, rule_catalog(), f"option {option}")
            except ConfigError as error:
                raise LayerguardError(str(error)) from None
    if diff_ref is not None:
        try:
            changed = changed_python_files(settings.root, diff_ref)
        except DiffError as error:
            raise LayerguardError(str(error)) from None
        under = [resolved_path(p) for p in paths]
        paths = [c for c in changed if any(c == u or u in c.parents for u in under)]
    writing = write_baseline_file is not None
    baseline_path = _baseline_path(settings, baseline_file, write_baseline_file)
    try:
        baseline = None if writing or baseline_path is None else read_baseline(baseline_path)
    except BaselineError as error:
        raise LayerguardError(str(error)) from None
    try:
        with TerminalProgress(delay=1.0) as progress:  # a cold run of a large project: show how far it is
            report = run_check(settings, paths, select_codes, ignore_codes, baseline=baseline, jobs=jobs,
                               use_cache=not no_cache, progress=progress, show_untyped=show_untyped,
                               keep_project=fix) if paths else _empty()
    except SemgrepError as error:
        raise LayerguardError(str(error)) from None
    except Exception as error:  # never a traceback for the user; LAYERGUARD_DEBUG=1 shows it
        if os.environ.get("LAYERGUARD_DEBUG"):
            raise
        raise LayerguardError(f"internal error: {type(error).__name__}: {error} (rerun with LAYERGUARD_DEBUG=1)") from None
    stderr = "".join(f"layerguard: skipped {path}: {reason}\n" for path, reason in report.skipped) if verbose else ""
    click.echo(stderr, err=True, nl=False)
    if writing:
        _write_baseline(baseline_path, report, settings)
        return
    if add_noqa:
        _add_noqa(settings, report)
        return
    if fix:
        report = _fix(settings, report, unsafe_fixes, dry_run, jobs, no_cache,
                      lambda: run_check(settings, paths, select_codes, ignore_codes, baseline=baseline, jobs=jobs,
                                        use_cache=not no_cache, show_untyped=show_untyped))
        if report is None:
            return
    reporter = REPORTERS[output_format]
    markup = output_file is None and output_format == "text" and sys.stdout.isatty()
    text = reporter(report, markup)
    if output_file is not None:
        output_file.write_text(text, encoding="utf-8")
    elif markup:
        from rich.console import Console  # rich only where output is drawn
        Console(highlight=False, soft_wrap=True).print(text, end="")
    else:
        click.echo(text, nl=False)
    exit_code = EXIT_VIOLATIONS if report.violations and not exit_zero else EXIT_CLEAN
    if report.inputs is not None:
        _remember_run(report, settings, config_file, first_path, baseline_path, runrecord.Record(
            inputs=report.inputs, stdout="" if output_file is not None else text, stderr=stderr,
            exit_code=exit_code, markup=markup,
            output=(os.path.abspath(output_file), text) if output_file is not None else None))
    if exit_code:
        sys.exit(exit_code)


def _remember_run(report, settings: Settings, config_file: Path | None, first_path: Path,
                  baseline_path: Path | None, record) -> None:
    """Keep this run's output with everything it depended on, for launch.py to replay:
    the files discovery read (in report.inputs), the config and baseline files, and the
    config names and root markers whose absence placed the project root."""
    inputs = record.inputs
    if config_file is not None:
        inputs.add_file(os.path.abspath(config_file))
    start = resolved_path(first_path)
    directory = start if start.is_dir() else start.parent
    root = settings.root.resolve()
    for ancestor in [directory, *directory.parents]:
        for name in CONFIG_FILENAMES:
            inputs.add_optional(str(ancestor / name))
        if ancestor == root or root in ancestor.parents:
            inputs.absent.update(str(ancestor / m) for m in ROOT_MARKERS if not os.path.lexists(ancestor / m))
    if baseline_path is not None:
        inputs.add_optional(os.path.abspath(baseline_path))
    runrecord.save(record)


def _fix(settings: Settings, report, unsafe: bool, dry_run: bool, jobs, no_cache: bool, recheck):
    """Apply (or, dry, print) the fixes; the report of what is left, or None when done."""
    from layerguard.engine import fix_plan
    from layerguard.fixes.writer import unified_diff, write_edits

    # The check's own project model and bytes: building them again doubled a cold --fix.
    plan, _, _ = fix_plan(settings, report.violations, unsafe, jobs, use_cache=not no_cache,
                          built=(report.project, report.sources) if report.project is not None else None)
    hidden = sum(1 for v in report.violations if v.fix == "unsafe") if not unsafe else 0
    for violation, reason in plan.not_applied:
        click.echo(f"layerguard: not fixed {violation.path}:{violation.line} {violation.code}: {reason}", err=True)
    if dry_run:
        click.echo(unified_diff(plan.edits), nl=False)
        click.echo(f"layerguard: would fix {len(plan.fixed)} violation(s) in {len(plan.edits)} file(s)"
                   + (f"; {hidden} more with --unsafe-fixes" if hidden else ""), err=True)
        sys.exit(EXIT_VIOLATIONS if plan.edits else EXIT_CLEAN)
    refused = write_edits(settings.root, plan.edits)
    for reason in refused:
        click.echo(f"layerguard: not written: {reason}", err=True)
    if plan.edits and not refused:
        click.echo(f"layerguard: fixed {len(plan.fixed)} violation(s) in {len(plan.edits)} file(s)"
                   + (f"; {hidden} more with --unsafe-fixes" if hidden else ""), err=True)
        try:
            return recheck()
        except SemgrepError as error:
            raise LayerguardError(str(error)) from None
    elif hidden:
        click.echo(f"layerguard: {hidden} fix(es) available with --unsafe-fixes", err=True)
    return report


def _add_noqa(settings: Settings, report) -> None:
    from layerguard.engine import _root_relative
    from layerguard.fixes.noqa import add_noqa
    from layerguard.fixes.writer import write_edits

    relative = [replace(v, path=_root_relative(settings.root, v.path)) for v in report.violations]
    sources = {}
    for violation in relative:
        if violation.path not in sources:
            sources[violation.path] = (settings.root / violation.path).read_bytes()
    edits, count = add_noqa(sources, relative)
    refused = write_edits(settings.root, edits)
    for reason in refused:
        click.echo(f"layerguard: not written: {reason}", err=True)
    click.echo(f"layerguard: added {0 if refused else count} suppression comment(s) in "
               f"{0 if refused else len(edits)} file(s)", err=True)


def _empty():
    from layerguard.report import Report

    return Report(violations=[], files=0)


def _baseline_path(settings: Settings, given: Path | None, to_write: str | None) -> Path | None:
    """Where the baseline is: --write-baseline FILE, --baseline FILE, the config's `baseline`."""
    if to_write:
        return Path(to_write)
    if given is not None:
        return given
    if settings.baseline:
        return settings.root / settings.baseline
    return settings.root / DEFAULT_BASELINE if to_write is not None else None


def _write_baseline(path: Path, report, settings: Settings) -> None:
    """Record today's violations. Entries of files this run did not check are kept, so a
    run on part of the tree (or with --diff) updates only what it looked at. In CI
    (the CI environment variable set) the baseline may shrink but never grow."""
    old = []
    if path.exists():
        try:
            old = read_baseline(path)
        except BaselineError as error:
            raise LayerguardError(str(error)) from None
    checked = {Path(os.path.relpath(resolved_path(Path(p)), settings.root.resolve())).as_posix()
               for p in report.checked_paths}
    entries = sorted([e for e in old if e.path not in checked] + list(report.entries),
                     key=lambda e: (e.path, e.line, e.code, e.fingerprint))
    before = {e.fingerprint for e in old}
    added = [e for e in entries if e.fingerprint not in before]
    removed = len(before - {e.fingerprint for e in entries})
    if added and os.environ.get("CI", "").lower() not in ("", "0", "false") and path.exists():
        raise LayerguardError(
            f"--write-baseline would add {len(added)} new violation(s) to {path} in CI "
            f"(first: {added[0].path}:{added[0].line} {added[0].code}); fix them, or update the baseline locally"
        )
    try:
        write_baseline(path, entries)
    except BaselineError as error:
        raise LayerguardError(str(error)) from None
    click.echo(f"layerguard: wrote {len(entries)} entries to {path} ({len(added)} added, {removed} removed)", err=True)


@main.command()
def rules() -> None:
    """List every rule: code, name and what it flags."""
    if sys.stdout.isatty():
        from rich.table import Table

        table = Table("code", "name", "what it flags", "options", box=None)
        for rule in ALL_RULES:
            table.add_row(rule.code, rule.name, rule.summary(), _options(rule))
        from rich.console import Console  # rich only where output is drawn
        Console().print(table)
        return
    for rule in ALL_RULES:
        options = f"  [{_options(rule)}]" if rule.OPTIONS else ""
        click.echo(f"{rule.code}  {rule.name:<28}  {rule.summary()}{options}")


def _options(rule) -> str:
    return ", ".join(f"{name} = {default!r}" for name, (_, default) in rule.OPTIONS.items())


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Show a rule's documentation: what it does, why, an example, what to do instead."""
    rule = RULES_BY_CODE.get(code.upper()) or next((r for r in ALL_RULES if r.name == code), None)
    if rule is None:
        raise LayerguardError(f"unknown rule `{code}` (see `layerguard rules`)")
    click.echo(rule_page(rule))


@main.command()
@click.argument("path", required=False, default=".", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(sorted(RENDERERS)), default="mermaid", show_default=True)
@click.option("--output", "output_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the graph to this file instead of standard output.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def graph(path, output_format, output_file, config_file) -> None:
    """Draw how the project's apps couple: cross-app foreign keys and model imports."""
    settings = _load(config_file, path)
    project, _ = build_project(settings)
    coupling = coupling_graph(project)
    text = RENDERERS[output_format](coupling)
    if output_file is not None:
        output_file.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    for cycle in coupling.cycles():
        click.echo(f"cycle: {' -> '.join(cycle)}", err=True)


@main.command()
@click.argument("path", required=False, default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--baseline", "with_baseline", is_flag=True, help="Also record today's violations in a baseline.")
@click.option("--force", is_flag=True, help="Replace an existing [tool.layerguard] section.")
def init(path, with_baseline, force) -> None:
    """Write a [tool.layerguard] section for the project at PATH (pyproject.toml, else layerguard.toml)."""
    from layerguard.init import InitError, config_table, default_settings, write_config

    root = path.resolve()
    project, _ = build_project(default_settings(root))
    try:
        written = write_config(root, config_table(project, with_baseline), force)
    except InitError as error:
        raise LayerguardError(str(error)) from None
    click.echo(f"layerguard: wrote the [tool.layerguard] settings to {written} "
               f"({len(project.apps)} apps found)", err=True)
    if with_baseline:
        settings = _load(written, root)
        report = run_check(settings, [root], settings.select, settings.ignore)
        _write_baseline(settings.root / (settings.baseline or DEFAULT_BASELINE), report, settings)


@main.command("export-semgrep")
@click.option("--output", "output_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the rules to this file instead of standard output.")
def export_semgrep(output_file) -> None:
    """Print layerguard's standalone semgrep rules, for teams that already run semgrep."""
    from layerguard.semgrep_export import standalone_rules_yaml

    text = standalone_rules_yaml()
    if output_file is not None:
        output_file.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.command()
@click.argument("path", required=False, default=".", type=click.Path(exists=True, path_type=Path))
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML report (opens offline) to this file.")
@click.option("--markdown", "markdown_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a GitHub-flavoured markdown report (Mermaid coupling graph) to this file.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The summary on standard output: tables, or the aggregates and violations as JSON.")
@click.option("--output", "output_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the summary to this file instead of standard output.")
@click.option("--history", "history_count", type=click.IntRange(min=1), default=None, metavar="N",
              help="Also audit N past commits of the current branch (read from git, the work tree untouched).")
@click.option("--every", "every", type=click.IntRange(min=1), default=1, show_default=True, metavar="K",
              help="With --history: every Kth commit.")
@click.option("--since", "since_ref", metavar="REF", help="Audit the commits since REF (with --every K, every Kth).")
@click.option("--churn-days", type=click.IntRange(min=1), default=365, show_default=True,
              help="Hotspots weigh findings by the commits of the last N days.")
@click.option("--select", help="Comma-separated codes or prefixes to enable (default: the config's).")
@click.option("--ignore", help="Comma-separated codes or prefixes to disable.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Count the violations in this baseline apart (default: the config's `baseline`).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None)
def audit(path, html_file, markdown_file, output_format, output_file, history_count, every, since_ref, churn_days,
          select, ignore, config_file, baseline_file, no_cache, jobs) -> None:
    """Audit the project at PATH: score, findings per app and rule, hotspots, coupling, trend.

    Exits 0 whatever it finds (it is a report, not a gate); 2 on a usage or config error."""
    from layerguard.audit import run_audit
    from layerguard.audit.git import GitError
    from layerguard.cache import Cache

    settings = _load(config_file, path)
    select_codes = _split_codes(select) or settings.select  # as `check`: --select starts afresh
    ignore_codes = [*([] if _split_codes(select) else settings.ignore), *(_split_codes(ignore) or [])]
    for option, codes in (("--select", _split_codes(select) or []), ("--ignore", _split_codes(ignore) or [])):
        for code in codes:
            try:
                validate_code_selector(code, rule_catalog(), f"option {option}")
            except ConfigError as error:
                raise LayerguardError(str(error)) from None
    # The audit counts baselined debt apart, so it reads the default baseline when present.
    baseline_path = _baseline_path(settings, baseline_file, None) or settings.root / DEFAULT_BASELINE
    try:
        baseline = read_baseline(baseline_path) if baseline_path is not None and baseline_path.exists() else None
    except BaselineError as error:
        raise LayerguardError(str(error)) from None
    if every != 1 and history_count is None and since_ref is None:
        raise LayerguardError("--every needs --history N or --since REF")
    try:
        with TerminalProgress() as progress:
            # One cache for the audit and its history (in memory only with --no-cache), so
            # that the commits reuse what the audit of the work tree found.
            cache = Cache(settings.root, enabled=not no_cache)
            result = run_audit(settings, select_codes, ignore_codes, baseline=baseline, jobs=jobs,
                               use_cache=not no_cache, progress=progress, churn_days=churn_days, cache=cache)
            if history_count is not None or since_ref:
                from layerguard.audit.history import audit_history

                result.history = audit_history(settings, select_codes, ignore_codes, count=history_count,
                                               every=every, since=since_ref, jobs=jobs, use_cache=not no_cache,
                                               progress=progress, cache=cache)
    except (SemgrepError, GitError) as error:
        raise LayerguardError(str(error)) from None
    except Exception as error:
        if os.environ.get("LAYERGUARD_DEBUG"):
            raise
        raise LayerguardError(f"internal error: {type(error).__name__}: {error} (rerun with LAYERGUARD_DEBUG=1)") from None
    _write_audit(result, html_file, markdown_file, output_format, output_file)


def _write_audit(result, html_file, markdown_file, output_format, output_file) -> None:
    from layerguard.audit.export import render_json
    from layerguard.audit.text import render as render_text

    for target, kind in ((html_file, "html"), (markdown_file, "markdown")):
        if target is None:
            continue
        if kind == "html":
            from layerguard.audit.html import render_html as render_page
        else:
            from layerguard.audit.markdown import render_markdown as render_page
        try:
            target.write_text(render_page(result), encoding="utf-8")
        except OSError as error:
            raise LayerguardError(f"cannot write {target}: {error.strerror}") from None
        click.echo(f"layerguard: wrote the {kind} report to {target}", err=True)
    if output_format == "json":
        text = render_json(result)
        if output_file is not None:
            output_file.write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
        return
    if output_file is not None:
        with output_file.open("w", encoding="utf-8") as stream:
            from rich.console import Console  # rich only where output is drawn
            render_text(result, Console(file=stream, highlight=False, no_color=True, width=140))
        return
    tty = sys.stdout.isatty()
    from rich.console import Console  # rich only where output is drawn
    render_text(result, Console(highlight=False, force_terminal=tty, no_color=not tty or None,
                                width=None if tty else 140))


@main.command()
def server() -> None:
    """Run the language server on standard input/output (needs `pip install layerguard[lsp]`)."""
    try:
        from layerguard.server import serve
    except ImportError as error:
        raise LayerguardError(f"the language server needs the `lsp` extra: pip install 'layerguard[lsp]' "
                              f"({error})") from None
    serve()
