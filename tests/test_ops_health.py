"""``aggregator health``: the database, its schema, a daemon's heartbeat; creating and migrating nothing."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import aggregator.cli as cli
from aggregator.config import Settings
from aggregator.ops_types import Instance
from aggregator.service.ops import HEARTBEAT_MAX_AGE, check_health, duration
from aggregator.store import claims, db

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
HERE = socket.gethostname()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "data")


@pytest.fixture
def engine(settings: Settings) -> Iterator[sa.Engine]:
    """The service's database, schema up to date, as a daemon's start leaves it."""
    built = db.create_engine_for(settings.resolved_database_url(), busy_timeout=5.0)
    db.ensure_schema(built)
    try:
        yield built
    finally:
        built.dispose()


def beat(
    engine: sa.Engine, now: datetime, *, host: str = HERE, pid: int = 4242, role: str = "daemon"
) -> None:
    with engine.begin() as s:
        claims.heartbeat(s, Instance(f"{host}-{pid}", host, pid), now, role=role, version="0.1.0")


def revision(engine: sa.Engine) -> str | None:
    return db.recorded_revision(engine)


def test_a_daemon_on_this_host_with_a_fresh_heartbeat_is_healthy(
    settings: Settings, engine: sa.Engine
) -> None:
    beat(engine, T0)
    found = check_health(settings, now=T0 + timedelta(seconds=40))
    assert found.healthy, found.problem
    assert found.daemon is not None and (found.daemon.host, found.daemon.pid) == (HERE, 4242)
    assert found.heartbeat_age == timedelta(seconds=40)
    assert found.revision == db.HEAD_REVISION


def test_a_stale_heartbeat_is_unhealthy_and_says_what_to_do(settings: Settings, engine: sa.Engine) -> None:
    beat(engine, T0)
    found = check_health(settings, now=T0 + HEARTBEAT_MAX_AGE + timedelta(seconds=1))
    assert not found.healthy
    assert found.problem == (
        f"the daemon {HERE}:4242 sent its last heartbeat 2 min 1 s ago, more than the 2 min allowed "
        "(it is stuck or stopped: read its log and restart it)"
    )
    assert check_health(settings, now=T0 + timedelta(minutes=10), max_age=timedelta(minutes=15)).healthy


def test_the_freshest_daemon_of_this_host_counts(settings: Settings, engine: sa.Engine) -> None:
    beat(engine, T0 - timedelta(hours=1), pid=1)  # a container's previous life, killed
    beat(engine, T0, pid=2)
    found = check_health(settings, now=T0 + timedelta(seconds=5))
    assert found.healthy and found.daemon is not None and found.daemon.pid == 2


def test_commands_are_no_daemon(settings: Settings, engine: sa.Engine) -> None:
    beat(engine, T0, role="cli")
    found = check_health(settings, now=T0)
    assert found.problem is not None and found.problem.startswith(f"no daemon on this host ({HERE})")
    assert "start one here: `aggregator run`" in found.problem


def test_another_hosts_daemon_counts_only_with_any_host(settings: Settings, engine: sa.Engine) -> None:
    beat(engine, T0, host="replica-b")
    mine = check_health(settings, now=T0, host="replica-a")
    assert mine.problem is not None
    assert "daemons on replica-b do (--any-host accepts them)" in mine.problem
    anywhere = check_health(settings, now=T0, any_host=True)
    assert anywhere.healthy and anywhere.daemon is not None and anywhere.daemon.host == "replica-b"
    beat(engine, T0, host="replica-a")
    assert check_health(settings, now=T0, host="replica-a").healthy


def test_no_daemon_at_all_with_any_host(settings: Settings, engine: sa.Engine) -> None:
    found = check_health(settings, now=T0, any_host=True)
    assert found.problem is not None and found.problem.startswith("no daemon has sent a heartbeat to ")


@pytest.mark.parametrize(
    ("written", "words"),
    [("0005", "behind this aggregator's"), ("0099", "which this aggregator does not know")],
)
def test_a_schema_behind_or_newer_is_unhealthy_and_left_as_it_is(
    settings: Settings, engine: sa.Engine, written: str, words: str
) -> None:
    beat(engine, T0)
    with engine.begin() as s:
        s.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": written})
    found = check_health(settings, now=T0)
    assert found.problem is not None and words in found.problem
    assert found.revision == written
    assert revision(engine) == written  # not migrated


def test_an_empty_database_is_reported_not_migrated(tmp_path: Path, database_url: str) -> None:
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data")
    path = db.sqlite_file(database_url)
    if path is not None:
        sqlite3.connect(path).close()  # an empty SQLite file
    found = check_health(settings, now=T0)
    assert found.problem is not None and "has no schema" in found.problem
    engine = db.create_engine_for(database_url)
    try:
        with engine.connect() as s:
            assert sa.inspect(s).get_table_names() == []
    finally:
        engine.dispose()


def test_a_missing_sqlite_file_is_reported_and_never_created(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "nowhere")
    found = check_health(settings, now=T0)
    assert found.problem is not None and found.problem.startswith(
        f"no database at {tmp_path / 'nowhere' / 'aggregator.sqlite3'} (start the daemon"
    )
    assert not (tmp_path / "nowhere").exists()


def test_a_file_that_is_no_database_is_unhealthy(tmp_path: Path) -> None:
    (tmp_path / "aggregator.sqlite3").write_bytes(b"not a database at all" * 100)
    found = check_health(Settings(data_dir=tmp_path), now=T0)
    assert found.problem is not None and "is not an intact SQLite database" in found.problem


def test_an_unreachable_server_is_unhealthy_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/nothing"
        found = check_health(Settings(database_url=url, data_dir=tmp_path), now=T0)
    assert found.problem is not None and "is unreachable" in found.problem
    assert "\n" not in found.problem


def test_durations_read_as_an_operator_says_them() -> None:
    cases = {0: "0 s", 59: "59 s", 60: "1 min", 200: "3 min 20 s", 7500: "2 h 5 min", 3 * 86400: "3 d"}
    assert {s: duration(timedelta(seconds=s)) for s in cases} == cases


# -- the command -----------------------------------------------------------------------------


def run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, args, env=env)
    return result.exit_code, result.output


def test_the_command_exits_0_for_a_live_daemon_and_1_otherwise(
    settings: Settings, engine: sa.Engine, database_url: str
) -> None:
    env = {"AGGREGATOR_DATABASE_URL": database_url}
    code, out = run(["health"], env)
    assert code == 1 and out.startswith(f"unhealthy: no daemon on this host ({HERE})"), out
    assert len(out.strip().splitlines()) == 1
    beat(engine, datetime.now(UTC))  # the command reads the real clock
    code, out = run(["health"], env)
    assert code == 0 and out.startswith(f"healthy: daemon {HERE}:4242 sent a heartbeat "), out
    code, out = run(["health", "--max-age", "0"], env)
    assert code == 2  # a usage error: at least a second


def test_a_bad_environment_is_unhealthy_with_exit_1_not_2(tmp_path: Path) -> None:
    code, out = run(
        ["health"], {"AGGREGATOR_DATA_DIR": str(tmp_path), "AGGREGATOR_DATABASE_BUSY_TIMEOUT": "x"}
    )
    assert code == 1  # Docker reserves exit 2
    assert out.strip() == (
        "unhealthy: environment: AGGREGATOR_DATABASE_BUSY_TIMEOUT: expected a number, got 'x' "
        "(change the value)"
    )
