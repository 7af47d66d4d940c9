"""``aggregator status``: daemons, feeds due and failing, pending extractions, jobs' last and next runs."""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import aggregator.cli as cli
from aggregator.app import App, make_app
from aggregator.config import Settings, load_config
from aggregator.ops_types import Instance
from aggregator.service import Service
from aggregator.service.ops import JOBS
from aggregator.store import claims, jobs
from tests import feedgen
from tests.fixture_server import FixtureServer, Response
from tests.stock import Clock

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
NEXT_WEEKLY = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
SUMMARY = {
    "tick": {"polled": 2, "new": 3, "failing": 1},
    "next_runs": {
        "weekly_email": NEXT_WEEKLY.isoformat(),
        "monthly_draft": "2027-01-01T00:00:00+00:00",
        "housekeeping": "not a date",  # another version's summary: no next run, no error
    },
}


@pytest.fixture
def config_path(tmp_path: Path, server: FixtureServer) -> Path:
    site = server.base_url
    server.add("/ok.xml", feedgen.rss("ok", site, feedgen.entries(site, 3)))
    server.route("/broken.xml", Response(status=500, body=b"down"))
    path = tmp_path / "feeds.yaml"
    pairs = [("ok", server.url("/ok.xml")), ("broken", server.url("/broken.xml"))]
    path.write_text(feedgen.feeds_yaml(pairs), encoding="utf-8")
    return path


@pytest.fixture
def service(tmp_path: Path, database_url: str, config_path: Path) -> Iterator[Service]:
    app = make_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data"), load_config(config_path),
        config_path=config_path, clock=Clock(T0), rng=random.Random(7), parse_workers=0,
    )  # fmt: skip
    built = Service(app)
    built.feeds.sync()
    built.polling.poll(extract=False)
    try:
        yield built
    finally:
        built.close()


def beat(app: App, host: str, pid: int, now: datetime, summary: dict[str, Any] | None = None) -> None:
    with app.write() as s:
        claims.heartbeat(s, Instance(f"{host}-{pid}", host, pid), now, role="daemon", version="0.1.0",
                         summary=summary)  # fmt: skip


def record_run(app: App, job: str, period: str, *, ok: bool, detail: str | None) -> None:
    with app.write() as s:
        assert jobs.claim_run(s, job=job, period=period, instance_id="x", now=T0, lease=timedelta(hours=1))
        jobs.finish_run(s, job=job, period=period, instance_id="x", now=T0, ok=ok, detail=detail)


def test_status_shows_daemons_feeds_and_the_jobs_last_and_next_runs(service: Service) -> None:
    app = service.app
    beat(app, "replica-a", 7, T0 - timedelta(seconds=30), SUMMARY)
    beat(
        app,
        "replica-b",
        9,
        T0 - timedelta(hours=3),
        {"next_runs": {"weekly_email": "2026-12-08T00:00:00+00:00"}},
    )
    record_run(app, "weekly_email", "2026-W49", ok=True, detail="sent 3")
    record_run(app, "housekeeping", "2026-12-07", ok=False, detail="analyze failed")
    record_run(app, "tidy_up", "2026-12-07", ok=True, detail=None)  # a job this code does not list

    found = service.ops.status()

    assert [(r.host, found.live(r)) for r in found.daemons] == [("replica-a", True), ("replica-b", False)]
    assert [r.host for r in found.running] == ["replica-a"]
    assert found.gauges.feeds_by_health == {"ok": 1, "failing": 1}
    assert found.gauges.due == 0
    assert found.gauges.pending_extractions == 3
    assert [(f.name, f.error_count) for f in found.failing] == [("broken", 1)]
    assert found.failing[0].last_error and "500" in found.failing[0].last_error
    by_job = {j.job: j for j in found.jobs}
    assert [j.job for j in found.jobs] == [*JOBS, "tidy_up"]
    weekly = by_job["weekly_email"]
    assert weekly.last is not None and (weekly.last.period, weekly.last.outcome) == ("2026-W49", "ok")
    assert weekly.next_run == NEXT_WEEKLY  # the running daemon's, not the stale one's
    assert by_job["monthly_draft"].last is None
    assert by_job["monthly_draft"].next_run == datetime(2027, 1, 1, tzinfo=UTC)
    housekeeping = by_job["housekeeping"]
    assert housekeeping.last is not None and housekeeping.last.outcome == "failed"
    assert housekeeping.next_run is None


