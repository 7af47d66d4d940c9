"""The triage queue: listing, filtering and full-text search over candidates, one page at a time.

``list_queue`` runs one statement: an inner query picks the page's candidate
ids (filters, order, limit and offset over ``candidates`` and its indexes
only), and the outer one joins what a curator sees for just those rows (feed,
digest issue and section, article length). A deep page therefore skips ids,
not joined rows.

Snoozes that have run out are not written back here: a listing is read-only
(no version bump under another curator's feet, no write lock for a read).
The queue computes each candidate's status from ``now`` the way
``triage.effective_status`` does, so a candidate whose ``snoozed_until`` has
passed is listed, filtered and counted as ``new`` (:func:`effective_status`),
without its old date; the stored row says ``snoozed`` until a decision changes it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FromClause
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType

from aggregator.searchtext import query_terms
from aggregator.store import search, suggestions
from aggregator.store.tables import (
    articles,
    candidates,
    digest_items,
    digests,
    feeds,
    ix_candidates_feed_id_published_at_status,
    ix_candidates_published_at_status_feed_id,
)
from aggregator.triage_types import STATUSES, QueueItem, QueueQuery, Status

c = candidates.c


def effective_status(now: datetime) -> sa.ColumnElement[str]:
    """A candidate's status as the queue shows it: a snooze that has run out is ``new``."""
    return sa.case((sa.and_(c.status == "snoozed", _awake(now)), sa.literal("new")), else_=c.status)


def _awake(now: datetime) -> sa.ColumnElement[bool]:
    # As triage.effective_status: a snooze without a date is over too.
    return sa.or_(c.snoozed_until.is_(None), c.snoozed_until <= now)


def list_queue(s: Connection, query: QueueQuery, now: datetime) -> list[QueueItem]:
    """One page of the queue: the candidates ``query`` asks for, in its order."""
    _check(query)
    plan = _plan(s, query, now, reach=query.offset + query.limit)
    if plan is None:
        return []
    page = _page(plan, query, s.dialect.name).subquery("page")
    di, d, a = digest_items.c, digests.c, articles.c
    stmt = (
        sa.select(
            c.id, c.title, c.url, c.published_at, c.version, c.language, c.notes, c.snoozed_until,
            c.decided_by, c.decided_at, c.group_id, effective_status(now).label("status"),
            c.score,
            feeds.c.name.label("feed_name"), feeds.c.label, feeds.c.section_hint,
            d.name.label("digest"), di.section, a.word_count, a.status.label("extract_status"),
        )
        .select_from(page)
        .join(candidates, c.id == page.c.id)
        .join(feeds, feeds.c.id == c.feed_id)
        .outerjoin(digest_items, di.candidate_id == c.id)
        .outerjoin(digests, d.id == di.digest_id)
        .outerjoin(articles, a.candidate_id == c.id)
        .order_by(*_order(query))
    )  # fmt: skip
    rows = s.execute(stmt).all()
    others = suggestions.routes(s, [r.id for r in rows if r.group_id == r.id])
    return [_item(r, tuple(name for _, name, _ in others.get(r.id, ()))) for r in rows]


def count_queue(s: Connection, query: QueueQuery, now: datetime, *, at_most: int | None = None) -> int:
    """How many candidates ``query`` finds (its limit and offset aside).

    With ``at_most``, counting stops there (a screen that shows "1,000+" needs
    no more), which keeps a count of a common word as fast as a page of it.
    """
    _check(query)
    if at_most is not None and at_most <= 0:
        return 0
    plan = _plan(s, query, now, reach=at_most, count=True)
    if plan is None:
        return 0
    if at_most is not None:
        found = _filtered(sa.select(c.id), plan).limit(at_most).subquery()
        return int(s.execute(sa.select(sa.func.count()).select_from(found)).scalar_one())
    if s.dialect.name == "postgresql" and len(_each(plan.statuses)) * len(_each(plan.sections)) > 1:
        # One count per combination of alternatives (they are disjoint):
        # PostgreSQL answers each from an index, where their OR makes it read
        # every row.
        parts = [
            _filtered(sa.select(sa.func.count()), replace(plan, statuses=st, sections=se)).scalar_subquery()
            for st in _each(plan.statuses)
            for se in _each(plan.sections)
        ]
        return int(s.execute(sa.select(sum(parts[1:], parts[0]))).scalar_one())
    stmt = _filtered(sa.select(sa.func.count()), plan)
    return int(s.execute(stmt).scalar_one())


