"""The daemon's daily housekeeping in SQL: expired leases, silent replicas, old job runs, planner statistics.

Each function takes the caller's connection and never commits, like ``repo``;
each says how many rows it touched, for the job's log line.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.store.tables import feeds, instances


def clear_expired_leases(s: Connection, now: datetime) -> int:
    """Forget the claims whose lease has ended (a poll that died); how many feeds were freed."""
    c = feeds.c
    result = s.execute(
        sa.update(feeds)
        .where(c.lease_until.is_not(None), c.lease_until <= now)
        .values(lease_owner=None, lease_until=None)
    )
    return int(result.rowcount or 0)


def forget_silent_instances(s: Connection, now: datetime, retention: timedelta) -> int:
    """Delete the rows of processes silent for longer than ``retention`` that hold no live claim."""
    held = sa.select(feeds.c.lease_owner).where(feeds.c.lease_until > now, feeds.c.lease_owner.is_not(None))
    result = s.execute(
        sa.delete(instances).where(
            instances.c.heartbeat_at < now - retention, instances.c.id.not_in(held.scalar_subquery())
        )
    )
    return int(result.rowcount or 0)


def refresh_statistics(s: Connection) -> str:
    """Bring the query planner's statistics up to date: SQLite ``PRAGMA optimize``, PostgreSQL ``ANALYZE``;
    the statement run."""
    statement = "ANALYZE" if s.dialect.name == "postgresql" else "PRAGMA optimize"
    s.exec_driver_sql(statement)
    return statement
