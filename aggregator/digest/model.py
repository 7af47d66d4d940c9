"""Digest issues as plain values, and the order of the items within a subsection.

Pure: no database, no clock, no network, no Jinja2. :mod:`aggregator.digest.issues` loads an issue
into these values; :mod:`aggregator.digest.render` prints them as Markdown;
:mod:`aggregator.digest.read` reads an existing digest back.

**Ordering** within a subsection (:func:`order_items`): items the curator has placed (a ``position``)
come first, in position order; the others follow, newest first (by publication date, then by id,
highest first). ``digest move`` writes a position for every item of the subsection, so after a move
the order is exactly what the curator sees; an item promoted later has no position and goes to the end
of an ordered subsection, or takes its date's place in one nobody has ordered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from aggregator.digest.names import TEMPLATES as TEMPLATES  # the command line reads it from names
from aggregator.taxonomy import Taxonomy
from aggregator.urls import is_http_url

__all__ = [
    "MONTHS",
    "TEMPLATES",
    "Digest",
    "DigestItem",
    "DigestSection",
    "DigestSubsection",
    "IssueSummary",
    "NotesStyle",
    "build_digest",
    "month_key",
    "month_name",
    "order_items",
]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NotesStyle = Literal["nested", "inline"]

_YM_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")

# -- the values -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One item of an issue, with the curator's overrides already applied."""

    id: int
    """The candidate's id (what ``digest move`` takes)."""
    title: str
    """The title printed: the curator's override, else the article's title (may hold Markdown)."""
    url: str | None
    """The display URL, as published."""
    month: date | str
    """The month printed: a date, or ``"YYYY-MM"``."""
    label: str = ""
    """The label printed (the curator's override, else the feed's); may be empty."""
    notes: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    """Image lines printed after the notes, as written: ``![diagram](./x.png)``."""
    published_at: datetime | None = None
    position: int | None = None
    """The curator's order within the subsection; None: newest first, after the ordered ones."""
    article_title: str | None = None
    """The article's own title, when the printed one is an override (trend-post footnotes use it)."""

    @property
    def month_name(self) -> str:
        """``Dec 2022``."""
        return month_name(self.month)

    @property
    def is_link(self) -> bool:
        """True when the URL is http(s), so the item is printed as a link."""
        return bool(self.url) and is_http_url(self.url or "")


@dataclass(frozen=True, slots=True)
class DigestSubsection:
    id: str
    """The full id: ``business/mlops``."""
    number: str
    """``2.4``, fixed by the taxonomy."""
    title: str
    items: tuple[DigestItem, ...]
    heading: bool = True
    """False for the items of a top section that has no subsections (printed without a ``###``)."""


@dataclass(frozen=True, slots=True)
class DigestSection:
    id: str
    number: str
    title: str
    hide_labels: bool
    subsections: tuple[DigestSubsection, ...]
    """The subsections that have items, in taxonomy order."""

    @property
    def items(self) -> tuple[DigestItem, ...]:
        """Every item of the section, subsection by subsection."""
        return tuple(item for sub in self.subsections for item in sub.items)


@dataclass(frozen=True, slots=True)
class Digest:
    """An issue ready to render: only the sections and subsections that have items."""

    name: str
    """``2022-12``."""
    title: str
    preface: str
    sections: tuple[DigestSection, ...]
    status: str = "draft"
    published_at: datetime | None = None
    unplaced: tuple[tuple[str, DigestItem], ...] = ()
    """Items whose section is not in the taxonomy (feeds.yaml changed): (section id, item); never rendered."""

    @property
    def items(self) -> tuple[DigestItem, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @property
    def date(self) -> datetime:
        """When the issue was published, else the first day of its month (UTC)."""
        if self.published_at is not None:
            return self.published_at
        year, month = month_key(self.name)
        return datetime(year, month, 1, tzinfo=UTC)

    def numbers(self) -> dict[int, int]:
        """Each item's 1-based number across the issue in printed order (trend-post footnotes)."""
        return {item.id: i for i, item in enumerate(self.items, start=1)}


def month_key(value: date | str) -> tuple[int, int]:
    """(year, month) of a date or of ``"YYYY-MM"``; ValueError for anything else."""
    if isinstance(value, date):
        return value.year, value.month
    match = _YM_RE.fullmatch(value)
    if not match:
        raise ValueError(f"not a month: {value!r} (write YYYY-MM)")
    return int(match[1]), int(match[2])


def month_name(value: date | str) -> str:
    """``Dec 2022`` for a date in December 2022 or for ``"2022-12"``."""
    year, month = month_key(value)
    return f"{MONTHS[month - 1]} {year}"


def _newest_first_key(item: DigestItem) -> tuple[float, int]:
    if item.published_at is not None:
        moment = item.published_at.timestamp()
    else:
        year, month = month_key(item.month)
        moment = datetime(year, month, 1, tzinfo=UTC).timestamp()
    return (-moment, -item.id)


def order_items(items: Iterable[DigestItem]) -> list[DigestItem]:
    """The printed order of one subsection's items (see the module docstring)."""
    placed = sorted((i for i in items if i.position is not None), key=lambda i: (i.position, i.id))
    unplaced = sorted((i for i in items if i.position is None), key=_newest_first_key)
    return placed + unplaced


def build_digest(
    *,
    name: str,
    title: str,
    preface: str,
    taxonomy: Taxonomy,
    items: Iterable[tuple[str, DigestItem]],
    status: str = "draft",
    published_at: datetime | None = None,
) -> Digest:
    """An issue from (section id, item) pairs, in taxonomy order and numbering.

    A section id is a full subsection id (``aws/mlops``), or a top section's id when that section has
    no subsections. Numbers come from the taxonomy (``3.4`` even when 3.1 to 3.3 are empty); empty
    subsections and sections are left out; items in a section the taxonomy does not have go to
    ``unplaced``.
    """
    by_section: dict[str, list[DigestItem]] = {}
    for section_id, item in items:
        by_section.setdefault(section_id, []).append(item)
    sections: list[DigestSection] = []
    for i, section in enumerate(taxonomy, start=1):
        subs: list[DigestSubsection] = []
        if not section.subsections:  # items sit in the top section itself
            found = by_section.pop(section.id, [])
            if found:
                subs.append(
                    DigestSubsection(
                        section.id, str(i), section.title, tuple(order_items(found)), heading=False
                    )
                )
        for j, sub in enumerate(section.subsections, start=1):
            full_id = f"{section.id}/{sub.id}"
            found = by_section.pop(full_id, [])
            if found:
                subs.append(DigestSubsection(full_id, f"{i}.{j}", sub.title, tuple(order_items(found))))
        if subs:
            sections.append(
                DigestSection(section.id, str(i), section.title, section.hide_labels, tuple(subs))
            )
    unplaced = tuple((sid, item) for sid in sorted(by_section) for item in order_items(by_section[sid]))
    return Digest(
        name=name,
        title=title,
        preface=preface,
        sections=tuple(sections),
        status=status,
        published_at=published_at,
        unplaced=unplaced,
    )


@dataclass(frozen=True, slots=True)
class IssueSummary:
    """One issue in ``digest list``: its state and how many items each subsection holds."""

    name: str
    status: str
    created_at: datetime
    published_at: datetime | None
    sections: tuple[tuple[str, int], ...]
    """(full subsection id, item count), sorted by id."""

    @property
    def total(self) -> int:
        return sum(n for _, n in self.sections)
