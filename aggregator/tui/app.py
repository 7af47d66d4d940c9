"""The triage screen: the queue as a list, keys for every decision, dialogs for what a decision needs.

Thin over the store modules: ``store.queue`` lists and counts, ``store.triage``
decides and undoes, ``store.articles`` reads the text. Every database call runs
in a thread (an ``asyncio.to_thread`` inside a Textual worker), so the screen
never freezes on a busy database.

Keys typed while a decision, a reload or a dialog is under way wait their turn
and run in order afterwards (type-ahead, as in mutt), so a fast ``s j s`` never
acts on a row that is about to change. Every decision passes the versions the
screen loaded; a candidate someone else changed meanwhile is refused
(``ConflictError``), the refusal is shown in a dialog and the list reloads.

Titles, labels, notes, URLs, section titles, search text and error messages are
data, never markup: widgets get them as ``Content`` (``dialogs.plain``),
notifications are plain text, and control and bidi-override characters are shown
as escapes (``\\x1b``, ``\\u202e``) wherever they are printed.
"""

from __future__ import annotations

import asyncio
import sys
import webbrowser
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import ClassVar, TypeVar, cast
from urllib.parse import urlsplit

import typer
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Static

from aggregator.app import App as Service
from aggregator.cli.context import parse_date, when
from aggregator.controls import show_controls
from aggregator.digest.names import month_of
from aggregator.errors import AggregatorError, ConflictError, DigestError, StorageError, TriageError
from aggregator.store import queue as queue_store
from aggregator.store import triage as triage_store
from aggregator.store.triage import Decision
from aggregator.tui.article import ARTICLE_KEYS, ArticleScreen
from aggregator.tui.dialogs import (
    DIALOG_CSS,
    ConfirmDialog,
    Filter,
    FilterDialog,
    HelpScreen,
    MessageDialog,
    NotesEditor,
    PromptDialog,
    SectionPicker,
    plain,
)
from aggregator.tui.listing import QueueList
from aggregator.tui.rows import (
    QueueRows,
    SectionSuggester,
    default_section,
    describe_query,
    one_line,
    section_label,
)
from aggregator.types import STATUSES, DecisionReport, QueueItem, QueueQuery

#: The screen counts the queue up to this many rows (or a little past the cursor) and shows "N+".
COUNT_CAP = 10_000

T = TypeVar("T")
R = TypeVar("R")
Opener = Callable[[str], object]
"""Opens a URL in a browser (``webbrowser.open``); tests pass their own."""

_KEY_NAMES = {
    "down": "↓",
    "up": "↑",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "home": "Home",
    "end": "End",
    "enter": "Enter",
    "escape": "Esc",
    "slash": "/",
    "question_mark": "?",
    "space": "Space",
}
_HINTS = (
    ("?", "help"), ("q", "quit"), ("↵", "read"), ("p", "promote"), ("s", "shortlist"), ("x", "reject"),
    ("z", "snooze"), ("e", "notes"), ("u", "undo"), ("m", "mark"), ("/", "search"), ("f", "filter"),
    ("o", "open"), ("r", "reload"),
)  # fmt: skip


