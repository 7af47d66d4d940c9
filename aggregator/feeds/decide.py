"""Pure policy: which entries are new or changed, how long to back off after an error.

When a feed is due after a success is :mod:`aggregator.feeds.schedule`'s.

Nothing here reads the clock, the network or the database: every function is
given ``now`` and the values it decides from, and returns values. The entry
records and plans it makes (``EntryRecord``, ``EntryPlan``) are ``types``
values, so the store that writes them imports nothing from here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aggregator.poll_types import DateSource, EntryPlan, EntryRecord
from aggregator.store.tables import MAX_KEY_BYTES
from aggregator.types import ParsedEntry, ParsedFeed
from aggregator.urls import canonical_url, is_http_url

#: The longest title kept; a real one is a line, a hostile one megabytes.
MAX_TITLE_CHARS = 1000

#: How far past ``now`` a feed's date may be before it is clamped (clock skew
#: between the publisher and us is normal; a post dated next year is not).
FUTURE_TOLERANCE = timedelta(minutes=10)

#: The earliest believable date: the first blogs and RSS came after it. An earlier one is a
#: placeholder (Hugo's zero date 0001-01-01, a Unix epoch 1970-01-01) or garbage, never a post's
#: date, so it is treated as missing and the fallbacks (updated, first seen) apply.
EARLIEST_DATE = datetime(1995, 1, 1, tzinfo=UTC)

#: The longest first retry after an error: a feed polled daily that fails
#: once is retried within the hour, then backs off exponentially.
ERROR_BACKOFF_BASE = timedelta(minutes=30)


def publication_date(entry: ParsedEntry, now: datetime) -> tuple[datetime, DateSource]:
    """The date we file an entry under: published, else updated, else first seen.

    A date in the future (beyond a little clock skew) is clamped to ``now``, so
    a mis-dated post cannot sit at the top of the queue for months; one before
    :data:`EARLIEST_DATE` (Hugo's ``0001-01-01``) is no date at all.
    """
    for value, source in ((entry.published, "published"), (entry.updated, "updated")):
        if value is not None and value >= EARLIEST_DATE:
            if value > now + FUTURE_TOLERANCE:
                return now, source  # type: ignore[return-value]
            return value, source  # type: ignore[return-value]
    return now, "first_seen"


def content_hash(entry: ParsedEntry) -> str:
    """A hash of what a curator sees of an entry; a change means the entry was edited."""
    h = hashlib.sha256()
    for part in (
        entry.title,
        entry.link or "",
        entry.author or "",
        entry.summary or "",
        entry.content or "",
        entry.published.isoformat() if entry.published else "",
        entry.updated.isoformat() if entry.updated else "",
    ):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def stored_key(key: str) -> str:
    """An entry's key as stored: as it is, or ``sha256:`` and its hash when longer than MAX_KEY_BYTES."""
    data = key.encode("utf-8", "surrogatepass")
    return key if len(data) <= MAX_KEY_BYTES else "sha256:" + hashlib.sha256(data).hexdigest()


def entry_record(entry: ParsedEntry, *, feed_language: str | None, now: datetime) -> EntryRecord:
    published_at, source = publication_date(entry, now)
    # The display URL stays as published, whatever its scheme (the digest's
    # lint flags non-http links); only http(s) links get a canonical form.
    link = entry.link
    canonical = canonical_url(link) if link and is_http_url(link) else None
    if canonical is not None and len(canonical.encode("utf-8")) > MAX_KEY_BYTES:
        canonical = None
    title = entry.title
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    return EntryRecord(
        key=stored_key(entry.key),
        guid=entry.guid,
        url=link,
        canonical_url=canonical,
        title=title,
        author=entry.author,
        summary=entry.summary,
        content=entry.content,
        content_type=entry.content_type,
        language=entry.language or feed_language,
        tags=entry.tags,
        feed_published_at=entry.published,
        feed_updated_at=entry.updated,
        published_at=published_at,
        date_source=source,
        content_hash=content_hash(entry),
    )


def plan_entries(
    parsed: ParsedFeed, existing: Mapping[str, str], *, feed_language: str | None, now: datetime
) -> EntryPlan:
    """Split a parsed feed's entries into new, changed and unchanged.

    ``existing`` maps the feed's stored entry keys to their content hashes.
    """
    new: list[EntryRecord] = []
    changed: list[EntryRecord] = []
    unchanged: list[str] = []
    language = parsed.language or feed_language
    for entry in parsed.entries:
        key = stored_key(entry.key)
        old_hash = existing.get(key)
        if old_hash is not None and old_hash == content_hash(entry):
            unchanged.append(key)
            continue
        record = entry_record(entry, feed_language=language, now=now)
        (new if old_hash is None else changed).append(record)
    return EntryPlan(tuple(new), tuple(changed), tuple(unchanged))


def error_backoff(interval: timedelta, error_count: int, cap: timedelta, jitter: float) -> timedelta:
    """Exponential backoff with jitter after ``error_count`` consecutive errors (>= 1).

    The first retry comes after min(interval, 30 min); each further error
    doubles the wait, capped at ``cap``; the wait is then spread over its upper
    half ("equal jitter") so failing feeds do not retry in lockstep.
    """
    base = min(interval, ERROR_BACKOFF_BASE)
    exponent = min(max(error_count, 1) - 1, 30)
    delay = min(cap, base * (1 << exponent))
    return delay * (0.5 + 0.5 * _unit(jitter))


def next_poll_after_error(
    now: datetime,
    interval: timedelta,
    error_count: int,
    cap: timedelta,
    jitter: float,
    retry_after: datetime | None = None,
) -> datetime:
    """The next poll after a failure; a server's Retry-After is always honoured.

    ``interval`` is the one in effect (the last success's choice, else feeds.yaml's).
    """
    when = now + error_backoff(interval, error_count, cap, jitter)
    if retry_after is not None and retry_after > when:
        return retry_after
    return when


@dataclass(frozen=True, slots=True)
class RedirectDecision:
    url: str
    """The URL to poll from now on."""
    redirect_url: str | None
    redirect_count: int
    adopted: bool


def redirect_decision(
    url: str,
    seen_before: str | None,
    seen_count: int,
    permanent_redirect: str | None,
    adopt_after: int,
) -> RedirectDecision:
    """Adopt a permanent redirect only once it has been seen on consecutive polls.

    One 301 may be a publisher's mistake; the same 301 seen ``adopt_after``
    times in a row is a move. Any poll without it starts the count again.
    """
    if permanent_redirect is None or permanent_redirect == url:
        return RedirectDecision(url, None, 0, False)
    count = seen_count + 1 if permanent_redirect == seen_before else 1
    if count >= adopt_after:
        return RedirectDecision(permanent_redirect, None, 0, True)
    return RedirectDecision(url, permanent_redirect, count, False)


def _unit(value: float) -> float:
    return min(max(value, 0.0), 1.0)
