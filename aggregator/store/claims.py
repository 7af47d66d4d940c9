"""Claims on feeds (leases) and the instances that hold them.

A poll claims feeds by setting ``lease_owner`` (its instance's id) and
``lease_until``; its writes release them. A claim is taken over before its
lease ends when its instance is known to be gone:

- its heartbeat (written whenever it claims) is older than a lease: it has
  stopped claiming, wherever it ran;
- it ran on this host as a process that no longer exists (a poll killed
  part-way), or as this very PID under another instance id: a restarted
  container, PID 1 again, whose previous life can hold nothing any more.

An owner that names no instance (a claim written by hand, or by a version
before instances) is held until its lease ends.

Like ``repo``, functions take the caller's session and never commit.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.ops_types import Instance, Replica
from aggregator.poll_types import ClaimOutlook
from aggregator.store.rows import dialect_insert, feed_state
from aggregator.store.tables import feeds, instances
from aggregator.types import FeedState

#: How long an instance's row is kept after its last heartbeat once it holds no claim.
INSTANCE_RETENTION = timedelta(days=7)


def heartbeat(
    s: Connection,
    instance: Instance,
    now: datetime,
    *,
    role: str = "cli",
    version: str | None = None,
    summary: Mapping[str, Any] | None = None,
) -> None:
    """Record that ``instance`` is alive at ``now`` (its row is added on its first heartbeat).

    A daemon passes ``role="daemon"`` and its ``summary`` (plain JSON values); a
    command's claims keep whatever role and summary the row has.
    """
    insert = dialect_insert(s, instances).values(
        id=instance.id,
        host=instance.host,
        pid=instance.pid,
        started_at=now,
        heartbeat_at=now,
        role=role,
        version=version,
        summary=dict(summary) if summary is not None else None,
    )
    update: dict[str, Any] = {"heartbeat_at": now}
    if role != "cli":
        update |= {"role": role, "version": version}
    if summary is not None:
        update["summary"] = dict(summary)
    s.execute(insert.on_conflict_do_update(index_elements=["id"], set_=update))


def replicas(s: Connection, *, role: str | None = None) -> list[Replica]:
    """The recorded processes (of ``role``), the latest heartbeat first."""
    stmt = sa.select(instances).order_by(instances.c.heartbeat_at.desc(), instances.c.id)
    if role is not None:
        stmt = stmt.where(instances.c.role == role)
    return [
        Replica(
            id=r.id,
            host=r.host,
            pid=r.pid,
            role=r.role,
            version=r.version,
            started_at=r.started_at,
            heartbeat_at=r.heartbeat_at,
            summary=r.summary or {},
        )
        for r in s.execute(stmt).all()
    ]


def forget_instance(s: Connection, instance_id: str) -> None:
    """Release ``instance_id``'s claims and delete its row: a process that stops cleanly says so."""
    s.execute(
        sa.update(feeds).where(feeds.c.lease_owner == instance_id).values(lease_owner=None, lease_until=None)
    )
    s.execute(sa.delete(instances).where(instances.c.id == instance_id))


def claim_feeds(
    s: Connection,
    *,
    now: datetime,
    lease: timedelta,
    owner: str,
    names: Sequence[str] | None = None,
    due_only: bool = True,
) -> list[FeedState]:
    """Claim feeds to poll, so no other poller takes them until ``now + lease``.

    Without ``names``: enabled feeds in feeds.yaml that have not said 410 and,
    with ``due_only``, whose next poll time has come. With ``names``: exactly
    those feeds, whatever their schedule (an operator asked for them). Feeds
    claimed by a live poller are skipped; claims of a gone instance (see the
    module's docstring) are taken over at once. ``owner`` is the claiming
    instance's id.
    """
    _release_claims_of_gone_instances(s, now=now, lease=lease, owner=owner)
    free = sa.or_(feeds.c.lease_until.is_(None), feeds.c.lease_until <= now)
    conditions: list[sa.ColumnElement[bool]] = [free]
    if names is not None:
        conditions.append(feeds.c.name.in_(list(names)))
    else:
        conditions += [feeds.c.enabled.is_(True), feeds.c.in_config.is_(True), feeds.c.gone_at.is_(None)]
        if due_only:
            conditions.append(sa.or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now))
    pick = sa.select(feeds.c.id).where(*conditions)
    if s.dialect.name == "postgresql":
        # Several replicas: skip rows another poller is claiming right now
        # instead of waiting for it.
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        sa.update(feeds)
        .where(feeds.c.id.in_(pick.scalar_subquery()))
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(*feeds.c)
    )
    rows = s.execute(stmt).all()
    return sorted((feed_state(r) for r in rows), key=lambda f: f.id)


