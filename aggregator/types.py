"""Plain, frozen values that cross layers: fetch -> parse -> store, and feeds as configured and polled.

No module passes ORM rows or pydantic models across a layer boundary; these dataclasses are what
travels. All datetimes are timezone-aware UTC. Each wing's own values are beside this module:
:mod:`aggregator.article_types` (extraction), :mod:`aggregator.poll_types` (polling reports),
:mod:`aggregator.triage_types` (the queue and decisions), :mod:`aggregator.ops_types` (processes,
jobs, health and status).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

# -- fetching ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators remembered from the last 200 response."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of one successful conditional GET (2xx or 304).

    Failures are raised as :class:`aggregator.errors.FetchError` subclasses.
    """

    url: str
    """The URL that was requested."""
    final_url: str
    """The URL that answered, after redirects."""
    status: int
    """200 (or another 2xx) with a body, or 304 with none."""
    headers: Mapping[str, str]
    """Response headers, names lowercased."""
    body: bytes | None
    """The decompressed body; None on 304."""
    validators: Validators
    """ETag / Last-Modified to send next time (the old ones on 304)."""
    permanent_redirect: str | None = None
    """Set when every hop of the redirect chain was permanent (301/308): the final URL."""
    elapsed: float = 0.0
    """Seconds from the first byte sent to the last byte read."""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


# -- parsing ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One entry of a feed, as the feed says it, before any policy is applied."""

    key: str
    """Identity within the feed: the id/GUID, else the link, else a hash of title and date."""
    guid: str | None
    link: str | None
    """Absolute URL of the article (resolved against the feed's base), as published."""
    title: str
    """Plain text: markup stripped, entities decoded, whitespace folded."""
    author: str | None = None
    summary: str | None = None
    """The feed's summary/description, as HTML or text, never rendered."""
    content: str | None = None
    """The feed's full content (content:encoded, Atom content, content_html), never rendered."""
    content_type: str | None = None
    """MIME type of ``content`` (text/html or text/plain)."""
    published: datetime | None = None
    updated: datetime | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed document."""

    title: str | None
    #: The site's home page, absolute.
    link: str | None
    #: e.g. 'rss20', 'atom10', 'rss10', 'json11'.
    format: str
    language: str | None
    entries: tuple[ParsedEntry, ...]
    #: Set when the document was malformed but entries could still be read.
    warning: str | None = None
    #: RSS ``<ttl>``: how long the publisher says the document stays fresh (None: it does not say).
    ttl: timedelta | None = None


# -- feeds and candidates as stored ----------------------------------------


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed as the store knows it: its configuration plus its polling state."""

    id: int
    name: str
    #: The URL polled now (a consistently seen permanent redirect replaces it).
    url: str
    #: The URL as written in feeds.yaml.
    config_url: str
    label: str
    language: str | None
    section_hint: str | None
    weight: float
    #: feeds.yaml's fixed interval; with ``interval_auto``, only the first error backoff's base.
    interval: timedelta
    enabled: bool
    validators: Validators = field(default_factory=Validators)
    body_hash: str | None = None
    title: str | None = None
    site_url: str | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    #: Set when the last parsed document was malformed but its entries could be read.
    last_warning: str | None = None
    error_count: int = 0
    next_poll_at: datetime | None = None
    #: Set when the feed answered 410 Gone; it is not polled again until re-enabled.
    gone_at: datetime | None = None
    #: A permanent redirect target seen on recent polls, not yet adopted.
    redirect_url: str | None = None
    #: How many consecutive polls saw ``redirect_url``.
    redirect_count: int = 0
    entry_count: int = 0
    #: feeds.yaml's ``interval: auto``: the interval follows how often the feed publishes.
    interval_auto: bool = False
    #: The longest wait the publisher asked for at the last poll (RSS ttl, Cache-Control max-age,
    #: Expires), capped at a day; None when it asked for none.
    hint: timedelta | None = None
    #: The interval the last successful poll chose (``feeds.schedule``); None before it.
    poll_interval: timedelta | None = None

    @property
    def interval_in_effect(self) -> timedelta:
        """The interval the feed is polled at now: the last poll's choice, else the configured one."""
        return self.poll_interval or self.interval


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored entry, waiting for a curator's decision."""

    id: int
    feed_id: int
    feed_name: str
    label: str
    entry_key: str
    url: str | None
    """The display URL, as published."""
    canonical_url: str | None
    title: str
    author: str | None
    summary: str | None
    published_at: datetime
    """Publication date after fallbacks (published, updated, first seen) and clamping."""
    date_source: Literal["published", "updated", "first_seen", "digest"]
    """``digest``: imported from a digest file, dated the first day of the month it printed."""
    first_seen_at: datetime
    updated_at: datetime
    status: str
    group_id: int | None
    """The id of its cross-post group's primary (same canonical URL, or near-duplicate), or None."""
    language: str | None = None


# -- the outcome of one feed's update ---------------------------------------

Outcome = Literal["new", "updated", "unchanged", "not_modified", "error", "gone"]


@dataclass(frozen=True, slots=True)
class FeedUpdateResult:
    """What one feed's update did; errors are values here, not exceptions."""

    feed_name: str
    url: str
    outcome: Outcome
    new: int = 0
    updated: int = 0
    elapsed: float = 0.0
    error: str | None = None
    next_poll_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A feed's polling state and its health in one word (``feeds.health.feed_health``)."""

    feed: FeedState
    health: str


@dataclass(frozen=True, slots=True)
class FeedSetting:
    """A feed as feeds.yaml lists it (``feeds list``), without its polling state."""

    name: str
    url: str
    label: str
    language: str | None
    section_hint: str | None
    interval: timedelta
    enabled: bool
    #: ``interval: auto``: adapted to how often the feed publishes (``interval`` is then unused).
    interval_auto: bool = False
