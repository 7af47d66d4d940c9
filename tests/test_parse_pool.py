"""Parsing in worker processes: a document that crashes, stalls or swells costs only its own feed."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from aggregator.errors import ParseError
from aggregator.feeds.parse import parse_feed
from aggregator.feeds.poll import ParsePool
from aggregator.types import ParsedFeed
from tests import feedgen

POISON = b"<kill-the-worker/>"
STALL = b"<never-finish/>"
SWELL = b"<need-too-much-memory/>"


def hostile_parse(body: bytes, url: str, headers: dict[str, str], max_bytes: int | None) -> ParsedFeed:
    """Runs in a worker: stands in for a document that crashes, hangs or swells the parser."""
    if body == POISON:
        os._exit(1)
    if body == STALL:
        threading.Event().wait()  # a parse that never ends: only the time limit stops it
    if body == SWELL:
        hoard = [bytearray(64 * 1024 * 1024) for _ in range(64)]  # 4 GiB, past any worker's limit
        raise AssertionError(f"the memory limit did not hold ({len(hoard)} blocks)")
    return parse_feed(body, url=url, content_type=headers.get("content-type"), headers=headers)


def good_feeds(n: int) -> list[bytes]:
    return [
        feedgen.rss(f"F{i}", "http://x.test", feedgen.entries(f"http://x.test/{i}", 3, seed=i))
        for i in range(n)
    ]


def run_all(pool: ParsePool, bodies: list[bytes]) -> list[ParsedFeed | BaseException]:
    async def run() -> list[ParsedFeed | BaseException]:
        try:
            jobs = [pool.parse(body, f"http://x.test/{i}.xml", {}) for i, body in enumerate(bodies)]
            return await asyncio.gather(*jobs, return_exceptions=True)
        finally:
            pool.close()

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("hostile", "reason"),
    [
        (POISON, "the parser process died"),
        (STALL, "parsing took longer than 1.5 s"),
        (SWELL, "parsing needed more than the 512 MiB of memory it may use"),
    ],
    ids=["crash", "time", "memory"],
)
def test_a_hostile_document_costs_only_its_own_feed(hostile: bytes, reason: str) -> None:
    bodies = good_feeds(6)
    bodies.insert(3, hostile)
    pool = ParsePool(2, hostile_parse, timeout=1.5, memory_limit=512 * 1024 * 1024)

    results = run_all(pool, bodies)

    failed = results.pop(3)
    assert isinstance(failed, ParseError), failed
    assert str(failed).startswith("http://x.test/3.xml: ")
    assert reason in str(failed)
    assert all(isinstance(r, ParsedFeed) and len(r.entries) == 3 for r in results), results


def test_the_default_pool_parses_in_processes_with_the_feeds_cap() -> None:
    import gzip

    small = feedgen.rss("S", "http://x.test", feedgen.entries("http://x.test", 2))
    # A .xml.gz served as it is (no Content-Encoding): inflated under the pool's cap, not a fixed one.
    swollen = gzip.compress(small.replace(b"</channel>", b" " * 300_000 + b"</channel>"))
    results = run_all(ParsePool(1, max_bytes=100_000), [small, gzip.compress(small), swollen])

    assert [len(r.entries) for r in results[:2]] == [2, 2]  # type: ignore[union-attr]
    assert isinstance(results[2], ParseError)
    assert "expands past 100,000 bytes" in str(results[2])


def test_the_thread_pool_parses_off_the_event_loop() -> None:
    body = feedgen.atom("A", "http://x.test", feedgen.entries("http://x.test", 2))
    loop_thread: list[int] = []

    def parse_here(body: bytes, url: str, headers: dict[str, str], max_bytes: int | None) -> ParsedFeed:
        loop_thread.append(threading.get_ident())
        return parse_feed(body, url=url)

    async def run() -> tuple[ParsedFeed, int]:
        return await ParsePool(0, parse_here).parse(body, "http://x.test/a", {}), threading.get_ident()

    parsed, loop = asyncio.run(run())
    assert len(parsed.entries) == 2
    assert loop_thread and loop_thread[0] != loop


def test_thread_pool_parse_errors_propagate_as_parse_errors() -> None:
    with pytest.raises(ParseError):
        asyncio.run(
            ParsePool(0).parse(
                b"<html><body>hi</body></html>", "http://x.test/a", {"content-type": "text/html"}
            )
        )
