"""What the triage screen shows, without Textual: the paged rows and their text. Pure.

The queue can hold 100,000 candidates, so the screen never loads it whole:
:class:`QueueRows` keeps a few pages of ``page_size`` rows (fetched with
``limit``/``offset``) and forgets the ones far from the cursor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rich.cells import cell_len, set_cell_size

from aggregator.controls import show_controls
from aggregator.triage_types import STATUSES, QueueItem, QueueQuery, Status

#: One letter per state in the list's status column.
MARKERS: dict[Status, str] = {
    "new": "N",
    "shortlisted": "S",
    "promoted": "P",
    "rejected": "R",
    "snoozed": "Z",
}


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """Untrusted text made safe for a terminal: each control or bidi-override character shown as a
    visible escape (``\\x1b``, ``\\u202e``, see :func:`~aggregator.controls.show_controls`), so an
    escape sequence in a title is seen rather than run; tabs as four spaces; line feeds kept or made spaces.
    """
    text = show_controls(text.replace("\t", "    "))
    return text if keep_newlines else text.replace("\n", " ")


def one_line(text: str) -> str:
    return " ".join(clean(text).split())


def fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells: padded, or cut with an ellipsis (wide characters are 2 cells)."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    kept, used = [], 0
    for ch in text:
        size = cell_len(ch)
        if used + size > width - 1:
            break
        kept.append(ch)
        used += size
    return set_cell_size("".join(kept).rstrip() + "…", width)


def label_width(width: int) -> int:
    return 14 if width >= 100 else 12 if width >= 70 else 8


def id_width(width: int) -> int:
    """Cells for the candidate id column (``#`` and the digits, right-aligned)."""
    return 7 if width >= 100 else 6


def row_cells(item: QueueItem | None, width: int, *, marked: bool) -> list[tuple[str, str]]:
    """One list row as (text, part) pieces filling exactly ``width`` cells.

    Parts: ``mark``, ``id``, ``date``, ``status``, ``label``, ``section``, ``title``, ``gap``, ``loading``.
    Layout: mark, candidate id (what every command takes), date, status letter, feed label, a promoted
    row's section, then the title cut to fit.
    """
    if item is None:
        return [(fit("  …", width), "loading")]
    lw = label_width(width)
    pieces = [
        ("*" if marked else " ", "mark"),
        (f"#{item.id}".rjust(id_width(width)), "id"),
        (" ", "gap"),
        (item.published_at.strftime("%Y-%m-%d"), "date"),
        (" ", "gap"),
        (MARKERS.get(item.status, "?"), "status"),
        (" ", "gap"),
        (fit(one_line(item.label or item.feed_name), lw), "label"),
        (" ", "gap"),
    ]
    if item.status == "promoted" and item.section:
        pieces += [(f"§{one_line(item.section)}", "section"), (" ", "gap")]
    used = sum(cell_len(text) for text, _ in pieces)
    if used >= width:
        return [(fit("".join(text for text, _ in pieces), width), "title")]
    pieces.append((fit(one_line(item.title), width - used), "title"))
    return pieces


def footer(hints: Sequence[tuple[str, str]], width: int, *, more: tuple[str, str]) -> list[tuple[str, str]]:
    """The key hints that fit in ``width`` cells, in order, and always ``more`` (the key to the rest) last.

    A hint is (key, what); nothing is ever cut in the middle: a hint that does not fit is left out whole.
    """

    def size(chosen: Sequence[tuple[str, str]]) -> int:
        return 1 + sum(cell_len(f"{key} {what}  ") for key, what in chosen)

    chosen: list[tuple[str, str]] = []
    for hint in hints:
        if size([*chosen, hint, more]) - 2 <= width:
            chosen.append(hint)
    return [*chosen, more]


def describe_query(query: QueueQuery) -> str:
    """The active filter in a few words: ``new+shortlisted feed:alpha §aws /"gpu"``."""
    statuses = "all" if set(query.statuses) >= set(STATUSES) else "+".join(query.statuses)
    parts = [statuses]
    if query.feeds:
        parts.append("feed:" + ",".join(query.feeds))
    if query.section:
        parts.append(f"§{query.section}")
    if query.search:
        parts.append(f'/"{one_line(query.search)}"')
    return " ".join(parts)


@dataclass
class QueueRows:
    """The pages of the queue the screen holds, and the marks.

    ``generation`` grows with every reset, so a page that was asked for before
    a reload and arrives after it is dropped instead of mixing two states.
    """

    page_size: int = 100
    keep_pages: int = 12
    total: int = 0
    generation: int = 0
    pages: dict[int, list[QueueItem]] = field(default_factory=dict)
    requested: set[int] = field(default_factory=set)
    marks: dict[int, int] = field(default_factory=dict)
    """Marked candidate id -> the version the screen last loaded for it, in marking order."""

    def reset(self, total: int, pages: dict[int, list[QueueItem]]) -> None:
        self.generation += 1
        self.total = total
        self.pages = {}
        self.requested = set()
        for number, items in pages.items():
            self._put(number, items)

    def item(self, index: int) -> QueueItem | None:
        if not 0 <= index < self.total:
            return None
        page = self.pages.get(index // self.page_size)
        if page is None:
            return None
        offset = index % self.page_size
        return page[offset] if offset < len(page) else None

    def page_numbers(self, start: int, stop: int) -> list[int]:
        """The pages holding rows ``start`` to ``stop - 1`` (within the total)."""
        stop = min(stop, self.total)
        if stop <= start:
            return []
        return list(range(max(start, 0) // self.page_size, (stop - 1) // self.page_size + 1))

    def missing(self, start: int, stop: int) -> list[int]:
        """Pages of rows ``start`` to ``stop - 1`` neither held nor asked for yet; now marked as asked."""
        numbers = [
            n for n in self.page_numbers(start, stop) if n not in self.pages and n not in self.requested
        ]
        self.requested.update(numbers)
        return numbers

    def store(self, generation: int, number: int, items: list[QueueItem], *, near: int) -> bool:
        """Keep a page that arrived, unless the rows were reset since it was asked for."""
        if generation != self.generation:
            return False
        self.requested.discard(number)
        self._put(number, items)
        if len(self.pages) > self.keep_pages:
            here = near // self.page_size
            for far in sorted(self.pages, key=lambda n: abs(n - here), reverse=True):
                if len(self.pages) <= self.keep_pages:
                    break
                del self.pages[far]
        return True

    def _put(self, number: int, items: list[QueueItem]) -> None:
        self.pages[number] = items
        for item in items:
            if item.id in self.marks:
                self.marks[item.id] = item.version  # the screen now shows this version

    def loaded(self) -> Iterable[QueueItem]:
        for number in sorted(self.pages):
            yield from self.pages[number]

    def toggle_mark(self, item: QueueItem) -> bool:
        """Mark or unmark; True when the item is marked now."""
        if item.id in self.marks:
            del self.marks[item.id]
            return False
        self.marks[item.id] = item.version
        return True
