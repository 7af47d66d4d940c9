"""Daemon replicas on PostgreSQL: two processes share 200 feeds, each due feed fetched once per due period.

Each replica is a real process (spawned) running the daemon's own operations
(``Service.daemon``: the tick, the weekly and monthly jobs) on a clock the test
moves for both at once; the feeds are served on 127.0.0.1 by the test's
server, which counts every request. One replica is killed with SIGKILL in the
middle of a cycle; the other takes its feeds over and nothing is lost.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests import feedgen
from tests.conftest import postgres_schema_url
from tests.fixture_server import FixtureServer, Response, serve

pytestmark = pytest.mark.postgres

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday
FEEDS = 200
HOSTS = 20
ENTRIES = 3
PERIOD = timedelta(hours=2)  # every feed polls hourly (plus jitter): due once in each period
LEASE = timedelta(minutes=10, seconds=1)  # App.lease (at least 10 min), and a second


class SharedClock:
    """The test's clock, read by every replica: seconds since the epoch in shared memory."""

    def __init__(self, value: Synchronized[float]) -> None:
        self.value = value

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.value.value, UTC)


def replica(conn: Connection, url: str, config_path: str, data_dir: str, clock: Synchronized[float]) -> None:
    """A replica: runs the daemon's operations the test asks for, one at a time, and answers each."""
    from aggregator.app import make_app
    from aggregator.config import Settings, load_configuration
    from aggregator.service import Service

    app = make_app(
        Settings(database_url=url, data_dir=Path(data_dir)), load_configuration(Path(config_path)),
        config_path=Path(config_path), clock=SharedClock(clock), parse_workers=0,
    )  # fmt: skip
    service = Service(app)
    service.feeds.sync()  # as the daemon does when it starts
    conn.send(("ready", os.getpid()))
    while True:
        command, *args = conn.recv()
        if command == "tick":
            run = service.daemon.tick()
            conn.send(("polled", len(run.report.results) if run else 0))
        elif command == "weekly":
            result = service.daemon.weekly_email(args[0])
            conn.send(("weekly", result.ran_on is None, result.outcome))
        elif command == "monthly":
            result = service.daemon.open_draft(args[0])
            conn.send(("monthly", result.ran_on is None, result.outcome))
        else:
            service.daemon.release()
            service.close()
            conn.send(("stopped",))
            return


class Replica:
    def __init__(self, ctx: Any, url: str, config: Path, data_dir: Path, clock: Synchronized[float]) -> None:
        self.conn, there = ctx.Pipe()
        self.process = ctx.Process(target=replica, args=(there, url, str(config), str(data_dir), clock))
        self.process.start()
        ready, self.pid = self.conn.recv()
        assert ready == "ready"

    def send(self, *command: Any) -> None:
        self.conn.send(command)

    def answer(self, timeout: float = 120) -> Any:
        assert self.conn.poll(timeout), "the replica did not answer"
        return self.conn.recv()

    def ask(self, *command: Any) -> Any:
        self.send(*command)
        return self.answer()

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.process.join(30)

    def stop(self) -> None:
        if self.process.is_alive():
            self.send("stop")
            self.answer()
            self.process.join(30)


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from postgres_schema_url()


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    """The feeds' server on 20 ports (hosts, to the fetcher's per-host limit), so that ten answers held
    back (one per host) never keep the other feeds' requests waiting."""
    with serve(ports=HOSTS) as running:
        yield running


@pytest.fixture
def site(server: FixtureServer) -> list[str]:
    """200 feeds, each with its entries; the paths the feeds are served at."""
    paths = []
    for i in range(FEEDS):
        path = f"/feeds/{i}.xml"
        items = feedgen.entries(f"{server.base_url}/b{i}", ENTRIES, seed=i, start=T0 - timedelta(days=1))
        server.add(path, feedgen.rss(f"Blog {i}", server.base_url, items), etag=f'"{i}"')
        paths.append(path)
    return paths


def fetches(server: FixtureServer, paths: list[str]) -> Counter[str]:
    counts = Counter(r.path for r in server.requests if r.path.startswith("/feeds/"))
    return Counter({path: counts[path] for path in paths})