class QueueScreen(Screen[None]):
    """The queue and every triage key."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "move(1)", "next item"),
        Binding("k,up", "move(-1)", "previous item"),
        Binding("pagedown", "page(1)", "next page"),
        Binding("pageup", "page(-1)", "previous page"),
        Binding("g,home", "edge(False)", "first item"),
        Binding("G,end", "edge(True)", "last item"),
        Binding("enter", "read", "read the highlighted article (Esc/q back)"),
        Binding("p", "promote", "promote: pick a section, then a note"),
        Binding("s", "shortlist", "shortlist"),
        Binding("x", "reject", "reject (several marked: asks first)"),
        Binding("X", "reject_why", "reject with a reason"),
        Binding("z", "snooze", "snooze until YYYY-MM-DD, 3d or 2w"),
        Binding("n", "restore", "put back to new (restore)"),
        Binding("e", "notes", "edit the highlighted item's notes, one per line"),
        Binding("u", "undo", "undo your last decision"),
        Binding("m", "mark", "mark or unmark, then next"),
        Binding("escape", "unmark_all", "clear every mark"),
        Binding("slash", "search", "search titles and text"),
        Binding("f", "filter", "filter by status, feed, section"),
        Binding("o", "open", "open the highlighted item in the browser"),
        Binding("r", "reload", "reload"),
        Binding("question_mark", "help", "this help"),
        Binding("q", "app.quit", "quit"),
    ]
    DEFAULT_CSS = """
    QueueScreen #status { height: 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
    QueueScreen #keys { height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, query: QueueQuery, page_size: int) -> None:
        super().__init__()
        self.query_ = query
        self.rows = QueueRows(page_size=page_size)
        self.list = QueueList(self.rows, self._need_pages)
        self._busy = 0
        self._pending: deque[Callable[[], None]] = deque()
        self.capped = False
        """The count stopped at its cap: there are more rows than ``rows.total``."""

    @property
    def triage(self) -> TriageApp:
        return cast(TriageApp, self.app)

    @property
    def busy(self) -> bool:
        """A decision, a reload or a dialog is under way; keys wait their turn."""
        return self._busy > 0

    def compose(self) -> ComposeResult:
        yield self.list
        yield Static("", id="status")
        yield Static(self._hints(), id="keys")

    def on_mount(self) -> None:
        self.reload(to_top=True)

    # -- jobs: database work in a thread, one list-changing job or dialog at a time ----------

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
        work: Callable[[Session], T],
        done: Callable[[T], None],
        *,
        write: bool = False,
        busy: bool = True,
        failed: Callable[[Exception], None] | None = None,
    ) -> None:
        """``work`` in a session in a thread, then ``done`` with its result on the screen's thread.

        Refusals and database errors go to ``failed``; by default they are shown
        in a dialog (never a traceback) and the list reloads.
        """
        on_error = failed or self._failed
        service = self.triage.service
        if busy:
            self._begin()

        def call() -> T:
            with service.write() if write else service.read() as s:
                return work(s)

        async def job() -> None:
            try:
                try:
                    result = await asyncio.to_thread(call)
                except (AggregatorError, SQLAlchemyError) as exc:
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
        elif isinstance(exc, StorageError | SQLAlchemyError):
            title = "Database error"
            lines = [_error_text(exc)]
        else:
            title = "Error"
            lines = [str(exc)]
        self._ask(MessageDialog(title, lines), lambda _: None)
        if reload:
            self.reload()

    # -- loading ----------------------------------------------------------------------------

    def reload(self, *, to_top: bool = False, advance_from: int | None = None, to_end: bool = False) -> None:
        """Count the queue and load the pages around the cursor, in one read.

        ``to_end``: count every row (not only up to the cap) and put the cursor on the last.

        ``advance_from``: the candidate just decided on; when it is still under
        the cursor (it still matches the filter) the cursor moves on to the next row.
        """
        query, size = self.query_, self.rows.page_size
        cursor = 0 if to_top else self.list.cursor
        span = self.list.page_height
        clock = self.triage.service.clock

        cap = sys.maxsize - 1 if to_end else max(COUNT_CAP, cursor + 5 * size)

        def work(s: Session) -> tuple[int, dict[int, list[QueueItem]]]:
            now = clock()
            # Counting every match of a common word costs a full scan on PostgreSQL
            # (~300 ms at 100k); count a little past the cursor instead, and say "+".
            total = queue_store.count_queue(s, query, now, at_most=None if to_end else cap + 1)
            if total == 0:
                return 0, {}
            shown = min(total, cap)  # one more than the cap tells "there is more"
            at = shown - 1 if to_end else min(cursor, shown - 1)
            first, last = max(at - span, 0) // size, min(at + span, shown - 1) // size
            pages = {
                n: queue_store.list_queue(s, replace(query, limit=size, offset=n * size), now)
                for n in range(first, last + 1)
            }
            return total, pages

        def done(result: tuple[int, dict[int, list[QueueItem]]]) -> None:
            total, pages = result
            self.capped = total > cap
            total = min(total, cap)
            self.rows.reset(total, pages)
            at = max(total - 1, 0) if to_end else min(cursor, max(total - 1, 0))
            here = self.rows.item(at)
            if advance_from is not None and here is not None and here.id == advance_from:
                at = min(at + 1, total - 1)
            self.list.reset(at, to_top=to_top)
            self.update_status()

        # A reload that fails says so once (no reload after it: a database that is down would loop).
        self._run(work, done, failed=lambda exc: self._failed(exc, reload=False))

    def _need_pages(self, start: int, stop: int) -> None:
        for number in self.rows.missing(start, stop):
            self._load_page(number)

    def _load_page(self, number: int) -> None:
        query, size, generation = self.query_, self.rows.page_size, self.rows.generation
        clock = self.triage.service.clock

        def work(s: Session) -> list[QueueItem]:
            return queue_store.list_queue(s, replace(query, limit=size, offset=number * size), clock())

        def done(items: list[QueueItem]) -> None:
            if self.rows.store(generation, number, items, near=self.list.cursor):
                self.list.refresh()
                self.update_status()

        def failed(exc: Exception) -> None:
            self.rows.requested.discard(number)  # asked again when the rows come into view again
            self.app.notify(f"Could not load rows: {_error_text(exc)}", severity="error")

        self._run(work, done, busy=False, failed=failed)

    # -- the status line ----------------------------------------------------------------------

    def status_text(self) -> str:
        total = self.rows.total
        more = "+" if self.capped else ""
        position = f"{self.list.cursor + 1}/{total:,}{more}" if total else "0/0"
        parts = [position]
        if self.rows.marks:
            parts.append(f"{len(self.rows.marks)} marked")
        parts.append(describe_query(self.query_))
        parts.append(f"curator {self.triage.curator}")
        parts.append(f"digest {self.triage.digest_name()}")
        return "  ".join(parts)

    def update_status(self) -> None:
        self.query_one("#status", Static).update(plain(f" {self.status_text()}"))

    def _hints(self) -> Text:
        text = Text(" ")
        for key, what in _HINTS:
            text.append(key, style="bold")
            text.append(f" {what}  ")
        return text

    # -- what an action applies to --------------------------------------------------------------

    def _targets(self) -> dict[int, int] | None:
        """Candidate id -> the version the screen loaded: the marked items, else the highlighted one."""
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

    def _decide(self, decision: Decision, targets: dict[int, int], *, advance: bool = True) -> None:
        app = self.triage
        ids, versions = list(targets), dict(targets)
        current = self.list.current
        moved_on = current.id if advance and current is not None and ids == [current.id] else None

        def work(s: Session) -> DecisionReport:
            return triage_store.decide(
                s,
                ids,
                decision,
                curator=app.curator,
                now=app.service.clock(),
                section_ids=app.service.config.promotable_sections(),
                expected_versions=versions,
            )

        def done(report: DecisionReport) -> None:
            for cid in ids:
                self.rows.marks.pop(cid, None)
            self.app.notify(_summary(report))
            self.reload(advance_from=moved_on)

        self._run(work, done, write=True)

    # -- actions ------------------------------------------------------------------------------

    def _go(self, index: Callable[[], int]) -> None:
        def go() -> None:
            self.list.move_to(index())
            self.update_status()

        self._soon(go)

    def action_move(self, delta: int) -> None:
        self._go(lambda: self.list.cursor + delta)

    def action_page(self, pages: int) -> None:
        self._go(lambda: self.list.cursor + pages * max(self.list.page_height - 1, 1))

    def action_edge(self, end: bool) -> None:
        if end and self.capped:  # the count stopped short of the end: count it all, once
            self._soon(lambda: self.reload(to_end=True))
            return
        self._go(lambda: self.rows.total - 1 if end else 0)

    def action_read(self) -> None:
        self._soon(self._read)

    def _read(self) -> None:
        item = self.list.current
        if item is None:
            return
        self._ask(ArticleScreen(self.triage.service, item, self.triage.open_link), lambda _: None)

    def action_mark(self) -> None:
        def mark() -> None:
            item = self.list.current
            if item is None:
                return
            self.rows.toggle_mark(item)
            self.list.move_to(self.list.cursor + 1)
            self.update_status()

        self._soon(mark)

    def action_unmark_all(self) -> None:
        def unmark() -> None:
            self.rows.marks.clear()
            self.list.refresh()
            self.update_status()

        self._soon(unmark)

    def action_shortlist(self) -> None:
        self._soon(lambda: self._simple(Decision("shortlist")))

    def action_restore(self) -> None:
        self._soon(lambda: self._simple(Decision("restore")))

    def _simple(self, decision: Decision) -> None:
        targets = self._targets()
        if targets:
            self._decide(decision, targets)

    def action_reject(self) -> None:
        def reject() -> None:
            targets = self._targets()
            if targets:
                self._confirmed(f"Reject {self._count(len(targets))}?", targets, Decision("reject"))

        self._soon(reject)

    def action_reject_why(self) -> None:
        def reject() -> None:
            targets = self._targets()
            if not targets:
                return

            def reason(text: str | None) -> None:
                if text is not None:
                    decision = Decision("reject", reason=text.strip() or None)
                    self._confirmed(f"Reject {self._count(len(targets))}?", targets, decision)

            self._ask(PromptDialog(f"Reject {self._count(len(targets))}: why?"), reason)

        self._soon(reject)

    def _confirmed(self, question: str, targets: dict[int, int], decision: Decision) -> None:
        """Decide at once on one item; on several marked ones, ask first."""
        if len(targets) == 1:
            self._decide(decision, targets)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._decide(decision, targets)

        self._ask(ConfirmDialog(f"{question}  (u undoes it)"), answer)

    def action_snooze(self) -> None:
        def snooze() -> None:
            targets = self._targets()
            if not targets:
                return
            clock = self.triage.service.clock

            def parse(text: str) -> datetime:
                return parse_date(text, clock(), relative="ahead", option="date")

            def check(text: str) -> str | None:
                try:
                    until = parse(text)
                except typer.BadParameter as exc:
                    return exc.message
                return None if until > clock() else f"{when(until)} has passed; pick a later date"

            def until(text: str | None) -> None:
                if text is not None:
                    decision = Decision("snooze", until=parse(text))
                    self._confirmed(f"Snooze {self._count(len(targets))}?", targets, decision)

            dialog = PromptDialog(
                f"Snooze {self._count(len(targets))} until", placeholder="YYYY-MM-DD, 3d or 2w", check=check
            )
            self._ask(dialog, until)

        self._soon(snooze)

    def action_promote(self) -> None:
        self._soon(self._promote)

    def _promote(self) -> None:
        targets = self._targets()
        if not targets:
            return
        app = self.triage
        config = app.service.config
        first = self._first_target(targets)
        preselected = app.suggest(config, first) if first is not None else None
        sections = [(sid, section_label(config, sid)) for sid in config.promotable_sections()]
        heading = f"Promote {self._count(len(targets))} into {app.digest_name()}: which section?"

        def picked(section: str | None) -> None:
            if section is None:
                return

            def noted(note: str | None) -> None:
                if note is None:
                    return
                notes = (note.strip(),) if note.strip() else ()
                self._decide(Decision("promote", section=section, digest=app.digest, notes=notes), targets)

            label = section_label(config, section)
            self._ask(PromptDialog(f"{label}: a note for the digest line (Enter: none)"), noted)

        self._ask(SectionPicker(heading, sections, preselected), picked)

    def action_notes(self) -> None:
        def edit() -> None:
            item = self.list.current
            if item is None:
                return

            def saved(notes: tuple[str, ...] | None) -> None:
                if notes is None or notes == item.notes:
                    return
                self._decide(
                    Decision("note", notes=notes, replace_notes=True), {item.id: item.version}, advance=False
                )

            self._ask(NotesEditor(f"Notes: {one_line(item.title)}", item.notes), saved)

        self._soon(edit)

    def action_undo(self) -> None:
        def undo() -> None:
            app = self.triage

            def work(s: Session) -> DecisionReport:
                return triage_store.undo(s, curator=app.curator, now=app.service.clock())

            def done(report: DecisionReport) -> None:
                self.app.notify(_summary(report))
                self.reload()

            self._run(work, done, write=True)

        self._soon(undo)

    def action_search(self) -> None:
        def search() -> None:
            def searched(text: str | None) -> None:
                if text is not None:
                    self.query_ = replace(self.query_, search=text.strip() or None, offset=0)
                    self.reload(to_top=True)

            dialog = PromptDialog(
                "Search titles and text (Enter on an empty line: no search)", value=self.query_.search or ""
            )
            self._ask(dialog, searched)

        self._soon(search)

    def action_filter(self) -> None:
        def choose() -> None:
            config = self.triage.service.config
            query = self.query_
            current = Filter(query.statuses, query.feeds, query.section)
            feeds = [f.name for f in config.feeds]
            sections = [(sid, section_label(config, sid)) for sid in config.section_ids()]

            def chosen(value: Filter | None) -> None:
                if value is not None:
                    self.query_ = replace(
                        self.query_,
                        statuses=value.statuses or STATUSES,
                        feeds=value.feeds,
                        section=value.section,
                        offset=0,
                    )
                    self.reload(to_top=True)

            self._ask(FilterDialog(current, feeds, sections), chosen)

        self._soon(choose)

    def action_open(self) -> None:
        def open_current() -> None:
            item = self.list.current
            if item is not None:
                self.triage.open_link(item.url)

        self._soon(open_current)

    def action_reload(self) -> None:
        self._soon(self.reload)

    def action_help(self) -> None:
        self._soon(lambda: self._ask(HelpScreen(help_sections()), lambda _: None))


