"""Each new candidate's article: its page fetched once, its text extracted, else the feed's own.

    pending candidates ─> fetch_page (guard, cap, timeouts, per-host limits)
        ─> extract_page in a worker process (time and memory limits)
        ─> ok: the page's text │ flagged or failed: the feed's content, else its summary
        ─> Article (status, reason, text source, metadata) ─> saved in batches

Transient failures (timeouts, 429, 5xx, connection errors) are tried again
later with backoff; everything else is final until ``extract --retry-failed``.
A page flagged as a challenge, a paywall or not HTML is recorded as such and
never stored as the article. A bot wall served with an error status (Cloudflare
answers 403 or 503) is a challenge too, not an http_error, and is not retried:
the start of the error body is checked for the challenge markers.

A run is given what it works with (:class:`ExtractTools`: units of work, the
clock, a long-lived worker pool) and the fetcher to use; it knows nothing of
the application that wires them (``aggregator.service.polling``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from aggregator.article_types import Article, ExtractJob, ExtractStatus, TextSource
from aggregator.articles.extract import (
    PageText,
    challenge_reason,
    detect_language,
    extract_page,
    text_from_feed,
)
from aggregator.errors import (
    BlockedURLError,
    BodyTooLargeError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    StorageError,
)
from aggregator.feeds.poll import PollJob, PollTools, poll, stop_events
from aggregator.net.fetch import Fetcher
from aggregator.poll_types import ExtractReport, PollReport
from aggregator.stopping import Stopping
from aggregator.store import articles as store
from aggregator.store import repo
from aggregator.types import FeedUpdateResult
from aggregator.urls import is_http_url
from aggregator.workers import JobCrashed, JobTimeout, WorkerPool

log = logging.getLogger(__name__)

#: Transient failures are tried this many times in all.
MAX_ATTEMPTS = 4
RETRY_BASE = timedelta(minutes=15)
#: Jobs taken from the database at a time (and written back per transaction).
BATCH = 50
#: Seconds a finished article may wait for others to share its transaction: a
#: transaction per article costs the writer more CPU than the fetching does.
WRITE_LINGER = 1.0
#: Seconds one page may take in a worker before the worker is stopped.
EXTRACT_TIME_LIMIT = 30.0
#: Address space a worker may use (a pathological page fails instead of swapping).
WORKER_MEMORY = 1024 * 1024 * 1024
#: Pages a worker extracts before a fresh process replaces it: a daemon's workers live for weeks,
#: and what their libraries keep grows by a few KB a page (benchmarks/soak.py); a boot costs ~0.5 s.
PAGES_PER_WORKER = 500


#: Which candidates an extraction run works on, best first (a poll's own, newest first).
Pick = Callable[[Connection], Sequence[int]]

#: A unit of work (``App.read`` / ``App.write``).
Unit = Callable[[], AbstractContextManager[Connection]]


@dataclass(frozen=True, slots=True)
class ExtractTools:
    """What an extraction run works with; their owner made them and closes them."""

    read: Unit
    write: Unit
    clock: Callable[[], datetime]
    """Read once per batch of jobs taken: a run beside a poll may wait for new candidates."""
    pool: WorkerPool
    """Long-lived: the run starts its workers when there is work, and never closes it."""
    in_flight: int
    """Pages fetched or extracted at once."""
    stop: Stopping | None = None
    """The daemon's request to stop: once made, no page is started; once cancelled, pages in
    flight are abandoned (their candidates stay pending for the next run)."""


class Extractor:
    """Runs extraction jobs: one fetcher, one worker pool, for as long as a command or daemon lives."""

    def __init__(self, fetcher: Fetcher, pool: WorkerPool) -> None:
        self._fetcher = fetcher
        self._pool = pool

    async def run(self, job: ExtractJob, now: datetime) -> Article:
        page: PageText | None = None
        page_url: str | None = None
        status: ExtractStatus
        reason: str | None
        transient = False
        if not job.url or not is_http_url(job.url):
            status, reason = "error", f"no http(s) link to fetch ({job.url or 'none'})"
        else:
            try:
                fetched = await self._fetcher.fetch_page(job.url, now=now)
                page_url = fetched.final_url
                page = await self._extract(job, fetched.body or b"", fetched.final_url, fetched.headers, now)
                status, reason = page.status, page.reason
            except HTTPStatusError as exc:
                status, reason, transient = _fetch_failure(exc)
                if exc.body and (wall := await self._challenge(exc, exc.body)):
                    page_url = exc.url
                    status, reason, transient = "challenge", wall, False
            except FetchError as exc:
                status, reason, transient = _fetch_failure(exc)
        if page is not None and page.status == "ok":
            return self._article(job, now, page, "page", page_url, status, reason, transient=False)
        fallback = await self._fallback(job)
        if fallback is not None:
            source, text = fallback
            return self._article(job, now, text, source, page_url, status, reason, transient, page=page)
        return self._article(job, now, None, None, page_url, status, reason, transient, page=page)

    async def _extract(
        self, job: ExtractJob, body: bytes, url: str, headers: Mapping[str, str], now: datetime
    ) -> PageText:
        status: ExtractStatus
        try:
            return await self._pool.run(
                extract_page, body, url=url, content_type=headers.get("content-type"), now=now,
                language=job.language,
            )  # fmt: skip
        except JobTimeout:
            status, reason = "timeout", f"extraction took longer than {self._pool.timeout:g} s; page skipped"
        except MemoryError as exc:  # JobOutOfMemory: it says the limit
            status, reason = "error", f"extraction {exc}; page skipped"
        except JobCrashed as exc:
            status, reason = "error", f"extraction crashed: {exc}"
        except Exception as exc:  # a bug this page found in the extractor: its error, not the run's end
            if self._pool.closed:
                raise  # shutting down: the page stays pending for the next run
            status, reason = "error", f"extraction failed: {type(exc).__name__}: {exc}"
        # One line per page, whatever the worker itself printed (that goes to the debug log).
        log.warning("extracting candidate %d (%s): %s", job.candidate_id, url, reason)
        return PageText.flagged(status, reason)

    async def _challenge(self, exc: HTTPStatusError, body: bytes) -> str | None:
        """Why an error answer's page is a bot wall, or None for a plain error."""
        try:
            wall = await self._pool.run(challenge_reason, body, content_type=exc.content_type)
        except Exception as failure:  # a timeout, a crash, or a bug the page found: a plain error then
            if self._pool.closed:
                raise
            log.warning("checking the error page of %s failed: %s", exc.url, failure)
            return None
        return f"{wall} (HTTP {exc.status})" if wall else None

    async def _fallback(self, job: ExtractJob) -> tuple[TextSource, PageText] | None:
        if not job.content and not job.summary:
            return None
        try:
            return await self._pool.run(
                text_from_feed, job.content, job.content_type, job.summary, url=job.url or "",
                language=job.language,
            )  # fmt: skip
        except Exception as exc:  # a timeout, a crash, or a bug the content found: no fallback then
            if self._pool.closed:
                raise
            log.warning("extracting the feed content of candidate %d failed: %s", job.candidate_id, exc)
            return None

    def _article(
        self,
        job: ExtractJob,
        now: datetime,
        text: PageText | None,
        source: TextSource | None,
        page_url: str | None,
        status: ExtractStatus,
        reason: str | None,
        transient: bool,
        *,
        page: PageText | None = None,
    ) -> Article:
        attempts = job.attempts + 1
        retry = None
        if transient and attempts < MAX_ATTEMPTS:
            retry = now + RETRY_BASE * (1 << (attempts - 1))
        meta = page if page is not None and page.status == "ok" else (page or text)
        body = text.text if text is not None else None
        language = (meta.language if meta else None) or (
            detect_language(body, declared=job.language) if body else job.language
        )
        return Article(
            candidate_id=job.candidate_id,
            status=status,
            reason=reason,
            text_source=source if body else None,
            text=body,
            word_count=text.word_count if text is not None and body else 0,
            page_url=page_url,
            title=meta.title if meta else None,
            author=meta.author if meta else None,
            published_at=meta.published if meta else None,
            site_name=meta.site_name if meta else None,
            language=language,
            lead_image=meta.lead_image if meta else None,
            links=(meta.links if meta else ()) or (text.links if text else ()),
            attempts=attempts,
            next_attempt_at=retry,
            extracted_at=now,
        )


