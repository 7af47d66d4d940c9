"""The suggestion wing's rows: the curators' history, candidates to suggest for, and what is stored back.

SQL only, in the caller's session, never committing. Values leave as the frozen rows below; the
service turns them into :mod:`aggregator.suggest.values` (the store imports no domain).

A candidate needs a suggestion when it has none yet, or when its article was extracted after its
suggestion was made (the page's text arrives later than the feed's entry).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.store.rows import chunks
from aggregator.store.tables import articles, candidates, digest_items, feeds

__all__ = [
    "HistoryRow",
    "SubjectRow",
    "Verdict",
    "feed_records",
    "history",
    "needing",
    "save_groups",
    "save_verdicts",
    "stored",
    "subjects",
]

c, a, di, f = candidates.c, articles.c, digest_items.c, feeds.c


@dataclass(frozen=True, slots=True)
class SubjectRow:
    """A candidate as a suggestion reads it: its words, its feed, its article's text and links."""

    id: int
    title: str
    url: str | None
    feed_name: str
    feed_label: str
    feed_language: str | None
    section_hint: str | None
    language: str | None
    feed_text: str
    """The feed's summary or content, as stored (may be HTML)."""
    article_text: str | None
    links: tuple[str, ...]
    published_at: datetime


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """A labelled example: a promoted (or imported) candidate and the section the curators chose."""

    item_id: int
    """The digest item's id: the history is read again from past the last one seen."""
    subject: SubjectRow
    section: str
    label: str | None
    """The label the digest printed (the curator's override), else None."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What is stored back on a candidate: its suggestion, its score and their reasons."""

    id: int
    section: str
    confidence: float
    reason: str
    score: float
    score_reasons: list[dict[str, Any]]


def _subject_columns() -> list[Any]:
    return [
        c.id, c.title, c.url, f.name.label("feed_name"), f.label.label("feed_label"),
        f.language.label("feed_language"), f.section_hint, c.language,
        sa.func.coalesce(c.content, c.summary, "").label("feed_text"), a.text.label("article_text"),
        a.links, c.published_at,
    ]  # fmt: skip


def _subject(r: Any) -> SubjectRow:
    return SubjectRow(
        id=r.id, title=r.title, url=r.url, feed_name=r.feed_name, feed_label=r.feed_label or "",
        feed_language=r.feed_language, section_hint=r.section_hint, language=r.language,
        feed_text=r.feed_text or "", article_text=r.article_text,
        links=tuple(x for x in (r.links or ()) if isinstance(x, str)), published_at=r.published_at,
    )  # fmt: skip


def _base() -> sa.Select[Any]:
    return (
        sa.select(*_subject_columns())
        .select_from(candidates)
        .join(feeds, f.id == c.feed_id)
        .outerjoin(articles, a.candidate_id == c.id)
    )


def history(s: Connection, *, after: int = 0) -> list[HistoryRow]:
    """Every digest item (imported or promoted) with an id past ``after``, oldest first."""
    stmt = (
        _base()
        .add_columns(di.id.label("item_id"), di.section.label("item_section"), di.label.label("item_label"))
        .join(digest_items, di.candidate_id == c.id)
        .where(di.id > after)
        .order_by(di.id)
    )
    return [HistoryRow(r.item_id, _subject(r), r.item_section, r.item_label) for r in s.execute(stmt)]


def learned(s: Connection, *, upto: int) -> tuple[tuple[int, int, str, str | None], ...]:
    """What of the history up to digest item ``upto`` a learner has seen: (item, candidate, section,
    label) of each item, in order. It changes when an item is taken out (unpromoted, or dropped by a
    re-import) or moved to another section or label."""
    stmt = sa.select(di.id, di.candidate_id, di.section, di.label).where(di.id <= upto).order_by(di.id)
    return tuple(s.execute(stmt).tuples())