def _each(alternatives: tuple[sa.ColumnElement[bool], ...]) -> list[tuple[sa.ColumnElement[bool], ...]]:
    return [(alt,) for alt in alternatives] or [()]


def feed_names(s: Connection) -> set[str]:
    """Every feed's name, those removed from feeds.yaml included (their candidates stay)."""
    return set(s.execute(sa.select(feeds.c.name)).scalars())


def _check(query: QueueQuery) -> None:
    if query.limit < 0 or query.offset < 0:
        raise ValueError(f"limit and offset cannot be negative (limit {query.limit}, offset {query.offset})")
    if query.sort not in ("date", "feed", "score"):
        raise ValueError(f"unknown sort {query.sort!r} (date, feed or score)")


# -- how a query is run ----------------------------------------------------------
#
# Everything the queue filters on but the search is in two covering indexes
# (tables.py): (published_at, status, feed_id) for newest first, (feed_id,
# published_at, status) for feed by feed. A page walks one of them in order,
# skipping rows from the index alone, and stops after offset + limit rows: a
# whole walk over 100,000 candidates costs SQLite about 7 ms, and a filter
# that keeps few rows is still bounded by it. PostgreSQL's planner picks its
# own path from statistics; SQLite's has none by default (no ANALYZE), so the
# index is named for it (INDEXED BY), and, for the feed order, the join order
# too (CROSS JOIN: feeds by name outside, each feed's candidates inside).
#
# A search either rides along the walk (each candidate tested: fine when most
# match) or drives the query (few matches: their rows are read by id and only
# they are sorted). Which one is decided before the query from the number of
# matches: the search index counts "up to n" in a millisecond or two.

#: SQLite's walks, by name (INDEXED BY needs the name).
_BY_DATE = str(ix_candidates_published_at_status_feed_id.name)
_BY_FEED = str(ix_candidates_feed_id_published_at_status.name)

#: Never drive a query by more matches than this.
MAX_DRIVING_MATCHES = 10_000


@dataclass(frozen=True, slots=True)
class _Plan:
    statuses: tuple[sa.ColumnElement[bool], ...]
    """Disjoint alternatives, one of which a candidate meets; none: any status."""
    sections: tuple[sa.ColumnElement[bool], ...]
    """The same for the section asked for; none: any section."""
    where: tuple[sa.ColumnElement[bool], ...]
    by_matches: bool = False
    """The search's few matches drive the query instead of a walk."""


def _plan(
    s: Connection, query: QueueQuery, now: datetime, *, reach: int | None, count: bool = False
) -> _Plan | None:
    """What to ask the database for ``query``; None when nothing can match.

    ``reach`` is how many matching rows the query needs (offset + limit; None:
    all of them, for a count). Feed names and section hints are resolved here,
    against the few rows of the feeds table, so the database sees id lists.
    """
    where: list[sa.ColumnElement[bool]] = []
    sections: tuple[sa.ColumnElement[bool], ...] = ()
    if query.feeds or query.section:
        all_feeds = [
            _Feed(*row) for row in s.execute(sa.select(feeds.c.id, feeds.c.name, feeds.c.section_hint))
        ]
        if query.feeds:
            wanted = set(query.feeds)
            ids = [f.id for f in all_feeds if f.name in wanted]
            if not ids:
                return None
            where.append(c.feed_id.in_(ids))
        if query.section:
            sections = _section_alternatives(query.section, all_feeds)
    if query.since is not None:
        where.append(c.published_at >= query.since)
    # A cross-posted article is listed once, as its group's primary (the others are its routes);
    # a route a curator has already decided on (shortlisted, promoted, rejected) is listed as well.
    where.append(sa.or_(c.group_id.is_(None), c.group_id == c.id, c.status.not_in(("new", "snoozed"))))
    statuses = _status_alternatives(query.statuses, now)
    if statuses is None:
        return None
    by_matches = False
    if query.search and query_terms(query.search):
        dialect = s.dialect.name
        total = s.execute(sa.select(sa.func.max(c.id))).scalar_one() or 0
        few = _few_matches(dialect, total, reach)
        found_at_most = search.count_matches(s, query.search, few + 1) if few else 1
        if found_at_most == 0:
            return None
        by_matches = found_at_most <= few
        walk_all = count and reach is None  # an exact count: the set of matches is the better test
        found = search.matches(query.search, dialect, per_row=not (by_matches or walk_all))
        assert found is not None
        where.append(found)
    return _Plan(statuses, sections, tuple(where), by_matches)


