"""Triage decisions applied to the database: each one checked, logged and undoable.

A command decides on several candidates at once. Either every candidate can
take the decision and all of them do, in one transaction, or none does and the
error lists each refusal (``TriageError``). A candidate changed by someone else
since the caller loaded it (its ``version`` moved on) is a ``ConflictError``:
never silently overwritten.

Each change writes a ``decisions`` row holding what the candidate and its
digest item were before, so ``undo`` can put them back. The rows of one command
share a batch; ``undo`` reverts a curator's latest batch, and refuses when a
candidate has been changed again since.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aggregator.digest.names import check_name, month_of
from aggregator.errors import ConflictError, DigestError, TriageError
from aggregator.store.digests import open_issue
from aggregator.store.tables import candidates, decisions, digest_items, digests
from aggregator.triage import states as triage
from aggregator.types import Change, DecisionReport, Status


@dataclass(frozen=True, slots=True)
class Decision:
    """What a curator asked for, besides which candidates: the options of one command."""

    action: triage.Action
    section: str | None = None
    """promote: a full section id such as ``business/mlops``."""
    digest: str | None = None
    """promote: the issue, ``YYYY-MM``; None: the month of ``now``."""
    notes: tuple[str, ...] = ()
    """promote and note: notes to add, in order."""
    replace_notes: bool = False
    """note: the notes replace the candidate's notes instead of following them."""
    title: str | None = None
    label: str | None = None
    month: str | None = None
    """promote: the curator's overrides for the digest line (``month`` is ``YYYY-MM``)."""
    until: datetime | None = None
    """snooze: when the candidate comes back as new."""
    reason: str | None = None
    """reject: why, kept in the decision log."""
    force: bool = False
    """Change a published (frozen) digest issue anyway."""


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """One row of the decision log, as `aggregator log` prints it."""

    id: int
    batch: str
    candidate_id: int
    title: str
    curator: str
    at: datetime
    action: str
    from_status: str
    to_status: str
    digest: str | None
    section: str | None
    note: str | None
    undone_at: datetime | None
    undone_by: str | None


@dataclass
class _Loaded:
    """A candidate as it is now, with its digest item."""

    id: int
    title: str
    status: Status
    stored_status: Status
    version: int
    notes: list[str]
    snoozed_until: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    item: dict[str, Any] | None = field(default=None)
    digest_status: str | None = None