def _release_claims_of_gone_instances(s: Connection, *, now: datetime, lease: timedelta, owner: str) -> None:
    held = sa.select(feeds.c.lease_owner).where(feeds.c.lease_until > now, feeds.c.lease_owner.is_not(None))
    rows = s.execute(sa.select(instances).where(instances.c.id.in_(held.distinct().scalar_subquery()))).all()
    gone = [r.id for r in rows if r.id != owner and _gone(r, now=now, lease=lease, owner=owner)]
    if gone:
        s.execute(
            sa.update(feeds).where(feeds.c.lease_owner.in_(gone)).values(lease_owner=None, lease_until=None)
        )
    # Rows of instances long silent and holding nothing are of no use to anyone.
    s.execute(
        sa.delete(instances).where(
            instances.c.heartbeat_at < now - max(lease, INSTANCE_RETENTION),
            instances.c.id.not_in(held.scalar_subquery()),
        )
    )


def _gone(row: Any, *, now: datetime, lease: timedelta, owner: str) -> bool:
    """Whether the instance of ``row`` (not the claiming one) can no longer hold a claim."""
    if row.heartbeat_at < now - lease:
        return True
    if row.host != socket.gethostname():
        return False  # another host's process: only its heartbeat tells
    if row.pid == os.getpid():
        # This PID, another instance id: this process's previous life (a container
        # restarted as PID 1 again), for this process is ``owner``.
        return True
    return not _pid_alive(row.pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # not ours to judge
    return True


def claim_outlook(s: Connection, *, now: datetime, names: Sequence[str] | None = None) -> ClaimOutlook:
    """Count what the feeds a poll would take are doing (see :class:`~aggregator.poll_types.ClaimOutlook`)."""
    c = feeds.c
    stmt = sa.select(c.enabled, c.gone_at, c.lease_owner, c.lease_until, c.next_poll_at)
    stmt = stmt.where(c.name.in_(list(names))) if names is not None else stmt.where(c.in_config.is_(True))
    rows = s.execute(stmt).all()
    pollable = [r for r in rows if names is not None or (r.enabled and r.gone_at is None)]
    held = [r for r in pollable if r.lease_until is not None and r.lease_until > now]
    free = [r for r in pollable if r.lease_until is None or r.lease_until <= now]
    waiting = [r.next_poll_at for r in free if r.next_poll_at is not None and r.next_poll_at > now]
    owners = sorted({r.lease_owner for r in held if r.lease_owner})
    return ClaimOutlook(
        feeds=len(rows),
        disabled=sum(not r.enabled for r in rows),
        gone=sum(r.enabled and r.gone_at is not None for r in rows),
        held=len(held),
        holders=tuple(sorted(set(_holder_names(s, owners)))),
        held_until=max((r.lease_until for r in held), default=None),
        due=len(free) - len(waiting),
        next_due=min(waiting, default=None),
    )


def _holder_names(s: Connection, owners: list[str]) -> list[str]:
    """Each owner as a person reads it: ``host:pid`` of its instance, else the owner as written."""
    if not owners:
        return []
    known = {
        r.id: f"{r.host}:{r.pid}"
        for r in s.execute(sa.select(instances).where(instances.c.id.in_(owners))).all()
    }
    return [known.get(owner, owner) for owner in owners]