def _few_matches(dialect: str, total: int, reach: int | None) -> int:
    """Up to how many matches driving a query by them beats walking ``total`` candidates in order.

    Driving costs ``drive`` per match (read the row, sort it). A walk costs
    ``walk`` per row walked, and finding ``reach`` rows among ``m`` matches
    walks about ``reach * total / m`` rows, all ``total`` at most. Driving wins
    while m * drive <= min(total, reach * total / m) * walk, that is up to
    m = min(sqrt(reach * total * r), total * r) with r = walk / drive.
    Measured: SQLite drives at ~1.5 µs a match and walks its covering index at
    ~0.1 µs a row (r = 1/15); PostgreSQL drives at ~5 µs, and walks at ~5 µs
    a row testing each row's tsvector (r = 1). A count reaches every row.
    """
    r = 1 / 15 if dialect == "sqlite" else 1.0
    reach = total if reach is None else reach
    return min(MAX_DRIVING_MATCHES, math.ceil(min(math.sqrt(reach * total * r), total * r)))


def _filtered(stmt: sa.Select[Any], plan: _Plan, *, with_feeds: bool = False) -> sa.Select[Any]:
    """``stmt`` from the plan's walk, with the plan's conditions."""
    conditions = list(plan.where)
    for alternatives in (plan.statuses, plan.sections):
        if alternatives:
            conditions.append(alternatives[0] if len(alternatives) == 1 else sa.or_(*alternatives))
    index = None if plan.by_matches else _BY_FEED if with_feeds else _BY_DATE
    return stmt.select_from(_Walk(index, with_feeds)).where(*conditions)


class _Walk(FromClause):
    """The FROM of a queue query: ``candidates``, after ``feeds`` for the feed order.

    On SQLite it names the index to walk (``INDEXED BY``), or ``NOT INDEXED``
    when the search's ids drive (``index`` None), and keeps feeds outside the
    join (``CROSS JOIN``); on other databases it is the plain table or join.
    """

    named_with_column = False
    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (as SQLAlchemy declares it)
        ("index", InternalTraversal.dp_string),
        ("with_feeds", InternalTraversal.dp_boolean),
    ]

    def __init__(self, index: str | None, with_feeds: bool) -> None:
        self.index = index
        self.with_feeds = with_feeds

    @property
    def _hide_froms(self) -> list[FromClause]:
        return [feeds, candidates] if self.with_feeds else [candidates]

    @property
    def _from_objects(self) -> list[FromClause]:
        # As a Join's: itself, then what it is made of, so that a subquery
        # about candidates (a search's per-row test) correlates to it.
        return [self, *self._hide_froms]


@compiles(_Walk)
def _compile_walk(element: _Walk, compiler: SQLCompiler, **kw: Any) -> str:
    source: FromClause = candidates
    if element.with_feeds:
        source = feeds.join(candidates, feeds.c.id == c.feed_id)
    return str(compiler.process(source, **{**kw, "asfrom": True}))


@compiles(_Walk, "sqlite")
def _compile_walk_sqlite(element: _Walk, compiler: SQLCompiler, **kw: Any) -> str:
    kw["asfrom"] = True
    table = compiler.process(candidates, **kw)
    if element.index is None:
        table += " NOT INDEXED"
    else:
        table += f" INDEXED BY {compiler.preparer.quote(element.index)}"
    if not element.with_feeds:
        return str(table)
    left = compiler.process(feeds, **kw)
    on = compiler.process(feeds.c.id == c.feed_id, **{**kw, "asfrom": False})
    return f"{left} CROSS JOIN {table} ON {on}"


def _order(query: QueueQuery) -> list[sa.ColumnElement[Any]]:
    newest: list[sa.ColumnElement[Any]] = [c.published_at.desc(), c.id.desc()]
    if query.sort == "score":  # most important first; not yet scored last
        return [c.score.is_(None), c.score.desc(), *newest]
    return [feeds.c.name, *newest] if query.sort == "feed" else newest


