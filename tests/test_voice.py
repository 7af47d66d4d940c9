"""One voice: usage errors on one `error:` line, one exit-code table, readable metavars, quiet `-v`."""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.cli.context import QUIET_LIBRARIES, SafeFormatter, setup_logging
from aggregator.cli.voice import EXIT_CODES, ExitCode

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _error_line(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, args)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert not re.search(r"[│╭╮╰╯]", result.output), result.output
    return result.exit_code, lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["show", "abc"],
            "error: ID: 'abc' is not a whole number (write one such as 42); see `aggregator show --help`",
        ),
        (["queue", "--limit", "0"], "error: --limit / -n: 0 is out of range (write a number from 1 to"),
        (["queue", "--bogus"], "error: no such option: --bogus (see `aggregator queue --help`)"),
        (
            ["promote", "1"],
            "error: --section / -s: option is required (give it a value); see `aggregator promote --help`",
        ),
        (["note", "1"], "error: TEXT: is missing (see `aggregator note --help`)"),
        (["candidates", "list", "-n", "1_0"], "error: --limit / -n: '1_0' is not a whole number"),
    ],
)
def test_usage_errors_are_one_error_line_with_where_to_read_more(args: list[str], expected: str) -> None:
    code, line = _error_line(args)
    assert code == ExitCode.USAGE
    assert line.startswith(expected), line


def test_every_exit_code_the_commands_raise_is_in_the_table() -> None:
    """Every `typer.Exit(...)` in the command line names an ExitCode (or a code the table holds)."""
    found: dict[str, object] = {}
    for path in sorted((ROOT / "aggregator" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("typer.Exit", "Exit") and node.args:
                arg = node.args[0]
                where = f"{path.name}:{node.lineno}"
                if isinstance(arg, ast.Constant):
                    found[where] = arg.value
                elif isinstance(arg, ast.Attribute) and ast.unparse(arg.value) == "ExitCode":
                    found[where] = ExitCode[arg.attr].value
    literal = {where: code for where, code in found.items() if code not in {c.value for c in ExitCode}}
    assert found and literal == {}
    assert set(EXIT_CODES) == set(ExitCode)


def test_the_readme_table_of_exit_codes_is_the_code_s() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "### Exit codes" in readme
    table = readme.split("### Exit codes", 1)[1].split("\n\n| code | meaning |", 1)[1].split("\n\n", 1)[0]
    rows = dict(re.findall(r"^\| `?(\d+)`? \| (.+?) \|$", table, re.M))
    assert {int(code) for code in rows} == {c.value for c in ExitCode}


def test_metavars_name_the_value_never_its_python_type() -> None:
    bad = []

    def walk(command: object, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])
        if hasattr(command, "commands"):
            return
        result = runner.invoke(app, [*path, "--help"], terminal_width=200)
        if re.search(r"<[a-z][a-z \[\]]*>|x>=|<=x", result.output):
            bad.append(" ".join(path))

    walk(get_command(app), [])
    assert bad == []


def test_completion_can_be_installed() -> None:
    result = runner.invoke(app, ["--help"], terminal_width=200)
    assert "--install-completion" in result.output and "--show-completion" in result.output


@pytest.mark.parametrize(("verbose", "library_level"), [(1, logging.WARNING), (2, logging.WARNING), (3, 0)])
def test_verbose_keeps_the_libraries_quiet_until_vvv(verbose: int, library_level: int) -> None:
    try:
        setup_logging(verbose)
        assert logging.getLogger().level == (logging.INFO if verbose == 1 else logging.DEBUG)
        for name in ("alembic", "httpcore", "httpx"):
            assert name in QUIET_LIBRARIES
            assert logging.getLogger(name).level == library_level
    finally:
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_log_lines_start_with_a_utc_timestamp() -> None:
    formatter = SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord("aggregator.feeds.poll", logging.INFO, __file__, 1, "stored \x1b[2J", (), None)
    record.created = 1_767_600_000.25
    assert formatter.format(record) == "2026-01-05T08:00:00.250Z INFO aggregator.feeds.poll: stored \\x1b[2J"
