"""Bad input to the command line: one line, a non-zero exit, and nothing changed; never a traceback.

Each case went through the real command line first and ended in a traceback
(OverflowError, UnicodeEncodeError, psycopg's NumericValueOutOfRange, a
pydantic ValidationError, sqlite3.DatabaseError), read /dev/zero forever, or
silently created an empty database in a mistyped folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer._click import types as click_types
from typer.main import get_command
from typer.testing import CliRunner, Result

from aggregator.cli import app as cli
from aggregator.cli.context import COUNT_MAX, ID_MAX
from aggregator.config import MAX_CONFIG_BYTES
from aggregator.store.tables import candidates, decisions
from tests.conftest import postgres_schema_url
from tests.fixture_server import FixtureServer
from tests.stock import Stock, stock

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def invoke(*args: str) -> Result:
    return runner.invoke(cli, list(args), catch_exceptions=False)


def flat(output: str) -> str:
    """The output on one line: a usage error is drawn in a box that wraps its text."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


def one_error_line(result: Result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.fixture
def shop(
    tmp_path: Path, database_url: str, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stock]:
    shop = stock(server, tmp_path, database_url, {"alpha": ["Alpha one", "Alpha two"]})
    shop.app.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    monkeypatch.delenv("AGGREGATOR_CURATOR", raising=False)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    yield shop


def decisions_and_statuses(url: str) -> tuple[int, list[tuple[int, str, int]]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(decisions)).scalar_one()
            rows = conn.execute(
                sa.select(candidates.c.id, candidates.c.status, candidates.c.version).order_by(
                    candidates.c.id
                )
            )
            return n, [tuple(r) for r in rows]
    finally:
        engine.dispose()


# -- integers -----------------------------------------------------------------------------------

TOO_BIG_ID = [str(ID_MAX + 1), str(2**63), "9" * 30]

#: (arguments with {} for the value, the parameter named in the error, its largest value)
INTEGER_CASES = [
    (["show", "{}"], "ID", ID_MAX),
    (["note", "{}", "text"], "ID", ID_MAX),
    (["shortlist", "1", "{}"], "ID", ID_MAX),
    (["promote", "{}", "--section", "research/nlp"], "ID", ID_MAX),
    (["reject", "{}"], "ID", ID_MAX),
    (["snooze", "{}", "--until", "3d"], "ID", ID_MAX),
    (["restore", "{}"], "ID", ID_MAX),
    (["unpromote", "{}"], "ID", ID_MAX),
    (["log", "{}"], "ID", ID_MAX),
    (["extract", "--id", "{}"], "--id", ID_MAX),
    (["digest", "move", "{}", "--top"], "ID", ID_MAX),
    (["digest", "move", "1", "--before", "{}"], "--before", ID_MAX),
    (["digest", "move", "1", "--after", "{}"], "--after", ID_MAX),
    (["log", "--limit", "{}"], "--limit / -n", COUNT_MAX),
    (["candidates", "list", "--limit", "{}"], "--limit / -n", COUNT_MAX),
    (["queue", "--limit", "{}"], "--limit / -n", COUNT_MAX),
    (["queue", "--offset", "{}"], "--offset", COUNT_MAX),
    (["health", "--max-age", "{}"], "--max-age", ID_MAX),
    (["status", "--max-age", "{}"], "--max-age", ID_MAX),
]


def test_ids_and_counts_past_the_database_integers_are_usage_errors(shop: Stock, database_url: str) -> None:
    before = decisions_and_statuses(database_url)
    problems = []
    for args, hint, largest in INTEGER_CASES:
        for value in [*TOO_BIG_ID, str(2**63)] if largest == ID_MAX else [str(2**63), "9" * 30]:
            result = invoke(*[a.format(value) for a in args])
            text = flat(result.output)
            expected = f"error: {hint}: {int(value)} is out of range (write a number from 1 to {largest})"
            if args[0] == "queue" and "--offset" in args:
                expected = f"error: {hint}: {int(value)} is out of range (write a number from 0 to {largest})"
            if result.exit_code != 2 or expected not in text or "Traceback" in result.output:
                problems.append(f"{args} {value}: exit {result.exit_code}: {text[:300]}")
    assert problems == []
    assert decisions_and_statuses(database_url) == before


def test_every_integer_parameter_has_a_bound_and_a_case_above() -> None:
    """A new integer option or argument must get a bound, and a line in INTEGER_CASES."""
    found: list[tuple[list[str], Any]] = []

    def walk(command: Any, path: list[str]) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
            return
        for param in command.params:
            if param.name == "metrics_port":  # a TCP port (1-65535), not a database integer
                continue
            if isinstance(param.type, click_types.IntParamType):  # IntRange too
                found.append((path, param))

    walk(get_command(cli), [])
    assert (
        len(found) == 19
    )  # ids, --id, --before, --after, --limit, --offset and --max-age across the commands
    for path, param in found:
        assert param.type.max in (ID_MAX, COUNT_MAX) and param.type.min is not None, (path, param.name)
        assert any(args[: len(path)] == path for args, _, _ in INTEGER_CASES), path


# -- dates ----------------------------------------------------------------------------------------

DATE_CASES = [
    ("snooze", "--until", "99999999999d"),
    ("snooze", "--until", "3000000d"),  # fits an int, not a date
    ("snooze", "--until", "9999-12-31T23:59:59-05:00"),
    ("snooze", "--until", "0001-01-01T00:00:00+05:00"),
    ("queue", "--since", "99999999999d"),
    ("queue", "--since", "9999-12-31T23:59:59-05:00"),
    ("queue", "--since", "0001-01-01T00:00:00+05:00"),
]


def test_dates_past_year_9999_or_before_year_1_are_usage_errors(shop: Stock, database_url: str) -> None:
    before = decisions_and_statuses(database_url)
    one = str(shop.id("Alpha one"))
    for command, option, value in DATE_CASES:
        args = [command, one, option, value] if command == "snooze" else [command, option, value]
        result = invoke(*args)
        text = flat(result.output)
        assert result.exit_code == 2, text
        assert f"error: {option}: '{value}' is out of range: dates run from year 1 to 9999" in text
        assert "Traceback" not in result.output
    assert decisions_and_statuses(database_url) == before
    # The last moment there is still works, from the decision to every listing.
    assert invoke("snooze", one, "--until", "9999-12-31T23:59:59+00:00").exit_code == 0
    for args in (["queue", "--status", "all"], ["show", one], ["log"], ["queue", "--since", "0001-01-01"]):
        assert invoke(*args).exit_code == 0, args
    # The first moment there is, as a date in the past, is refused as such (its year in four digits).
    result = invoke("snooze", one, "--until", "0001-01-01")
    assert result.exit_code != 0 and "0001-01-01 00:00" in flat(result.output), result.output


# -- text that is not UTF-8 -------------------------------------------------------------------------


def test_a_note_of_bytes_that_are_not_utf8_is_refused(shop: Stock, database_url: str) -> None:
    """Through a real process: the shell's bytes arrive as surrogate escapes."""
    before = decisions_and_statuses(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env |= {"AGGREGATOR_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "aggregator", "note", str(shop.id("Alpha one")), b"caf\xe9 \xff notes"]
    done = subprocess.run(argv, capture_output=True, env=env, cwd=os.getcwd(), timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr.decode()
    text = flat(done.stderr.decode())
    assert "error: TEXT: 'caf\\xe9 \\xff notes' is not valid UTF-8 text" in text
    assert decisions_and_statuses(database_url) == before


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["reject", "{id}", "--reason", "bad \udcff"], "--reason / -r"),
        (["promote", "{id}", "--section", "research/nlp", "--note", "ok", "--note", "\udcc3("], "--note"),
        (["promote", "{id}", "--section", "research/nlp", "--title", "\udce9t\udce9"], "--title"),
        (["queue", "--search", "\udcff"], "--search / -q"),
        (["shortlist", "{id}", "--curator", "m\udcefnji"], "--curator"),
    ],
)
def test_any_text_argument_that_is_not_utf8_is_refused(
    shop: Stock, database_url: str, args: list[str], hint: str
) -> None:
    before = decisions_and_statuses(database_url)
    result = invoke(*[a.format(id=shop.id("Alpha one")) for a in args])
    assert result.exit_code == 2
    text = flat(result.output)
    assert f"error: {hint}:" in text and "is not valid UTF-8 text" in text
    assert decisions_and_statuses(database_url) == before


@pytest.mark.parametrize("via", ["option", "environment"])
def test_a_curator_name_longer_than_the_log_keeps_is_refused(
    shop: Stock, database_url: str, via: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = decisions_and_statuses(database_url)
    name = "c" * 201
    args = ["shortlist", str(shop.id("Alpha one"))]
    if via == "option":
        args += ["--curator", name]
    else:
        monkeypatch.setenv("AGGREGATOR_CURATOR", name)
    result = invoke(*args)
    assert result.exit_code == 2
    assert "a curator's name has at most 200 characters, this one 201" in flat(result.output)
    assert decisions_and_statuses(database_url) == before


# -- configuration and environment ---------------------------------------------------------------------


def test_a_config_that_is_a_device_or_too_large_is_refused_at_once(shop: Stock) -> None:
    result = invoke("--config", "/dev/zero", "feeds", "list")
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: /dev/zero: not a regular file (point --config or AGGREGATOR_CONFIG at feeds.yaml)"
    )
    big = shop.config_path.parent / "big.yaml"
    with big.open("wb") as file:
        file.write(shop.config_path.read_bytes() + b"#" * MAX_CONFIG_BYTES)
    result = invoke("--config", str(big), "feeds", "list")
    assert result.exit_code == 2
    assert "larger than 4 MiB" in one_error_line(result)


def test_a_config_from_a_pipe_is_still_read(shop: Stock) -> None:
    read, write = os.pipe()
    with os.fdopen(write, "wb") as pipe:
        pipe.write(shop.config_path.read_bytes())
    try:
        result = invoke("--config", f"/dev/fd/{read}", "feeds", "list")
    finally:
        os.close(read)
    assert result.exit_code == 0, result.output
    assert "alpha" in result.output


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AGGREGATOR_SMTP_PORT", "abc", "AGGREGATOR_SMTP_PORT: expected a whole number, got 'abc'"),
        ("AGGREGATOR_DATABASE_BUSY_TIMEOUT", "soon", "AGGREGATOR_DATABASE_BUSY_TIMEOUT: expected a number"),
        (
            "AGGREGATOR_DATABASE_BUSY_TIMEOUT",
            "0",
            "AGGREGATOR_DATABASE_BUSY_TIMEOUT: should be greater than 0",
        ),
    ],
)
@pytest.mark.parametrize("command", [["queue"], ["db", "current"], ["db", "upgrade"]])
def test_an_invalid_environment_variable_is_a_configuration_error(
    shop: Stock, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str, command: list[str]
) -> None:
    monkeypatch.setenv(variable, value)
    result = invoke(*command)
    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"error: environment: {message}")