def _page(plan: _Plan, query: QueueQuery, dialect: str) -> sa.Select[Any]:
    """The ids of the page's candidates, in order."""
    if query.sort == "feed" and dialect == "postgresql" and not plan.by_matches:
        # Feed by feed, in name order, each feed's newest first, up to the
        # page's end: PostgreSQL stops after the feeds the page needs, where
        # a plain join would have it sort every candidate by feed name first.
        newest = [c.published_at.desc(), c.id.desc()]
        reach = query.offset + query.limit
        walk = _filtered(sa.select(c.id, c.published_at), plan).where(c.feed_id == feeds.c.id)
        per_feed = walk.order_by(*newest).limit(reach).lateral("per_feed")
        return (
            sa.select(per_feed.c.id)
            .select_from(feeds.join(per_feed, sa.true()))
            .order_by(feeds.c.name, per_feed.c.published_at.desc(), per_feed.c.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
    stmt = _filtered(sa.select(c.id), plan, with_feeds=query.sort == "feed")
    return stmt.order_by(*_order(query)).limit(query.limit).offset(query.offset)


def _status_alternatives(
    statuses: Sequence[Status], now: datetime
) -> tuple[sa.ColumnElement[bool], ...] | None:
    """Disjoint conditions, one of which a candidate whose shown status is in ``statuses`` meets.

    Comparisons on the stored status (not on the CASE of :func:`effective_status`),
    so indexes on it still serve them. Empty: any status; None: none can match.
    """
    wanted = set(statuses)
    unknown = wanted - set(STATUSES)
    if unknown:
        raise ValueError(f"unknown status {sorted(unknown)[0]!r} (one of {', '.join(STATUSES)})")
    if wanted >= set(STATUSES):
        return ()
    stored = sorted(wanted - {"snoozed"})
    alternatives: list[sa.ColumnElement[bool]] = []
    if "snoozed" in wanted and "new" in wanted:
        stored.append("snoozed")  # asleep or awake, each is one of the two
    elif "snoozed" in wanted:
        alternatives.append(sa.and_(c.status == "snoozed", c.snoozed_until > now))
    elif "new" in wanted:
        alternatives.append(sa.and_(c.status == "snoozed", _awake(now)))
    if stored:
        alternatives.insert(0, c.status == stored[0] if len(stored) == 1 else c.status.in_(stored))
    return tuple(alternatives) or None


def section_matches(wanted: str, section: str | None) -> bool:
    """Whether a section id is the one asked for or inside it.

    ``aws`` matches ``aws/mlops`` (the section asked for contains it); a feed
    hinted only ``aws`` does not match ``aws/mlops``: its candidates are there
    only when promoted there or suggested there.
    """
    if not section:
        return False
    return section == wanted or section.startswith(wanted + "/")


@dataclass(frozen=True, slots=True)
class _Feed:
    id: int
    name: str
    section_hint: str | None


def _section_alternatives(section: str, all_feeds: Sequence[_Feed]) -> tuple[sa.ColumnElement[bool], ...]:
    """Disjoint conditions for "a promoted candidate's section, else its feed's hint, else its suggested
    section is ``section`` or inside it" (a broader hint, ``research`` for ``research/nlp``, is not)."""
    section = section.strip("/")
    di = digest_items.c
    # The section itself and every section around it ("aws" for "aws/mlops"),
    # and every section inside it ("aws/mlops" for "aws").
    parts = section.split("/")
    around = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    inside = di.section.startswith(section + "/", autoescape=True)
    promoted_here = sa.select(di.candidate_id).where(sa.or_(di.section.in_(around), inside))
    terms: list[sa.ColumnElement[bool]] = [c.id.in_(promoted_here)]
    hinted = [f.id for f in all_feeds if section_matches(section, f.section_hint)]
    promoted = sa.select(di.candidate_id)
    if hinted:
        terms.append(sa.and_(c.feed_id.in_(hinted), c.id.not_in(promoted)))
    # Else its suggested section (a full subsection id) is the one asked for, or inside it.
    suggested = sa.or_(
        c.suggested_section.in_(around), c.suggested_section.startswith(section + "/", autoescape=True)
    )
    terms.append(sa.and_(suggested, c.id.not_in(promoted), *([c.feed_id.not_in(hinted)] if hinted else [])))
    return tuple(terms)


def _item(r: Any, routes: tuple[str, ...] = ()) -> QueueItem:
    return QueueItem(
        id=r.id,
        title=r.title,
        url=r.url,
        feed_name=r.feed_name,
        label=r.label,
        published_at=r.published_at,
        status=r.status,
        version=r.version,
        section_hint=r.section_hint,
        language=r.language,
        notes=tuple(r.notes or ()),
        snoozed_until=r.snoozed_until if r.status == "snoozed" else None,
        digest=r.digest,
        section=r.section,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        word_count=r.word_count,
        extract_status=r.extract_status,
        group_id=r.group_id,
        score=r.score,
        routes=routes,
    )
