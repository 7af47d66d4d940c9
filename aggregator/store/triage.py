"""Triage rows: candidates' decision state, digest items, the decision log and its snapshots. No rules.

Which decision takes a candidate from which state to which, the refusals and
the report are the triage wing's (:mod:`aggregator.triage.decisions`); this
module reads and writes the rows it asks for:

- :func:`load` reads candidates with their digest item, their status as the
  queue shows it (a snooze that has run out reads as ``new``, as
  :func:`aggregator.store.queue.effective_status` computes it);
- :func:`update_candidate` writes only ``WHERE version = :seen`` (False: someone
  else changed the row in between);
- :func:`log_decision` writes a ``decisions`` row holding a :func:`snapshot` of
  the candidate and its digest item before the change, which
  :func:`restore_snapshot` puts back for ``undo``;
- :func:`history` is the log, :func:`triage_state` one candidate's state,
  :func:`record_move` logs a reorder of a subsection (``digest move``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.store.digests import open_issue
from aggregator.store.queue import effective_status
from aggregator.store.tables import candidates, decisions, digest_items, digests
from aggregator.triage_types import Change, DecisionReport, LoggedDecision, Status, TriageState


@dataclass
class LoadedCandidate:
    """A candidate as it is now, with its digest item."""

    id: int
    title: str
    status: Status
    """As the queue shows it: a snooze that has run out is ``new``."""
    stored_status: Status
    version: int
    notes: list[str]
    snoozed_until: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    item: dict[str, Any] | None = field(default=None)
    digest_status: str | None = None


def load(s: Connection, ids: Sequence[int], now: datetime) -> dict[int, LoadedCandidate]:
    """The candidates ``ids`` that exist, by id, each with its digest item (None when not promoted)."""
    di = digest_items.c
    query = (
        sa.select(
            candidates.c.id, candidates.c.title, candidates.c.status.label("stored_status"),
            effective_status(now).label("status"), candidates.c.version, candidates.c.notes,
            candidates.c.snoozed_until, candidates.c.decided_at, candidates.c.decided_by,
            digests.c.name.label("digest"), digests.c.status.label("digest_status"), di.section, di.position,
            di.title.label("item_title"), di.label.label("item_label"), di.month, di.images, di.promoted_at,
            di.promoted_by,
        )
        .select_from(candidates)
        .outerjoin(digest_items, di.candidate_id == candidates.c.id)
        .outerjoin(digests, digests.c.id == di.digest_id)
        .where(candidates.c.id.in_(ids))
    )  # fmt: skip
    out: dict[int, LoadedCandidate] = {}
    for r in s.execute(query):
        item = None
        if r.digest is not None:
            item = {
                "digest": r.digest,
                "section": r.section,
                "position": r.position,
                "title": r.item_title,
                "label": r.item_label,
                "month": r.month,
                "images": list(r.images or []),
                "promoted_at": r.promoted_at.isoformat(),
                "promoted_by": r.promoted_by,
            }
        out[r.id] = LoadedCandidate(
            id=r.id,
            title=r.title,
            status=r.status,
            stored_status=r.stored_status,
            version=r.version,
            notes=list(r.notes or []),
            snoozed_until=r.snoozed_until,
            decided_at=r.decided_at,
            decided_by=r.decided_by,
            item=item,
            digest_status=r.digest_status,
        )
    return out


def snapshot(row: LoadedCandidate) -> dict[str, Any]:
    """What ``undo`` needs to put the candidate and its digest item back (JSON-ready)."""
    return {
        "status": row.stored_status,
        "notes": row.notes,
        "snoozed_until": row.snoozed_until.isoformat() if row.snoozed_until else None,
        "item": row.item,
    }


def update_candidate(s: Connection, row: LoadedCandidate, values: Mapping[str, Any]) -> bool:
    """Write ``values`` to the candidate if its version is still ``row.version``; False when it moved on."""
    updated = s.execute(
        sa.update(candidates)
        .where(candidates.c.id == row.id, candidates.c.version == row.version)
        .values(**values)
        .returning(candidates.c.id)
    ).first()
    return updated is not None


def put_item(
    s: Connection,
    row: LoadedCandidate,
    digest_id: int,
    *,
    section: str,
    title: str | None,
    label: str | None,
    month: str | None,
    curator: str,
    now: datetime,
) -> None:
    """Place the candidate in the issue's section; keep the curator's overrides unless new ones are given."""
    old = row.item or {}
    same_place = old.get("section") == section and row.item is not None
    values = {
        "digest_id": digest_id,
        "section": section,
        # A new subsection starts the item in date order; the same one keeps its place.
        "position": old.get("position") if same_place else None,
        "title": title if title is not None else old.get("title"),
        "label": label if label is not None else old.get("label"),
        "month": month if month is not None else old.get("month"),
        "images": old.get("images", []),
        "promoted_at": now,
        "promoted_by": curator,
    }
    if row.item is None:
        s.execute(sa.insert(digest_items).values(candidate_id=row.id, **values))
    else:
        s.execute(sa.update(digest_items).where(digest_items.c.candidate_id == row.id).values(**values))


def delete_item(s: Connection, candidate_id: int) -> None:
    """Take the candidate out of its digest issue (if it is in one)."""
    s.execute(sa.delete(digest_items).where(digest_items.c.candidate_id == candidate_id))


def log_decision(s: Connection, **values: Any) -> None:
    """One ``decisions`` row: batch, candidate_id, curator, at, action, from/to status, digest,
    section, note, before (a :func:`snapshot`), after_version."""
    s.execute(sa.insert(decisions).values(**values))


def last_batch(s: Connection, curator: str) -> str | None:
    """``curator``'s latest batch of decisions that is not undone yet."""
    return s.execute(
        sa.select(decisions.c.batch)
        .where(decisions.c.curator == curator, decisions.c.undone_at.is_(None))
        .order_by(decisions.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def batch_rows(s: Connection, batch: str) -> list[Any]:
    """The decision rows of one batch, in the order they were written."""
    return list(s.execute(sa.select(decisions).where(decisions.c.batch == batch).order_by(decisions.c.id)))


def logged_versions(s: Connection, ids: Sequence[int], *, batch: str) -> dict[int, tuple[str | None, int]]:
    """Per candidate: who made a decision after ``batch`` that still stands (None: nobody),
    and the newest version the log knows of (after a decision or an undo)."""
    out: dict[int, tuple[str | None, int]] = {}
    rows = s.execute(
        sa.select(
            decisions.c.candidate_id, decisions.c.batch, decisions.c.curator, decisions.c.undone_at,
            decisions.c.after_version, decisions.c.undo_version,
        )
        .where(decisions.c.candidate_id.in_(ids))
        .order_by(decisions.c.id)
    )  # fmt: skip
    seen_batch: set[int] = set()
    for r in rows:
        later, known = out.get(r.candidate_id, (None, 0))
        if r.batch == batch:
            seen_batch.add(r.candidate_id)
        elif r.candidate_id in seen_batch and r.undone_at is None:
            later = r.curator
        known = max(known, r.after_version, r.undo_version or 0)
        out[r.candidate_id] = (later, known)
    return out


def touches_published(s: Connection, current: LoadedCandidate, before: Mapping[str, Any]) -> bool:
    """Whether the candidate's issue now, or the one in ``before``, is published."""
    names = {current.item["digest"]} if current.item else set()
    if before.get("item"):
        names.add(before["item"]["digest"])
    if not names:
        return False
    published = s.execute(
        sa.select(sa.func.count()).where(digests.c.name.in_(names), digests.c.status == "published")
    ).scalar_one()
    return bool(published)


def restore_snapshot(
    s: Connection, current: LoadedCandidate, before: Mapping[str, Any], *, curator: str, now: datetime
) -> None:
    """Put the candidate and its digest item back as :func:`snapshot` saw them (a new version)."""
    s.execute(
        sa.update(candidates)
        .where(candidates.c.id == current.id)
        .values(
            status=before["status"],
            notes=before["notes"],
            snoozed_until=_parse_time(before["snoozed_until"]),
            decided_at=now,
            decided_by=curator,
            version=current.version + 1,
        )
    )
    delete_item(s, current.id)
    item = before.get("item")
    if item is not None:
        digest_id = open_issue(s, item["digest"], now, force=True)
        s.execute(
            sa.insert(digest_items).values(
                digest_id=digest_id, candidate_id=current.id, section=item["section"],
                position=item["position"], title=item["title"], label=item["label"], month=item["month"],
                images=item["images"], promoted_at=_parse_time(item["promoted_at"]),
                promoted_by=item["promoted_by"],
            )
        )  # fmt: skip


def mark_undone(s: Connection, decision_id: int, *, curator: str, now: datetime, version: int) -> None:
    """Mark a decision row undone, with the candidate's version after the undo."""
    s.execute(
        sa.update(decisions)
        .where(decisions.c.id == decision_id)
        .values(undone_at=now, undone_by=curator, undo_version=version)
    )


def history(
    s: Connection,
    *,
    candidate_ids: Sequence[int] = (),
    curator: str | None = None,
    limit: int = 50,
) -> list[LoggedDecision]:
    """The decision log, newest first."""
    query = (
        sa.select(decisions, candidates.c.title)
        .join(candidates, candidates.c.id == decisions.c.candidate_id)
        .order_by(decisions.c.id.desc())
        .limit(limit)
    )
    if candidate_ids:
        query = query.where(decisions.c.candidate_id.in_(candidate_ids))
    if curator:
        query = query.where(decisions.c.curator == curator)
    return [
        LoggedDecision(
            r.id, r.batch, r.candidate_id, r.title, r.curator, r.at, r.action, r.from_status,
            r.to_status, r.digest, r.section, r.note, r.undone_at, r.undone_by,
        )
        for r in s.execute(query)
    ]  # fmt: skip


def record_move(
    s: Connection,
    before: Sequence[tuple[int, int | None]],
    order: Sequence[int],
    *,
    curator: str,
    now: datetime,
) -> DecisionReport:
    """Log a reorder of a subsection (``digest move``) so ``undo`` can put the old positions back.

    ``before`` is (candidate id, position) of every item before the move; one
    decision row is written for each item whose position changed.
    """
    old = dict(before)
    moved = [cid for pos, cid in enumerate(order) if old.get(cid, -1) != pos]
    loaded = load(s, moved, now)
    batch = str(uuid.uuid4())
    changes: list[Change] = []
    for cid in moved:
        row = loaded[cid]
        assert row.item is not None
        saved = snapshot(row)
        saved["item"] = {**row.item, "position": old.get(cid)}
        s.execute(
            sa.update(candidates)
            .where(candidates.c.id == cid)
            .values(decided_at=now, decided_by=curator, version=row.version + 1)
        )
        log_decision(
            s, batch=batch, candidate_id=cid, curator=curator, at=now, action="move",
            from_status=row.status, to_status=row.status, digest=row.item["digest"],
            section=row.item["section"], before=saved, after_version=row.version + 1,
        )  # fmt: skip
        changes.append(
            Change(
                cid,
                row.title,
                row.status,
                row.status,
                row.version + 1,
                row.item["digest"],
                row.item["section"],
            )
        )
    return DecisionReport(batch, "move", tuple(changes))


def triage_state(s: Connection, candidate_id: int, now: datetime) -> TriageState | None:
    """The candidate's state (a snooze that has passed reads as new), notes and digest place."""
    row = load(s, [candidate_id], now).get(candidate_id)
    if row is None:
        return None
    item = row.item or {}
    return TriageState(
        row.status,
        row.version,
        tuple(row.notes),
        row.snoozed_until if row.status == "snoozed" else None,
        row.decided_by,
        row.decided_at,
        item.get("digest"),
        item.get("section"),
    )


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
