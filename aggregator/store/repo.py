"""The repository: every query about feeds and candidates, returning ``types`` values.

Feed sync and listings live here; the poll's claims in ``claims``, its writes
in ``polls`` (both re-exported). Imports no domain module: what it stores
comes in as ``types`` values. Functions take the session of the caller's unit of work (``with
app.write() as s:``) and never commit on their own; they return frozen
dataclasses, never rows, so no caller can trigger a lazy load on a closed
session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.poll_types import SyncReport

# The poll's claims and writes live in their own modules; callers reach them here as ever.
from aggregator.store.claims import claim_feeds as claim_feeds
from aggregator.store.claims import claim_outlook as claim_outlook
from aggregator.store.polls import assign_groups as assign_groups
from aggregator.store.polls import entry_hashes as entry_hashes
from aggregator.store.polls import save_poll as save_poll
from aggregator.store.rows import CHUNK as CHUNK
from aggregator.store.rows import chunks, feed_state
from aggregator.store.rows import dialect_insert as dialect_insert
from aggregator.store.tables import candidates, feeds
from aggregator.types import Candidate, FeedState


class FeedSpec(Protocol):
    """What the repository needs of a feed's configuration (config.FeedConfig)."""

    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def section_hint(self) -> str | None: ...
    @property
    def weight(self) -> float: ...
    @property
    def interval(self) -> timedelta: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def interval_auto(self) -> bool: ...


# -- feeds -------------------------------------------------------------------


def sync_feeds(s: Connection, specs: Sequence[FeedSpec], now: datetime) -> SyncReport:
    """Make the feeds table follow feeds.yaml; safe while another process does the same.

    New feeds are added and due at once; changed settings are applied (a new
    URL resets the validators and any pending redirect); feeds gone from the
    file are kept with their candidates but no longer polled. New feeds are
    inserted with ON CONFLICT DO NOTHING: when another replica adds the same
    feed first, this one reads the row it wrote and applies its own settings
    to it, so two commands started at once on new feeds both succeed and each
    feed is added once (and reported added by one of them).
    """
    rows = {r.name: r for r in s.execute(sa.select(feeds)).all()}
    added: list[str] = []
    changed: list[str] = []
    new = [spec for spec in specs if spec.name not in rows]
    for chunk in chunks(new, 200):  # SQLite takes at most 32,766 parameters a statement
        insert = dialect_insert(s, feeds).values(
            [
                {"name": spec.name, "url": spec.url, "config_url": spec.url, "created_at": now,
                 "updated_at": now, **_settings(spec)}
                for spec in chunk
            ]
        )  # fmt: skip
        insert = insert.on_conflict_do_nothing(index_elements=["name"]).returning(feeds.c.name)
        added += s.execute(insert).scalars()
    raced = [spec.name for spec in new if spec.name not in set(added)]
    if raced:  # added by another process meanwhile: from here on they are rows like the others
        for chunk in chunks(raced):
            rows |= {r.name: r for r in s.execute(sa.select(feeds).where(feeds.c.name.in_(chunk))).all()}
    inserted = set(added)
    for spec in specs:
        if spec.name not in inserted and _apply_settings(s, rows[spec.name], spec, now):
            changed.append(spec.name)
    names = {spec.name for spec in specs}
    removed = [name for name, row in rows.items() if name not in names and row.in_config]
    if removed:
        s.execute(sa.update(feeds).where(feeds.c.name.in_(removed)).values(in_config=False, updated_at=now))
    order = {spec.name: i for i, spec in enumerate(specs)}
    return SyncReport(tuple(sorted(added, key=order.__getitem__)), tuple(changed), tuple(removed))


def _settings(spec: FeedSpec) -> dict[str, Any]:
    """The columns feeds.yaml decides, apart from the URL."""
    return {
        "label": spec.label,
        "language": spec.language,
        "section_hint": spec.section_hint,
        "weight": spec.weight,
        "interval_seconds": int(spec.interval.total_seconds()),
        "interval_auto": spec.interval_auto,
        "enabled": spec.enabled,
        "in_config": True,
    }