def _error_text(exc: Exception) -> str:
    """The driver's message without SQLAlchemy's statement and link."""
    return one_line(str(getattr(exc, "orig", None) or exc))


def _summary(report: DecisionReport) -> str:
    changed = len(report.changes)
    parts = [f"{report.action}: {changed} changed"]
    if report.unchanged:
        parts.append("; ".join(f"{cid} {why}" for cid, why in report.unchanged))
    if changed and not report.action.startswith("undo"):
        parts.append("u undoes it")
    return " · ".join(parts)


def _key_label(keys: str) -> str:
    return " ".join(_KEY_NAMES.get(k, k) for k in keys.split(","))


def help_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every key, from the bindings themselves."""
    queue = [(_key_label(b.key), b.description) for b in QueueScreen.BINDINGS if isinstance(b, Binding)]
    return [
        ("The queue (a decision applies to every marked item, else to the highlighted one)", queue),
        ("Reading an article", ARTICLE_KEYS),
        (
            "In dialogs",
            [
                ("Enter", "OK / choose / apply the filter"),
                ("Esc", "cancel"),
                ("Space Tab", "filter: toggle, next list"),
                ("Ctrl+S F2", "notes: save"),
                ("y n", "confirm: yes, no"),
            ],
        ),
        ("Status letters", [("N S P R Z", "new, shortlisted, promoted, rejected, snoozed"), ("*", "marked")]),
    ]


class TriageApp(App[None]):
    """``aggregator triage``: the queue on one screen, usable over SSH in 80x24."""

    TITLE = "aggregator triage"
    CSS = (
        DIALOG_CSS
        + """
    MessageDialog #message-body { height: auto; max-height: 16; }
    HelpScreen #help-body { height: auto; max-height: 18; }
    """
    )
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        service: Service,
        *,
        curator: str,
        query: QueueQuery | None = None,
        digest: str | None = None,
        opener: Opener | None = None,
        suggest: SectionSuggester = default_section,
        page_size: int = 100,
    ) -> None:
        """``digest``: the issue ``p`` promotes into (None: the current month);
        ``opener``: how ``o`` opens a URL (None: the system's browser);
        ``suggest``: the section the promote picker preselects."""
        super().__init__()
        self.service = service
        self.curator = curator
        self.digest = digest
        self.opener = opener
        self.suggest = suggest
        self.queue_screen = QueueScreen(query or QueueQuery(), page_size)

    def get_default_screen(self) -> Screen[None]:
        return self.queue_screen

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A notification whose message is plain text by default (it carries titles, URLs and errors),
        with control and bidi-override characters shown as escapes."""
        if not markup:
            message, title = show_controls(message), show_controls(title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def digest_name(self) -> str:
        return self.digest or month_of(self.service.clock())

    def open_link(self, url: str | None) -> None:
        """Open an http(s) URL with the opener; anything else is refused with a message."""
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc or url is None:
            self.notify("This item has no web address to open.", severity="warning")
            return
        if self.opener is not None:
            self.opener(url)
            return
        self._system_open(url)

    def _system_open(self, url: str) -> None:
        try:
            browser = webbrowser.get()
        except webbrowser.Error:
            self.notify(f"No web browser found. The address: {url}", severity="warning", timeout=15)
            return
        # A text browser (lynx, w3m) takes the terminal: give it the terminal, then come back.
        if type(browser) is webbrowser.GenericBrowser:
            try:
                with self.suspend():
                    browser.open(url)
                return
            except SuspendNotSupported:
                pass
        browser.open(url)
        self.notify(f"Opened {url}")
