"""The facade's polling operations (see :mod:`aggregator.service`): poll, extract, both at once.

Here the application meets the polling and extraction wings: the clock is
read once per operation, feeds.yaml's fetch settings become plain values
(:class:`~aggregator.feeds.update.Policy`), and the wings get their
collaborators (units of work, the fetcher, the App's long-lived pools, this
process's instance id). The functions below take the App (the facade's
methods call them; tests and benchmarks may too); the wings themselves
(``aggregator.feeds.poll``, ``aggregator.articles.pages``) are imported only
when an operation runs, so a command that never polls never loads them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from aggregator.article_types import Article
from aggregator.poll_types import ExtractReport, PollReport, PollRun
from aggregator.service.part import Part
from aggregator.types import Candidate, FeedUpdateResult

if TYPE_CHECKING:
    from datetime import datetime

    from aggregator.app import App
    from aggregator.articles.pages import ExtractTools
    from aggregator.feeds.poll import PollJob, PollTools
    from aggregator.net.fetch import Fetcher
    from aggregator.workers import WorkerPool


class Polling(Part):
    """Polling: each method reads the clock once, owns its unit(s) of work and returns plain values."""

    def unknown_feeds(self, names: Sequence[str]) -> tuple[str, ...]:
        """Those of ``names`` that feeds.yaml does not list."""
        return self.app.config.unknown_feeds(names)

    def poll(
        self,
        *,
        names: Sequence[str] | None = None,
        due_only: bool = True,
        extract: bool = True,
        on_result: Callable[[FeedUpdateResult], None] | None = None,
        on_article: Callable[[Article], None] | None = None,
        own_pages: bool = False,
    ) -> PollRun:
        """Claim and poll feeds (the due ones, all with ``due_only=False``, or ``names``), with
        extraction beside it unless ``extract`` is false; when nothing was claimed, say why.

        ``on_result`` hears of each feed as it is stored (the daemon logs it), ``on_article``
        of each page extracted (a progress display). With ``own_pages`` the extraction works
        only on the pages this poll stored, newest first (``poll --feed X``). The poll
        honours ``app.stopping``: nothing is claimed once the daemon stops, and work in
        flight is abandoned once it cancels.
        """
        from aggregator.feeds.poll import run_async
        from aggregator.store import claims

        now = self.app.clock()
        extracted = None
        if extract:
            report, extracted = run_async(
                poll_and_extract(
                    self.app,
                    names=names,
                    due_only=due_only,
                    now=now,
                    on_result=on_result,
                    on_article=on_article,
                    own_pages=own_pages,
                )
            )
        else:
            report = run_async(_poll(self.app, names=names, due_only=due_only, now=now, on_result=on_result))
        if report.results or (extracted is not None and extracted.articles):
            suggest_after(self.app)
        if report.results:
            return PollRun(report, extracted)
        with self.app.read() as s:
            outlook = claims.claim_outlook(s, now=now, names=names)
        return PollRun(report, extracted, outlook)

    def candidates(
        self, *, feed_names: Sequence[str] | None = None, status: str | None = None, limit: int | None = 100
    ) -> list[Candidate]:
        """What the polls have stored, newest first: of ``feed_names``, in ``status``, at most ``limit``."""
        from aggregator.store import repo

        with self.app.read() as s:
            return repo.list_candidates(s, feed_names=feed_names, status=status, limit=limit)

    def extract(
        self,
        *,
        ids: Sequence[int] | None = None,
        retry_failed: bool = False,
        on_article: Callable[[Article], None] | None = None,
    ) -> ExtractReport:
        """Extract the pages of candidates that need it (or exactly ``ids``; failed ones too with
        ``retry_failed``); ``on_article`` hears of each page as it is stored."""
        from aggregator.feeds.poll import run_async

        pending = extract_pending(self.app, ids=ids, retry_failed=retry_failed, on_article=on_article)
        report = run_async(pending)
        if report.articles:
            suggest_after(self.app)
        return report


def suggest_after(app: App) -> None:
    """Suggest, score and group what the poll or extraction stored (``service.suggest``); a failure
    there is logged and leaves the poll's results as they are."""
    from aggregator.service.suggest import Suggestions

    Suggestions(app).refresh(quietly=True)


def run_poll(
    app: App,
    *,
    names: Sequence[str] | None = None,
    due_only: bool = True,
    on_result: Callable[[FeedUpdateResult], None] | None = None,
) -> PollReport:
    """Claim and poll feeds: the due ones, all of them (``due_only=False``), or ``names``."""
    from aggregator.feeds.poll import run_async

    return run_async(_poll(app, names=names, due_only=due_only, on_result=on_result))


async def _poll(
    app: App,
    *,
    names: Sequence[str] | None,
    due_only: bool,
    on_result: Callable[[FeedUpdateResult], None] | None = None,
    now: datetime | None = None,
) -> PollReport:
    from aggregator.feeds.poll import poll

    job, tools = _poll_setup(app, names=names, due_only=due_only, now=now)
    return await poll(job, tools, on_result=on_result)


async def poll_and_extract(
    app: App,
    *,
    names: Sequence[str] | None = None,
    due_only: bool = True,
    now: datetime | None = None,
    on_result: Callable[[FeedUpdateResult], None] | None = None,
    on_article: Callable[[Article], None] | None = None,
    own_pages: bool = False,
) -> tuple[PollReport, ExtractReport]:
    """A poll with extraction beside it, sharing one fetcher (``articles.pages.poll_and_extract``)."""
    from aggregator.articles.pages import poll_and_extract as run_both

    job, tools = _poll_setup(app, names=names, due_only=due_only, now=now)
    return await run_both(
        job, tools, _extract_tools(app, None), app.fetcher(),
        on_result=on_result, on_article=on_article, own_pages=own_pages,
    )  # fmt: skip


async def extract_pending(
    app: App,
    *,
    ids: Sequence[int] | None = None,
    retry_failed: bool = False,
    pool: WorkerPool | None = None,
    fetcher: Fetcher | None = None,
    on_article: Callable[[Article], None] | None = None,
) -> ExtractReport:
    """Extract every due candidate's page, on the App's extraction pool unless given ``pool``."""
    from aggregator.articles.pages import extract_pending as run

    return await run(
        _extract_tools(app, pool),
        app.fetching(fetcher),
        ids=ids,
        retry_failed=retry_failed,
        on_article=on_article,
    )


def _poll_setup(
    app: App, *, names: Sequence[str] | None, due_only: bool, now: datetime | None
) -> tuple[PollJob, PollTools]:
    from aggregator.feeds.poll import PollJob, PollTools
    from aggregator.feeds.update import Policy

    fetch = app.config.fetch
    job = PollJob(
        now=app.clock() if now is None else now,
        instance=app.instance,
        lease=app.lease,
        policy=Policy(adopt_redirect_after=fetch.adopt_redirect_after, backoff_cap=fetch.backoff_cap),
        names=names,
        due_only=due_only,
    )
    tools = PollTools(
        write=app.write,
        fetching=app.fetching,
        parse_pool=app.parse_pool,
        jitter=app.rng.random,
        stop=app.stopping,
    )
    return job, tools


def _extract_tools(app: App, pool: WorkerPool | None) -> ExtractTools:
    from aggregator.articles.pages import ExtractTools

    return ExtractTools(
        read=app.read,
        write=app.write,
        clock=app.clock,
        pool=pool if pool is not None else app.extraction_pool(),
        in_flight=max(4, 4 * app.parse_workers),
        stop=app.stopping,
    )
