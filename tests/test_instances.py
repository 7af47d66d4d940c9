"""Claims by instance: a UUID per process with a heartbeat, and the App's long-lived pools.

A claim is taken over before its lease ends when its instance is gone: its
heartbeat is older than a lease, its process on this host has died, or it is
this process's own PID under another id (a restarted container, PID 1 again).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator import app as app_module
from aggregator.app import App, make_app
from aggregator.config import Settings, load_config
from aggregator.feeds.health import feed_health
from aggregator.service import Service
from aggregator.service.polling import run_poll
from aggregator.store import claims
from aggregator.store.tables import feeds, instances
from aggregator.types import FeedState, Validators
from tests import feedgen
from tests.fixture_server import FixtureServer
from tests.stock import Clock

T0 = datetime(2024, 3, 2, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


@pytest.fixture
def app(tmp_path: Path, database_url: str, server: FixtureServer) -> Iterator[App]:
    site = server.base_url
    pairs = []
    for name in ("alpha", "beta"):
        server.add(f"/{name}.xml", feedgen.rss(name, site, feedgen.entries(f"{site}/{name}", 2)))
        pairs.append((name, server.url(f"/{name}.xml")))
    path = tmp_path / "feeds.yaml"
    path.write_text(feedgen.feeds_yaml(pairs), encoding="utf-8")
    built = make_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data"), load_config(path), config_path=path,
        clock=Clock(T0), rng=random.Random(7), parse_workers=0,
    )  # fmt: skip
    built.sync_feeds()
    try:
        yield built
    finally:
        built.close()


def held_by(app: App, *, host: str, pid: int, heartbeat: datetime, until: datetime = T0 + LEASE) -> str:
    """Every feed claimed until ``until`` by a recorded instance of ``host`` and ``pid``; its id."""
    other = str(uuid.uuid4())
    with app.write() as s:
        s.execute(
            sa.insert(instances).values(
                id=other, host=host, pid=pid, started_at=heartbeat, heartbeat_at=heartbeat
            )
        )
        s.execute(sa.update(feeds).values(lease_owner=other, lease_until=until))
    return other


def dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(child.stdout)


def test_a_poll_records_its_instance_and_heartbeat(app: App) -> None:
    assert len(run_poll(app).results) == 2
    with app.read() as s:
        row = s.execute(sa.select(instances)).one()
    assert (row.id, row.host, row.pid) == (app.instance_id, socket.gethostname(), os.getpid())
    assert row.started_at == row.heartbeat_at == T0
    uuid.UUID(app.instance_id)  # a UUID, not host:pid

    app.clock.now = T0 + timedelta(hours=3)  # type: ignore[attr-defined]
    run_poll(app)
    with app.read() as s:
        row = s.execute(sa.select(instances)).one()
    assert (row.started_at, row.heartbeat_at) == (T0, T0 + timedelta(hours=3))


def test_a_live_instance_on_another_host_keeps_its_claims_and_is_named(app: App) -> None:
    held_by(app, host="replica-2", pid=4242, heartbeat=T0 - timedelta(minutes=1))

    run = Service(app).polling.poll(extract=False)

    assert run.report.results == ()
    assert run.outlook is not None and run.outlook.holders == ("replica-2:4242",)


def test_an_instance_whose_heartbeat_is_older_than_a_lease_loses_its_claims(app: App) -> None:
    held_by(app, host="replica-2", pid=4242, heartbeat=T0 - LEASE - timedelta(seconds=1))

    assert {r.feed_name for r in run_poll(app).results} == {"alpha", "beta"}


def test_a_dead_process_on_this_host_loses_its_claims_at_once(app: App) -> None:
    held_by(app, host=socket.gethostname(), pid=dead_pid(), heartbeat=T0)

    assert {r.feed_name for r in run_poll(app).results} == {"alpha", "beta"}


def test_a_restarted_container_is_not_mistaken_for_its_previous_life(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The container's previous life: PID 1 on this host, claims still within their lease.
    previous = held_by(app, host=socket.gethostname(), pid=1, heartbeat=T0)
    # Restarted: the new process is PID 1 again, on the same host name.
    monkeypatch.setattr(os, "getpid", lambda: 1)
    monkeypatch.setattr(app_module, "_instance", None)
    assert app.instance.pid == 1 and app.instance_id != previous

    assert {r.feed_name for r in run_poll(app).results} == {"alpha", "beta"}
    with app.read() as s:
        hosts = dict(s.execute(sa.select(instances.c.id, instances.c.pid)).all())
    assert hosts == {previous: 1, app.instance_id: 1}


def test_a_claim_naming_no_instance_is_held_until_its_lease_ends(app: App) -> None:
    with app.write() as s:
        s.execute(sa.update(feeds).values(lease_owner=f"{socket.gethostname()}:1", lease_until=T0 + LEASE))
    assert run_poll(app).results == ()
    app.clock.now = T0 + LEASE  # type: ignore[attr-defined]
    assert len(run_poll(app).results) == 2


def test_instances_long_silent_and_holding_nothing_are_forgotten(app: App) -> None:
    old = held_by(app, host="gone", pid=7, heartbeat=T0 - timedelta(days=30), until=T0 - timedelta(days=30))
    run_poll(app)
    with app.read() as s:
        ids = set(s.execute(sa.select(instances.c.id)).scalars())
    assert old not in ids and app.instance_id in ids


def test_the_instance_id_is_one_per_process() -> None:
    assert app_module.this_instance() is app_module.this_instance()
    child = subprocess.run(
        [sys.executable, "-c", "from aggregator.app import this_instance; print(this_instance().id)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert child.stdout.strip() != app_module.this_instance().id


# -- the App's long-lived pools ------------------------------------------------------------------


def test_polls_reuse_the_parse_pool_and_close_closes_it(app: App) -> None:
    run_poll(app, due_only=False)
    first = app._parse_pool
    assert first is not None
    run_poll(app, due_only=False)
    assert app._parse_pool is first
    extraction = app.extraction_pool()
    assert app.extraction_pool() is extraction

    app.close()

    assert app._parse_pool is None and app._extraction_pool is None
    with pytest.raises(RuntimeError, match="closed"):
        extraction.submit(print)


def test_a_poll_needing_more_parse_workers_gets_a_bigger_pool(app: App) -> None:
    app.parse_workers = 2
    small = app.parse_pool(3)
    assert small.workers == 1 and app.parse_pool(20) is small
    big = app.parse_pool(45)
    assert big.workers == 2 and big is not small
    assert app.parse_pool(1) is big  # never smaller again


# -- feed health (pure) -----------------------------------------------------------------------------


def _state(**changes: object) -> FeedState:
    base: dict[str, object] = dict(
        id=1, name="a", url="https://a.test/feed", config_url="https://a.test/feed", label="", language=None,
        section_hint=None, weight=1.0, interval=timedelta(hours=1), enabled=True, validators=Validators(),
        body_hash=None, title=None, site_url=None, last_polled_at=T0, last_success_at=T0, last_error_at=None,
        last_error=None, last_warning=None, error_count=0, next_poll_at=None, gone_at=None, redirect_url=None,
        redirect_count=0,
    )  # fmt: skip
    return FeedState(**(base | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "health"),
    [
        ({}, "ok"),
        ({"enabled": False, "gone_at": T0}, "disabled"),
        ({"gone_at": T0, "error_count": 1}, "gone"),
        ({"last_polled_at": None}, "never polled"),
        ({"error_count": 2, "last_warning": "x"}, "failing"),
        ({"last_warning": "not well-formed"}, "malformed"),
    ],
)
def test_feed_health(changes: dict[str, object], health: str) -> None:
    assert feed_health(_state(**changes), T0) == health


def test_claim_outlook_names_unknown_owners_as_written(app: App) -> None:
    with app.write() as s:
        s.execute(sa.update(feeds).values(lease_owner="replica-9:1", lease_until=T0 + LEASE))
    with app.read() as s:
        assert claims.claim_outlook(s, now=T0).holders == ("replica-9:1",)
