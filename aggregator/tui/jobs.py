"""The triage screen's jobs: database work in a thread, one list-changing job or dialog at a time.

Every facade call runs in a thread (an ``asyncio.to_thread`` inside a Textual
worker), so the screen never freezes on a busy database. Keys typed while a
decision, a reload or a dialog is under way wait their turn and run in order
afterwards (type-ahead, as in mutt), so a fast ``s j s`` never acts on a row
that is about to change. A failed job is shown in a dialog (never a traceback)
and the list reloads.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from textual.screen import Screen

from aggregator.errors import ConflictError, DigestError, StorageError, TriageError
from aggregator.service.failures import FAILURES, is_database_failure
from aggregator.tui.dialogs import MessageDialog
from aggregator.tui.rows import one_line

if TYPE_CHECKING:
    from aggregator.service import Service
    from aggregator.tui.app import TriageApp

T = TypeVar("T")
R = TypeVar("R")


class JobScreen(Screen[None]):
    """A screen whose database work runs in threads and whose keys wait for the work under way."""

    def __init__(self) -> None:
        super().__init__()
        self._busy = 0
        self._pending: deque[Callable[[], None]] = deque()

    @property
    def triage(self) -> TriageApp:
        return cast("TriageApp", self.app)

    @property
    def service(self) -> Service:
        return self.triage.service

    @property
    def busy(self) -> bool:
        """A decision, a reload or a dialog is under way; keys wait their turn."""
        return self._busy > 0

    def reload(
        self,
        *,
        to_top: bool = False,
        advance_from: int | None = None,
        to_end: bool = False,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Load the list again (the queue screen does); ``then`` once it is loaded (or failed to)."""
        raise NotImplementedError

    def _begin(self) -> None:
        self._busy += 1

    def _end(self) -> None:
        self._busy -= 1
        while not self._busy and self._pending:
            self._pending.popleft()()

    def _soon(self, step: Callable[[], None]) -> None:
        """Run ``step`` now, or after the decision, reload or dialog under way."""
        if self._busy:
            self._pending.append(step)
        else:
            step()

    def _run(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        *,
        busy: bool = True,
        failed: Callable[[Exception], None] | None = None,
    ) -> None:
        """``work`` (facade calls) in a thread, then ``done`` with its result on the screen's thread.

        Refusals and database errors go to ``failed``; by default they are shown
        in a dialog (never a traceback) and the list reloads.
        """
        on_error = failed or self._failed
        if busy:
            self._begin()

        async def job() -> None:
            try:
                try:
                    result = await asyncio.to_thread(work)
                except FAILURES as exc:
                    on_error(exc)
                else:
                    done(result)
            finally:
                if busy:
                    self._end()

        self.run_worker(job(), group="db")

    def _ask(self, dialog: Screen[R], then: Callable[[R | None], None]) -> None:
        """Show ``dialog``; ``then`` gets its answer (None: cancelled). Keys typed meanwhile wait."""
        self._begin()

        def answered(value: R | None) -> None:
            try:
                then(value)
            finally:
                self._end()

        self.app.push_screen(dialog, answered)

    def _failed(self, exc: Exception, *, reload: bool = True) -> None:
        """Show why a job failed; then reload, so the list shows the current state."""
        if isinstance(exc, ConflictError):
            title = "Someone else changed it: nothing was changed"
            lines = [*exc.problems, "", "The list has been reloaded and shows the current state."]
        elif isinstance(exc, TriageError):
            title = "Refused: nothing was changed"
            lines = list(exc.problems)
        elif isinstance(exc, DigestError):
            title = "Digest issue"
            lines = [str(exc)]
        elif isinstance(exc, StorageError) or is_database_failure(exc):
            title = "Database error"
            lines = [error_text(exc)]
        else:
            title = "Error"
            lines = [str(exc)]
        dialog = MessageDialog(title, lines)
        if not reload:
            self._ask(dialog, lambda _: None)
            return
        # The list is reloaded first and the dialog shown once it is: the screen under the dialog
        # is never rebuilt while the dialog is being mounted and drawn, and no key typed meanwhile
        # slips in between (the reload holds the screen busy until the dialog holds it).
        self.reload(then=lambda: self._ask(dialog, lambda _: None))


def error_text(exc: Exception) -> str:
    """The driver's message without SQLAlchemy's statement and link."""
    return one_line(str(getattr(exc, "orig", None) or exc))
