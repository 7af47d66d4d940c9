"""One poll cycle over many feeds: claim, fetch and parse concurrently, store in batches.

    claim due feeds (lease) ─> fetch_and_parse per feed (asyncio; parse in worker
    processes) ─> queue ─> writer: one transaction per batch of feeds
    (entry hashes, settle, save_poll) ─> FeedUpdateResult per feed

Parsing is CPU-bound and its input hostile, so it always runs in worker
processes, each document within a time and a memory limit, while the event loop
keeps fetching; writes happen in a thread, a batch at a time, so a slow disk or
a busy database never stalls the fetches.
A feed's candidates and its new state (validators included) are committed in
the same transaction: a poll killed at any point loses nothing and, run again,
stores nothing twice.

The cycle is given what it works with (:class:`PollTools`: the unit of work,
the fetcher, a long-lived parse pool, the jitter) and what it does
(:class:`PollJob`: plain values, feeds.yaml's included); it knows nothing of
the application that wires them (``aggregator.service.polling``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection

from aggregator.errors import ParseError, StorageError
from aggregator.feeds.parse import parse_feed
from aggregator.feeds.schedule import WINDOW
from aggregator.feeds.update import NO_HISTORY, Policy, Polled, fetch_and_parse, settle
from aggregator.net.fetch import Fetcher
from aggregator.ops_types import Instance
from aggregator.poll_types import PollReport
from aggregator.stopping import Stopping
from aggregator.store import claims, polls
from aggregator.types import FeedState, FeedUpdateResult, ParsedFeed
from aggregator.workers import JobCrashed, JobTimeout, WorkerPool

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Feeds per write transaction.
WRITE_BATCH = 100

#: A unit of work that writes (``App.write``): committed when its block ends without error.
WriteUnit = Callable[[], AbstractContextManager[Connection]]


@dataclass(frozen=True, slots=True)
class PollJob:
    """What one poll cycle does, as plain values: when, who claims and for how long, which feeds."""

    now: datetime
    instance: Instance
    """The claiming process: its id owns the claims, its heartbeat is written with them."""
    lease: timedelta
    policy: Policy
    names: Sequence[str] | None = None
    """Exactly these feeds, whatever their schedule; None: the due ones (or all, without ``due_only``)."""
    due_only: bool = True


@dataclass(frozen=True, slots=True)
class PollTools:
    """What a poll cycle works with; their owner made them and closes them."""

    write: WriteUnit
    fetching: Callable[[], AbstractAsyncContextManager[Fetcher]]
    """The fetcher for this poll, opened once a feed is claimed (``App.fetching``)."""
    parse_pool: Callable[[int], ParsePool]
    """A parse pool fit for this many feeds (long-lived: the poll never closes it)."""
    jitter: Callable[[], float]
    """A number in [0, 1) per feed, to spread next poll times."""
    stop: Stopping | None = None
    """The daemon's request to stop: once made, nothing is claimed; once cancelled, fetches in
    flight are abandoned (their feeds keep their claims until the daemon releases them)."""


@contextmanager
def stop_events(stop: Stopping | None) -> Iterator[tuple[asyncio.Event, asyncio.Event]]:
    """``stop``'s two steps as events of the running loop: (stopping, cancelled)."""
    stopping, cancelled = asyncio.Event(), asyncio.Event()
    if stop is None:
        yield stopping, cancelled
        return
    loop = asyncio.get_running_loop()

    def setter(event: asyncio.Event) -> Callable[[], None]:
        def set_soon() -> None:
            with suppress(RuntimeError):  # the loop has closed: its work is over anyway
                loop.call_soon_threadsafe(event.set)

        return set_soon

    forget = [stop.when("stop", setter(stopping)), stop.when("cancel", setter(cancelled))]
    try:
        yield stopping, cancelled
    finally:
        for undo in forget:
            undo()


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
    job: PollJob, tools: PollTools, *, on_result: Callable[[FeedUpdateResult], None] | None = None
) -> PollReport:
    """The poll cycle: claim, fetch and parse concurrently, store in batches; a result per feed claimed."""
    started = time.perf_counter()
    now = job.now
    if tools.stop is not None and tools.stop.stopping:
        return PollReport((), 0.0)  # the daemon is stopping: claim nothing
    with tools.write() as s:
        claims.heartbeat(s, job.instance, now)
        claimed = claims.claim_feeds(
            s, now=now, lease=job.lease, owner=job.instance.id, names=job.names, due_only=job.due_only
        )
    if not claimed:
        return PollReport((), time.perf_counter() - started)
    pool = tools.parse_pool(len(claimed))
    results: list[FeedUpdateResult] = []
    queue: asyncio.Queue[Polled | None] = asyncio.Queue()
    writer = asyncio.create_task(_write_loop(job, tools, queue, results, on_result))
    with stop_events(tools.stop) as (_, cancelled):
        await _fetch_all(job, tools, claimed, pool, queue, writer, cancelled, results)
    return PollReport(tuple(results), time.perf_counter() - started)