def decide(
    s: Session,
    ids: Sequence[int],
    decision: Decision,
    *,
    curator: str,
    now: datetime,
    section_ids: Sequence[str] = (),
    expected_versions: Mapping[int, int] | None = None,
) -> DecisionReport:
    """Apply ``decision`` to every candidate in ``ids``, or to none of them.

    ``section_ids`` are the sections a candidate may be promoted into (from
    feeds.yaml). ``expected_versions`` are the versions the caller saw (the
    triage screen passes them); a candidate whose version moved on since is a
    conflict. Without them the decision applies to the candidates as they are
    now, read in this same transaction.
    """
    ids = list(dict.fromkeys(ids))  # keep the order, drop repeats
    if not ids:
        raise TriageError(["no candidate ids given"])
    _check_options(decision, section_ids, now)
    loaded = _load(s, ids, now)
    problems: list[str] = []
    conflicts: list[str] = []
    plans: list[tuple[_Loaded, Status]] = []
    unchanged: list[tuple[int, str]] = []
    for cid in ids:
        row = loaded.get(cid)
        if row is None:
            problems.append(f"no candidate {cid} (see `aggregator queue --status all`)")
            continue
        if expected_versions is not None and expected_versions.get(cid, row.version) != row.version:
            conflicts.append(_conflict_message(row))
            continue
        outcome = triage.plan(decision.action, cid, row.status)
        if isinstance(outcome, triage.Refusal):
            problems.append(outcome.reason)
        elif isinstance(outcome, triage.NoChange):
            unchanged.append((cid, outcome.reason))
        else:
            plans.append((row, outcome))
    if conflicts:
        raise ConflictError(conflicts + problems)
    if problems:
        raise TriageError(problems)

    digest_name = decision.digest or month_of(now)
    digest_id: int | None = None
    if decision.action == "promote":
        digest_id = open_issue(s, digest_name, now, force=decision.force)
    frozen = [
        f"candidate {row.id} is in digest {row.item['digest']}, which is published; add --force to change it"
        for row, _ in plans
        if row.item is not None
        and row.digest_status == "published"
        and not decision.force
        and decision.action in ("promote", "unpromote")
    ]
    if frozen:
        raise TriageError(frozen)

    batch = str(uuid.uuid4())
    changes: list[Change] = []
    for row, target in plans:
        before = _snapshot(row)
        values: dict[str, Any] = {
            "status": target,
            "decided_at": now,
            "decided_by": curator,
            "version": row.version + 1,
        }
        note_text: str | None = None
        if decision.action == "note":
            values["notes"] = (
                list(decision.notes) if decision.replace_notes else row.notes + list(decision.notes)
            )
            note_text = "\n".join(decision.notes)
        elif decision.action == "promote":
            values["notes"] = row.notes + list(decision.notes)
            note_text = "\n".join(decision.notes) or None
        elif decision.action == "reject":
            note_text = decision.reason
        if target == "snoozed":
            values["snoozed_until"] = decision.until
        elif row.stored_status == "snoozed" or row.snoozed_until is not None:
            values["snoozed_until"] = None
        updated = s.execute(
            sa.update(candidates)
            .where(candidates.c.id == row.id, candidates.c.version == row.version)
            .values(**values)
            .returning(candidates.c.id)
        ).first()
        if updated is None:  # changed between our read and this write
            raise ConflictError(
                [f"candidate {row.id} was changed by someone else just now; reload and decide again"]
            )
        section: str | None = row.item["section"] if row.item else None
        digest: str | None = row.item["digest"] if row.item else None
        if decision.action == "promote":
            assert digest_id is not None and decision.section is not None
            section, digest = decision.section, digest_name
            _put_item(s, row, digest_id, decision, curator, now)
        elif decision.action == "unpromote":
            s.execute(sa.delete(digest_items).where(digest_items.c.candidate_id == row.id))
        s.execute(
            sa.insert(decisions).values(
                batch=batch,
                candidate_id=row.id,
                curator=curator,
                at=now,
                action=decision.action,
                from_status=row.status,
                to_status=target,
                digest=digest,
                section=section,
                note=note_text,
                before=before,
                after_version=row.version + 1,
            )
        )
        changes.append(Change(row.id, row.title, row.status, target, row.version + 1, digest, section))
    return DecisionReport(batch, decision.action, tuple(changes), tuple(unchanged))


