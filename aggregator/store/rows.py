"""What the store's query modules share: chunked IN lists, dialect upserts, a feed row as a value.

Contains no business logic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.types import FeedState, Validators

#: Rows per statement when a list of values goes into an IN (...) clause.
CHUNK = 500


def chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def dialect_insert(s: Connection, table: sa.Table) -> Any:
    """An INSERT that can take ON CONFLICT clauses, in the dialect of the session's database."""
    dialect = s.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # each dialect's module loads where it is used

        return postgresql.insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {dialect}")  # only SQLite and PostgreSQL are supported


def feed_state(row: Any, *, entry_count: int = 0) -> FeedState:
    """A row of ``feeds`` as the value every layer above reads."""
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
        interval_auto=row.interval_auto,
        hint=_seconds(row.hint_seconds),
        poll_interval=_seconds(row.poll_interval_seconds),
    )


def _seconds(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)