def needing(s: Connection, *, limit: int | None = None, everything: bool = False) -> list[int]:
    """Ids of candidates with no suggestion, or whose article came after it (all with ``everything``)."""
    stmt = sa.select(c.id).select_from(candidates.outerjoin(articles, a.candidate_id == c.id))
    if not everything:
        stmt = stmt.where(
            sa.or_(
                c.suggested_at.is_(None),
                sa.and_(a.extracted_at.is_not(None), a.extracted_at > c.suggested_at),
            )
        )
    stmt = stmt.order_by(c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(s.execute(stmt).scalars())


def subjects(s: Connection, ids: Sequence[int]) -> list[SubjectRow]:
    """These candidates as suggestions read them, in id order."""
    out: list[SubjectRow] = []
    for chunk in chunks(sorted(ids)):
        out += [_subject(r) for r in s.execute(_base().where(c.id.in_(chunk)).order_by(c.id))]
    return out


def recent(s: Connection, since: datetime) -> list[SubjectRow]:
    """Candidates published since ``since`` (what cross-post grouping is seeded with), oldest first."""
    return [
        _subject(r) for r in s.execute(_base().where(c.published_at >= since).order_by(c.published_at, c.id))
    ]


def feed_records(s: Connection) -> dict[str, tuple[int, int]]:
    """Each feed's record by name: (promoted, decided), decided being promoted or rejected."""
    promoted = sa.func.sum(sa.case((c.status == "promoted", 1), else_=0))
    decided = sa.func.sum(sa.case((c.status.in_(("promoted", "rejected")), 1), else_=0))
    stmt = sa.select(f.name, promoted, decided).join(candidates, c.feed_id == f.id).group_by(f.name)
    return {name: (int(p or 0), int(d or 0)) for name, p, d in s.execute(stmt)}


def save_verdicts(s: Connection, verdicts: Sequence[Verdict], now: datetime) -> None:
    """Store each candidate's suggestion and score (one statement for the batch)."""
    if not verdicts:
        return
    stmt = (
        sa.update(candidates)
        .where(c.id == sa.bindparam("b_id"))
        .values(
            suggested_section=sa.bindparam("b_section"),
            suggestion_confidence=sa.bindparam("b_confidence"),
            suggestion_reason=sa.bindparam("b_reason"),
            score=sa.bindparam("b_score"),
            score_reasons=sa.bindparam("b_score_reasons", type_=sa.JSON),
            suggested_at=now,
        )
    )
    s.execute(
        stmt,
        [
            {"b_id": v.id, "b_section": v.section, "b_confidence": v.confidence, "b_reason": v.reason,
             "b_score": v.score, "b_score_reasons": v.score_reasons}
            for v in verdicts
        ],
    )  # fmt: skip


def save_groups(s: Connection, primaries: Mapping[int, int]) -> None:
    """Set each candidate's group to its primary's id (``candidate id -> primary id``)."""
    if not primaries:
        return
    stmt = sa.update(candidates).where(c.id == sa.bindparam("b_id")).values(group_id=sa.bindparam("b_group"))
    s.execute(stmt, [{"b_id": k, "b_group": v} for k, v in primaries.items()])


def routes(s: Connection, primaries: Sequence[int]) -> dict[int, list[tuple[int, str, str | None]]]:
    """The other members of each of these groups: primary id -> [(id, feed name, url)], by id."""
    out: dict[int, list[tuple[int, str, str | None]]] = {}
    for chunk in chunks(sorted(set(primaries))):
        stmt = (
            sa.select(c.group_id, c.id, f.name, c.url)
            .join(feeds, f.id == c.feed_id)
            .where(c.group_id.in_(chunk), c.id != c.group_id)
            .order_by(c.group_id, c.id)
        )
        for group, cid, name, url in s.execute(stmt):
            out.setdefault(group, []).append((cid, name, url))
    return out


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A candidate's stored suggestion columns, and its group's primary when that is another."""

    section: str | None
    confidence: float | None
    reason: str | None
    score: float | None
    score_reasons: list[dict[str, Any]]
    group_id: int | None
    primary_feed: str | None
    primary_url: str | None


def stored(s: Connection, candidate_id: int) -> StoredRow | None:
    """The stored suggestion of a candidate; None when there is no such candidate."""
    primary = candidates.alias("primary")
    pf = feeds.alias("primary_feed")
    stmt = (
        sa.select(
            c.suggested_section, c.suggestion_confidence, c.suggestion_reason, c.score, c.score_reasons,
            c.group_id, pf.c.name, primary.c.url,
        )
        .select_from(candidates)
        .outerjoin(primary, sa.and_(primary.c.id == c.group_id, primary.c.id != c.id))
        .outerjoin(pf, pf.c.id == primary.c.feed_id)
        .where(c.id == candidate_id)
    )  # fmt: skip
    r = s.execute(stmt).first()
    if r is None:
        return None
    return StoredRow(r[0], r[1], r[2], r[3], list(r[4] or []), r[5], r[6], r[7])


def texts_by_url(s: Connection, urls: Mapping[str, str]) -> dict[str, SubjectRow]:
    """The stored candidates of these URLs (``url -> its canonical URL``), by the URL asked for:
    matched on the URL as published, else on the canonical URL."""
    wanted_canonical: dict[str, str] = {canonical: url for url, canonical in urls.items() if canonical}
    out: dict[str, SubjectRow] = {}
    for chunk in chunks(sorted(urls)):
        for r in s.execute(_base().where(c.url.in_(chunk)).order_by(c.id)):
            out.setdefault(r.url, _subject(r))
    for chunk in chunks(sorted(wanted_canonical)):
        stmt = _base().add_columns(c.canonical_url).where(c.canonical_url.in_(chunk)).order_by(c.id)
        for r in s.execute(stmt):
            out.setdefault(wanted_canonical[r.canonical_url], _subject(r))
    return out