def test_without_a_fresh_daemon_there_is_no_next_run(service: Service) -> None:
    beat(service.app, "replica-a", 7, T0, SUMMARY)
    service.app.clock.advance(timedelta(minutes=2, seconds=1))  # type: ignore[attr-defined]
    found = service.ops.status()
    assert found.running == ()
    assert all(j.next_run is None for j in found.jobs)
    assert service.ops.status(max_age=timedelta(minutes=5)).running != ()


# -- the command -----------------------------------------------------------------------------


def invoke(config_path: Path, database_url: str, *args: str) -> tuple[int, str]:
    env = {"AGGREGATOR_DATABASE_URL": database_url}
    result = CliRunner().invoke(cli.app, ["--config", str(config_path), "status", *args], env=env)
    return result.exit_code, result.output


def test_the_command_prints_plain_full_lines_off_a_terminal(
    service: Service, config_path: Path, database_url: str
) -> None:
    code, out = invoke(config_path, database_url)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("database: ")
    assert "no daemon running: none sent a heartbeat in the last 2 min (start one: `aggregator run`)" in lines
    feeds = next(line for line in lines if line.startswith("feeds: "))
    assert feeds.startswith("feeds: 2 (failing 1, ok 1), ")  # how many are due: as of the real clock
    failing = next(line for line in lines if line.startswith("failing feed broken: "))
    assert failing.endswith("(1 error in a row)")
    assert "extractions pending: 3" in lines
    assert "job weekly_email: last never run; next no daemon running" in lines

    beat(service.app, "replica-a", 7, datetime.now(UTC), SUMMARY)  # the command reads the real clock
    record_run(service.app, "weekly_email", "2026-W49", ok=True, detail="sent 3")
    code, out = invoke(config_path, database_url)
    lines = out.splitlines()
    daemon = next(line for line in lines if line.startswith("daemon replica-a:7 "))
    assert daemon.startswith("daemon replica-a:7 running, version 0.1.0, started ")
    assert daemon.endswith("last tick: polled 2, new 3, failing 1")
    assert "job weekly_email: last 2026-W49 ok at 2026-12-07 08:00 (sent 3); next 2026-12-14 09:00" in lines
    assert "job housekeeping: last never run; next not scheduled" in lines
    assert len(daemon) > 80  # one line, never wrapped or cut at a terminal's width


def test_the_command_prints_json_for_machines(service: Service, config_path: Path, database_url: str) -> None:
    beat(service.app, "replica-a", 7, datetime.now(UTC), SUMMARY)
    code, out = invoke(config_path, database_url, "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["running"] == 1
    (daemon,) = data["daemons"]
    assert (daemon["host"], daemon["pid"], daemon["running"]) == ("replica-a", 7, True)
    assert daemon["summary"] == SUMMARY
    assert data["feeds"]["by_state"] == {"ok": 1, "failing": 1}
    assert [f["name"] for f in data["feeds"]["failing"]] == ["broken"]
    assert data["pending_extractions"] == 3
    weekly = next(j for j in data["jobs"] if j["job"] == "weekly_email")
    assert weekly == {"job": "weekly_email", "next_run": NEXT_WEEKLY.isoformat(), "last": None}


def test_the_facade_judges_health_at_its_clock(service: Service) -> None:
    beat(service.app, socket.gethostname(), 7, T0)
    assert service.ops.health().healthy
    service.app.clock.advance(timedelta(minutes=3))  # type: ignore[attr-defined]
    stale = service.ops.health()
    assert stale.problem is not None and "sent its last heartbeat 3 min ago" in stale.problem
    assert service.ops.health(max_age=timedelta(minutes=5)).healthy
