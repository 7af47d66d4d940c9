"""Queries about extraction: which candidates need their page, storing articles, reading them.

Like ``repo``, functions take the caller's session and return ``types`` values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.article_types import Article, ExtractJob
from aggregator.store import search
from aggregator.store.rows import dialect_insert
from aggregator.store.tables import articles, candidates


def pending_jobs(
    s: Connection,
    *,
    now: datetime,
    limit: int,
    ids: Sequence[int] | None = None,
    retry_failed: bool = False,
    after_id: int = 0,
) -> list[ExtractJob]:
    """Candidates whose page is due: never tried, or a transient failure whose retry time has come.

    With ``ids``: exactly those candidates, whatever their state (an operator
    asked). With ``retry_failed``: also every candidate whose page failed for
    good (not ``ok``). Ordered by candidate id, from ``after_id`` on.
    """
    a = articles.c
    stmt = (
        sa.select(
            candidates.c.id,
            candidates.c.url,
            candidates.c.content,
            candidates.c.content_type,
            candidates.c.summary,
            candidates.c.language,
            sa.func.coalesce(a.attempts, 0).label("attempts"),
        )
        .outerjoin(articles, a.candidate_id == candidates.c.id)
        .where(candidates.c.id > after_id)
        .order_by(candidates.c.id)
        .limit(limit)
    )
    if ids is not None:
        stmt = stmt.where(candidates.c.id.in_(list(ids)))
    else:
        due = [a.candidate_id.is_(None), a.next_attempt_at <= now]
        if retry_failed:
            due.append(a.status != "ok")
        stmt = stmt.where(sa.or_(*due))
    return [
        ExtractJob(r.id, r.url, r.content, r.content_type, r.summary, r.language, r.attempts)
        for r in s.execute(stmt).all()
    ]


def count_pending(s: Connection, *, now: datetime) -> int:
    """How many candidates' pages are due (what :func:`pending_jobs` would give without ``ids``)."""
    a = articles.c
    stmt = (
        sa.select(sa.func.count())
        .select_from(candidates)
        .outerjoin(articles, a.candidate_id == candidates.c.id)
        .where(sa.or_(a.candidate_id.is_(None), a.next_attempt_at <= now))
    )
    return int(s.execute(stmt).scalar_one())


def save_articles(s: Connection, items: Sequence[Article]) -> None:
    """Insert or replace the articles of these candidates; set each candidate's language when known."""
    if not items:
        return
    rows = [_row(item) for item in items]
    insert: Any = dialect_insert(s, articles)
    update = {c.name: insert.excluded[c.name] for c in articles.c if c.name != "candidate_id"}
    s.execute(insert.on_conflict_do_update(index_elements=["candidate_id"], set_=update), rows)
    search.index_candidates(s, [item.candidate_id for item in items])  # the text is now the article's
    languages = [{"b_id": item.candidate_id, "b_language": item.language} for item in items if item.language]
    if languages:
        s.execute(
            sa.update(candidates)
            .where(candidates.c.id == sa.bindparam("b_id"))
            .values(language=sa.bindparam("b_language")),
            languages,
        )


def _row(item: Article) -> dict[str, Any]:
    return {
        "candidate_id": item.candidate_id,
        "status": item.status,
        "reason": item.reason,
        "text_source": item.text_source,
        "text": item.text,
        "word_count": item.word_count,
        "page_url": item.page_url,
        "title": item.title,
        "author": item.author,
        "published_at": item.published_at,
        "site_name": item.site_name,
        "language": item.language,
        "lead_image": item.lead_image,
        "links": list(item.links),
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at,
        "extracted_at": item.extracted_at,
    }


def get_article(s: Connection, candidate_id: int) -> Article | None:
    row = s.execute(sa.select(articles).where(articles.c.candidate_id == candidate_id)).one_or_none()
    if row is None:
        return None
    return Article(
        candidate_id=row.candidate_id,
        status=row.status,
        reason=row.reason,
        text_source=row.text_source,
        text=row.text,
        word_count=row.word_count,
        page_url=row.page_url,
        title=row.title,
        author=row.author,
        published_at=row.published_at,
        site_name=row.site_name,
        language=row.language,
        lead_image=row.lead_image,
        links=tuple(row.links or ()),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        extracted_at=row.extracted_at,
    )
