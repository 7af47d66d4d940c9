"""The weekly email's SQL: the week's candidates with their feed, excerpt, suggestion and score; the
feeds' polling state; the month's draft counts per section; the ``email_sends`` rows.

Contains no business logic: which feeds are in trouble, the order and the caps are ``aggregator.mail``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.store.tables import articles, candidates, digest_items, digests, email_sends, feeds

#: Characters of an article's text read for the excerpt (the email shows about two lines).
EXCERPT_CHARS = 600


@dataclass(frozen=True, slots=True)
class WeekRow:
    """A candidate first seen in the week, with what the email shows of it."""

    id: int
    title: str
    url: str | None
    feed: str
    label: str
    published_at: datetime
    first_seen_at: datetime
    text: str
    """The start of the extracted text, else of the feed's summary ('' when neither)."""
    section: str | None
    """The suggested subsection, else the feed's ``section_hint``."""
    suggested: bool
    reason: str | None
    score: float | None
    group_id: int | None


@dataclass(frozen=True, slots=True)
class FeedRow:
    """A feed's polling state as the email judges it."""

    name: str
    label: str
    error_count: int
    last_error: str | None
    gone_at: datetime | None
    last_success_at: datetime | None
    created_at: datetime
    newest: datetime | None
    """When its newest candidate was first seen (None: it has none)."""


def week_candidates(s: Connection, start: datetime, end: datetime) -> list[WeekRow]:
    """The candidates first seen in [start, end), oldest first, with their feed and excerpt."""
    text = sa.func.coalesce(
        sa.func.substr(articles.c.text, 1, EXCERPT_CHARS),
        sa.func.substr(candidates.c.summary, 1, EXCERPT_CHARS),
        "",
    )
    c = candidates.c
    query = (
        sa.select(
            c.id,
            c.title,
            c.url,
            feeds.c.name,
            feeds.c.label,
            c.published_at,
            c.first_seen_at,
            text,
            c.suggested_section,
            feeds.c.section_hint,
            c.suggestion_reason,
            c.score,
            c.group_id,
        )
        .join(feeds, feeds.c.id == c.feed_id)
        .outerjoin(articles, articles.c.candidate_id == c.id)
        .where(c.first_seen_at >= start, c.first_seen_at < end)
        .order_by(c.first_seen_at, c.id)
    )
    return [
        WeekRow(
            id=r[0],
            title=r[1],
            url=r[2],
            feed=r[3],
            label=r[4] or "",
            published_at=r[5],
            first_seen_at=r[6],
            text=r[7] or "",
            section=r[8] or r[9],
            suggested=r[8] is not None,
            reason=r[10],
            score=r[11],
            group_id=r[12],
        )
        for r in s.execute(query)
    ]


def feed_rows(s: Connection) -> list[FeedRow]:
    """Every enabled feed of feeds.yaml with its polling state and its newest candidate's first sight."""
    newest = (
        sa.select(candidates.c.feed_id, sa.func.max(candidates.c.first_seen_at).label("newest"))
        .group_by(candidates.c.feed_id)
        .subquery()
    )
    f = feeds.c
    query = (
        sa.select(
            f.name,
            f.label,
            f.error_count,
            f.last_error,
            f.gone_at,
            f.last_success_at,
            f.created_at,
            newest.c.newest,
        )
        .outerjoin(newest, newest.c.feed_id == f.id)
        .where(f.enabled, f.in_config)
        .order_by(f.name)
    )
    return [FeedRow(r[0], r[1] or "", r[2], r[3], r[4], r[5], r[6], r[7]) for r in s.execute(query)]


def draft_counts(s: Connection, month: str) -> tuple[str | None, list[tuple[str, int]]]:
    """Issue ``month``'s status (None: not opened) and its items per section."""
    status = s.execute(sa.select(digests.c.status).where(digests.c.name == month)).scalar()
    if status is None:
        return None, []
    query = (
        sa.select(digest_items.c.section, sa.func.count())
        .join(digests, digests.c.id == digest_items.c.digest_id)
        .where(digests.c.name == month)
        .group_by(digest_items.c.section)
    )
    return status, [(section, count) for section, count in s.execute(query)]


def sent_recipients(s: Connection, week: str) -> set[str]:
    """The recipients the mail server accepted ``week``'s email for."""
    query = sa.select(email_sends.c.recipient).where(email_sends.c.week == week)
    return set(s.execute(query).scalars())


def record_send(s: Connection, week: str, recipient: str, message_id: str, sent_at: datetime) -> None:
    """Record that the server accepted ``week``'s email for ``recipient`` (again, with ``--force``)."""
    s.execute(sa.delete(email_sends).where(email_sends.c.week == week, email_sends.c.recipient == recipient))
    s.execute(
        sa.insert(email_sends).values(week=week, recipient=recipient, message_id=message_id, sent_at=sent_at)
    )