def _apply_settings(s: Connection, row: Any, spec: FeedSpec, now: datetime) -> bool:
    """Bring a stored feed in line with its entry in feeds.yaml; whether anything changed."""
    values = _settings(spec)
    if spec.url != row.config_url:
        # The operator changed the URL: start afresh at the new one.
        values.update(
            url=spec.url,
            config_url=spec.url,
            etag=None,
            last_modified=None,
            body_hash=None,
            redirect_url=None,
            redirect_count=0,
            gone_at=None,
            next_poll_at=None,
        )
    if spec.enabled and not row.enabled:
        values["gone_at"] = None  # re-enabling a feed that said 410 tries it again
    diff = {k: v for k, v in values.items() if getattr(row, k) != v}
    if diff:
        s.execute(sa.update(feeds).where(feeds.c.id == row.id).values(updated_at=now, **diff))
    return bool(diff)


def list_feeds(s: Connection) -> list[FeedState]:
    """The feeds in feeds.yaml with their polling state and entry counts (removed feeds are left out)."""
    counts = (
        sa.select(candidates.c.feed_id, sa.func.count().label("n")).group_by(candidates.c.feed_id).subquery()
    )
    stmt = (
        sa.select(feeds, sa.func.coalesce(counts.c.n, 0).label("entry_count"))
        .outerjoin(counts, counts.c.feed_id == feeds.c.id)
        .order_by(feeds.c.name)
    )
    stmt = stmt.where(feeds.c.in_config.is_(True))
    return [feed_state(r, entry_count=r.entry_count) for r in s.execute(stmt).all()]


# -- candidates ------------------------------------------------------------------


def list_candidates(
    s: Connection,
    *,
    feed_names: Sequence[str] | None = None,
    status: str | None = None,
    limit: int | None = 100,
) -> list[Candidate]:
    stmt = (
        sa.select(candidates, feeds.c.name.label("feed_name"), feeds.c.label.label("feed_label"))
        .join(feeds, feeds.c.id == candidates.c.feed_id)
        .order_by(candidates.c.published_at.desc(), candidates.c.id.desc())
    )
    if feed_names:
        stmt = stmt.where(feeds.c.name.in_(list(feed_names)))
    if status:
        stmt = stmt.where(candidates.c.status == status)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_candidate(r) for r in s.execute(stmt).all()]


def get_candidate(s: Connection, candidate_id: int) -> Candidate | None:
    stmt = (
        sa.select(candidates, feeds.c.name.label("feed_name"), feeds.c.label.label("feed_label"))
        .join(feeds, feeds.c.id == candidates.c.feed_id)
        .where(candidates.c.id == candidate_id)
    )
    row = s.execute(stmt).one_or_none()
    return _candidate(row) if row is not None else None


def _candidate(row: Any) -> Candidate:
    return Candidate(
        id=row.id,
        feed_id=row.feed_id,
        feed_name=row.feed_name,
        label=row.feed_label,
        entry_key=row.entry_key,
        url=row.url,
        canonical_url=row.canonical_url,
        title=row.title,
        author=row.author,
        summary=row.summary,
        published_at=row.published_at,
        date_source=row.date_source,
        first_seen_at=row.first_seen_at,
        updated_at=row.updated_at,
        status=row.status,
        group_id=row.group_id,
        language=row.language,
    )


def feed_report(s: Connection) -> list[tuple[str, str, bool, int, int, int, int, datetime | None]]:
    """Per feed (the digest import's own feed aside): name, label, in feeds.yaml, candidates, promoted,
    rejected, duplicates (not their group's primary), the newest candidate's publication date."""
    c = candidates.c

    def count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    stmt = (
        sa.select(
            feeds.c.name, feeds.c.label, feeds.c.in_config, sa.func.count(c.id),
            count(c.status == "promoted"), count(c.status == "rejected"),
            count(sa.and_(c.group_id.is_not(None), c.group_id != c.id)),
            sa.func.max(c.published_at),
        )
        .select_from(feeds.outerjoin(candidates, c.feed_id == feeds.c.id))
        .where(~feeds.c.name.startswith("_", autoescape=True))
        .group_by(feeds.c.id, feeds.c.name, feeds.c.label, feeds.c.in_config)
        .order_by(feeds.c.name)
    )  # fmt: skip
    return [
        (name, label or "", bool(on), int(n), int(p), int(r), int(d), last)
        for name, label, on, n, p, r, d, last in s.execute(stmt)
    ]