def _fetch_failure(exc: FetchError) -> tuple[ExtractStatus, str, bool]:
    """(status, reason, transient) for a failed page fetch."""
    if isinstance(exc, BlockedURLError):
        return "error", f"not fetched: {exc.reason}", False
    if isinstance(exc, FetchTimeoutError):
        return "timeout", exc.reason, True
    if isinstance(exc, BodyTooLargeError):
        return "error", exc.reason, False
    if isinstance(exc, HTTPStatusError):
        return "http_error", exc.reason, exc.status == 429 or exc.status >= 500
    return "http_error", exc.reason, True


def make_pool(workers: int) -> WorkerPool:
    """The extraction workers: ``workers`` processes, each page within its time and memory limits."""
    return WorkerPool(
        max(1, workers), timeout=EXTRACT_TIME_LIMIT, memory_limit=WORKER_MEMORY,
        preload=("aggregator.articles.extract",), jobs_per_worker=PAGES_PER_WORKER,
    )  # fmt: skip


async def extract_pending(
    tools: ExtractTools,
    fetching: AbstractAsyncContextManager[Fetcher],
    *,
    ids: Sequence[int] | None = None,
    retry_failed: bool = False,
    more: asyncio.Event | None = None,
    done: asyncio.Event | None = None,
    pick: Pick | None = None,
    on_article: Callable[[Article], None] | None = None,
) -> ExtractReport:
    """Extract every due candidate's page; with ``more``/``done``, keep going while a poll adds candidates.

    With ``pick``, only the candidates it names (best first; each taken once);
    ``on_article`` hears of each article as it is stored (a progress display).

    A continuous pipeline: a bounded number of pages are in flight at once (a
    new one starts as soon as one ends, so the workers never wait for the
    slowest page of a batch) and a writer stores finished articles in batches
    beside it. ``more`` is set whenever new candidates were stored; the run
    ends once ``done`` is set and nothing is pending. When the daemon stops
    (``tools.stop``), no page is started; when it cancels, pages in flight are
    abandoned; what finished is stored either way.
    """
    started = time.perf_counter()
    results: list[Article] = []
    finished: asyncio.Queue[Article | None] = asyncio.Queue()
    failed = asyncio.Event()  # set by the writer when the database failed: no more pages are taken
    writer = asyncio.create_task(_write_loop(tools, finished, results, failed, on_article))
    running: set[asyncio.Task[None]] = set()
    with stop_events(tools.stop) as (stopping, cancelled):
        flow = _Flow(finished, failed, stopping, cancelled, asyncio.Semaphore(tools.in_flight), running)
        try:
            async with fetching as shared:
                extractor = Extractor(shared, tools.pool)
                await _take_pages(tools, extractor, flow, ids, retry_failed, more, done, pick)
        finally:
            for task in running:
                task.cancel()
            await finished.put(None)
            await writer
    return ExtractReport(tuple(results), time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class _Flow:
    """What an extraction run's parts share: finished articles, the reasons to stop, the pages in flight."""

    finished: asyncio.Queue[Article | None]
    failed: asyncio.Event
    """Set by the writer when the database failed."""
    stopping: asyncio.Event
    cancelled: asyncio.Event
    slots: asyncio.Semaphore
    running: set[asyncio.Task[None]]

    def halted(self) -> bool:
        """No page is to be started: the database failed, or the daemon is stopping."""
        return self.failed.is_set() or self.stopping.is_set()


async def _take_pages(
    tools: ExtractTools,
    extractor: Extractor,
    flow: _Flow,
    ids: Sequence[int] | None,
    retry_failed: bool,
    more: asyncio.Event | None,
    done: asyncio.Event | None,
    pick: Pick | None = None,
) -> None:
    """Start the pending pages, a bounded number at once, until none is left (or the run halts),
    then wait for those in flight (unless the database failed or the daemon cancelled them)."""

    async def one(job: ExtractJob, now: datetime) -> None:
        try:
            await flow.finished.put(await extractor.run(job, now))
        finally:
            flow.slots.release()

    last_id = 0
    taken: set[int] = set()
    while not flow.halted():
        now = tools.clock()
        if more is not None:
            more.clear()
        with tools.read() as s:
            if pick is not None:
                jobs = _picked(s, pick, taken, now)
            else:
                jobs = store.pending_jobs(
                    s, now=now, limit=BATCH, ids=ids, retry_failed=retry_failed, after_id=last_id
                )
        if not jobs:
            if more is None or done is None or (done.is_set() and not more.is_set()):
                break
            await _wait_any(more, done, flow.failed, flow.stopping)
            continue
        last_id = jobs[-1].candidate_id
        tools.pool.start()  # the workers boot while the first pages are fetched
        for job in jobs:
            await flow.slots.acquire()
            if flow.halted():
                flow.slots.release()
                break
            task = asyncio.create_task(one(job, now))
            flow.running.add(task)
            task.add_done_callback(flow.running.discard)
    await _all_unless(flow.running, flow.failed, flow.cancelled)


def _picked(s: Connection, pick: Pick, taken: set[int], now: datetime) -> list[ExtractJob]:
    """The next batch of what ``pick`` names, in its order, each candidate once."""
    chosen = [i for i in pick(s) if i not in taken][:BATCH]
    taken.update(chosen)
    jobs = {j.candidate_id: j for j in store.pending_jobs(s, now=now, limit=BATCH, ids=chosen)}
    return [jobs[i] for i in chosen if i in jobs]


async def _write_loop(
    tools: ExtractTools,
    finished: asyncio.Queue[Article | None],
    results: list[Article],
    failed: asyncio.Event,
    on_article: Callable[[Article], None] | None = None,
) -> None:
    """Save finished articles: up to BATCH a transaction, none waiting longer than WRITE_LINGER.

    When the database fails (StorageError: busy past its timeout, unreachable,
    read-only), ``failed`` is set so no more pages are taken, the articles
    still arriving are dropped (their candidates stay pending, for the next
    run), and the error is raised once the queue is closed.
    """
    loop = asyncio.get_running_loop()
    error: StorageError | None = None
    done = False
    while not done:
        batch: list[Article] = []
        item = await finished.get()
        deadline = loop.time() + WRITE_LINGER
        while item is not None:
            batch.append(item)
            if len(batch) >= BATCH:
                break
            if finished.empty():
                try:
                    item = await asyncio.wait_for(finished.get(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    break
            else:
                item = finished.get_nowait()
        done = item is None
        if batch and error is None:
            try:
                await asyncio.to_thread(_save, tools, batch)
            except StorageError as exc:
                error = exc
                failed.set()
                continue
            results.extend(batch)
            for article in batch:
                log.info(
                    "extracted %d: %s (%s)%s", article.candidate_id, article.status,
                    article.text_source or "no text", f": {article.reason}" if article.reason else "",
                )  # fmt: skip
                if on_article is not None:
                    on_article(article)

    if error is not None:
        raise StorageError(
            f"extraction stopped after storing {len(results)} articles (the other candidates stay "
            f"pending for the next poll or `aggregator extract`): {error}"
        ) from error


async def _all_unless(tasks: set[asyncio.Task[None]], *stops: asyncio.Event) -> None:
    """Wait until every task has ended (raising the first one's error, as gather does) or a stop is set."""
    waiter = asyncio.ensure_future(_wait_any(*stops))
    try:
        pending: set[asyncio.Future[Any]] = set(tasks)
        while pending and not any(stop.is_set() for stop in stops):
            ended, pending = await asyncio.wait(pending | {waiter}, return_when=asyncio.FIRST_COMPLETED)
            pending.discard(waiter)
            for task in ended - {waiter}:
                task.result()
    finally:
        waiter.cancel()


async def _wait_any(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


def _save(tools: ExtractTools, batch: list[Article]) -> None:
    with tools.write() as s:
        store.save_articles(s, batch)


async def poll_and_extract(
    job: PollJob,
    tools: PollTools,
    extract_tools: ExtractTools,
    fetching: AbstractAsyncContextManager[Fetcher],
    *,
    on_result: Callable[[FeedUpdateResult], None] | None = None,
    on_article: Callable[[Article], None] | None = None,
    own_pages: bool = False,
) -> tuple[PollReport, ExtractReport]:
    """A poll cycle with extraction beside it: pages are extracted while feeds are still polled.

    With ``own_pages`` (a poll someone asked for, as ``poll --feed X``), the
    extraction works only on the pages of the candidates this poll stored,
    newest first; pages left pending before are the daemon's or ``extract``'s.

    The extractor starts at once on whatever is pending, wakes whenever the
    poll stores new candidates, and ends when the poll has ended and nothing
    is left. Both share the fetcher ``fetching`` opens (``tools.fetching`` is
    not used), so a host's feed and its article pages share one per-host limit
    instead of each getting a full one.
    """
    more, done = asyncio.Event(), asyncio.Event()
    fed: set[str] = set()  # the feeds this poll stored new candidates of

    def stored(result: FeedUpdateResult) -> None:
        if result.new:
            fed.add(result.feed_name)
            more.set()
        if on_result is not None:
            on_result(result)

    async with fetching as fetcher:
        shared = contextlib.nullcontext(fetcher)
        pick = _stored_by(fed, since=job.now) if own_pages else None
        extraction = asyncio.create_task(
            extract_pending(extract_tools, shared, more=more, done=done, pick=pick, on_article=on_article)
        )
        try:
            poll_tools = replace(tools, fetching=lambda: contextlib.nullcontext(fetcher))
            report = await poll(job, poll_tools, on_result=stored)
        except BaseException:
            # The poll failed (its database, most likely): stop the extraction
            # too, and let it store what it finished, before the error goes up.
            extraction.cancel()
            await asyncio.wait({extraction})
            if not extraction.cancelled() and extraction.exception() is not None:
                log.info("extraction stopped: %s", extraction.exception())
            raise
        finally:
            done.set()
        return report, await extraction


def _stored_by(fed: set[str], *, since: datetime) -> Pick:
    """The candidates a poll that started at ``since`` stored in the feeds ``fed``, newest first."""

    def pick(s: Connection) -> list[int]:
        if not fed:
            return []
        found = repo.list_candidates(s, feed_names=sorted(fed), limit=None)
        return [c.id for c in found if c.first_seen_at >= since]

    return pick
