"""The queue's list: one row per candidate, drawn line by line from the pages held in ``QueueRows``."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from aggregator.triage_types import QueueItem
from aggregator.tui.rows import QueueRows, fit, row_cells

_STATUS_STYLES = {
    "new": Style(bold=True),
    "shortlisted": Style(color="cyan", bold=True),
    "promoted": Style(color="green", bold=True),
    "rejected": Style(color="red"),
    "snoozed": Style(color="magenta"),
}


class QueueList(ScrollView, can_focus=False):
    """The queue's rows, drawn line by line from the pages held in :class:`QueueRows`.

    Only the rows on screen are drawn and only their pages are asked for, so
    the list costs the same for 100 candidates as for 100,000.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"queue--cursor", "queue--mark", "queue--dim"}
    DEFAULT_CSS = """
    QueueList { height: 1fr; overflow-x: hidden; overflow-y: auto; scrollbar-size-vertical: 1; }
    QueueList > .queue--cursor { background: $accent 60%; text-style: bold; }
    QueueList > .queue--mark { color: $warning; text-style: bold; }
    QueueList > .queue--dim { color: $text-muted; }
    """

    def __init__(self, rows: QueueRows, need_pages: Callable[[int, int], None]) -> None:
        super().__init__(id="queue")
        self.rows = rows
        self.need_pages = need_pages
        self.cursor = 0
        self.loaded_once = False

    @property
    def page_height(self) -> int:
        return max(self.scrollable_content_region.height, 1)

    @property
    def top(self) -> int:
        return round(self.scroll_y)

    @property
    def current(self) -> QueueItem | None:
        return self.rows.item(self.cursor)

    def reset(self, cursor: int, *, to_top: bool = False) -> None:
        """The rows changed (a reload): new size, cursor at ``cursor``."""
        self.loaded_once = True
        self.virtual_size = Size(self.scrollable_content_region.width, self.rows.total)
        self.cursor = max(0, min(cursor, self.rows.total - 1))
        if to_top:
            self.scroll_to(y=0, animate=False, immediate=True)
        self._follow()
        self.refresh()
        self._ask_pages()

    def move_to(self, index: int) -> None:
        self.cursor = max(0, min(index, self.rows.total - 1))
        self._follow()
        self.refresh()
        self._ask_pages()

    def _follow(self) -> None:
        """Scroll so the cursor's row is on screen."""
        top, height = self.top, self.page_height
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _ask_pages(self) -> None:
        height = self.page_height
        self.need_pages(min(self.top, self.cursor) - height, max(self.top, self.cursor) + 2 * height)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self._ask_pages()

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.rows.total)
        self._follow()
        self._ask_pages()

    def on_click(self, event: events.Click) -> None:
        index = self.top + event.y
        if 0 <= index < self.rows.total:
            self.move_to(index)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = self.top + y
        if self.rows.total == 0:
            if y != 0:
                return Strip.blank(width, base)
            message = (
                "  nothing here: no candidate matches (f filter, / search, r reload)"
                if self.loaded_once
                else "  loading…"
            )
            return Strip([Segment(fit(message, width), base + self.get_component_rich_style("queue--dim"))])
        if index >= self.rows.total:
            return Strip.blank(width, base)
        item = self.rows.item(index)
        marked = item is not None and item.id in self.rows.marks
        line_style = base
        if index == self.cursor:
            line_style = base + self.get_component_rich_style("queue--cursor")
        segments = []
        for text, part in row_cells(item, width, marked=marked):
            style = line_style
            if part == "mark" and marked:
                style = line_style + self.get_component_rich_style("queue--mark")
            elif part == "status" and item is not None:
                style = line_style + _STATUS_STYLES.get(item.status, Style())
            elif part == "section":
                style = line_style + _STATUS_STYLES["promoted"]
            elif part in ("id", "date", "label", "loading"):
                style = line_style + self.get_component_rich_style("queue--dim")
            segments.append(Segment(text, style))
        return Strip(segments, width)

    def line_text(self, y: int) -> str:
        """The text of screen row ``y`` (for tests)."""
        return self.render_line(y).text
