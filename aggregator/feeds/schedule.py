"""Pure policy: when a feed is polled next after a successful poll.

    interval = max(base, hint)
      base  = feeds.yaml's fixed interval, or with ``interval: auto``
              covered / 2 / entries published in the last 7 days, clamped to [15 min, 24 h]
              (none in the last week: 24 h); covered = how far back the feed's known
              entries reach, between 1 day and 7 (3.5 days / weekly count for most feeds)
      hint  = the longest wait the publisher asked for (RSS ttl, Cache-Control max-age,
              Expires - Date), capped at 24 h
    next poll = now + interval + spread × ((phase + draw) mod 1)
      spread = interval / 10, at least 2 min; phase from the feed's name, draw random

Why half the mean gap: polling once per expected entry (Miniflux's entry-frequency rule,
7 days / weekly count) leaves each entry waiting half a gap on average: 30 minutes for a
feed that posts hourly. Polling twice per expected entry (CommaFeed's mean gap / 2) halves
that, and still costs a weekly blog one request a day instead of fixed-hourly's 24. The
count comes from the store (every entry we hold with a publication date in the last week,
this poll's new ones included), so a new feed learns its rhythm from its own dates at its
first poll. A feed whose document reaches back less than a week (the last 20 entries of an
hourly feed span a day) has its count taken over the span it shows, at least a day, so it
is not polled every 4 hours for a week while its history fills in. Entries without dates
count as published when first seen: a new undated feed starts short and settles within days.

The spread keeps feeds apart: ``phase`` is the feed's own number in [0, 1) (from its name),
so feeds of one host polled in the same tick fall due at different times even when the
random ``draw`` is the same for all, and the draw keeps two feeds from staying in lockstep.
The spread only ever lengthens the interval, never shortens it below a hint.

Errors, Retry-After and 410 are :mod:`aggregator.feeds.decide`'s (backoff from the interval
in effect). Nothing here reads the clock: ``now`` and the counts are given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

__all__ = [
    "HINT_CAP",
    "MAX_AUTO",
    "MIN_AUTO",
    "MIN_SPREAD",
    "WINDOW",
    "auto_interval",
    "combine_hints",
    "covered",
    "next_poll",
    "phase",
    "poll_interval",
]

#: The shortest interval ``auto`` gives a feed, however often it publishes.
MIN_AUTO = timedelta(minutes=15)
#: The longest interval ``auto`` gives a feed: a quiet one, or one with a single post a week.
MAX_AUTO = timedelta(hours=24)
#: How far back the entries that set an ``auto`` interval are counted.
WINDOW = timedelta(days=7)
#: The shortest stretch they are counted over: one post an hour ago is not an hourly feed.
MIN_COVERED = timedelta(days=1)
#: Polls per expected entry: the ``auto`` interval is the mean gap between entries divided by this.
POLLS_PER_ENTRY = 2
#: The longest publisher hint honoured (a ttl of a year would stop a feed for good).
HINT_CAP = timedelta(hours=24)
#: The spread of next poll times is this share of the interval ...
SPREAD = 0.1
#: ... and at least this (four 30-second ticks), so short intervals spread too.
MIN_SPREAD = timedelta(minutes=2)


def auto_interval(published_last_week: int, covered: timedelta = WINDOW) -> timedelta:
    """``interval: auto``'s interval for a feed with this many entries published in the last week.

    ``covered`` is how much of the week the feed's known entries reach back over (see
    :func:`covered`): a document that lists only its last 20 entries, all from today, says
    nothing about the rest of the week, so they are counted over the day they span.
    """
    if published_last_week <= 0:
        return MAX_AUTO
    interval = min(max(covered, MIN_COVERED), WINDOW) / (published_last_week * POLLS_PER_ENTRY)
    return min(max(interval, MIN_AUTO), MAX_AUTO)


def covered(now: datetime, oldest: datetime | None) -> timedelta:
    """How much of the last week the feed's known entries cover: back to its oldest one, one day to a week."""
    if oldest is None:
        return WINDOW
    return min(max(now - oldest, MIN_COVERED), WINDOW)


def poll_interval(
    configured: timedelta,
    *,
    auto: bool,
    published_last_week: int,
    hint: timedelta | None,
    covered: timedelta = WINDOW,
) -> timedelta:
    """The interval in effect: the configured one or ``auto``'s, never shorter than the (capped) hint."""
    base = auto_interval(published_last_week, covered) if auto else configured
    if hint is None:
        return base
    return max(base, min(hint, HINT_CAP))


def combine_hints(hints: Iterable[timedelta | None]) -> timedelta | None:
    """The longest of the publisher's hints (each says "not before"), capped at :data:`HINT_CAP`."""
    given = [hint for hint in hints if hint is not None and hint > timedelta(0)]
    return min(max(given), HINT_CAP) if given else None


def next_poll(now: datetime, interval: timedelta, *, key: str, draw: float) -> datetime:
    """The next poll: one interval on, plus the feed's share of the spread (see the module docstring).

    ``key`` names the feed (its name); ``draw`` is a number in [0, 1) drawn by the caller.
    """
    spread = max(interval * SPREAD, MIN_SPREAD)
    return now + interval + spread * ((phase(key) + min(max(draw, 0.0), 1.0)) % 1.0)


def phase(key: str) -> float:
    """The feed's own number in [0, 1), the same at every poll and in every process."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