def test_two_replicas_fetch_each_due_feed_once_and_survive_a_killed_one(
    tmp_path: Path, pg_url: str, server: FixtureServer, site: list[str]
) -> None:
    config = tmp_path / "feeds.yaml"
    text = feedgen.feeds_yaml([(f"feed-{i}", server.url(p, i % HOSTS)) for i, p in enumerate(site)])
    # Held answers must outlast the kill, not time out first (the lease stays 10 min: 3 x 120 s < 10 min).
    config.write_text(
        text.replace("read_timeout: 2", "read_timeout: 60").replace("deadline: 5", "deadline: 120")
    )
    ctx = multiprocessing.get_context("spawn")
    clock = ctx.Value("d", T0.timestamp(), lock=False)
    replicas = [Replica(ctx, pg_url, config, tmp_path / f"data{n}", clock) for n in range(2)]
    try:
        # Several due periods: both replicas tick twice each period, at once; each feed is fetched once.
        for period in range(3):
            for _ in range(2):
                for r in replicas:
                    r.send("tick")
                polled = [r.answer()[1] for r in replicas]
                assert sum(polled) in (0, FEEDS)
            assert fetches(server, site) == Counter(dict.fromkeys(site, period + 1))
            clock.value += PERIOD.total_seconds()

        # The weekly and monthly jobs run once across replicas, whoever fires first.
        for r in replicas:
            r.send("weekly", "2024-W10")
        assert sorted(r.answer()[1] for r in replicas) == [False, True]
        for r in replicas:
            r.send("monthly", "2024-04")
        assert sorted(r.answer()[1:] for r in replicas) == [(False, "skipped"), (True, "ok")]

        # Killed mid-cycle: replica 0 claims every due feed, and ten answers are held back.
        gate = threading.Event()
        held = site[:10]  # on ten hosts, one each
        for path in held:
            server.route(path, Response(status=200, body=b"", gate=gate))
        before = len(server.requests)
        replicas[0].send("tick")
        assert server.wait_for_requests(before + FEEDS, timeout=60)  # every feed asked for
        replicas[0].kill()
        gate.set()
        for i, path in enumerate(held):  # the held feeds are well again, with their entries
            items = feedgen.entries(f"{server.base_url}/b{i}", ENTRIES, seed=i, start=T0 - timedelta(days=1))
            server.add(path, feedgen.rss(f"Blog {i}", server.base_url, items), etag=f'"{i}"')
        # Replica 1 takes the dead replica's unfinished feeds once their lease has expired (the dead
        # replica is made to look as if it ran on another host, where its process cannot be checked).
        engine = sa.create_engine(pg_url)
        try:
            with engine.begin() as s:
                s.execute(
                    sa.text("UPDATE instances SET host = 'another-host' WHERE pid = :pid"),
                    {"pid": replicas[0].pid},
                )
        finally:
            engine.dispose()
        assert replicas[1].ask("tick")[1] == 0  # held by the dead replica's lease
        clock.value += LEASE.total_seconds()
        assert replicas[1].ask("tick")[1] >= len(held)
        assert replicas[1].ask("tick")[1] == 0  # nothing is left due in this period
        counts = fetches(server, site)
        assert all(counts[p] == 5 for p in held)  # 3 periods, the killed replica's try, the takeover
        assert all(counts[p] in (4, 5) for p in site[10:])  # stored before the kill, or taken over

        engine = sa.create_engine(pg_url)
        try:
            with engine.begin() as s:
                stored = s.execute(sa.text("SELECT feed_id, entry_key FROM candidates")).all()
                leases = s.execute(
                    sa.text("SELECT count(*) FROM feeds WHERE lease_until IS NOT NULL")
                ).scalar()
                runs = s.execute(
                    sa.text("SELECT job, count(*) FROM job_runs GROUP BY job ORDER BY job")
                ).all()
        finally:
            engine.dispose()
        assert len(stored) == len(set(stored)) == FEEDS * ENTRIES  # nothing lost, nothing twice
        assert leases == 0  # every claim released by the writes
        assert [tuple(r) for r in runs] == [("monthly_draft", 1), ("weekly_email", 1)]
    finally:
        for r in replicas[1:]:
            r.stop()
        for r in replicas:
            if r.process.is_alive():
                r.kill()
