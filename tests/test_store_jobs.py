"""Job runs keyed on job and period, and replicas as ``instances`` records them, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from aggregator.ops_types import Instance
from aggregator.store import claims, db, jobs

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=30)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    built = db.create_engine_for(database_url, busy_timeout=5.0)
    db.ensure_schema(built)
    try:
        yield built
    finally:
        built.dispose()


def claim(engine: sa.Engine, instance_id: str, now: datetime, period: str = "2026-W50") -> bool:
    with engine.begin() as s:
        return jobs.claim_run(
            s, job="weekly_email", period=period, instance_id=instance_id, now=now, lease=LEASE
        )


def finish(engine: sa.Engine, instance_id: str, *, ok: bool, period: str = "2026-W50") -> None:
    with engine.begin() as s:
        jobs.finish_run(
            s, job="weekly_email", period=period, instance_id=instance_id, now=T0, ok=ok, detail="sent 3"
        )


def test_a_period_is_claimed_once(engine: sa.Engine) -> None:
    assert claim(engine, "a", T0)
    assert not claim(engine, "b", T0 + timedelta(minutes=1))  # running under a live lease
    finish(engine, "a", ok=True)
    assert not claim(engine, "b", T0 + timedelta(days=1))  # done for the period
    assert claim(engine, "b", T0 + timedelta(days=7), period="2026-W51")  # the next period is new


def test_a_failed_or_abandoned_run_is_claimed_again(engine: sa.Engine) -> None:
    assert claim(engine, "a", T0)
    finish(engine, "a", ok=False)
    assert claim(engine, "b", T0 + timedelta(minutes=5))  # failed: the next firing retries
    assert not claim(engine, "c", T0 + timedelta(minutes=6))
    assert claim(engine, "c", T0 + timedelta(minutes=5) + LEASE)  # b died mid-run: its lease ran out
    with engine.begin() as s:
        run = jobs.get_run(s, job="weekly_email", period="2026-W50")
    assert run is not None and (run.instance_id, run.outcome) == ("c", "running")


def test_finish_touches_only_the_claimants_row(engine: sa.Engine) -> None:
    assert claim(engine, "a", T0)
    finish(engine, "someone-else", ok=True)
    with engine.begin() as s:
        run = jobs.get_run(s, job="weekly_email", period="2026-W50")
    assert run is not None and run.outcome == "running"
    finish(engine, "a", ok=True)
    with engine.begin() as s:
        [last] = jobs.last_runs(s)
    assert (last.outcome, last.detail, last.finished_at) == ("ok", "sent 3", T0)


def test_last_runs_gives_each_jobs_latest_and_old_runs_are_forgotten(engine: sa.Engine) -> None:
    for i, period in enumerate(["2026-W48", "2026-W49", "2026-W50"]):
        assert claim(engine, "a", T0 + timedelta(days=7 * i), period=period)
        finish(engine, "a", ok=True, period=period)
    with engine.begin() as s:
        assert jobs.claim_run(
            s, job="housekeeping", period="2026-12-07", instance_id="a", now=T0, lease=LEASE
        )
        runs = jobs.last_runs(s)
        assert [(r.job, r.period) for r in runs] == [
            ("housekeeping", "2026-12-07"),
            ("weekly_email", "2026-W50"),
        ]
        assert jobs.forget_runs_before(s, T0 + timedelta(days=10)) == 2  # W48, W49; running ones stay
        assert jobs.forget_runs_before(s, T0 + timedelta(days=100)) == 1


def test_replicas_record_role_version_and_summary(engine: sa.Engine) -> None:
    daemon = Instance("d-1", "host-a", 10)
    command = Instance("c-1", "host-a", 11)
    with engine.begin() as s:
        claims.heartbeat(s, daemon, T0, role="daemon", version="0.1.0", summary={"polled": 3})
        claims.heartbeat(s, command, T0 + timedelta(seconds=5))
        claims.heartbeat(s, daemon, T0 + timedelta(seconds=30), role="daemon", version="0.1.0")
    with engine.begin() as s:
        assert [r.id for r in claims.replicas(s)] == ["d-1", "c-1"]
        [replica] = claims.replicas(s, role="daemon")
    assert (replica.role, replica.version, replica.heartbeat_at) == (
        "daemon",
        "0.1.0",
        T0 + timedelta(seconds=30),
    )
    assert replica.summary == {"polled": 3}  # a heartbeat without a summary keeps the last one
    with engine.begin() as s:
        claims.forget_instance(s, "d-1")
        assert [r.id for r in claims.replicas(s)] == ["c-1"]
