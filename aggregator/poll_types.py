"""Plain values of the polling wing: entries to store, feed syncing, poll and extraction reports,
what a poll would claim, a poll's run.

Frozen dataclasses that cross layers, like :mod:`aggregator.types`; no logic. All datetimes are
timezone-aware UTC.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from aggregator.article_types import Article
from aggregator.types import FeedUpdateResult

# -- polling: entries to store, poll and extraction reports, feed status, instances ---------------

DateSource = Literal["published", "updated", "first_seen"]


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One entry as it will be stored: the feed's values plus our derived ones (``feeds.decide``)."""

    key: str
    guid: str | None
    url: str | None
    canonical_url: str | None
    title: str
    author: str | None
    summary: str | None
    content: str | None
    content_type: str | None
    language: str | None
    tags: tuple[str, ...]
    feed_published_at: datetime | None
    feed_updated_at: datetime | None
    published_at: datetime
    date_source: DateSource
    content_hash: str


@dataclass(frozen=True, slots=True)
class EntryPlan:
    """A parsed feed's entries split into what to insert, what to update and what to leave."""

    new: tuple[EntryRecord, ...]
    changed: tuple[EntryRecord, ...]
    unchanged_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What syncing feeds.yaml into the feeds table did, by feed name."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PollReport:
    """One poll cycle: a result per feed claimed, and its wall time in seconds."""

    results: tuple[FeedUpdateResult, ...]
    elapsed: float

    @property
    def failed(self) -> tuple[FeedUpdateResult, ...]:
        return tuple(r for r in self.results if r.outcome in ("error", "gone"))

    @property
    def new(self) -> int:
        return sum(r.new for r in self.results)

    @property
    def updated(self) -> int:
        return sum(r.updated for r in self.results)


@dataclass(frozen=True, slots=True)
class ExtractReport:
    """One extraction run: every article stored, and its wall time in seconds."""

    articles: tuple[Article, ...]
    elapsed: float

    def counts(self) -> Counter[str]:
        return Counter(a.status for a in self.articles)


@dataclass(frozen=True, slots=True)
class ClaimOutlook:
    """What the feeds a poll asked for are doing: why a claim may have found none free.

    Counts are over the feeds asked for: ``names``, else every feed in feeds.yaml.
    """

    feeds: int
    disabled: int
    gone: int
    """Enabled feeds that said 410 Gone (polled again once re-enabled or given a new URL)."""
    held: int
    """Feeds claimed by another poller now."""
    holders: tuple[str, ...]
    """Who holds them: ``host:pid`` of a known instance, else the claim's owner as written."""
    held_until: datetime | None
    """When the last of those claims expires."""
    due: int
    """Feeds free to claim whose next poll time has come."""
    next_due: datetime | None
    """The earliest next poll time among free feeds not due yet."""


@dataclass(frozen=True, slots=True)
class PollRun:
    """What ``aggregator poll`` did: the poll, the extraction beside it, and, when nothing was
    claimed, why (``outlook``)."""

    report: PollReport
    extracted: ExtractReport | None = None
    outlook: ClaimOutlook | None = None
