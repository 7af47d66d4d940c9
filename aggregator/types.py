"""Plain, frozen values that cross layers: fetch -> parse -> decide -> store -> CLI.

No module passes ORM rows or pydantic models across a layer boundary; these
dataclasses are what travels. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

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


# -- extraction ----------------------------------------------------------------

ExtractStatus = Literal[
    "ok", "too_short", "challenge", "paywall", "not_html", "http_error", "timeout", "error"
]
TextSource = Literal["page", "feed", "summary"]


@dataclass(frozen=True, slots=True)
class ExtractJob:
    """A candidate whose article page is to be fetched and extracted."""

    candidate_id: int
    url: str | None
    content: str | None
    content_type: str | None
    summary: str | None
    language: str | None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class Article:
    """A candidate's article as stored: the text, where it came from, and the page's metadata."""

    candidate_id: int
    status: ExtractStatus
    """How the page went; a flagged page (challenge, paywall...) is never the stored text."""
    reason: str | None
    text_source: TextSource | None
    text: str | None
    word_count: int
    page_url: str | None = None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    lead_image: str | None = None
    links: tuple[str, ...] = ()
    attempts: int = 1
    next_attempt_at: datetime | None = None
    """When a transient failure is tried again; None when the outcome is final."""
    extracted_at: datetime | None = None


# -- triage --------------------------------------------------------------------

Status = Literal["new", "shortlisted", "promoted", "rejected", "snoozed"]
STATUSES: tuple[Status, ...] = ("new", "shortlisted", "promoted", "rejected", "snoozed")
#: What the queue lists when no status is asked for: what still needs a decision.
OPEN_STATUSES: tuple[Status, ...] = ("new", "shortlisted")
QueueSort = Literal["date", "feed", "score"]


@dataclass(frozen=True, slots=True)
class QueueQuery:
    """What `aggregator queue` and the triage screen ask for.

    ``section`` matches a promoted item's section, else the feed's section hint;
    ``aws`` matches ``aws/mlops``, not the other way round. ``search`` is
    full-text over titles and article text (Korean and Japanese included).
    The sort is a named order so a later score can join ``date`` and ``feed``.
    """

    statuses: tuple[Status, ...] = OPEN_STATUSES
    feeds: tuple[str, ...] = ()
    section: str | None = None
    since: datetime | None = None
    search: str | None = None
    sort: QueueSort = "date"
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One row of the queue, with what a curator needs to decide and a version to decide on."""

    id: int
    title: str
    url: str | None
    feed_name: str
    label: str
    published_at: datetime
    status: Status
    version: int
    """Grows with every decision; a decision made on an older version is refused."""
    section_hint: str | None
    language: str | None
    notes: tuple[str, ...] = ()
    snoozed_until: datetime | None = None
    digest: str | None = None
    section: str | None = None
    """The section a promoted item sits in."""
    decided_by: str | None = None
    decided_at: datetime | None = None
    word_count: int | None = None
    """Words of the article text; None before extraction."""
    extract_status: ExtractStatus | None = None
    group_id: int | None = None
    # Importance by the curators' rules, 0-100 (reasons: ``service.suggest.of``); None: not scored yet.
    score: float | None = None
    # The feeds of its cross-post group's other members (the same article reached by other routes).
    routes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Change:
    """One candidate's part in a decision: what it was, what it is now."""

    candidate_id: int
    title: str
    from_status: Status
    to_status: Status
    version: int
    digest: str | None = None
    section: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionReport:
    """What a triage command did: the batch to undo, the changes, the ids left as they were (and why)."""

    batch: str
    action: str
    changes: tuple[Change, ...]
    unchanged: tuple[tuple[int, str], ...] = ()


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


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A feed's polling state and its health in one word (``feeds.health.feed_health``)."""

    feed: FeedState
    health: str


@dataclass(frozen=True, slots=True)
class Instance:
    """A running process of the aggregator, as its claims on feeds name it.

    ``id`` is a UUID drawn when the process starts, so a restarted container
    (PID 1 again, same host name) is never mistaken for its previous life.
    """

    id: str
    host: str
    pid: int


@dataclass(frozen=True, slots=True)
class Replica:
    """A process as ``instances`` records it: a command (role ``cli``) or a daemon replica (``daemon``).

    ``summary`` is what a daemon wrote with its last heartbeat (plain JSON values:
    its last tick's counts, its jobs' next run times as ISO 8601 strings); empty
    for a command.
    """

    id: str
    host: str
    pid: int
    role: str
    version: str | None
    started_at: datetime
    heartbeat_at: datetime
    summary: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Gauges:
    """What the service holds right now, as a daemon's metrics and summary line show it."""

    feeds_by_health: Mapping[str, int]
    """Feeds in feeds.yaml by their health word (``feeds.health``): ok, failing, gone, ..."""
    due: int
    """Feeds whose next poll time has come and that nobody holds."""
    pending_extractions: int
    """Candidates whose page is due for extraction (never tried, or a retry whose time has come)."""

    @property
    def failing(self) -> int:
        return sum(self.feeds_by_health.get(word, 0) for word in ("failing", "gone"))


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run of a scheduled job for one period (``weekly_email`` for ``2026-W49``), as recorded."""

    job: str
    period: str
    instance_id: str
    started_at: datetime
    outcome: str
    """``running``, ``ok`` or ``failed``."""
    finished_at: datetime | None = None
    lease_until: datetime | None = None
    detail: str | None = None


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


# -- limits the edge checks and the store keeps -------------------------------------------------

#: The longest curator name the decision log and digest items keep.
CURATOR_CHARS = 200


# -- triage: decisions, the decision log, one candidate shown ----------------------------------

Action = Literal["shortlist", "promote", "reject", "snooze", "restore", "unpromote", "note"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What a curator asked for, besides which candidates: the options of one command."""

    action: Action
    section: str | None = None
    """promote: a full section id such as ``business/mlops``."""
    digest: str | None = None
    """promote: the issue, ``YYYY-MM``; None: the month of ``now``."""
    notes: tuple[str, ...] = ()
    """promote and note: notes to add, in order."""
    replace_notes: bool = False
    """note: the notes replace the candidate's notes instead of following them."""
    title: str | None = None
    label: str | None = None
    month: str | None = None
    """promote: the curator's overrides for the digest line (``month`` is ``YYYY-MM``)."""
    until: datetime | None = None
    """snooze: when the candidate comes back as new."""
    reason: str | None = None
    """reject: why, kept in the decision log."""
    force: bool = False
    """Change a published (frozen) digest issue anyway."""


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """One row of the decision log, as `aggregator log` prints it."""

    id: int
    batch: str
    candidate_id: int
    title: str
    curator: str
    at: datetime
    action: str
    from_status: str
    to_status: str
    digest: str | None
    section: str | None
    note: str | None
    undone_at: datetime | None
    undone_by: str | None


@dataclass(frozen=True, slots=True)
class TriageState:
    """A candidate's triage state as `aggregator show` prints it."""

    status: Status
    version: int
    notes: tuple[str, ...]
    snoozed_until: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    digest: str | None
    section: str | None


@dataclass(frozen=True, slots=True)
class CandidateView:
    """One candidate as `aggregator show` and the triage screen's article view read it."""

    candidate: Candidate | None
    """None: no such candidate."""
    article: Article | None
    triage: TriageState | None
    decisions: tuple[LoggedDecision, ...] = ()
    """Its latest decisions, newest first."""


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the queue, and how many candidates the query finds (None: not counted)."""

    query: QueueQuery
    """The query as run (``since`` resolved against the clock)."""
    items: tuple[QueueItem, ...]
    total: int | None = None
