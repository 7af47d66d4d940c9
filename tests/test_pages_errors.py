"""An unforeseen exception from an extraction job costs that page, never the run (a unit test of
``articles.pages.Extractor``, with the fetcher and the worker pool stood in for).

The ``&#x3;`` bug found while splitting ``extract.py`` raised ValueError inside the worker; the
run used to end there in a traceback, with the pages after it left unextracted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from aggregator.article_types import ExtractJob
from aggregator.articles.pages import Extractor
from aggregator.net.fetch import Fetcher
from aggregator.workers import WorkerPool

NOW = datetime(2024, 3, 2, 12, 0, tzinfo=UTC)
URL = "https://blog.example.com/post"


@dataclass
class _Page:
    final_url: str = URL
    body: bytes = b"<html><body><p>text</p></body></html>"
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/html"})


class _Fetcher:
    async def fetch_page(self, url: str, *, now: datetime) -> _Page:
        return _Page()


class _BrokenPool:
    """Every job raises what a bug in the extractor would raise."""

    timeout = 30.0

    def __init__(self, *, closed: bool = False) -> None:
        self.closed = closed
        self.jobs: list[str] = []

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.jobs.append(fn.__name__)
        raise ValueError("All strings must be XML compatible")


def _extractor(pool: _BrokenPool) -> Extractor:
    return Extractor(cast(Fetcher, _Fetcher()), cast(WorkerPool, pool))


def test_an_exception_in_extraction_is_that_pages_error() -> None:
    pool = _BrokenPool()
    job = ExtractJob(
        1, URL, content="<p>the feed's own text</p>", content_type="html", summary=None, language=None
    )
    article = asyncio.run(_extractor(pool).run(job, NOW))
    assert article.candidate_id == 1
    assert article.status == "error"
    assert article.reason == "extraction failed: ValueError: All strings must be XML compatible"
    assert pool.jobs == ["extract_page", "text_from_feed"]  # the feed's text was tried, and failed alike


def test_a_closed_pool_stops_the_run_and_leaves_the_page_pending() -> None:
    job = ExtractJob(2, URL, content=None, content_type=None, summary=None, language=None)
    with pytest.raises(ValueError):
        asyncio.run(_extractor(_BrokenPool(closed=True)).run(job, NOW))
