"""The daemon's scheduled job runs: one row per job and period, claimed so that replicas run it once.

A run is claimed by inserting its row (job, period) in the caller's write
transaction: the primary key lets exactly one replica in. A claim whose
replica died mid-run (``running`` past its lease) or whose run failed may be
claimed again, by updating the row under the same condition, so a failed
weekly email is retried by the next firing in the same week and never twice
at once. Like ``repo``, functions take the caller's connection and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.ops_types import JobRun
from aggregator.store.rows import dialect_insert
from aggregator.store.tables import job_runs

RUNNING, OK, FAILED = "running", "ok", "failed"


def claim_run(
    s: Connection, *, job: str, period: str, instance_id: str, now: datetime, lease: timedelta
) -> bool:
    """Claim ``job`` for ``period`` for ``instance_id``: True when this caller is to run it.

    False when the period's run is done (``ok``), or running under a live lease.
    """
    values = {
        "job": job,
        "period": period,
        "instance_id": instance_id,
        "started_at": now,
        "lease_until": now + lease,
        "finished_at": None,
        "outcome": RUNNING,
        "detail": None,
    }
    insert = dialect_insert(s, job_runs).values(**values)
    inserted = s.execute(
        insert.on_conflict_do_nothing(index_elements=["job", "period"]).returning(job_runs.c.job)
    ).first()
    if inserted is not None:
        return True
    c = job_runs.c
    retake = sa.or_(c.outcome == FAILED, sa.and_(c.outcome == RUNNING, c.lease_until <= now))
    updated = s.execute(sa.update(job_runs).where(c.job == job, c.period == period, retake).values(**values))
    return updated.rowcount == 1


def finish_run(
    s: Connection, *, job: str, period: str, instance_id: str, now: datetime, ok: bool, detail: str | None
) -> None:
    """Record how the claimed run ended (only the claiming instance's row is touched)."""
    c = job_runs.c
    s.execute(
        sa.update(job_runs)
        .where(c.job == job, c.period == period, c.instance_id == instance_id)
        .values(outcome=OK if ok else FAILED, finished_at=now, lease_until=None, detail=detail)
    )


def get_run(s: Connection, *, job: str, period: str) -> JobRun | None:
    row = s.execute(sa.select(job_runs).where(job_runs.c.job == job, job_runs.c.period == period)).first()
    return None if row is None else _run(row)


def last_runs(s: Connection) -> list[JobRun]:
    """The latest run of each job (by start), in job order."""
    c = job_runs.c
    latest = sa.select(c.job, sa.func.max(c.started_at).label("started_at")).group_by(c.job).subquery()
    rows = s.execute(
        sa.select(job_runs)
        .join(latest, sa.and_(c.job == latest.c.job, c.started_at == latest.c.started_at))
        .order_by(c.job)
    ).all()
    seen: dict[str, JobRun] = {}
    for row in rows:
        seen.setdefault(row.job, _run(row))
    return list(seen.values())


def forget_runs_before(s: Connection, before: datetime) -> int:
    """Delete finished runs started before ``before`` (housekeeping); how many went."""
    c = job_runs.c
    result = s.execute(sa.delete(job_runs).where(c.started_at < before, c.outcome != RUNNING))
    return int(result.rowcount or 0)


def _run(row: Any) -> JobRun:
    return JobRun(
        job=row.job,
        period=row.period,
        instance_id=row.instance_id,
        started_at=row.started_at,
        outcome=row.outcome,
        finished_at=row.finished_at,
        lease_until=row.lease_until,
        detail=row.detail,
    )
