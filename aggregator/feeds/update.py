"""One feed's update, from its claim to the values the store writes.

    FeedState ──fetch_and_parse──> Polled ──settle(stored hashes, ──> FeedState', EntryPlan, result
                 conditional GET,                   entries of the last week)
                 body-hash skip,            pure: new/changed entries, next poll (``schedule``:
                 parse (maybe in a worker)  interval, hints, spread), backoff, redirect adoption, 410

Errors are values: a failed fetch or parse comes back inside ``Polled`` and
becomes the feed's recorded error, never an exception that stops the poll.
Anything else (a bug) propagates.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from aggregator.errors import AggregatorError, FetchError, HTTPStatusError, ParseError
from aggregator.feeds import decide, schedule
from aggregator.net import answers
from aggregator.net.fetch import Fetcher
from aggregator.poll_types import EntryPlan
from aggregator.types import FeedState, FeedUpdateResult, Fetched, Outcome, ParsedFeed

ParseFn = Callable[[bytes, str, Mapping[str, str]], Awaitable[ParsedFeed]]

#: The history of a feed with no stored entry: none in the last week, no oldest.
NO_HISTORY: tuple[int, datetime | None] = (0, None)


@dataclass(frozen=True, slots=True)
class Polled:
    """What fetching (and maybe parsing) one feed produced."""

    feed: FeedState
    fetched: Fetched | None = None
    parsed: ParsedFeed | None = None
    body_hash: str | None = None
    error: AggregatorError | None = None
    elapsed: float = 0.0


@dataclass(frozen=True, slots=True)
class Policy:
    """The knobs of ``settle``: feeds.yaml's fetch settings, as plain values."""

    adopt_redirect_after: int = 3
    backoff_cap: timedelta = timedelta(days=1)


async def fetch_and_parse(feed: FeedState, fetcher: Fetcher, parse: ParseFn, *, now: datetime) -> Polled:
    """Fetch ``feed`` conditionally and parse the body unless it is unchanged."""
    started = time.perf_counter()
    try:
        fetched = await fetcher.fetch_feed(feed.url, feed.validators, now=now)
    except FetchError as exc:
        return Polled(feed, error=exc, elapsed=time.perf_counter() - started)
    if fetched.not_modified or fetched.body is None:
        return Polled(feed, fetched, elapsed=time.perf_counter() - started)
    body_hash = hashlib.sha256(fetched.body).hexdigest()
    if body_hash == feed.body_hash and feed.error_count == 0:
        # About one feed in ten sends no validators and answers 200 with the
        # same bytes: the hash makes that as cheap as a 304.
        return Polled(feed, fetched, body_hash=body_hash, elapsed=time.perf_counter() - started)
    try:
        parsed = await parse(fetched.body, fetched.final_url, fetched.headers)
    except ParseError as exc:
        return Polled(feed, fetched, error=exc, elapsed=time.perf_counter() - started)
    return Polled(feed, fetched, parsed, body_hash, elapsed=time.perf_counter() - started)