def undo(s: Session, *, curator: str, now: datetime, force: bool = False) -> DecisionReport:
    """Revert ``curator``'s latest decision that is not undone yet (every candidate of that command).

    Refused when one of those candidates has been decided on again since
    (by anyone), or when it would change a published issue without ``force``.
    """
    last = s.execute(
        sa.select(decisions.c.batch)
        .where(decisions.c.curator == curator, decisions.c.undone_at.is_(None))
        .order_by(decisions.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if last is None:
        raise TriageError([f"{curator} has no decision left to undo"])
    rows = s.execute(sa.select(decisions).where(decisions.c.batch == last).order_by(decisions.c.id)).all()
    ids = [r.candidate_id for r in rows]
    loaded = _load(s, ids, now)
    logged = _logged_versions(s, ids, batch=last)
    problems: list[str] = []
    for r in rows:
        current = loaded.get(r.candidate_id)
        if current is None:
            problems.append(f"candidate {r.candidate_id} no longer exists")
            continue
        later, known = logged.get(r.candidate_id, (None, r.after_version))
        if later is not None or current.version != max(known, r.after_version):
            by = f" by {later or current.decided_by}" if (later or current.decided_by) else ""
            problems.append(
                f"candidate {r.candidate_id} was changed again{by} after your {r.action} "
                f"(it is {current.status} now); undo refused: decide on it again instead"
            )
        elif not force and _touches_published(s, current, r.before):
            problems.append(
                f"undoing your {r.action} of candidate {r.candidate_id} would change a published digest; "
                "add --force to undo anyway"
            )
    if problems:
        raise ConflictError(problems)
    changes: list[Change] = []
    action = rows[0].action
    for r in rows:
        current = loaded[r.candidate_id]
        before: dict[str, Any] = r.before
        status: Status = before["status"]
        s.execute(
            sa.update(candidates)
            .where(candidates.c.id == current.id)
            .values(
                status=status,
                notes=before["notes"],
                snoozed_until=_parse_time(before["snoozed_until"]),
                decided_at=now,
                decided_by=curator,
                version=current.version + 1,
            )
        )
        s.execute(sa.delete(digest_items).where(digest_items.c.candidate_id == current.id))
        item = before.get("item")
        if item is not None:
            digest_id = open_issue(s, item["digest"], now, force=True)
            s.execute(
                sa.insert(digest_items).values(
                    digest_id=digest_id,
                    candidate_id=current.id,
                    section=item["section"],
                    position=item["position"],
                    title=item["title"],
                    label=item["label"],
                    month=item["month"],
                    images=item["images"],
                    promoted_at=_parse_time(item["promoted_at"]),
                    promoted_by=item["promoted_by"],
                )
            )
        changes.append(
            Change(
                current.id,
                current.title,
                current.status,
                status,
                current.version + 1,
                item["digest"] if item else None,
                item["section"] if item else None,
            )
        )
    for r in rows:
        s.execute(
            sa.update(decisions)
            .where(decisions.c.id == r.id)
            .values(undone_at=now, undone_by=curator, undo_version=loaded[r.candidate_id].version + 1)
        )
    return DecisionReport(last, f"undo {action}", tuple(changes))


def history(
    s: Session,
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
            r.id,
            r.batch,
            r.candidate_id,
            r.title,
            r.curator,
            r.at,
            r.action,
            r.from_status,
            r.to_status,
            r.digest,
            r.section,
            r.note,
            r.undone_at,
            r.undone_by,
        )
        for r in s.execute(query)
    ]


def record_move(
    s: Session, before: Sequence[tuple[int, int | None]], order: Sequence[int], *, curator: str, now: datetime
) -> DecisionReport:
    """Log a reorder of a subsection (``digest move``) so ``undo`` can put the old positions back.

    ``before`` is (candidate id, position) of every item before the move; one
    decision row is written for each item whose position changed.
    """
    old = dict(before)
    moved = [cid for pos, cid in enumerate(order) if old.get(cid, -1) != pos]
    loaded = _load(s, moved, now)
    batch = str(uuid.uuid4())
    changes: list[Change] = []
    for cid in moved:
        row = loaded[cid]
        assert row.item is not None
        snapshot = _snapshot(row)
        snapshot["item"] = {**row.item, "position": old.get(cid)}
        s.execute(
            sa.update(candidates)
            .where(candidates.c.id == cid)
            .values(decided_at=now, decided_by=curator, version=row.version + 1)
        )
        s.execute(
            sa.insert(decisions).values(
                batch=batch, candidate_id=cid, curator=curator, at=now, action="move",
                from_status=row.status, to_status=row.status, digest=row.item["digest"],
                section=row.item["section"], before=snapshot, after_version=row.version + 1,
            )
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


@dataclass(frozen=True, slots=True)
class TriageState:
    """A candidate's triage state as `aggregator show` prints it."""

    status: Status
    version: int
    notes: tuple[str, ...]
    snoozed_until: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    digest: str | None
    section: str | None


def triage_state(s: Session, candidate_id: int, now: datetime) -> TriageState | None:
    """The candidate's state (a snooze that has passed reads as new), notes and digest place."""
    row = _load(s, [candidate_id], now).get(candidate_id)
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


# -- helpers ---------------------------------------------------------------------


def _check_options(decision: Decision, section_ids: Sequence[str], now: datetime) -> None:
    problems: list[str] = []
    if decision.action == "promote":
        if not decision.section:
            problems.append("promote needs a section: --section ID (e.g. business/mlops)")
        elif section_ids and decision.section not in section_ids:
            problems.append(
                f"unknown section {decision.section!r}; "
                f"the sections in feeds.yaml are: {', '.join(section_ids)}"
            )
        try:
            if decision.digest is not None:
                check_name(decision.digest)
            if decision.month is not None:
                check_name(decision.month)
        except DigestError as exc:
            problems.append(str(exc))
    if decision.action == "snooze":
        if decision.until is None:
            problems.append("snooze needs a date: --until YYYY-MM-DD")
        elif decision.until <= now:
            moment = decision.until.isoformat(" ", "minutes")[:16]  # a four-digit year, unlike %Y
            problems.append(f"--until {moment} has passed; snooze until a later date")
    if (
        decision.action == "note"
        and not any(n.strip() for n in decision.notes)
        and not decision.replace_notes
    ):
        problems.append("the note is empty")
    if problems:
        raise TriageError(problems)


def _load(s: Session, ids: Sequence[int], now: datetime) -> dict[int, _Loaded]:
    query = (
        sa.select(
            candidates.c.id,
            candidates.c.title,
            candidates.c.status,
            candidates.c.version,
            candidates.c.notes,
            candidates.c.snoozed_until,
            candidates.c.decided_at,
            candidates.c.decided_by,
            digests.c.name.label("digest"),
            digests.c.status.label("digest_status"),
            digest_items.c.section,
            digest_items.c.position,
            digest_items.c.title.label("item_title"),
            digest_items.c.label.label("item_label"),
            digest_items.c.month,
            digest_items.c.images,
            digest_items.c.promoted_at,
            digest_items.c.promoted_by,
        )
        .select_from(candidates)
        .outerjoin(digest_items, digest_items.c.candidate_id == candidates.c.id)
        .outerjoin(digests, digests.c.id == digest_items.c.digest_id)
        .where(candidates.c.id.in_(ids))
    )
    out: dict[int, _Loaded] = {}
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
        out[r.id] = _Loaded(
            id=r.id,
            title=r.title,
            status=triage.effective_status(r.status, r.snoozed_until, now),
            stored_status=r.status,
            version=r.version,
            notes=list(r.notes or []),
            snoozed_until=r.snoozed_until,
            decided_at=r.decided_at,
            decided_by=r.decided_by,
            item=item,
            digest_status=r.digest_status,
        )
    return out


def _snapshot(row: _Loaded) -> dict[str, Any]:
    return {
        "status": row.stored_status,
        "notes": row.notes,
        "snoozed_until": row.snoozed_until.isoformat() if row.snoozed_until else None,
        "item": row.item,
    }


def _put_item(
    s: Session, row: _Loaded, digest_id: int, decision: Decision, curator: str, now: datetime
) -> None:
    """Place the candidate in the issue's section; keep the curator's overrides unless new ones are given."""
    old = row.item or {}
    same_place = old.get("section") == decision.section and row.item is not None
    values = {
        "digest_id": digest_id,
        "section": decision.section,
        # A new subsection starts the item in date order; the same one keeps its place.
        "position": old.get("position") if same_place else None,
        "title": decision.title if decision.title is not None else old.get("title"),
        "label": decision.label if decision.label is not None else old.get("label"),
        "month": decision.month if decision.month is not None else old.get("month"),
        "images": old.get("images", []),
        "promoted_at": now,
        "promoted_by": curator,
    }
    if row.item is None:
        s.execute(sa.insert(digest_items).values(candidate_id=row.id, **values))
    else:
        s.execute(sa.update(digest_items).where(digest_items.c.candidate_id == row.id).values(**values))


def _logged_versions(s: Session, ids: Sequence[int], *, batch: str) -> dict[int, tuple[str | None, int]]:
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


def _touches_published(s: Session, current: _Loaded, before: Mapping[str, Any]) -> bool:
    names = {current.item["digest"]} if current.item else set()
    if before.get("item"):
        names.add(before["item"]["digest"])
    if not names:
        return False
    published = s.execute(
        sa.select(sa.func.count()).where(digests.c.name.in_(names), digests.c.status == "published")
    ).scalar_one()
    return bool(published)


def _conflict_message(row: _Loaded) -> str:
    who = f" by {row.decided_by}" if row.decided_by else ""
    at = f" at {row.decided_at:%Y-%m-%d %H:%M} UTC" if row.decided_at else ""
    return (
        f"candidate {row.id} was changed{who}{at} since you loaded it (it is {row.status} now); "
        "reload and decide again"
    )


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
