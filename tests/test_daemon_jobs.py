"""The daemon's scheduled jobs: their cron and periods, once per period across replicas, housekeeping,
the heartbeat's summary; on both backends, with an injected clock and APScheduler's real triggers."""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from aggregator.app import App, make_app
from aggregator.config import Settings, load_config
from aggregator.configuration import EmailSchedule
from aggregator.daemon import schedule
from aggregator.daemon.work import Work
from aggregator.ops_types import Instance
from aggregator.service import Service
from aggregator.store import claims, jobs
from aggregator.store.tables import digests, feeds, instances, job_runs
from tests import feedgen
from tests.stock import Clock

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[App]:
    path = tmp_path / "feeds.yaml"
    path.write_text(feedgen.feeds_yaml([("alpha", "http://127.0.0.1:9/alpha.xml")]), encoding="utf-8")
    built = make_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data"),
        load_config(path),
        config_path=path,
        clock=Clock(datetime(2026, 1, 5, 0, 0, tzinfo=UTC)),
        rng=random.Random(7),
        parse_workers=0,
    )
    built.sync_feeds()
    try:
        yield built
    finally:
        built.close()


class _Elsewhere(App):
    """The same database seen by another replica: another instance, on another host."""

    @property
    def instance(self) -> Instance:
        return Instance("00000000-0000-0000-0000-0000000000b2", "replica-b", 4242)


def replica(app: App) -> App:
    other = make_app(app.settings, app.config, config_path=app.config_path, clock=app.clock, parse_workers=0)
    other.__class__ = _Elsewhere
    return other


def work_of(app: App) -> Work:
    return Work(Service(app), [], queue.SimpleQueue())


def runs(app: App) -> list[tuple[str, str, str, str | None]]:
    with app.read() as s:
        rows = s.execute(sa.select(job_runs).order_by(job_runs.c.job, job_runs.c.period)).all()
    return [(r.job, r.period, r.outcome, r.detail) for r in rows]


# -- periods and firing times ---------------------------------------------------------------------


def test_the_weekly_email_fires_in_its_time_zone_and_its_period_is_that_zones_iso_week() -> None:
    job = schedule.weekly_email(
        EmailSchedule(recipients=("a@example.org",), weekday="mon", timezone="Asia/Seoul")
    )
    # Monday 08:00 in Seoul is Sunday 23:00 UTC: the period is Seoul's week, not UTC's.
    fired = schedule.last_fire(job, datetime(2026, 1, 11, 23, 30, tzinfo=UTC))
    assert fired == datetime(2026, 1, 12, 8, 0, tzinfo=SEOUL)
    assert job.period(fired) == "2026-W03"
    assert datetime(2026, 1, 11, 23, 0, tzinfo=UTC).isocalendar().week == 2
    assert schedule.last_fire(job, datetime(2026, 1, 11, 22, 59, tzinfo=UTC)) == datetime(
        2026, 1, 5, 8, 0, tzinfo=SEOUL
    )


