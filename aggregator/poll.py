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
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from aggregator.app import App
from aggregator.errors import ParseError, StorageError
from aggregator.fetch import Fetcher
from aggregator.parse import parse_feed
from aggregator.store import repo
from aggregator.types import FeedState, FeedUpdateResult, ParsedFeed
from aggregator.update import Policy, Polled, fetch_and_parse, settle

log = logging.getLogger(__name__)

T = TypeVar("T")

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
    return run_async(poll(app, names=names, due_only=due_only, on_result=on_result))


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh event loop (uvloop where installed), as every command does.

    The result comes back in a box, not as the main task's result: when the Runner
    puts the SIGINT handler back, the signal module formats an error message that
    holds ``repr()`` of that task, result included, twice. For an extraction report
    that is every article's text (about 0.05 s of CPU for the 231 corpus articles).
    """
    box: list[T] = []

    async def main() -> None:
        box.append(await coro)

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(main())
    return box[0]


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (not on Windows): a third less CPU for a warm poll."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def poll(
    app: App,
    *,
    names: Sequence[str] | None = None,
    due_only: bool = True,
    on_result: Callable[[FeedUpdateResult], None] | None = None,
    fetcher: Fetcher | None = None,
) -> PollReport:
    """The poll cycle; ``fetcher`` shares one set of per-host limits with other work (extraction)."""
    started = time.perf_counter()
    now = app.clock()
    with app.write() as s:
        claimed = repo.claim_feeds(
            s, now=now, lease=app.lease, owner=repo.lease_owner(), names=names, due_only=due_only
        )
    if not claimed:
        return PollReport((), time.perf_counter() - started)
    workers = app.parse_workers if len(claimed) >= PROCESS_POOL_MIN_FEEDS else 0
    pool = ParsePool(workers)
    results: list[FeedUpdateResult] = []
    queue: asyncio.Queue[Polled | None] = asyncio.Queue()
    policy = Policy(
        adopt_redirect_after=app.config.fetch.adopt_redirect_after,
        backoff_cap=app.config.fetch.backoff_cap,
    )
    try:
        writer = asyncio.create_task(_write_loop(app, queue, now, policy, results, on_result))
        async with app.fetching(fetcher) as fetcher:

            async def one(feed: FeedState) -> None:
                await queue.put(await fetch_and_parse(feed, fetcher, pool.parse, now=now))

            fetches: asyncio.Future[Any] = asyncio.gather(*(one(feed) for feed in claimed))
            try:
                # The writer ends before the fetches only when the database
                # failed: then the rest would be fetched for nothing.
                await asyncio.wait([fetches, writer], return_when=asyncio.FIRST_COMPLETED)
                if writer.done():
                    fetches.cancel()
                await asyncio.wait({fetches})
                if not fetches.cancelled():
                    fetches.result()  # a bug in a fetch is raised, as ever
            finally:
                fetches.cancel()
                await queue.put(None)
                try:
                    await writer
                except StorageError as exc:
                    raise StorageError(
                        f"polling stopped after storing {len(results)} of {len(claimed)} feeds (the rest "
                        f"are polled again on the next run): {exc}"
                    ) from exc
    finally:
        pool.close()
    return PollReport(tuple(results), time.perf_counter() - started)


class ParsePool:
    """Parses feeds in worker processes, or inline for small polls.

    A worker that dies (a pathological document exhausting memory, a crash in
    a C extension) breaks the whole process pool and every parse in flight
    with it. The pool is replaced and those feeds are tried again; a feed
    caught in two breakages is tried alone in a worker of its own, one such
    feed at a time, and only a document that kills that worker too gets a
    ParseError. Innocent feeds are never blamed, and the poll goes on.
    """

    def __init__(
        self, workers: int, fn: Callable[[bytes, str, dict[str, str]], ParsedFeed] | None = None
    ) -> None:
        self._workers = workers
        self._fn = fn or _parse
        self._executor: ProcessPoolExecutor | None = None
        self._generation = 0
        self._isolated = asyncio.Semaphore(1)

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = _process_pool(self._workers)
        return self._executor

    async def parse(self, body: bytes, url: str, headers: Mapping[str, str]) -> ParsedFeed:
        if self._workers <= 0:
            return self._fn(body, url, dict(headers))
        loop = asyncio.get_running_loop()
        for _attempt in (1, 2):
            generation = self._generation
            try:
                return await loop.run_in_executor(self._pool(), self._fn, body, url, dict(headers))
            except BrokenProcessPool:
                if generation == self._generation:  # the first to notice replaces the pool
                    self._generation += 1
                    broken, self._executor = self._executor, None
                    if broken is not None:
                        broken.shutdown(wait=False, cancel_futures=True)
        async with self._isolated:
            alone = _process_pool(1)
            try:
                return await loop.run_in_executor(alone, self._fn, body, url, dict(headers))
            except BrokenProcessPool:
                log.error("the parser process died on %s", url)
                raise ParseError(
                    url, "the parser process died on this document; it is skipped until the feed changes"
                ) from None
            finally:
                alone.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _process_pool(workers: int) -> ProcessPoolExecutor:
    # spawn: workers inherit neither the event loop, the threads nor the open
    # database connections of the polling process, and they are its own
    # children (their CPU time shows in the poller's resource usage).
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


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
    """Store one batch in one transaction: all of it, or (StorageError) none of it.

    A database that fails (busy past its timeout, unreachable, read-only)
    stops the poll: the feeds of this batch and of those not fetched yet keep
    their old state and are polled again on the next run.
    """
    with app.write() as s:
        parsed_ids = [p.feed.id for p in batch if p.parsed is not None]
        existing = repo.entry_hashes(s, parsed_ids) if parsed_ids else {}
        settled = [
            settle(p, existing.get(p.feed.id, {}), now=now, jitter=app.rng.random(), policy=policy)
            for p in batch
        ]
        repo.save_poll(s, [(state, plan) for state, plan, _ in settled], now)
    return [result for _, _, result in settled]
