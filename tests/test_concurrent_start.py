"""Two processes at once on one database: the several-replicas set-up the README describes.

Each test starts two processes at the same instant (a barrier, or one write
releasing two launchers) on a fresh database, each running the real code path:
``make_app`` and ``sync_feeds`` as every command does, and ``aggregator poll``
itself against feeds served on 127.0.0.1. Each is repeated for several rounds.
Before feed sync used upserts and schema creation took a lock, every round on
a fresh database failed on both backends (PostgreSQL: a duplicate
``alembic_version`` key or table; SQLite: "database is locked" while
migrating), and every PostgreSQL round of new feeds failed on ``uq_feeds_name``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from aggregator.app import make_app
from aggregator.cli import app as cli
from aggregator.config import Settings, load_config
from aggregator.store import repo
from aggregator.store.tables import candidates, feeds
from tests import feedgen
from tests.conftest import postgres_schema_url
from tests.fixture_server import FixtureServer
from tests.racers import GATED_CLI, Workers, connect_worker
from tests.stock import Stock, stock

ROUNDS = 4
#: Rounds of the command-line race: each starts two interpreters (about 1.3 s of CPU apiece).
CLI_ROUNDS = 2
#: Feeds polled by the command-line race.
FEEDS = [f"feed-{i}" for i in range(8)]
#: Feeds synced by the process races: enough that the old one-INSERT-a-feed sync held its
#: transaction open long enough for the twin's read to land inside it.
SYNC_FEEDS = [f"feed-{i:02d}" for i in range(60)]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A database nobody has used yet: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        folder.mkdir(parents=True)
        yield f"sqlite:///{folder / 'aggregator.sqlite3'}"
        return
    urls = postgres_schema_url()
    try:
        yield next(urls)
    finally:
        urls.close()


def write_config(folder: Path, names: list[str], server: FixtureServer | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    base = server.base_url if server else "http://127.0.0.1:9"
    path = folder / "feeds.yaml"
    path.write_text(feedgen.feeds_yaml([(name, f"{base}/{name}.xml") for name in names]), encoding="utf-8")
    return path


def feed_names(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(sa.select(feeds.c.name)).scalars())
    finally:
        engine.dispose()


def race_start(backend: str, tmp_path: Path, *, schema_first: bool) -> list[str]:
    """ROUNDS rounds of two processes starting at once; returns the problems seen."""
    problems: list[str] = []
    with Workers(2) as workers:
        for n in range(ROUNDS):
            folder = tmp_path / f"round-{n}"
            config = write_config(folder, SYNC_FEEDS)
            with fresh_database(backend, folder / "data") as url:
                if schema_first:  # the schema exists; only the feeds are new
                    make_app(Settings(database_url=url), load_config(config)).close()
                outcomes = workers.run((url, str(config)))
                errors = [detail for kind, detail in outcomes if kind == "error"]
                added = [name for kind, detail in outcomes if kind == "ok" for name in detail]
                if errors:
                    problems.append(f"round {n}: {errors}")
                elif sorted(added) != SYNC_FEEDS:
                    problems.append(f"round {n}: feeds reported added {sorted(added)}")
                elif feed_names(url) != SYNC_FEEDS:
                    problems.append(f"round {n}: feeds table holds {feed_names(url)}")
    return problems


#: Rounds of two processes opening a fresh SQLite file: a few milliseconds each.
CONNECT_ROUNDS = 300


def test_two_processes_open_a_fresh_sqlite_file_at_once(tmp_path: Path) -> None:
    """Switching a new file to WAL takes a lock SQLite's busy handler does not wait for.

    Before the switch was retried, this failed ("database is locked") for between
    2 and 115 of 1,200 connections in a run, depending on the machine's load.
    """
    problems = []
    with Workers(2, target=connect_worker) as workers:
        for n in range(CONNECT_ROUNDS):
            outcomes = workers.run(f"sqlite:///{tmp_path / f'{n}.sqlite3'}")
            problems += [
                f"round {n}: {detail}" for kind, detail in outcomes if kind != "ok" or detail != "wal"
            ]
    assert problems == []


def test_two_processes_create_the_schema_and_feeds_of_a_fresh_database(backend: str, tmp_path: Path) -> None:
    assert race_start(backend, tmp_path, schema_first=False) == []


def test_two_processes_sync_new_feeds_at_once(backend: str, tmp_path: Path) -> None:
    assert race_start(backend, tmp_path, schema_first=True) == []


def gated_cli(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int, int]:
    """``aggregator ARGS`` in a launcher that has imported everything and waits for the go byte."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-c", GATED_CLI, *args],
        cwd=cwd,
        env=env | {"RACE_READY_FD": str(ready_w), "RACE_GO_FD": str(go_r)},
        pass_fds=(ready_w, go_r),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(ready_w)
    os.close(go_r)
    return proc, ready_r, go_w


