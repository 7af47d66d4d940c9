"""A database that is busy or goes away: one line, a non-zero exit, nothing half-written.

SQLite: another connection holds the write lock for longer than the busy
timeout (AGGREGATOR_DATABASE_BUSY_TIMEOUT, set short here). PostgreSQL: the
commands reach the shared server through a TCP proxy on 127.0.0.1 that the
test cuts at a chosen moment (from the fixture server's request hook or the
poll's ``on_result``), so the server "stops" mid-poll without being touched.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from aggregator.app import make_app
from aggregator.cli import app as cli
from aggregator.config import Settings, load_config
from aggregator.errors import StorageError
from aggregator.service.polling import run_poll
from aggregator.store import db
from aggregator.store.tables import articles, candidates, decisions, feeds
from aggregator.types import FeedUpdateResult
from tests import feedgen
from tests.conftest import postgres_schema_url
from tests.fixture_server import FixtureServer, Request, Response
from tests.stock import Stock, feed_entries, stock
from tests.tcp_proxy import TcpProxy, proxy_to

runner = CliRunner()
BUSY_TIMEOUT = 0.2
FEEDS = {"alpha": ["Alpha one", "Alpha two"], "beta": ["Beta one"]}


def invoke(*args: str) -> Result:
    return runner.invoke(cli, list(args), catch_exceptions=False)


def one_error_line(result: Result) -> str:
    """The output of a failed command: exactly one line, 'error: ...', no traceback."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def table_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables a command may write, for before/after comparisons."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: [
                    dict(r._mapping) for r in conn.execute(sa.select(table).order_by(*table.primary_key))
                ]
                for table in (feeds, candidates, decisions, articles)
            }
    finally:
        engine.dispose()


