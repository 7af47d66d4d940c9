"""Parsing in worker processes survives a worker that dies."""

from __future__ import annotations

import asyncio
import os

import pytest

from aggregator.errors import ParseError
from aggregator.parse import parse_feed
from aggregator.poll import ParsePool
from aggregator.types import ParsedFeed
from tests import feedgen

POISON = b"<kill-the-worker/>"


def parse_or_die(body: bytes, url: str, headers: dict[str, str]) -> ParsedFeed:
    """Runs in a worker: a poisoned document ends the process abruptly, as a crash would."""
    if body == POISON:
        os._exit(1)
    return parse_feed(body, url=url, content_type=headers.get("content-type"), headers=headers)


def test_a_dying_worker_costs_only_its_own_feed() -> None:
    good = [
        feedgen.rss(f"F{i}", "http://x.test", feedgen.entries(f"http://x.test/{i}", 3, seed=i))
        for i in range(6)
    ]

    async def run() -> list[ParsedFeed | BaseException]:
        pool = ParsePool(2, parse_or_die)
        try:
            jobs = [pool.parse(body, f"http://x.test/{i}.xml", {}) for i, body in enumerate(good)]
            jobs.insert(3, pool.parse(POISON, "http://x.test/poison.xml", {}))
            return await asyncio.gather(*jobs, return_exceptions=True)
        finally:
            pool.close()

    results = asyncio.run(run())

    poisoned = results.pop(3)
    assert isinstance(poisoned, ParseError)
    assert "http://x.test/poison.xml" in str(poisoned) and "died" in str(poisoned)
    assert all(isinstance(r, ParsedFeed) and len(r.entries) == 3 for r in results), results


def test_inline_pool_parses_in_process() -> None:
    async def run() -> ParsedFeed:
        return await ParsePool(0).parse(
            feedgen.atom("A", "http://x.test", feedgen.entries("http://x.test", 2)), "http://x.test/a", {}
        )

    assert len(asyncio.run(run()).entries) == 2


def test_inline_parse_errors_propagate_as_parse_errors() -> None:
    with pytest.raises(ParseError):
        asyncio.run(
            ParsePool(0).parse(
                b"<html><body>hi</body></html>", "http://x.test/a", {"content-type": "text/html"}
            )
        )
