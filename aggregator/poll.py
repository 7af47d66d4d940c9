"""One poll cycle over many feeds: claim, fetch and parse concurrently, store in batches.

    claim due feeds (lease) ─> fetch_and_parse per feed (asyncio; parse in worker
    processes) ─> queue ─> writer: one transaction per batch of feeds
    (entry hashes, settle, save_poll) ─> FeedUpdateResult per feed

Parsing is CPU-bound, so with enough feeds it runs in a pool of worker
processes while the event loop keeps fetching; writes happen in a thread, a
batch at a time, so a slow disk or a busy database never stalls the fetches.
A feed's candidates and its new state (validators included) are committed in
the same transaction: a poll killed at any point loses nothing and, run again,
stores nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from aggregator.app import App
from aggregator.parse import parse_feed
from aggregator.store import repo
from aggregator.types import FeedState, FeedUpdateResult, ParsedFeed
from aggregator.update import Policy, Polled, fetch_and_parse, settle

log = logging.getLogger(__name__)

#: Below this many feeds, starting worker processes costs more than it saves.
PROCESS_POOL_MIN_FEEDS = 40
#: Feeds per write transaction.
WRITE_BATCH = 100


@dataclass(frozen=True, slots=True)
class PollReport:
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


def run_poll(
    app: App,
    *,
    names: Sequence[str] | None = None,
    due_only: bool = True,
    on_result: Callable[[FeedUpdateResult], None] | None = None,
) -> PollReport:
    """Claim and poll feeds: the due ones, all of them (``due_only=False``), or ``names``."""
    return asyncio.run(poll(app, names=names, due_only=due_only, on_result=on_result))


async def poll(
    app: App,
    *,
    names: Sequence[str] | None = None,
    due_only: bool = True,
    on_result: Callable[[FeedUpdateResult], None] | None = None,
) -> PollReport:
    started = time.perf_counter()
    now = app.clock()
    with app.write() as s:
        claimed = repo.claim_feeds(
            s, now=now, lease=app.lease, owner=repo.lease_owner(), names=names, due_only=due_only
        )
    if not claimed:
        return PollReport((), time.perf_counter() - started)
    executor = _parse_executor(app, len(claimed))
    results: list[FeedUpdateResult] = []
    queue: asyncio.Queue[Polled | None] = asyncio.Queue()
    policy = Policy(
        adopt_redirect_after=app.config.fetch.adopt_redirect_after,
        backoff_cap=app.config.fetch.backoff_cap,
    )
    try:
        parse = _parser(executor)
        writer = asyncio.create_task(_write_loop(app, queue, now, policy, results, on_result))
        async with app.fetcher() as fetcher:

            async def one(feed: FeedState) -> None:
                await queue.put(await fetch_and_parse(feed, fetcher, parse, now=now))

            try:
                await asyncio.gather(*(one(feed) for feed in claimed))
            finally:
                await queue.put(None)
                await writer
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    return PollReport(tuple(results), time.perf_counter() - started)


def _parse_executor(app: App, n_feeds: int) -> Executor | None:
    if app.parse_workers <= 0 or n_feeds < PROCESS_POOL_MIN_FEEDS:
        return None
    # spawn: workers inherit neither the event loop, the threads nor the open
    # database connections of the polling process, and they are its own
    # children (their CPU time shows in the poller's resource usage).
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=app.parse_workers, mp_context=context)


def _parser(
    executor: Executor | None,
) -> Callable[[bytes, str, Mapping[str, str]], asyncio.Future[ParsedFeed]]:
    loop = asyncio.get_running_loop()

    def parse(body: bytes, url: str, headers: Mapping[str, str]) -> asyncio.Future[ParsedFeed]:
        if executor is None:
            future: asyncio.Future[ParsedFeed] = loop.create_future()
            try:
                future.set_result(_parse(body, url, dict(headers)))
            except Exception as exc:
                future.set_exception(exc)
            return future
        return loop.run_in_executor(executor, _parse, body, url, dict(headers))

    return parse


def _parse(body: bytes, url: str, headers: dict[str, str]) -> ParsedFeed:
    return parse_feed(body, url=url, content_type=headers.get("content-type"), headers=headers)


async def _write_loop(
    app: App,
    queue: asyncio.Queue[Polled | None],
    now: datetime,
    policy: Policy,
    results: list[FeedUpdateResult],
    on_result: Callable[[FeedUpdateResult], None] | None,
) -> None:
    done = False
    while not done:
        batch: list[Polled] = []
        item = await queue.get()
        while item is not None:
            batch.append(item)
            if len(batch) >= WRITE_BATCH or queue.empty():
                break
            item = queue.get_nowait()
        done = item is None
        if not batch:
            continue
        batch_results = await asyncio.to_thread(_write_batch, app, batch, now, policy)
        results.extend(batch_results)
        for result in batch_results:
            log.info(
                "stored %s: %s (%d new, %d updated)%s", result.feed_name, result.outcome, result.new,
                result.updated, f": {result.error}" if result.error else "",
            )  # fmt: skip
            if on_result is not None:
                on_result(result)


def _write_batch(app: App, batch: list[Polled], now: datetime, policy: Policy) -> list[FeedUpdateResult]:
    """Store one batch in one transaction; a database failure becomes each feed's error."""
    try:
        with app.write() as s:
            parsed_ids = [p.feed.id for p in batch if p.parsed is not None]
            existing = repo.entry_hashes(s, parsed_ids) if parsed_ids else {}
            settled = [
                settle(p, existing.get(p.feed.id, {}), now=now, jitter=app.rng.random(), policy=policy)
                for p in batch
            ]
            repo.save_poll(s, [(state, plan) for state, plan, _ in settled], now)
        return [result for _, _, result in settled]
    except sa.exc.OperationalError as exc:
        # Busy or unreachable database: nothing of this batch was written, the
        # feeds keep their old state and are polled again once their claims
        # expire. Say so per feed; the rest of the poll goes on.
        log.error("storing %d feeds failed: %s", len(batch), exc.orig)
        reason = f"database: {exc.orig}; nothing stored, will retry on the next poll"
        return [
            FeedUpdateResult(p.feed.name, p.feed.url, "error", elapsed=p.elapsed, error=reason) for p in batch
        ]
