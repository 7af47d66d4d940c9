"""Digest issues in the database: open, list, the rows of an issue, publish, positions. SQL only.

Like ``repo``, functions take the caller's session and never commit; they return rows or plain
values, never domain objects: :mod:`aggregator.digest.issues` and :mod:`aggregator.digest.moves`
turn them into an issue, lint findings and a move. A published issue is frozen: changing it needs
``force`` (checked by :func:`open_issue` here, and by the digest wing before its writes). Issue names
are checked (``YYYY-MM``) by the callers, with :func:`aggregator.digest.names.check_name`.
The import's writes are in :mod:`aggregator.store.digest_import`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.errors import DigestError
from aggregator.store.repo import CHUNK, dialect_insert
from aggregator.store.tables import candidates, digest_items, digests, feeds


def frozen_message(name: str) -> str:
    """Why issue ``name`` cannot be changed: it is published."""
    return (
        f"digest {name} is published and frozen; add --force to change it anyway "
        "(or `aggregator digest render` to see it as published)"
    )


def open_issue(s: Connection, name: str, now: datetime, *, force: bool = False) -> int:
    """The id of issue ``name`` (a valid ``YYYY-MM``) to change, opened as a draft when it does not exist yet.

    A published issue is frozen: changing it needs ``force``.
    """
    row = s.execute(sa.select(digests.c.id, digests.c.status).where(digests.c.name == name)).first()
    if row is None:
        # Two curators' first promotions of a month may open it at once (PostgreSQL): the one
        # whose insert loses reads the other's issue instead of failing on the unique name.
        created = s.execute(
            dialect_insert(s, digests)
            .values(name=name, status="draft", created_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(digests.c.id)
        ).scalar()
        if created is not None:
            return int(created)
        row = s.execute(sa.select(digests.c.id, digests.c.status).where(digests.c.name == name)).one()
    if row.status == "published" and not force:
        raise DigestError(frozen_message(name))
    return int(row.id)


# -- reading ------------------------------------------------------------------------------------


def issue_rows(s: Connection) -> list[Any]:
    """Every issue's row, newest month first."""
    return list(s.execute(sa.select(digests).order_by(digests.c.name.desc())).all())


def section_counts(s: Connection) -> dict[int, list[tuple[str, int]]]:
    """Digest id to (section, item count) of each section that has items, sorted by section."""
    counts: dict[int, list[tuple[str, int]]] = {}
    for digest_id, section, n in s.execute(
        sa.select(digest_items.c.digest_id, digest_items.c.section, sa.func.count())
        .group_by(digest_items.c.digest_id, digest_items.c.section)
        .order_by(digest_items.c.section)
    ):
        counts.setdefault(digest_id, []).append((section, int(n)))
    return counts


def issue_row(s: Connection, name: str, *, lock: bool = False) -> Any:
    """Issue ``name``'s row, or a DigestError saying how to open it."""
    stmt = sa.select(digests).where(digests.c.name == name)
    if lock:
        stmt = stmt.with_for_update()  # PostgreSQL; SQLite writers hold the database already
    row = s.execute(stmt).first()
    if row is None:
        raise DigestError(
            f"there is no digest issue {name} (see `aggregator digest list`; promoting a candidate "
            f"into it, or `aggregator digest import FILE --digest {name}`, opens it)"
        )
    return row


def issue_status(s: Connection, name: str) -> str | None:
    """``draft`` or ``published``; None when there is no issue ``name``."""
    return s.execute(sa.select(digests.c.status).where(digests.c.name == name)).scalar()


def item_rows(s: Connection, digest_id: int) -> list[Any]:
    """An issue's items: the digest item's overrides beside its candidate's and feed's values."""
    stmt = (
        sa.select(
            digest_items.c.section,
            digest_items.c.position,
            digest_items.c.title.label("title_override"),
            digest_items.c.label.label("label_override"),
            digest_items.c.month.label("month_override"),
            digest_items.c.images,
            candidates.c.id,
            candidates.c.title,
            candidates.c.url,
            candidates.c.published_at,
            candidates.c.notes,
            feeds.c.label.label("feed_label"),
        )
        .join(candidates, candidates.c.id == digest_items.c.candidate_id)
        .join(feeds, feeds.c.id == candidates.c.feed_id)
        .where(digest_items.c.digest_id == digest_id)
    )
    return list(s.execute(stmt))


