"""The triage screen's decision keys: shortlist, restore, reject, snooze, promote, notes, undo.

A decision applies to every marked item, else to the highlighted one, and
passes the versions the screen loaded to the facade
(:class:`aggregator.service.triage.Triage`, the same methods the command line
calls); a candidate someone else changed meanwhile is refused (``ConflictError``),
the refusal is shown in a dialog and the list reloads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from aggregator.triage_types import DecisionReport, QueueItem
from aggregator.tui.dialogs import ConfirmDialog, NotesEditor, PromptDialog, SectionPicker
from aggregator.tui.jobs import JobScreen
from aggregator.tui.rows import QueueRows, one_line

if TYPE_CHECKING:
    from aggregator.service.triage import Triage
    from aggregator.tui.listing import QueueList

Decide = Callable[["Triage", Sequence[int], Mapping[int, int]], DecisionReport]
"""One facade decision: (the triage facade, ids, the versions the screen loaded) -> what changed."""


class DecisionKeys(JobScreen):
    """The keys that decide (the queue screen's rows and list are set up by the queue screen)."""

    rows: QueueRows
    list: QueueList
    _pinned: QueueItem | None = None
    """The item a decision made from the article view applies to (marks or not)."""

    # -- what an action applies to --------------------------------------------------------------

    def _targets(self) -> dict[int, int] | None:
        """Candidate id -> the version the screen loaded: the marked items, else the highlighted one
        (from the article view: the article read, whatever is marked)."""
        if self._pinned is not None:
            return {self._pinned.id: self._pinned.version}
        if self.rows.marks:
            return dict(self.rows.marks)
        item = self.list.current
        if item is None:
            self.app.notify("Nothing to act on here." if not self.rows.total else "Still loading…")
            return None
        return {item.id: item.version}

    def _first_target(self, targets: dict[int, int]) -> QueueItem | None:
        current = self.list.current
        if current is not None and current.id in targets:
            return current
        return next((item for item in self.rows.loaded() if item.id in targets), current)

    @staticmethod
    def _count(n: int) -> str:
        return f"{n} item" if n == 1 else f"{n} items"

    def _decide(self, decide: Decide, targets: dict[int, int], *, advance: bool = True) -> None:
        triage = self.service.triage
        ids, versions = list(targets), dict(targets)
        current = self.list.current
        moved_on = current.id if advance and current is not None and ids == [current.id] else None

        def done(report: DecisionReport) -> None:
            for cid in ids:
                self.rows.marks.pop(cid, None)
            self.app.notify(summary(report))
            self.reload(advance_from=moved_on)

        self._run(lambda: decide(triage, ids, versions), done)

    # -- the keys ------------------------------------------------------------------------------

    def on_item(self, item: QueueItem, step: Callable[[], None]) -> None:
        """Run a decision's first step on ``item`` alone (a decision taken from the article view)."""
        self._pinned = item
        try:
            step()
        finally:
            self._pinned = None

    def action_shortlist(self) -> None:
        self._soon(self.shortlist)

    def shortlist(self) -> None:
        curator = self.triage.curator
        self._simple(lambda t, ids, v: t.shortlist(ids, curator=curator, expected_versions=v))

    def action_restore(self) -> None:
        curator = self.triage.curator
        self._soon(
            lambda: self._simple(lambda t, ids, v: t.restore(ids, curator=curator, expected_versions=v))
        )

    def _simple(self, decide: Decide) -> None:
        targets = self._targets()
        if targets:
            self._decide(decide, targets)

    def action_reject(self) -> None:
        self._soon(self.reject)

    def reject(self) -> None:
        self._reject(ask_why=False)

    def action_reject_why(self) -> None:
        self._soon(lambda: self._reject(ask_why=True))

    def _reject(self, *, ask_why: bool) -> None:
        targets = self._targets()
        if not targets:
            return
        curator = self.triage.curator

        def reject(why: str | None) -> None:
            def decide(t: Triage, ids: Sequence[int], v: Mapping[int, int]) -> DecisionReport:
                return t.reject(ids, reason=why, curator=curator, expected_versions=v)

            self._confirmed(f"Reject {self._count(len(targets))}?", targets, decide)

        def reason(text: str | None) -> None:
            if text is not None:
                reject(text.strip() or None)

        if ask_why:
            self._ask(PromptDialog(f"Reject {self._count(len(targets))}: why?"), reason)
        else:
            reject(None)

    def _confirmed(self, question: str, targets: dict[int, int], decide: Decide) -> None:
        """Decide at once on one item; on several marked ones, ask first."""
        if len(targets) == 1:
            self._decide(decide, targets)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._decide(decide, targets)

        self._ask(ConfirmDialog(f"{question}  (u undoes it)"), answer)

    def action_snooze(self) -> None:
        self._soon(self.snooze)

    def snooze(self) -> None:
        targets = self._targets()
        if not targets:
            return
        triage, curator = self.service.triage, self.triage.curator

        def until(text: str | None) -> None:
            if text is not None:

                def decide(t: Triage, ids: Sequence[int], v: Mapping[int, int]) -> DecisionReport:
                    return t.snooze(ids, until=text, option="date", curator=curator, expected_versions=v)

                self._confirmed(f"Snooze {self._count(len(targets))}?", targets, decide)

        dialog = PromptDialog(
            f"Snooze {self._count(len(targets))} until",
            placeholder="YYYY-MM-DD, 3d or 2w",
            check=triage.snooze_problem,
        )
        self._ask(dialog, until)

    def action_promote(self) -> None:
        self._soon(self.promote)

    def promote(self) -> None:
        targets = self._targets()
        if not targets:
            return
        app, taxonomy = self.triage, self.service.taxonomy
        first = self._first_target(targets)
        hints = self.service.queue.section_hints()
        preselected = None
        if first is not None:
            stored = self.service.suggest.of(first.id)
            suggested = stored.section if stored is not None else None
            preselected = app.suggest(taxonomy, first, hints.get(first.feed_name), suggested)
        sections = [(sid, taxonomy.label(sid)) for sid in taxonomy.promotable_sections()]
        heading = f"Promote {self._count(len(targets))} into {app.digest_name()}: which section?"

        def picked(section: str | None) -> None:
            if section is None:
                return

            def noted(note: str | None) -> None:
                if note is None:
                    return
                notes = (note.strip(),) if note.strip() else ()

                others = [item.id for item in self.rows.loaded() if item.id not in targets]

                def decide(t: Triage, ids: Sequence[int], v: Mapping[int, int]) -> DecisionReport:
                    report = t.promote(
                        ids,
                        section=section,
                        digest=app.digest,
                        notes=notes,
                        curator=app.curator,
                        expected_versions=v,
                    )
                    # The promotion is a new example: the rows on screen are suggested again with it.
                    self.service.suggest.refresh(others, quietly=True)
                    return report

                self._decide(decide, targets)

            self._ask(
                PromptDialog(f"{taxonomy.label(section)}: a note for the digest line (Enter: none)"), noted
            )

        self._ask(SectionPicker(heading, sections, preselected), picked)

    def action_notes(self) -> None:
        def edit() -> None:
            item = self.list.current
            if item is None:
                return
            curator = self.triage.curator

            def saved(notes: tuple[str, ...] | None) -> None:
                if notes is None or notes == item.notes:
                    return

                def decide(t: Triage, ids: Sequence[int], v: Mapping[int, int]) -> DecisionReport:
                    return t.note(ids, notes, replace=True, curator=curator, expected_versions=v)

                self._decide(decide, {item.id: item.version}, advance=False)

            self._ask(NotesEditor(f"Notes: {one_line(item.title)}", item.notes), saved)

        self._soon(edit)

    def action_undo(self) -> None:
        def undo() -> None:
            triage, curator = self.service.triage, self.triage.curator

            def done(report: DecisionReport) -> None:
                self.app.notify(summary(report))
                self.reload()

            self._run(lambda: triage.undo(curator=curator), done)

        self._soon(undo)


def summary(report: DecisionReport) -> str:
    """A decision's notification: ``shortlist: 1 changed · u undoes it``."""
    changed = len(report.changes)
    parts = [f"{report.action}: {changed} changed"]
    if report.unchanged:
        parts.append("; ".join(f"{cid} {why}" for cid, why in report.unchanged))
    if changed and not report.action.startswith("undo"):
        parts.append("u undoes it")
    return " · ".join(parts)
