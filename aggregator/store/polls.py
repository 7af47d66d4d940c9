"""One poll's writes: what it decides from (stored entry hashes, entries of the last week), and the batch.

Functions take the caller's session and never commit; values come in as
``types`` values (``FeedState``, ``EntryPlan``), decided above the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.poll_types import EntryPlan, EntryRecord
from aggregator.store import search
from aggregator.store.rows import chunks, dialect_insert
from aggregator.store.tables import candidates, feeds
from aggregator.types import FeedState

# -- one poll's writes ---------------------------------------------------------


def entry_hashes(s: Connection, feed_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """The stored entries of these feeds: feed id -> entry key -> content hash."""
    out: dict[int, dict[str, str]] = {fid: {} for fid in feed_ids}
    for chunk in chunks(list(feed_ids)):
        stmt = sa.select(candidates.c.feed_id, candidates.c.entry_key, candidates.c.content_hash).where(
            candidates.c.feed_id.in_(chunk)
        )
        for feed_id, key, digest in s.execute(stmt):
            out[feed_id][key] = digest
    return out


def entry_history(s: Connection, feed_ids: Sequence[int], since: datetime) -> dict[int, tuple[int, datetime]]:
    """Of each of these feeds with stored entries: how many were published after ``since``, and the
    publication date of its oldest."""
    out: dict[int, tuple[int, datetime]] = {}
    c = candidates.c
    recent = sa.func.coalesce(sa.func.sum(sa.case((c.published_at > since, 1), else_=0)), 0)
    for chunk in chunks(list(feed_ids)):
        stmt = (
            sa.select(c.feed_id, recent, sa.func.min(c.published_at))
            .where(c.feed_id.in_(chunk))
            .group_by(c.feed_id)
        )
        for feed_id, count, oldest in s.execute(stmt):
            out[feed_id] = (int(count), oldest)  # MIN() keeps the column's type: aware UTC
    return out


def save_poll(s: Connection, updates: Sequence[tuple[FeedState, EntryPlan | None]], now: datetime) -> None:
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
    "gone_at", "redirect_url", "redirect_count", "hint_seconds", "poll_interval_seconds",
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
        "b_hint_seconds": _whole_seconds(state.hint),
        "b_poll_interval_seconds": _whole_seconds(state.poll_interval),
    }


def _whole_seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


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


def _insert_ignore(s: Connection, table: sa.Table) -> Any:
    return dialect_insert(s, table).on_conflict_do_nothing(index_elements=["feed_id", "entry_key"])


def _update_changed(s: Connection, changed: Sequence[tuple[int, EntryRecord]], now: datetime) -> None:
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


def _ids_by_key(s: Connection, keys: Sequence[tuple[int, str]]) -> list[int]:
    """The ids of these (feed id, entry key) candidates, feed by feed (SQLite scans for a row-value IN)."""
    by_feed: dict[int, list[str]] = {}
    for feed_id, key in keys:
        by_feed.setdefault(feed_id, []).append(key)
    out: list[int] = []
    for feed_id, entry_keys in by_feed.items():
        for chunk in chunks(entry_keys):
            stmt = sa.select(candidates.c.id).where(
                candidates.c.feed_id == feed_id, candidates.c.entry_key.in_(chunk)
            )
            out += s.execute(stmt).scalars()
    return out


def assign_groups(s: Connection, urls: Sequence[str]) -> None:
    """Group each ungrouped candidate with the first candidate of its canonical URL."""
    for chunk in chunks(list(urls)):
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
