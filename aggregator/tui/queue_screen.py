"""The triage screen's main screen: the queue as a list, the status line, moving, reading, filtering.

Decisions are :mod:`aggregator.tui.decide`'s keys, the jobs and the type-ahead
:mod:`aggregator.tui.jobs`'s. The list loads through the facade
(``service.queue``): a count up to a cap and the pages around the cursor in one
read, then more pages as they come into view.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from aggregator.triage_types import STATUSES, QueueItem, QueueQuery
from aggregator.tui.article import ARTICLE_KEYS, ArticleScreen, Command
from aggregator.tui.decide import DecisionKeys
from aggregator.tui.dialogs import Filter, FilterDialog, HelpScreen, PromptDialog, plain
from aggregator.tui.jobs import error_text
from aggregator.tui.listing import QueueList
from aggregator.tui.rows import QueueRows, describe_query, footer

#: The screen counts the queue up to this many rows (or a little past the cursor) and shows "N+".
COUNT_CAP = 10_000

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
#: The footer's keys, most used first; as many as fit are shown, then ``? help`` (every key).
HINTS = (
    ("↵", "read"), ("s", "shortlist"), ("p", "promote"), ("x", "reject"), ("z", "snooze"), ("u", "undo"),
    ("q", "quit"), ("m", "mark"), ("/", "search"), ("f", "filter"), ("e", "notes"), ("o", "open"),
    ("r", "reload"),
)  # fmt: skip
MORE = ("?", "help")


class QueueScreen(DecisionKeys):
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
        self.capped = False
        """The count stopped at its cap: there are more rows than ``rows.total``."""

    def compose(self) -> ComposeResult:
        yield self.list
        yield Static("", id="status")
        yield Static("", id="keys")

    def on_mount(self) -> None:
        self.on_resize()
        self.reload(to_top=True)

    # -- loading ----------------------------------------------------------------------------

    def reload(
        self,
        *,
        to_top: bool = False,
        advance_from: int | None = None,
        to_end: bool = False,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Count the queue and load the pages around the cursor, in one read; then ``then``.

        ``to_end``: count every row (not only up to the cap) and put the cursor on the last.

        ``advance_from``: the candidate just decided on; when it is still under
        the cursor (it still matches the filter) the cursor moves on to the next row.
        """
        query, size = self.query_, self.rows.page_size
        cursor = 0 if to_top else self.list.cursor
        span = self.list.page_height
        queue = self.service.queue
        cap = sys.maxsize - 1 if to_end else max(COUNT_CAP, cursor + 5 * size)

        def work() -> tuple[int, dict[int, list[QueueItem]]]:
            return queue.window(query, cursor=cursor, span=span, page_size=size, cap=cap, to_end=to_end)

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
            if then is not None:
                then()

        def failed(exc: Exception) -> None:
            # A reload that fails says so once (no reload after it: a database that is down would loop).
            self._failed(exc, reload=False)
            if then is not None:
                then()

        self._run(work, done, failed=failed)

    def _need_pages(self, start: int, stop: int) -> None:
        for number in self.rows.missing(start, stop):
            self._load_page(number)

    def _load_page(self, number: int) -> None:
        query, size, generation = self.query_, self.rows.page_size, self.rows.generation
        queue = self.service.queue

        def work() -> list[QueueItem]:
            return queue.items(replace(query, limit=size, offset=number * size))

        def done(items: list[QueueItem]) -> None:
            if self.rows.store(generation, number, items, near=self.list.cursor):
                self.list.refresh()
                self.update_status()

        def failed(exc: Exception) -> None:
            self.rows.requested.discard(number)  # asked again when the rows come into view again
            self.app.notify(f"Could not load rows: {error_text(exc)}", severity="error")

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

    def _hints(self, width: int) -> Text:
        text = Text(" ")
        for key, what in footer(HINTS, width, more=MORE):
            text.append(key, style="bold")
            text.append(f" {what}  ")
        text.rstrip()
        return text

    def on_resize(self) -> None:
        self.query_one("#keys", Static).update(self._hints(self.size.width))

    # -- moving, reading, marking ---------------------------------------------------------------

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
        """Open the highlighted article; a decision taken there applies to it, then the next one opens
        (read, decide, next, as in mutt); ``J``/``K`` open the next or previous one."""
        item = self.list.current
        if item is None:
            return
        steps: dict[str, Callable[[], None]] = {
            "shortlist": self.shortlist,
            "promote": self.promote,
            "reject": self.reject,
            "snooze": self.snooze,
        }

        def answered(command: Command | None) -> None:
            if command in ("next", "previous"):
                at = self.list.cursor + (1 if command == "next" else -1)
                if 0 <= at < self.rows.total:
                    self.list.move_to(at)
                    self.update_status()
                    self._soon(self._read)
            elif command is not None:
                # Both wait for the dialogs and jobs before them: the decision and its reload, then the next.
                self._soon(lambda: self.on_item(item, steps[command]))
                self._soon(self._read)

        self._ask(ArticleScreen(self.service, item, self.triage.open_link), answered)

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

    # -- searching, filtering, the rest -----------------------------------------------------------

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
            taxonomy = self.service.taxonomy
            query = self.query_
            current = Filter(query.statuses, query.feeds, query.section)
            feeds = self.service.queue.feed_names()
            sections = [(sid, taxonomy.label(sid)) for sid in taxonomy.section_ids()]

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