# -- the database file ----------------------------------------------------------------------------------


def test_a_file_that_is_not_a_sqlite_database_is_named_and_left_alone(
    tmp_path: Path, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = stock(server, tmp_path, f"sqlite:///{tmp_path}/feeds.sqlite3", {"alpha": ["Alpha one"]})
    shop.app.close()
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"these are my notes, not a database\n" * 200)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", f"sqlite:///{junk}")
    for args in (["queue"], ["poll", "--no-extract"], ["db", "upgrade"], ["db", "current"]):
        result = invoke(*args)
        assert result.exit_code == 1
        assert one_error_line(result) == (
            f"error: sqlite:///{junk} is not an intact SQLite database (file is not a database) (point "
            "AGGREGATOR_DATABASE_URL at aggregator's database, or restore the file from a backup)"
        )
    assert junk.read_bytes() == b"these are my notes, not a database\n" * 200


def test_a_read_only_database_is_read_and_refuses_writes_in_one_line(
    tmp_path: Path, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-only through SQLite's URI mode=ro: the tests run as root, who may write any file."""
    path = tmp_path / "aggregator.sqlite3"
    shop = stock(server, tmp_path, f"sqlite:///{path}", {"alpha": ["Alpha one"]})
    shop.app.close()
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", url)
    before = decisions_and_statuses(f"sqlite:///{path}")
    listed = invoke("queue")
    assert listed.exit_code == 0 and "Alpha one" in listed.output
    for args in (["shortlist", str(shop.id("Alpha one"))], ["poll", "--all", "--no-extract"]):
        result = invoke(*args)
        assert result.exit_code == 1
        assert one_error_line(result).startswith(
            f"error: the database {url} is read-only (attempt to write a readonly database); "
            "nothing was written"
        )
    assert decisions_and_statuses(f"sqlite:///{path}") == before


@pytest.mark.postgres
def test_a_read_only_postgres_session_refuses_writes_in_one_line(
    tmp_path: Path, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = postgres_schema_url()
    url = next(urls)
    try:
        shop = stock(server, tmp_path, url, {"alpha": ["Alpha one"]})
        shop.app.close()
        monkeypatch.chdir(tmp_path)
        read_only = url + "%20-cdefault_transaction_read_only%3Don"  # as on a standby
        monkeypatch.setenv("AGGREGATOR_DATABASE_URL", read_only)
        before = decisions_and_statuses(url)
        assert invoke("queue").exit_code == 0
        result = invoke("shortlist", str(shop.id("Alpha one")))
        assert result.exit_code == 1
        assert "is read-only (cannot execute UPDATE in a read-only transaction); nothing was written" in (
            one_error_line(result)
        )
        assert decisions_and_statuses(url) == before
    finally:
        urls.close()


def test_a_data_dir_that_is_a_file_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "feeds.yaml").write_text(_minimal_config(), encoding="utf-8")
    (tmp_path / "state").write_text("a file", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGGREGATOR_DATABASE_URL", raising=False)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    monkeypatch.setenv("AGGREGATOR_DATA_DIR", str(tmp_path / "state"))
    result = invoke("queue")
    assert result.exit_code == 2
    assert one_error_line(result) == (
        f"error: environment: AGGREGATOR_DATA_DIR: {tmp_path / 'state'} is not a folder "
        "(point AGGREGATOR_DATA_DIR at a folder)"
    )


def test_a_sqlite_url_into_a_missing_folder_starts_no_new_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "feeds.yaml").write_text(_minimal_config(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    typo = tmp_path / "dta" / "aggregator.sqlite3"
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", f"sqlite:///{typo}")
    for args in (["poll", "--no-extract"], ["queue"], ["db", "upgrade"]):
        result = invoke(*args)
        assert result.exit_code == 2
        assert one_error_line(result) == (
            f"error: environment: AGGREGATOR_DATABASE_URL: the folder {typo.parent} of the SQLite file does "
            "not exist (fix the URL; for a new database, create the folder first)"
        )
    assert not typo.parent.exists()


def test_the_default_database_is_created_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quick start (`make run`: db upgrade, then poll) on a fresh checkout."""
    (tmp_path / "feeds.yaml").write_text(_minimal_config(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("AGGREGATOR_DATABASE_URL", "AGGREGATOR_DATA_DIR", "AGGREGATOR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    result = invoke("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "aggregator.sqlite3").is_file()


def _minimal_config() -> str:
    from tests import feedgen

    return feedgen.feeds_yaml([("alpha", "http://127.0.0.1:9/alpha.xml")])


def test_an_opml_file_that_never_ends_is_refused_at_once(shop: Stock) -> None:
    result = invoke("feeds", "import-opml", "/dev/zero", "--dry-run")
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: /dev/zero: larger than 16 MiB, which no list of feeds is (the right file?)"
    )
