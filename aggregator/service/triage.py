"""The facade's triage operations (see :mod:`aggregator.service`): every decision, undo, the log.

The command line and the triage screen call the same methods; the screen passes
``expected_versions`` (what it showed), so a candidate changed meanwhile is a
``ConflictError`` instead of being overwritten. Each decision reads the clock
once: a snooze's ``until`` (``2w``) is read against the same moment the
decision is made at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from aggregator.digest.names import month_of
from aggregator.errors import BadValueError
from aggregator.service.part import Part
from aggregator.store import triage as store
from aggregator.triage import decisions
from aggregator.triage.dates import parse_date, when
from aggregator.triage_types import Decision, DecisionReport, LoggedDecision

Versions = Mapping[int, int] | None
"""Candidate id -> the version the caller saw; None: decide on the candidates as they are now."""


class Triage(Part):
    """Triage: each method reads the clock once, owns its unit of work and returns plain values."""

    def decide(
        self, ids: Sequence[int], decision: Decision, *, curator: str, expected_versions: Versions = None
    ) -> DecisionReport:
        """Apply ``decision`` to every candidate in ``ids`` in one write transaction, or to none."""
        return self._decide(ids, lambda now: decision, curator, expected_versions)

    def shortlist(
        self, ids: Sequence[int], *, curator: str, expected_versions: Versions = None
    ) -> DecisionReport:
        return self.decide(ids, Decision("shortlist"), curator=curator, expected_versions=expected_versions)

    def promote(
        self,
        ids: Sequence[int],
        *,
        section: str,
        digest: str | None = None,
        notes: Sequence[str] = (),
        title: str | None = None,
        label: str | None = None,
        month: str | None = None,
        force: bool = False,
        curator: str,
        expected_versions: Versions = None,
    ) -> DecisionReport:
        """Promote into ``section`` of issue ``digest`` (None: this month's), opened as a draft if new."""
        decision = Decision(
            "promote", section=section, digest=digest, notes=tuple(notes), title=title, label=label,
            month=month, force=force,
        )  # fmt: skip
        return self.decide(ids, decision, curator=curator, expected_versions=expected_versions)

    def reject(
        self,
        ids: Sequence[int],
        *,
        reason: str | None = None,
        curator: str,
        expected_versions: Versions = None,
    ) -> DecisionReport:
        return self.decide(
            ids, Decision("reject", reason=reason), curator=curator, expected_versions=expected_versions
        )

    def snooze(
        self,
        ids: Sequence[int],
        *,
        until: str,
        option: str = "--until",
        curator: str,
        expected_versions: Versions = None,
    ) -> DecisionReport:
        """Snooze until ``until`` (``YYYY-MM-DD``, an ISO date-time, ``3d``, ``2w`` from now).

        A date that cannot be read is a :class:`BadValueError` naming ``option``.
        """

        def decision(now: datetime) -> Decision:
            return Decision("snooze", until=parse_date(until, now, relative="ahead", option=option))

        return self._decide(ids, decision, curator, expected_versions)

    def snooze_problem(self, until: str, *, option: str = "date") -> str | None:
        """Why ``until`` cannot be a snooze's date now (unreadable, or passed); None when it can."""
        now = self.app.clock()
        try:
            moment = parse_date(until, now, relative="ahead", option=option)
        except BadValueError as exc:
            return exc.message
        return None if moment > now else f"{when(moment)} has passed; pick a later date"

    def restore(
        self, ids: Sequence[int], *, curator: str, expected_versions: Versions = None
    ) -> DecisionReport:
        return self.decide(ids, Decision("restore"), curator=curator, expected_versions=expected_versions)

    def unpromote(
        self, ids: Sequence[int], *, force: bool = False, curator: str, expected_versions: Versions = None
    ) -> DecisionReport:
        return self.decide(
            ids, Decision("unpromote", force=force), curator=curator, expected_versions=expected_versions
        )

    def note(
        self,
        ids: Sequence[int],
        notes: Sequence[str],
        *,
        replace: bool = False,
        curator: str,
        expected_versions: Versions = None,
    ) -> DecisionReport:
        """Add ``notes`` to the candidates' notes, or replace them with ``notes``."""
        decision = Decision("note", notes=tuple(notes), replace_notes=replace)
        return self.decide(ids, decision, curator=curator, expected_versions=expected_versions)

    def undo(self, *, curator: str, force: bool = False) -> DecisionReport:
        """Revert ``curator``'s latest decision (every candidate of that command)."""
        now = self.app.clock()
        with self.app.write() as s:
            return decisions.undo(s, curator=curator, now=now, force=force)

    def history(
        self, *, candidate_ids: Sequence[int] = (), curator: str | None = None, limit: int = 50
    ) -> list[LoggedDecision]:
        """The decision log, newest first."""
        with self.app.read() as s:
            return store.history(s, candidate_ids=candidate_ids, curator=curator, limit=limit)

    def current_digest(self) -> str:
        """The issue a promotion goes into when none is named: this month's."""
        return month_of(self.app.clock())

    def _decide(
        self,
        ids: Sequence[int],
        build: Callable[[datetime], Decision],
        curator: str,
        expected_versions: Versions,
    ) -> DecisionReport:
        now = self.app.clock()
        decision = build(now)
        with self.app.write() as s:
            return decisions.decide(
                s,
                ids,
                decision,
                curator=curator,
                now=now,
                section_ids=self.app.taxonomy.promotable_sections(),
                expected_versions=expected_versions,
            )