async def _fetch_all(
    job: PollJob,
    tools: PollTools,
    claimed: list[FeedState],
    pool: ParsePool,
    queue: asyncio.Queue[Polled | None],
    writer: asyncio.Task[None],
    cancelled: asyncio.Event,
    results: list[FeedUpdateResult],
) -> None:
    """Fetch and parse every claimed feed into ``queue``; stop early when the writer failed or the
    daemon's deadline passed (``cancelled``), storing what was fetched either way."""
    now = job.now
    cancel = asyncio.ensure_future(cancelled.wait())
    async with tools.fetching() as fetcher:

        async def one(feed: FeedState) -> None:
            await queue.put(await fetch_and_parse(feed, fetcher, pool.parse, now=now))

        fetches: asyncio.Future[Any] = asyncio.gather(*(one(feed) for feed in claimed))
        try:
            # The writer ends before the fetches only when the database
            # failed: then the rest would be fetched for nothing.
            await asyncio.wait([fetches, writer, cancel], return_when=asyncio.FIRST_COMPLETED)
            abandoned = writer.done() or cancel.done()
            if abandoned:
                fetches.cancel()
            await asyncio.wait({fetches})
            if not abandoned:  # (a cancelled gather ends with CancelledError as its exception)
                fetches.result()  # a bug in a fetch is raised, as ever
        finally:
            fetches.cancel()
            cancel.cancel()
            await queue.put(None)
            try:
                await writer
            except StorageError as exc:
                raise StorageError(
                    f"polling stopped after storing {len(results)} of {len(claimed)} feeds (the rest "
                    f"are polled again on the next run): {exc}"
                ) from exc
    if cancelled.is_set() and len(results) < len(claimed):
        log.warning(
            "stopped polling at the deadline: %d of %d feeds not polled (polled again on the next run)",
            len(claimed) - len(results), len(claimed),
        )  # fmt: skip