def test_the_monthly_draft_fires_on_the_last_day_for_the_next_month() -> None:
    job = schedule.monthly_draft()
    fired = schedule.last_fire(job, datetime(2026, 3, 10, tzinfo=UTC))
    assert fired == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert job.period(fired) == "2026-03"
    december = schedule.last_fire(job, datetime(2027, 1, 1, tzinfo=UTC))
    assert december is not None and job.period(december) == "2027-01"
    assert schedule.month_of(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == "2026-12"


def test_the_email_job_exists_only_with_recipients() -> None:
    assert [j.name for j in schedule.cron_jobs(None)] == ["monthly_draft", "housekeeping"]
    names = [j.name for j in schedule.cron_jobs(EmailSchedule(recipients=("a@example.org",)))]
    assert names == ["weekly_email", "monthly_draft", "housekeeping"]


# -- once per period --------------------------------------------------------------------------------


def test_cron_firings_run_each_period_once(app: App) -> None:
    """APScheduler's trigger says when; the injected clock moves through three weeks, firing each job
    at its time and again late (a misfire, a second replica's firing): one run per period."""
    clock = app.clock
    assert isinstance(clock, Clock)
    email = schedule.weekly_email(EmailSchedule(recipients=("a@example.org",), timezone="Asia/Seoul"))
    work = work_of(app)
    firing = email.trigger.get_next_fire_time(None, clock.now)
    assert firing is not None
    for _ in range(3):
        for late in (timedelta(0), timedelta(seconds=1), timedelta(hours=30)):
            clock.now = firing.astimezone(UTC) + late
            work.cron(email)
        firing = email.trigger.get_next_fire_time(firing, firing + timedelta(microseconds=1))
    assert runs(app) == [
        ("weekly_email", week, "ok", "skipped: feeds.yaml names no email recipient")
        for week in ("2026-W03", "2026-W04", "2026-W05")
    ]


def test_a_firing_before_the_first_firing_time_runs_nothing(app: App) -> None:
    app.clock.now = datetime(2026, 1, 5, 3, 29, tzinfo=UTC)  # type: ignore[attr-defined]
    housekeeping = schedule.housekeeping()
    housekeeping_lookback = schedule.CronJob(
        housekeeping.name, housekeeping.trigger, housekeeping.period, timedelta(hours=1)
    )
    work_of(app).cron(housekeeping_lookback)
    assert runs(app) == []


def test_two_replicas_firing_together_run_the_job_once(app: App) -> None:
    other = replica(app)
    for daemon in (app, other):
        Service(daemon).daemon.heartbeat({})  # a daemon says it is alive before it runs anything
    try:
        barrier = threading.Barrier(2)
        results = []

        def fire(which: App) -> None:
            barrier.wait()
            results.append(Service(which).daemon.housekeeping("2026-01-05"))

        threads = [threading.Thread(target=fire, args=(a,)) for a in (app, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.close()
    assert sorted(r.outcome for r in results) == ["ok", "skipped"]
    skipped = next(r for r in results if r.outcome == "skipped")
    winner = next(r for r in results if r.outcome == "ok")
    assert winner.ran_on is None
    assert [(job, period, outcome) for job, period, outcome, _ in runs(app)] == [
        ("housekeeping", "2026-01-05", "ok")
    ]
    # The loser names the winner as a person reads it.
    assert skipped.ran_on in (f"{app.instance.host}:{app.instance.pid}", "replica-b:4242")
    assert skipped.detail == f"ran on {skipped.ran_on}"


def test_a_failed_run_is_retried_by_the_next_firing_in_its_period(app: App) -> None:
    daemon = Service(app).daemon
    with app.write() as s:
        assert jobs.claim_run(
            s,
            job="monthly_draft",
            period="2026-03",
            instance_id="gone",
            now=app.clock(),
            lease=timedelta(minutes=1),
        )
        jobs.finish_run(s, job="monthly_draft", period="2026-03", instance_id="gone", now=app.clock(),
                        ok=False, detail="boom")  # fmt: skip
    result = daemon.open_draft("2026-03")
    assert (result.outcome, result.detail) == ("ok", "opened the draft of issue 2026-03")
    assert ("monthly_draft", "2026-03", "ok", "opened the draft of issue 2026-03") in runs(app)


def test_catch_up_opens_this_months_draft_and_runs_what_is_owed(app: App) -> None:
    app.clock.now = datetime(2026, 1, 31, 13, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    work = work_of(app)
    work.crons = schedule.cron_jobs(None)
    work.catch_up()
    with app.read() as s:
        names = sorted(s.execute(sa.select(digests.c.name, digests.c.status)).all())
    # This month's draft (it was missing), and next month's (its firing today at noon has passed).
    assert names == [("2026-01", "draft"), ("2026-02", "draft")]
    assert [(job, period) for job, period, _, _ in runs(app)] == [
        ("housekeeping", "2026-01-31"), ("monthly_draft", "2026-01"), ("monthly_draft", "2026-02")
    ]  # fmt: skip
    work.catch_up()  # a restart: nothing twice
    assert len(runs(app)) == 3


# -- housekeeping and the heartbeat ------------------------------------------------------------------


def test_housekeeping_clears_expired_leases_silent_replicas_and_old_runs(app: App) -> None:
    now = app.clock()
    with app.write() as s:
        s.execute(sa.update(feeds).values(lease_owner="dead", lease_until=now - timedelta(minutes=1)))
        claims.heartbeat(s, Instance("old", "elsewhere", 1), now - timedelta(days=30))
        claims.heartbeat(s, Instance("recent", "elsewhere", 2), now - timedelta(hours=1))
        for period, started in (
            ("2025-W01", now - timedelta(days=365)),
            ("2026-W01", now - timedelta(days=3)),
        ):
            jobs.claim_run(
                s, job="weekly_email", period=period, instance_id="x", now=started, lease=timedelta(hours=1)
            )
            jobs.finish_run(
                s, job="weekly_email", period=period, instance_id="x", now=started, ok=True, detail=None
            )
    result = Service(app).daemon.housekeeping("2026-01-05")
    assert result.outcome == "ok"
    assert result.detail is not None and result.detail.startswith(
        "1 expired leases cleared, 1 silent replicas and 1 old job runs forgotten, "
    )
    assert result.detail.endswith(", 0 postings past the cross-post window forgotten here")
    with app.read() as s:
        assert s.execute(sa.select(feeds.c.lease_owner, feeds.c.lease_until)).all() == [(None, None)]
        assert sorted(s.execute(sa.select(instances.c.id)).scalars()) == ["recent"]
    assert [(job, period) for job, period, _, _ in runs(app)] == [
        ("housekeeping", "2026-01-05"), ("weekly_email", "2026-W01")
    ]  # fmt: skip


def test_the_heartbeat_records_a_daemon_with_its_summary(app: App) -> None:
    work = work_of(app)
    work.next_runs = lambda: {"tick": "2026-01-05T00:00:30+00:00"}
    work.heartbeat()
    with app.read() as s:
        (row,) = claims.replicas(s, role="daemon")
    assert row.id == app.instance_id
    assert row.summary == {"tick": None, "gauges": None, "next_runs": {"tick": "2026-01-05T00:00:30+00:00"}}
    work.tick()  # the feed is down: a failed poll, counted
    work.heartbeat()
    with app.read() as s:
        (row,) = claims.replicas(s, role="daemon")
    assert row.summary["tick"]["polled"] == 1 and row.summary["tick"]["failed"] == 1
    assert row.summary["gauges"]["due"] == 0 and row.summary["gauges"]["pending_extractions"] == 0
    Service(app).daemon.release()
    with app.read() as s:
        assert claims.replicas(s) == []