def test_two_polls_of_new_feeds_at_once_through_the_command_line(
    backend: str, tmp_path: Path, server: FixtureServer
) -> None:
    for name in FEEDS:
        entries = feedgen.entries(server.url(f"/{name}"), 2, seed=3)
        server.add(f"/{name}.xml", feedgen.rss(f"{name} blog", server.base_url, entries))
    problems: list[str] = []
    polled_before = 0
    for n in range(CLI_ROUNDS):
        folder = tmp_path / f"round-{n}"
        write_config(folder, FEEDS, server)
        with fresh_database(backend, folder / "data") as url:
            env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
            env |= {"AGGREGATOR_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
            racers = [gated_cli(["poll", "--all", "--no-extract"], folder, env) for _ in range(2)]
            for _, ready, _ in racers:
                assert os.read(ready, 1) == b"r"  # imported and waiting
            for _, _, go in racers:
                os.write(go, b"g")
            outputs = []
            for proc, ready, go in racers:
                out, err = proc.communicate(timeout=120)
                os.close(ready)
                os.close(go)
                outputs.append((proc.returncode, out.decode(), err.decode()))
            for code, out, err in outputs:
                if code != 0 or "Traceback" in err:
                    problems.append(f"round {n}: exit {code}: {err.strip().splitlines()[-1:] or out}")
                elif "use --all" in out:  # run with --all: the loser must say another poll has the feeds
                    problems.append(f"round {n}: {out.strip()}")
            fetched = len(server.requests) - polled_before
            polled_before = len(server.requests)
            if fetched != len(FEEDS):
                problems.append(f"round {n}: {fetched} fetches for {len(FEEDS)} feeds")
            engine = sa.create_engine(url)
            try:
                with engine.connect() as conn:
                    stored = conn.execute(sa.select(sa.func.count()).select_from(candidates)).scalar()
                    names = sorted(conn.execute(sa.select(feeds.c.name)).scalars())
            finally:
                engine.dispose()
            if names != FEEDS or stored != 2 * len(FEEDS):
                problems.append(f"round {n}: feeds {names}, {stored} candidates")
    assert problems == []


# -- what the poll that claimed nothing says -------------------------------------------------------


@pytest.fixture
def polled(
    tmp_path: Path, database_url: str, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> Stock:
    shop = stock(server, tmp_path, database_url, {"alpha": ["A one"], "beta": ["B one"], "gamma": ["C one"]})
    shop.app.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    return shop


def poll_output(*args: str) -> str:
    result = CliRunner().invoke(cli, ["poll", "--no-extract", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_a_poll_run_with_all_while_another_holds_the_feeds_says_so(polled: Stock, database_url: str) -> None:
    now = datetime.now(UTC)
    app = make_app(Settings(database_url=database_url), load_config(polled.config_path))
    try:
        with app.write() as s:
            held = repo.claim_feeds(
                s, now=now, lease=timedelta(minutes=10), owner="replica-2:4242", due_only=False
            )
    finally:
        app.close()
    assert len(held) == 3
    until = (now + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M")
    expected = f"Another poll (replica-2:4242) has claimed 3 feeds until {until} UTC and is polling them"
    for args in (["--all"], [], ["--feed", "beta"]):
        out = poll_output(*args)
        assert "--all" not in out
        assert out.startswith(expected.replace("3 feeds", "1 feed") if args[:1] == ["--feed"] else expected)


def test_a_poll_of_disabled_or_not_yet_due_feeds_says_which(polled: Stock) -> None:
    assert "3 feeds polled" in poll_output()  # the stock was polled at its own clock's time, long ago
    due = poll_output()
    assert due.startswith("No feed is due (the next at ") and due.endswith(
        "UTC): use --all to poll every feed now."
    )
    text = polled.config_path.read_text(encoding="utf-8")
    polled.config_path.write_text(
        text.replace("    label:", "    enabled: false\n    label:"), encoding="utf-8"
    )
    for args in (["--all"], []):
        assert (
            poll_output(*args)
            == "Every feed in feeds.yaml is disabled (enabled: false): there is nothing to poll."
        )
