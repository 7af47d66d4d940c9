"""Triage decisions applied in one transaction: each one checked, logged and undoable.

A command decides on several candidates at once. Either every candidate can
take the decision and all of them do, in one transaction, or none does and the
error lists each refusal (``TriageError``). A candidate changed by someone else
since the caller loaded it (its ``version`` moved on) is a ``ConflictError``:
never silently overwritten.

The rules are :mod:`aggregator.triage.states`'s; the rows are
:mod:`aggregator.store.triage`'s. Each change writes a ``decisions`` row holding
what the candidate and its digest item were before, so ``undo`` can put them
back. The rows of one command share a batch; ``undo`` reverts a curator's latest
batch, and refuses when a candidate has been changed again since::

    decide: check the options ─> load ─> plan each (states.plan, versions) ─> refuse all or
            write each (version-checked update, digest item, decision row) ─> DecisionReport
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from aggregator.digest.names import check_name, month_of
from aggregator.errors import ConflictError, DigestError, TriageError
from aggregator.store import triage as store
from aggregator.store.digests import open_issue
from aggregator.store.triage import LoadedCandidate
from aggregator.triage import states
from aggregator.triage_types import Change, Decision, DecisionReport, Status


def decide(
    s: Connection,
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
    check_options(decision, section_ids, now)
    plans, unchanged = _plan(store.load(s, ids, now), ids, decision, expected_versions)
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
    changes = [
        _apply(
            s, row, target, decision, batch=batch, curator=curator, now=now, digest=(digest_id, digest_name)
        )
        for row, target in plans
    ]
    return DecisionReport(batch, decision.action, tuple(changes), tuple(unchanged))


def _plan(
    loaded: Mapping[int, LoadedCandidate],
    ids: Sequence[int],
    decision: Decision,
    expected_versions: Mapping[int, int] | None,
) -> tuple[list[tuple[LoadedCandidate, Status]], list[tuple[int, str]]]:
    """Each candidate's target state, and those left as they are; or every refusal, raised."""
    problems: list[str] = []
    conflicts: list[str] = []
    plans: list[tuple[LoadedCandidate, Status]] = []
    unchanged: list[tuple[int, str]] = []
    for cid in ids:
        row = loaded.get(cid)
        if row is None:
            problems.append(f"no candidate {cid} (see `aggregator queue --status all`)")
            continue
        if expected_versions is not None and expected_versions.get(cid, row.version) != row.version:
            conflicts.append(_conflict_message(row))
            continue
        outcome = states.plan(decision.action, cid, row.status)
        if isinstance(outcome, states.Refusal):
            problems.append(outcome.reason)
        elif isinstance(outcome, states.NoChange):
            unchanged.append((cid, outcome.reason))
        else:
            plans.append((row, outcome))
    if conflicts:
        raise ConflictError(conflicts + problems)
    if problems:
        raise TriageError(problems)
    return plans, unchanged


def _apply(
    s: Connection,
    row: LoadedCandidate,
    target: Status,
    decision: Decision,
    *,
    batch: str,
    curator: str,
    now: datetime,
    digest: tuple[int | None, str],
) -> Change:
    """One candidate's change: its row (version-checked), its digest item, its decision row."""
    before = store.snapshot(row)
    values: dict[str, Any] = {
        "status": target,
        "decided_at": now,
        "decided_by": curator,
        "version": row.version + 1,
    }
    note_text: str | None = None
    if decision.action == "note":
        values["notes"] = list(decision.notes) if decision.replace_notes else row.notes + list(decision.notes)
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
    if not store.update_candidate(s, row, values):  # changed between our read and this write
        raise ConflictError(
            [f"candidate {row.id} was changed by someone else just now; reload and decide again"]
        )
    section: str | None = row.item["section"] if row.item else None
    digest_name: str | None = row.item["digest"] if row.item else None
    if decision.action == "promote":
        digest_id, digest_name = digest
        assert digest_id is not None and decision.section is not None
        section = decision.section
        store.put_item(
            s, row, digest_id, section=decision.section, title=decision.title, label=decision.label,
            month=decision.month, curator=curator, now=now,
        )  # fmt: skip
    elif decision.action == "unpromote":
        store.delete_item(s, row.id)
    store.log_decision(
        s, batch=batch, candidate_id=row.id, curator=curator, at=now, action=decision.action,
        from_status=row.status, to_status=target, digest=digest_name, section=section, note=note_text,
        before=before, after_version=row.version + 1,
    )  # fmt: skip
    return Change(row.id, row.title, row.status, target, row.version + 1, digest_name, section)


def undo(s: Connection, *, curator: str, now: datetime, force: bool = False) -> DecisionReport:
    """Revert ``curator``'s latest decision that is not undone yet (every candidate of that command).

    Refused when one of those candidates has been decided on again since
    (by anyone), or when it would change a published issue without ``force``.
    """
    last = store.last_batch(s, curator)
    if last is None:
        raise TriageError([f"{curator} has no decision left to undo"])
    rows = store.batch_rows(s, last)
    ids = [r.candidate_id for r in rows]
    loaded = store.load(s, ids, now)
    _check_undo(s, rows, loaded, store.logged_versions(s, ids, batch=last), force=force)
    changes: list[Change] = []
    for r in rows:
        current = loaded[r.candidate_id]
        before: dict[str, Any] = r.before
        store.restore_snapshot(s, current, before, curator=curator, now=now)
        item = before.get("item")
        changes.append(
            Change(
                current.id, current.title, current.status, before["status"], current.version + 1,
                item["digest"] if item else None, item["section"] if item else None,
            )
        )  # fmt: skip
    for r in rows:
        store.mark_undone(s, r.id, curator=curator, now=now, version=loaded[r.candidate_id].version + 1)
    return DecisionReport(last, f"undo {rows[0].action}", tuple(changes))


def _check_undo(
    s: Connection,
    rows: Sequence[Any],
    loaded: Mapping[int, LoadedCandidate],
    logged: Mapping[int, tuple[str | None, int]],
    *,
    force: bool,
) -> None:
    """Refuse the undo when a candidate was changed again since, or its published issue would change."""
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
        elif not force and store.touches_published(s, current, r.before):
            problems.append(
                f"undoing your {r.action} of candidate {r.candidate_id} would change a published digest; "
                "add --force to undo anyway"
            )
    if problems:
        raise ConflictError(problems)


def check_options(decision: Decision, section_ids: Sequence[str], now: datetime) -> None:
    """Refuse options a decision cannot take (before any candidate is read)."""
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


def _conflict_message(row: LoadedCandidate) -> str:
    who = f" by {row.decided_by}" if row.decided_by else ""
    at = f" at {row.decided_at:%Y-%m-%d %H:%M} UTC" if row.decided_at else ""
    return (
        f"candidate {row.id} was changed{who}{at} since you loaded it (it is {row.status} now); "
        "reload and decide again"
    )