def parse_workers_for(feeds: int, most: int) -> int:
    """Parse workers for a poll of ``feeds`` feeds: one per :data:`FEEDS_PER_PARSE_WORKER`, up to ``most``."""
    return min(most, -(-feeds // FEEDS_PER_PARSE_WORKER))


#: Seconds one feed document may take to parse before its worker is stopped. The
#: largest real feeds (1-2 MB) parse in well under a second, a malformed 10 MB one
#: in a few; a document that needs longer is hostile or broken.
PARSE_TIME_LIMIT = 30.0
#: Address space a parse worker may use: a document that needs more fails alone.
PARSE_MEMORY = 1024 * 1024 * 1024
#: Documents a parse worker reads before a fresh process replaces it (a daemon's workers live for
#: weeks; see ``PAGES_PER_WORKER`` in ``articles.pages``).
DOCUMENTS_PER_WORKER = 2000
#: Feeds a poll has per parse worker it starts (up to ``App.parse_workers``): a worker
#: costs a quarter of a second of CPU to start, and a small poll's documents keep
#: one busy for far less than that.
FEEDS_PER_PARSE_WORKER = 20


class ParsePool:
    """Parses feed documents in worker processes, each within a time and a memory limit.

    Parsing never runs on the event loop: a slow document would stall every fetch
    in flight. A document that runs past :data:`PARSE_TIME_LIMIT` has its worker
    killed and replaced, one that needs more than :data:`PARSE_MEMORY` fails with
    MemoryError, and one that crashes its worker costs only its own job
    (:class:`~aggregator.workers.WorkerPool`); each is a :class:`ParseError` for
    that feed alone, and the poll goes on. Workers start with the first document.

    ``workers=0`` parses in a thread of this process instead, without the limits:
    for tests and benchmarks that measure something else; the commands never do.
    """

    def __init__(
        self,
        workers: int,
        fn: Callable[[bytes, str, dict[str, str], int | None], ParsedFeed] | None = None,
        *,
        max_bytes: int | None = None,
        timeout: float = PARSE_TIME_LIMIT,
        memory_limit: int | None = PARSE_MEMORY,
    ) -> None:
        self.workers = workers
        self._fn = fn or _parse
        self._max_bytes = max_bytes
        self._pool: WorkerPool | None = None
        if workers > 0:
            self._pool = WorkerPool(
                workers, timeout=timeout, memory_limit=memory_limit, preload=("aggregator.feeds.parse",),
                jobs_per_worker=DOCUMENTS_PER_WORKER,
            )  # fmt: skip

    async def parse(self, body: bytes, url: str, headers: Mapping[str, str]) -> ParsedFeed:
        if self._pool is None:
            return await asyncio.to_thread(self._fn, body, url, dict(headers), self._max_bytes)
        try:
            return await self._pool.run(self._fn, body, url, dict(headers), self._max_bytes)
        except JobTimeout:
            reason = f"parsing took longer than {self._pool.timeout:g} s"
        except MemoryError as exc:  # JobOutOfMemory: it says the limit
            reason = f"parsing {exc}"
        except JobCrashed as exc:
            log.error("the parser process died on %s: %s", url, exc)
            raise ParseError(url, "the parser process died on this document") from None
        log.warning("%s: %s; its worker was stopped", url, reason)  # one line, whatever the worker printed
        raise ParseError(
            url, f"{reason} and was stopped (a markup bomb, or a document far larger than a feed)"
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


def _parse(body: bytes, url: str, headers: dict[str, str], max_bytes: int | None) -> ParsedFeed:
    return parse_feed(
        body, url=url, content_type=headers.get("content-type"), headers=headers, max_bytes=max_bytes
    )


async def _write_loop(
    job: PollJob,
    tools: PollTools,
    queue: asyncio.Queue[Polled | None],
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
        batch_results = await asyncio.to_thread(_write_batch, job, tools, batch)
        results.extend(batch_results)
        for result in batch_results:
            log.info(
                "stored %s: %s (%d new, %d updated)%s", result.feed_name, result.outcome, result.new,
                result.updated, f": {result.error}" if result.error else "",
            )  # fmt: skip
            if on_result is not None:
                on_result(result)


def _write_batch(job: PollJob, tools: PollTools, batch: list[Polled]) -> list[FeedUpdateResult]:
    """Store one batch in one transaction: all of it, or (StorageError) none of it.

    A database that fails (busy past its timeout, unreachable, read-only)
    stops the poll: the feeds of this batch and of those not fetched yet keep
    their old state and are polled again on the next run.
    """
    now = job.now
    with tools.write() as s:
        parsed_ids = [p.feed.id for p in batch if p.parsed is not None]
        existing = polls.entry_hashes(s, parsed_ids) if parsed_ids else {}
        history = polls.entry_history(s, [p.feed.id for p in batch if p.feed.interval_auto], now - WINDOW)
        settled = [
            settle(p, existing.get(p.feed.id, {}), now=now, jitter=tools.jitter(), policy=job.policy,
                   history=history.get(p.feed.id, NO_HISTORY))
            for p in batch
        ]  # fmt: skip
        polls.save_poll(s, [(state, plan) for state, plan, _ in settled], now)
    return [result for _, _, result in settled]