def _lint_select() -> sa.Select[Any]:
    return (
        sa.select(
            digests.c.name.label("issue"),
            digest_items.c.section,
            digest_items.c.month,
            digest_items.c.title.label("title_override"),
            digest_items.c.label.label("label_override"),
            candidates.c.id,
            candidates.c.title,
            candidates.c.url,
            candidates.c.canonical_url,
            candidates.c.group_id,
            candidates.c.date_source,
            candidates.c.published_at,
            candidates.c.notes,
            feeds.c.label.label("feed_label"),
            feeds.c.name.label("feed_name"),
        )
        .join(candidates, candidates.c.id == digest_items.c.candidate_id)
        .join(digests, digests.c.id == digest_items.c.digest_id)
        .join(feeds, feeds.c.id == candidates.c.feed_id)
    )


def lint_rows(s: Connection, digest_id: int) -> list[Any]:
    """What lint reads of an issue's items."""
    return list(s.execute(_lint_select().where(digest_items.c.digest_id == digest_id)))


def lint_rows_elsewhere(
    s: Connection, digest_id: int, urls: Sequence[str], groups: Sequence[int]
) -> dict[int, Any]:
    """Candidate id to lint's row, for the items of other issues sharing a canonical URL or a group."""
    found: dict[int, Any] = {}
    elsewhere = _lint_select().where(digest_items.c.digest_id != digest_id)
    for chunk in chunks(urls):
        for r in s.execute(elsewhere.where(candidates.c.canonical_url.in_(chunk))):
            found[r.id] = r
    for group_chunk in chunks(groups):
        for r in s.execute(elsewhere.where(candidates.c.group_id.in_(group_chunk))):
            found[r.id] = r
    return found


def item_count(s: Connection, digest_id: int) -> int:
    return int(
        s.execute(
            sa.select(sa.func.count()).select_from(digest_items).where(digest_items.c.digest_id == digest_id)
        ).scalar_one()
    )


def mark_published(s: Connection, digest_id: int, now: datetime) -> None:
    s.execute(
        sa.update(digests).where(digests.c.id == digest_id).values(status="published", published_at=now)
    )


# -- order ------------------------------------------------------------------------------------


def placement(s: Connection, candidate_id: int) -> Any:
    """(digest_id, section, name, status) of the issue a candidate is in, or None."""
    return s.execute(
        sa.select(digest_items.c.digest_id, digest_items.c.section, digests.c.name, digests.c.status)
        .join(digests, digests.c.id == digest_items.c.digest_id)
        .where(digest_items.c.candidate_id == candidate_id)
    ).first()


def lock_issue(s: Connection, digest_id: int) -> None:
    """Hold the issue's row until the transaction ends (PostgreSQL), so two moves run one at a time."""
    s.execute(sa.select(digests.c.id).where(digests.c.id == digest_id).with_for_update())


def section_rows(s: Connection, digest_id: int, section: str) -> list[Any]:
    """(id, published_at, position) of a subsection's items, in no particular order."""
    return list(
        s.execute(
            sa.select(candidates.c.id, candidates.c.published_at, digest_items.c.position)
            .join(candidates, candidates.c.id == digest_items.c.candidate_id)
            .where(digest_items.c.digest_id == digest_id, digest_items.c.section == section)
        ).all()
    )


def write_positions(
    s: Connection, digest_id: int, current: Sequence[tuple[int, int | None]], order: Sequence[int]
) -> set[int]:
    """Give each item of ``order`` its index as position; returns the candidates whose position changed."""
    old = dict(current)
    params = [{"b_cid": cid, "b_pos": pos} for pos, cid in enumerate(order) if old.get(cid, -1) != pos]
    if params:
        s.execute(
            sa.update(digest_items)
            .where(
                digest_items.c.digest_id == digest_id, digest_items.c.candidate_id == sa.bindparam("b_cid")
            )
            .values(position=sa.bindparam("b_pos")),
            params,
        )
    return {p["b_cid"] for p in params}


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """``items`` in slices of at most ``size`` (bound parameters per statement are limited)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