def unclaimed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feed rows without their claim (a poll that stopped keeps its claims until they expire)."""
    return [{k: v for k, v in row.items() if k not in ("lease_owner", "lease_until")} for row in rows]


def titles(rows: list[dict[str, Any]]) -> list[str]:
    return [row["title"] for row in rows]


# -- SQLite: another process holds the write lock ------------------------------------------------


class WriteLock:
    """SQLite's write lock, held by a connection of the test's own (as another process's would be)."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.held = threading.Event()

    def take(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")
        self.held.set()

    def release(self) -> None:
        if self.held.is_set():
            self._conn.execute("ROLLBACK")
            self.held.clear()

    def close(self) -> None:
        self.release()
        self._conn.close()


@pytest.fixture
def sqlite_shop(
    tmp_path: Path, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Stock, Path]]:
    """Candidates in a SQLite file, the command line pointed at it with a short busy timeout."""
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "aggregator.sqlite3"
    shop = stock(server, tmp_path, f"sqlite:///{path}", FEEDS)
    shop.app.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("AGGREGATOR_DATABASE_BUSY_TIMEOUT", str(BUSY_TIMEOUT))
    yield shop, path


WRITERS = [
    ["poll", "--all", "--no-extract"],
    ["poll", "--all"],
    ["feeds", "status"],  # syncs feeds.yaml first
    ["shortlist", "{a1}"],
    ["promote", "{a1}", "--section", "research/nlp", "--note", "worth it"],
    ["reject", "{a1}", "--reason", "no"],
    ["snooze", "{a1}", "--until", "3d"],
    ["restore", "{a1}"],
    ["unpromote", "{a1}"],
    ["note", "{a1}", "a note"],
    ["undo"],
    ["extract", "--id", "{a1}"],
    ["digest", "publish", "2024-03"],
]


@pytest.mark.parametrize("args", WRITERS, ids=lambda a: " ".join(a))
def test_a_write_into_a_locked_sqlite_file_says_busy_in_one_line_and_changes_nothing(
    sqlite_shop: tuple[Stock, Path], args: list[str]
) -> None:
    shop, path = sqlite_shop
    url = f"sqlite:///{path}"
    args = [a.format(a1=shop.id("Alpha one")) for a in args]
    before = table_rows(url)
    lock = WriteLock(path)
    lock.take()
    try:
        result = invoke(*args)
    finally:
        lock.close()
    assert result.exit_code == 1
    line = one_error_line(result)
    assert f"the database {url} is busy" in line
    assert f"more than {BUSY_TIMEOUT:g} s" in line and "AGGREGATOR_DATABASE_BUSY_TIMEOUT" in line
    assert table_rows(url) == before


@pytest.mark.parametrize(
    "args", [["queue"], ["show", "{a1}"], ["candidates", "list"], ["log"], ["digest", "list"]]
)
def test_reading_a_locked_sqlite_file_still_works(sqlite_shop: tuple[Stock, Path], args: list[str]) -> None:
    shop, path = sqlite_shop
    lock = WriteLock(path)
    lock.take()
    try:
        result = invoke(*[a.format(a1=shop.id("Alpha one")) for a in args])
    finally:
        lock.close()
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("extract", [["--no-extract"], []], ids=["no-extract", "extract"])
def test_the_lock_taken_mid_poll_stops_the_poll_and_stores_nothing_half(
    sqlite_shop: tuple[Stock, Path], server: FixtureServer, extract: list[str]
) -> None:
    _, path = sqlite_shop
    url = f"sqlite:///{path}"
    before = table_rows(url)
    lock = WriteLock(path)
    body = feedgen.rss("alpha blog", server.base_url, feed_entries(server.url("/alpha"), ["Alpha three"]))

    def locked_meanwhile(_: Request) -> Response:
        lock.take()  # the poll claimed its feed; now another writer holds the file
        return Response(body=body, headers={"Content-Type": "application/rss+xml"})

    server.route("/alpha.xml", locked_meanwhile)
    try:
        result = invoke("poll", "--feed", "alpha", *extract)
    finally:
        lock.close()
    assert lock.held.is_set() is False and server.requests_for("/alpha.xml")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "polling stopped after storing 0 of 1 feeds" in line and "is busy" in line
    after = table_rows(url)
    assert after["candidates"] == before["candidates"]
    assert unclaimed(after["feeds"]) == unclaimed(before["feeds"])


def test_the_lock_taken_mid_extraction_stops_it_and_leaves_the_pages_pending(
    sqlite_shop: tuple[Stock, Path], server: FixtureServer
) -> None:
    shop, path = sqlite_shop
    url = f"sqlite:///{path}"
    lock = WriteLock(path)

    def locked_meanwhile(_: Request) -> Response:
        lock.take()
        return Response(status=404)

    server.route("/alpha/p/0", locked_meanwhile)
    try:
        result = invoke("extract", "--id", str(shop.id("Alpha one")))
    finally:
        lock.close()
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "extraction stopped after storing 0 articles" in line and "is busy" in line
    assert table_rows(url)["articles"] == []
    # Nothing was lost: the candidate is still pending, and extracting it again works.
    assert invoke("extract", "--id", str(shop.id("Alpha one"))).exit_code == 0
    assert len(table_rows(url)["articles"]) == 1


def test_the_busy_timeout_is_an_environment_setting(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    settings = Settings(database_url=f"sqlite:///{tmp_path}/data/a.sqlite3", database_busy_timeout=1.5)
    app = make_app(settings, load_config(_config(tmp_path)))
    try:
        assert db.busy_timeout(app.engine) == 1.5
        with app.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1500
    finally:
        app.close()
    assert Settings().database_busy_timeout == 30.0


def _config(folder: Path) -> Path:
    path = folder / "feeds.yaml"
    path.write_text(feedgen.feeds_yaml([]), encoding="utf-8")
    return path


# -- PostgreSQL: the server goes away -------------------------------------------------------------


@pytest.fixture
def pg_shop(
    tmp_path: Path, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Stock, str, TcpProxy]]:
    """Candidates in a fresh PostgreSQL schema; the command line reaches it through a proxy.

    Yields the stock, the direct URL (for checking afterwards) and the proxy.
    """
    urls = postgres_schema_url()
    direct = next(urls)
    real = make_url(direct)
    try:
        with proxy_to(real.host or "127.0.0.1", real.port or 5432) as proxy:
            proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
            shop = stock(server, tmp_path, proxied, FEEDS)
            shop.app.close()
            monkeypatch.chdir(tmp_path)
            monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
            monkeypatch.setenv("AGGREGATOR_DATABASE_URL", proxied)
            monkeypatch.setenv("AGGREGATOR_DATABASE_BUSY_TIMEOUT", "5")
            yield shop, direct, proxy
    finally:
        urls.close()


@pytest.mark.postgres
def test_postgres_gone_before_a_command_says_unreachable(pg_shop: tuple[Stock, str, TcpProxy]) -> None:
    shop, direct, proxy = pg_shop
    before = table_rows(direct)
    proxy.cut()
    for args in (["promote", str(shop.id("Alpha one")), "--section", "research/nlp"], ["queue"]):
        result = invoke(*args)
        assert result.exit_code == 1
        line = one_error_line(result)
        assert re.search(
            r"the database postgresql\+psycopg://postgres@127\.0\.0\.1:\d+/\S* is unreachable", line
        )
        assert "check that the server is running" in line
    assert table_rows(direct) == before


@pytest.mark.postgres
def test_postgres_gone_mid_poll_exits_1_and_stores_nothing(
    pg_shop: tuple[Stock, str, TcpProxy], server: FixtureServer
) -> None:
    """The issue's case: `poll --no-extract` exited 0 though nothing was stored."""
    _, direct, proxy = pg_shop
    before = table_rows(direct)
    body = feedgen.rss("alpha blog", server.base_url, feed_entries(server.url("/alpha"), ["Alpha three"]))

    def server_stops(_: Request) -> Response:
        proxy.cut()  # after the claim, before anything of the poll is stored
        return Response(body=body, headers={"Content-Type": "application/rss+xml"})

    server.route("/alpha.xml", server_stops)
    result = invoke("poll", "--all", "--no-extract")
    assert proxy.cut_done.is_set()
    assert result.exit_code == 1
    line = one_error_line(result)
    assert re.search(r"polling stopped after storing 0 of 2 feeds .*: the database \S+ is unreachable", line)
    after = table_rows(direct)
    assert after["candidates"] == before["candidates"]
    assert unclaimed(after["feeds"]) == unclaimed(before["feeds"])


@pytest.mark.postgres
def test_postgres_gone_mid_extraction_exits_1_and_keeps_what_the_poll_stored(
    pg_shop: tuple[Stock, str, TcpProxy], server: FixtureServer
) -> None:
    _, direct, proxy = pg_shop
    assert invoke("extract").exit_code == 0  # the stock's pages (404s), so only the new one is pending
    site = server.url("/news")
    server.add("/alpha.xml", feedgen.rss("alpha blog", server.base_url, feed_entries(site, ["Alpha new"])))
    before = table_rows(direct)

    def server_stops(_: Request) -> Response:
        proxy.cut()  # the poll has stored the new candidate; its page is being extracted
        return Response(status=404)

    server.route("/news/p/0", server_stops)
    result = invoke("poll", "--feed", "alpha")
    assert proxy.cut_done.is_set()
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "extraction stopped after storing 0 articles" in line and "is unreachable" in line
    after = table_rows(direct)
    assert "Alpha new" in titles(after["candidates"])  # the poll's own write stands
    assert after["articles"] == before["articles"]  # no article half-saved; the new one stays pending


@pytest.mark.postgres
def test_postgres_gone_between_two_batches_raises_naming_what_was_stored(
    pg_shop: tuple[Stock, str, TcpProxy], server: FixtureServer
) -> None:
    shop, direct, proxy = pg_shop
    gate = threading.Event()
    beta = feedgen.rss("beta blog", server.base_url, feed_entries(server.url("/beta"), ["Beta two"]))
    server.route("/beta.xml", Response(body=beta, headers={"Content-Type": "application/rss+xml"}, gate=gate))
    before = table_rows(direct)

    def first_stored(result: FeedUpdateResult) -> None:
        assert result.feed_name == "alpha"
        proxy.cut()  # alpha's batch is committed; beta is still being fetched
        gate.set()

    config = load_config(shop.config_path)
    app = make_app(Settings(database_url=make_url(direct).set(port=proxy.port).render_as_string(False),
                            database_busy_timeout=5), config, clock=shop.clock, parse_workers=0)  # fmt: skip
    shop.clock.advance(timedelta(days=1))
    try:
        with pytest.raises(StorageError, match=r"stopped after storing 1 of 2 feeds .* is unreachable"):
            run_poll(app, due_only=False, on_result=first_stored)
    finally:
        gate.set()
        app.close()
    after = table_rows(direct)
    polled = {row["name"]: row["last_polled_at"] for row in after["feeds"]}
    was = {row["name"]: row["last_polled_at"] for row in before["feeds"]}
    assert polled["alpha"] != was["alpha"] and polled["beta"] == was["beta"]
    assert "Beta two" not in titles(after["candidates"])


@pytest.mark.postgres
def test_a_row_another_postgres_session_holds_past_the_timeout_says_busy(
    pg_shop: tuple[Stock, str, TcpProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, direct, _ = pg_shop
    monkeypatch.setenv("AGGREGATOR_DATABASE_BUSY_TIMEOUT", str(BUSY_TIMEOUT))
    one = shop.id("Alpha one")
    before = table_rows(direct)
    other = sa.create_engine(direct)
    try:
        with other.begin() as conn:  # a curator's transaction, still open, holds the row
            conn.execute(sa.select(candidates.c.id).where(candidates.c.id == one).with_for_update())
            result = invoke("shortlist", str(one))
    finally:
        other.dispose()
    assert result.exit_code == 1
    line = one_error_line(result)
    assert re.search(
        rf"the database \S+ is busy: another process has held a lock on it for more than {BUSY_TIMEOUT:g} s",
        line,
    )
    assert table_rows(direct) == before