def settle(
    polled: Polled,
    existing: Mapping[str, str],
    *,
    now: datetime,
    jitter: float,
    policy: Policy,
    history: tuple[int, datetime | None] = NO_HISTORY,
) -> tuple[FeedState, EntryPlan | None, FeedUpdateResult]:
    """Decide what a poll means for the feed: its next state and the entries to store.

    ``existing`` maps the feed's stored entry keys to content hashes; ``history`` is how
    many of its stored entries were published in the last
    :data:`~aggregator.feeds.schedule.WINDOW` and the publication date of its oldest
    (``store.polls.entry_history``; this poll's new entries are added here).
    """
    published_last_week, oldest = history
    feed = polled.feed
    if polled.error is not None:
        return _settle_error(polled, polled.error, now=now, jitter=jitter, policy=policy)
    fetched = polled.fetched
    assert fetched is not None
    parsed = polled.parsed
    plan = None
    if parsed is not None:
        plan = decide.plan_entries(parsed, existing, feed_language=feed.language, now=now)
        published_last_week += sum(1 for r in plan.new if r.published_at > now - schedule.WINDOW)
        dates = [r.published_at for r in plan.new] + ([oldest] if oldest is not None else [])
        oldest = min(dates, default=None)
    hint = _hint(feed, fetched, parsed, now)
    interval = schedule.poll_interval(
        feed.interval, auto=feed.interval_auto, published_last_week=published_last_week, hint=hint,
        covered=schedule.covered(now, oldest),
    )  # fmt: skip
    redirect = decide.redirect_decision(
        feed.url, feed.redirect_url, feed.redirect_count, fetched.permanent_redirect,
        policy.adopt_redirect_after,
    )  # fmt: skip
    state = replace(
        feed,
        url=redirect.url,
        redirect_url=redirect.redirect_url,
        redirect_count=redirect.redirect_count,
        validators=fetched.validators,
        last_polled_at=now,
        last_success_at=now,
        error_count=0,
        next_poll_at=schedule.next_poll(now, interval, key=feed.name, draw=jitter),
        hint=hint,
        poll_interval=interval,
    )
    if parsed is None or plan is None:
        outcome: Outcome = "not_modified" if fetched.not_modified else "unchanged"
        result = FeedUpdateResult(
            feed.name, feed.url, outcome, elapsed=polled.elapsed, next_poll_at=state.next_poll_at
        )
        return state, None, result
    state = replace(
        state,
        body_hash=polled.body_hash,
        title=parsed.title or feed.title,
        site_url=parsed.link or feed.site_url,
        last_warning=parsed.warning,
    )
    outcome = "new" if plan.new else "updated" if plan.changed else "unchanged"
    result = FeedUpdateResult(
        feed.name,
        feed.url,
        outcome,
        new=len(plan.new),
        updated=len(plan.changed),
        elapsed=polled.elapsed,
        error=parsed.warning,
        next_poll_at=state.next_poll_at,
    )
    return state, plan, result


def _hint(feed: FeedState, fetched: Fetched, parsed: ParsedFeed | None, now: datetime) -> timedelta | None:
    """The publisher's hint at this poll: the answer's freshness lifetime and the document's ttl.

    An answer without a document (304, or the same bytes) leaves the document's ttl as it
    was, so the hint kept from the last poll still stands beside the answer's own.
    """
    lifetime = answers.freshness_lifetime(fetched.headers, now)
    if parsed is not None:
        return schedule.combine_hints((lifetime, parsed.ttl))
    return schedule.combine_hints((lifetime, feed.hint))


def _settle_error(
    polled: Polled, error: AggregatorError, *, now: datetime, jitter: float, policy: Policy
) -> tuple[FeedState, None, FeedUpdateResult]:
    feed = polled.feed
    count = feed.error_count + 1
    message = str(error)
    if isinstance(error, HTTPStatusError) and error.status == 410:
        # The publisher says the feed is gone for good: stop, and say so in
        # `feeds status` until the operator re-enables or changes it.
        state = replace(
            feed, last_polled_at=now, last_error_at=now, last_error=message, error_count=count,
            gone_at=now, next_poll_at=None,
        )  # fmt: skip
        result = FeedUpdateResult(feed.name, feed.url, "gone", elapsed=polled.elapsed, error=message)
        return state, None, result
    retry_after = error.retry_after if isinstance(error, HTTPStatusError) else None
    next_poll = decide.next_poll_after_error(
        now, feed.interval_in_effect, count, policy.backoff_cap, jitter, retry_after
    )
    # A parse error keeps the old validators and body hash, so the next poll
    # fetches and parses the document again rather than trusting a 304.
    state = replace(
        feed, last_polled_at=now, last_error_at=now, last_error=message, error_count=count,
        next_poll_at=next_poll,
    )  # fmt: skip
    result = FeedUpdateResult(
        feed.name, feed.url, "error", elapsed=polled.elapsed, error=message, next_poll_at=next_poll
    )
    return state, None, result
