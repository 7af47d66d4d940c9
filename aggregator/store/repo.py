"""The repository: every query about feeds and candidates, returning ``types`` values.

Functions take the session of the caller's unit of work (``with
app.write() as s:``) and never commit on their own; they return frozen
dataclasses, never rows, so no caller can trigger a lazy load on a closed
session.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aggregator.feeds.decide import EntryPlan, EntryRecord
from aggregator.store import search
from aggregator.store.tables import candidates, feeds
from aggregator.types import Candidate, FeedState, Validators

#: Rows per statement when a list of values goes into an IN (...) clause.
CHUNK = 500


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


@dataclass(frozen=True, slots=True)
class SyncReport:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]


# -- feeds -------------------------------------------------------------------


def sync_feeds(s: Session, specs: Sequence[FeedSpec], now: datetime) -> SyncReport:
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
    for chunk in _chunks(new, 200):  # SQLite takes at most 32,766 parameters a statement
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
        for chunk in _chunks(raced):
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
        "enabled": spec.enabled,
        "in_config": True,
    }


def _apply_settings(s: Session, row: Any, spec: FeedSpec, now: datetime) -> bool:
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


def lease_owner() -> str:
    """Who holds a claim: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_feeds(
    s: Session,
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
    claimed by a live poller are skipped; claims of a process on this host that
    no longer exists are taken over at once (a poll killed part-way).
    """
    _expire_dead_local_leases(s, now)
    free = sa.or_(feeds.c.lease_until.is_(None), feeds.c.lease_until <= now)
    conditions: list[sa.ColumnElement[bool]] = [free]
    if names is not None:
        conditions.append(feeds.c.name.in_(list(names)))
    else:
        conditions += [feeds.c.enabled.is_(True), feeds.c.in_config.is_(True), feeds.c.gone_at.is_(None)]
        if due_only:
            conditions.append(sa.or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now))
    pick = sa.select(feeds.c.id).where(*conditions)
    if s.get_bind().dialect.name == "postgresql":
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
    return sorted((_feed_state(r) for r in rows), key=lambda f: f.id)


@dataclass(frozen=True, slots=True)
class ClaimOutlook:
    """What the feeds a poll asked for are doing: why a claim may have found none free.

    Counts are over the feeds asked for: ``names``, else every feed in feeds.yaml.
    """

    feeds: int
    disabled: int
    gone: int
    """Enabled feeds that said 410 Gone (polled again once re-enabled or given a new URL)."""
    held: int
    """Feeds claimed by another poller now."""
    holders: tuple[str, ...]
    held_until: datetime | None
    """When the last of those claims expires."""
    due: int
    """Feeds free to claim whose next poll time has come."""
    next_due: datetime | None
    """The earliest next poll time among free feeds not due yet."""


def claim_outlook(s: Session, *, now: datetime, names: Sequence[str] | None = None) -> ClaimOutlook:
    """Count what the feeds a poll would take are doing (see :class:`ClaimOutlook`)."""
    c = feeds.c
    stmt = sa.select(c.enabled, c.gone_at, c.lease_owner, c.lease_until, c.next_poll_at)
    stmt = stmt.where(c.name.in_(list(names))) if names is not None else stmt.where(c.in_config.is_(True))
    rows = s.execute(stmt).all()
    pollable = [r for r in rows if names is not None or (r.enabled and r.gone_at is None)]
    held = [r for r in pollable if r.lease_until is not None and r.lease_until > now]
    free = [r for r in pollable if r.lease_until is None or r.lease_until <= now]
    waiting = [r.next_poll_at for r in free if r.next_poll_at is not None and r.next_poll_at > now]
    return ClaimOutlook(
        feeds=len(rows),
        disabled=sum(not r.enabled for r in rows),
        gone=sum(r.enabled and r.gone_at is not None for r in rows),
        held=len(held),
        holders=tuple(sorted({r.lease_owner for r in held if r.lease_owner})),
        held_until=max((r.lease_until for r in held), default=None),
        due=len(free) - len(waiting),
        next_due=min(waiting, default=None),
    )


def _expire_dead_local_leases(s: Session, now: datetime) -> None:
    prefix = f"{socket.gethostname()}:"
    owners = s.execute(
        sa.select(feeds.c.lease_owner)
        .where(feeds.c.lease_until > now, feeds.c.lease_owner.startswith(prefix, autoescape=True))
        .distinct()
    ).scalars()
    dead = [o for o in owners if o and not _pid_alive(o[len(prefix) :])]
    if dead:
        s.execute(
            sa.update(feeds).where(feeds.c.lease_owner.in_(dead)).values(lease_owner=None, lease_until=None)
        )


def _pid_alive(pid_text: str) -> bool:
    try:
        pid = int(pid_text)
    except ValueError:
        return True  # not ours to judge
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_feeds(s: Session) -> list[FeedState]:
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
    return [_feed_state(r, entry_count=r.entry_count) for r in s.execute(stmt).all()]


def _feed_state(row: Any, *, entry_count: int = 0) -> FeedState:
    return FeedState(
        id=row.id,
        name=row.name,
        url=row.url,
        config_url=row.config_url,
        label=row.label,
        language=row.language,
        section_hint=row.section_hint,
        weight=row.weight,
        interval=timedelta(seconds=row.interval_seconds),
        enabled=row.enabled,
        validators=Validators(row.etag, row.last_modified),
        body_hash=row.body_hash,
        title=row.title,
        site_url=row.site_url,
        last_polled_at=row.last_polled_at,
        last_success_at=row.last_success_at,
        last_error_at=row.last_error_at,
        last_error=row.last_error,
        last_warning=row.last_warning,
        error_count=row.error_count,
        next_poll_at=row.next_poll_at,
        gone_at=row.gone_at,
        redirect_url=row.redirect_url,
        redirect_count=row.redirect_count,
        entry_count=entry_count,
    )


# -- one poll's writes ---------------------------------------------------------


def entry_hashes(s: Session, feed_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """The stored entries of these feeds: feed id -> entry key -> content hash."""
    out: dict[int, dict[str, str]] = {fid: {} for fid in feed_ids}
    for chunk in _chunks(list(feed_ids)):
        stmt = sa.select(candidates.c.feed_id, candidates.c.entry_key, candidates.c.content_hash).where(
            candidates.c.feed_id.in_(chunk)
        )
        for feed_id, key, digest in s.execute(stmt):
            out[feed_id][key] = digest
    return out


def save_poll(s: Session, updates: Sequence[tuple[FeedState, EntryPlan | None]], now: datetime) -> None:
    """Store a batch of polled feeds: their new state, new and changed entries; release their claims.

    New entries are inserted once (a second insert of the same feed and key is
    ignored); changed entries update their text and dates but never their
    status or anything a curator decided.
    """
    if not updates:
        return
    s.execute(
        sa.update(feeds)
        .where(feeds.c.id == sa.bindparam("b_id"))
        .values(
            {name: sa.bindparam(f"b_{name}") for name in _POLL_STATE_COLUMNS}
            | {"lease_owner": None, "lease_until": None, "updated_at": now}
        ),
        [_poll_state_params(state) for state, _ in updates],
    )
    new_rows = [
        _candidate_values(state.id, record, now) for state, plan in updates if plan for record in plan.new
    ]
    if new_rows:
        s.execute(_insert_ignore(s, candidates), new_rows)
    changed = [(state.id, record) for state, plan in updates if plan for record in plan.changed]
    if changed:
        _update_changed(s, changed, now)
    # The search index follows every new and changed entry's title and text.
    keys = [(r["feed_id"], r["entry_key"]) for r in new_rows]
    keys += [(feed_id, record.key) for feed_id, record in changed]
    search.index_candidates(s, _ids_by_key(s, keys))
    urls = {r["canonical_url"] for r in new_rows if r["canonical_url"]}
    urls |= {record.canonical_url for _, record in changed if record.canonical_url}
    if urls:
        assign_groups(s, sorted(urls))


_POLL_STATE_COLUMNS = (
    "url", "etag", "last_modified", "body_hash", "title", "site_url", "last_polled_at",
    "last_success_at", "last_error_at", "last_error", "last_warning", "error_count", "next_poll_at",
    "gone_at", "redirect_url", "redirect_count",
)  # fmt: skip


def _poll_state_params(state: FeedState) -> dict[str, Any]:
    return {
        "b_id": state.id,
        "b_url": state.url,
        "b_etag": state.validators.etag,
        "b_last_modified": state.validators.last_modified,
        "b_body_hash": state.body_hash,
        "b_title": state.title,
        "b_site_url": state.site_url,
        "b_last_polled_at": state.last_polled_at,
        "b_last_success_at": state.last_success_at,
        "b_last_error_at": state.last_error_at,
        "b_last_error": state.last_error,
        "b_last_warning": state.last_warning,
        "b_error_count": state.error_count,
        "b_next_poll_at": state.next_poll_at,
        "b_gone_at": state.gone_at,
        "b_redirect_url": state.redirect_url,
        "b_redirect_count": state.redirect_count,
    }


def _candidate_values(feed_id: int, r: EntryRecord, now: datetime) -> dict[str, Any]:
    return {
        "feed_id": feed_id,
        "entry_key": r.key,
        "guid": r.guid,
        "url": r.url,
        "canonical_url": r.canonical_url,
        "title": r.title,
        "author": r.author,
        "summary": r.summary,
        "content": r.content,
        "content_type": r.content_type,
        "language": r.language,
        "tags": list(r.tags),
        "feed_published_at": r.feed_published_at,
        "feed_updated_at": r.feed_updated_at,
        "published_at": r.published_at,
        "date_source": r.date_source,
        "first_seen_at": now,
        "updated_at": now,
        "content_hash": r.content_hash,
        "status": "new",
    }


def _insert_ignore(s: Session, table: sa.Table) -> Any:
    return dialect_insert(s, table).on_conflict_do_nothing(index_elements=["feed_id", "entry_key"])


def dialect_insert(s: Session, table: sa.Table) -> Any:
    """An INSERT that can take ON CONFLICT clauses, in the dialect of the session's database."""
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {dialect}")  # only SQLite and PostgreSQL are supported


def _update_changed(s: Session, changed: Sequence[tuple[int, EntryRecord]], now: datetime) -> None:
    c = candidates.c
    stmt = (
        sa.update(candidates)
        .where(c.feed_id == sa.bindparam("b_feed_id"), c.entry_key == sa.bindparam("b_entry_key"))
        .values(
            guid=sa.bindparam("b_guid"),
            url=sa.bindparam("b_url"),
            canonical_url=sa.bindparam("b_canonical_url"),
            title=sa.bindparam("b_title"),
            author=sa.bindparam("b_author"),
            summary=sa.bindparam("b_summary"),
            content=sa.bindparam("b_content"),
            content_type=sa.bindparam("b_content_type"),
            language=sa.bindparam("b_language"),
            tags=sa.bindparam("b_tags", type_=sa.JSON),
            feed_published_at=sa.bindparam("b_feed_published_at", type_=c.feed_published_at.type),
            feed_updated_at=sa.bindparam("b_feed_updated_at", type_=c.feed_updated_at.type),
            # An entry that still has no date of its own keeps the day we first saw it.
            published_at=sa.case(
                (sa.bindparam("b_date_source") == "first_seen", c.published_at),
                else_=sa.bindparam("b_published_at", type_=c.published_at.type),
            ),
            date_source=sa.case(
                (sa.bindparam("b_date_source") == "first_seen", c.date_source),
                else_=sa.bindparam("b_date_source"),
            ),
            content_hash=sa.bindparam("b_content_hash"),
            updated_at=now,
            # Regrouped below if the canonical URL moved.
            group_id=sa.case((c.canonical_url == sa.bindparam("b_canonical_url"), c.group_id), else_=None),
        )
    )
    params = []
    for feed_id, r in changed:
        values = _candidate_values(feed_id, r, now)
        params.append({f"b_{k}": values[k] for k in _CHANGED_FIELDS} | {"b_feed_id": feed_id})
    s.execute(stmt, params)


_CHANGED_FIELDS = (
    "entry_key", "guid", "url", "canonical_url", "title", "author", "summary", "content",
    "content_type", "language", "tags", "feed_published_at", "feed_updated_at", "published_at",
    "date_source", "content_hash",
)  # fmt: skip


def _ids_by_key(s: Session, keys: Sequence[tuple[int, str]]) -> list[int]:
    """The ids of these (feed id, entry key) candidates, feed by feed (SQLite scans for a row-value IN)."""
    by_feed: dict[int, list[str]] = {}
    for feed_id, key in keys:
        by_feed.setdefault(feed_id, []).append(key)
    out: list[int] = []
    for feed_id, entry_keys in by_feed.items():
        for chunk in _chunks(entry_keys):
            stmt = sa.select(candidates.c.id).where(
                candidates.c.feed_id == feed_id, candidates.c.entry_key.in_(chunk)
            )
            out += s.execute(stmt).scalars()
    return out


def assign_groups(s: Session, urls: Sequence[str]) -> None:
    """Group each ungrouped candidate with the first candidate of its canonical URL."""
    for chunk in _chunks(list(urls)):
        first = (
            sa.select(candidates.c.canonical_url.label("url"), sa.func.min(candidates.c.id).label("first_id"))
            .where(candidates.c.canonical_url.in_(chunk))
            .group_by(candidates.c.canonical_url)
            .subquery()
        )
        # UPDATE ... FROM (PostgreSQL, SQLite 3.33+): one grouped scan per chunk
        # instead of a correlated MIN() per row, which PostgreSQL plans badly.
        s.execute(
            sa.update(candidates)
            .where(candidates.c.canonical_url == first.c.url, candidates.c.group_id.is_(None))
            .values(group_id=first.c.first_id)
        )


# -- candidates ------------------------------------------------------------------


def list_candidates(
    s: Session,
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


def get_candidate(s: Session, candidate_id: int) -> Candidate | None:
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


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
