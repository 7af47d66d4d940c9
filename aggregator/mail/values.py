"""The weekly email's plain values: the week it covers, what it shows, how a send went.

Window ─ week.py ─> WeekContent ─ render.py ─> Rendered ─ message.py ─> EmailMessage ─ smtp.py ─> Delivery
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from aggregator.errors import AggregatorError

__all__ = [
    "Block", "Delivery", "DraftLine", "Item", "MailError", "Rendered", "Trouble", "WeekContent",
    "WeeklyReport", "Window",
]  # fmt: skip


class MailError(AggregatorError):
    """The weekly email could not be built or sent: the message names what failed and what to do."""


@dataclass(frozen=True, slots=True)
class Window:
    """The week an email covers: ISO week ``week`` (in the email's time zone) is sent at ``end`` (its
    weekday and time from feeds.yaml) and lists what was first seen in the seven days before."""

    week: str
    start: datetime
    end: datetime
    zone: str


@dataclass(frozen=True, slots=True)
class Item:
    """One candidate (or one cross-post group) as the email shows it; every string is still raw text."""

    id: int
    title: str
    url: str | None
    """Only an http(s) link; None otherwise (never shown as a link)."""
    label: str
    feed: str
    date: str
    """Its publication date in the email's time zone, ``2026-12-03``."""
    excerpt: str
    reason: str | None
    promote: str
    """The command that promotes it: ``aggregator promote 123 --section research/nlp``."""
    also: tuple[str, ...] = ()
    """A cross-post group's other routes: ``Label (feed)`` each."""


@dataclass(frozen=True, slots=True)
class Block:
    """A section's part: its items by rank, and how many more wait in the queue past the cap."""

    section: str | None
    title: str
    items: tuple[Item, ...]
    more: int


@dataclass(frozen=True, slots=True)
class Trouble:
    """A feed that is failing, gone, or quiet for more than 30 days."""

    name: str
    label: str
    kind: Literal["failing", "gone", "quiet"]
    detail: str


@dataclass(frozen=True, slots=True)
class DraftLine:
    """The month's digest draft: a section's title and its items so far."""

    section: str
    count: int


@dataclass(frozen=True, slots=True)
class WeekContent:
    """Everything one week's email says, before rendering."""

    window: Window
    total: int
    """New candidates in the week (a cross-post group counts once)."""
    blocks: tuple[Block, ...]
    troubles: tuple[Trouble, ...]
    draft_month: str
    draft_status: str | None
    """``draft``, ``published``, or None when the month's issue is not opened yet."""
    draft: tuple[DraftLine, ...]
    top_title: str | None = None
    """The best-ranked item's title, for the subject."""

    @property
    def failing(self) -> int:
        return sum(1 for t in self.troubles if t.kind == "failing")

    @property
    def shown(self) -> int:
        return sum(len(b.items) for b in self.blocks)


@dataclass(frozen=True, slots=True)
class Rendered:
    """The message's subject and its two parts."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """How the server answered for one recipient: accepted, or refused with its answer."""

    recipient: str
    accepted: bool
    answer: str
    message_id: str


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    """What ``aggregator email weekly`` did for a week."""

    week: str
    window: Window
    subject: str
    size: int
    """Bytes of the message (one recipient's copy)."""
    candidates: int
    shown: int
    dry_run: bool
    already_sent: tuple[str, ...] = ()
    """Recipients that had this week already (nothing sent to them without ``--force``)."""
    deliveries: tuple[Delivery, ...] = ()

    @property
    def refused(self) -> tuple[Delivery, ...]:
        return tuple(d for d in self.deliveries if not d.accepted)

    @property
    def accepted(self) -> tuple[Delivery, ...]:
        return tuple(d for d in self.deliveries if d.accepted)
