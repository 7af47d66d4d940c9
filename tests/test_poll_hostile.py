"""Hostile feed documents served from 127.0.0.1 to a real poll: each fails alone, the rest go on.

Issue 12, points 1 and 4: a nesting bomb (10 MiB of unclosed tags, 10 KB gzipped
on the wire), a document that passes the structure checks but takes long to
parse, and a gzip body sent without ``Content-Encoding``.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator.app import App, make_app
from aggregator.config import Settings, load_config
from aggregator.feeds import poll as poll_module
from aggregator.service.polling import run_poll
from aggregator.store.tables import candidates
from aggregator.types import FeedUpdateResult
from tests import feedgen
from tests.fixture_server import FixtureServer, Response, serve
from tests.stock import Clock

T0 = datetime(2024, 3, 2, 12, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml"}
HEAD = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x.test/</link>'


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with serve(ports=3) as running:
        yield running


def make(tmp_path: Path, database_url: str, feeds: list[tuple[str, str]], fetch: str = "") -> App:
    path = tmp_path / "feeds.yaml"
    text = feedgen.feeds_yaml(feeds).replace("  read_timeout: 2\n", "  read_timeout: 4\n")
    text = text.replace("  deadline: 5\n", f"  deadline: 5\n{fetch}")
    path.write_text(text, encoding="utf-8")
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data")
    app = make_app(
        settings, load_config(path), config_path=path, clock=Clock(T0), rng=random.Random(1), parse_workers=2
    )
    app.sync_feeds()
    return app


def sqlite_url(tmp_path: Path) -> str:
    (tmp_path / "data").mkdir(exist_ok=True)
    return f"sqlite:///{tmp_path / 'data' / 'aggregator.sqlite3'}"


def innocent(server: FixtureServer, name: str, port: int, delay: float) -> tuple[str, str]:
    base = server.base_url
    body = feedgen.rss(name, base, feedgen.entries(f"{base}/{name}", 3, seed=port))
    server.route(f"/{name}.xml", Response(body=body, headers=RSS, delay=delay))
    return name, server.url(f"/{name}.xml", port)


def results(app: App) -> dict[str, FeedUpdateResult]:
    try:
        return {r.feed_name: r for r in run_poll(app, due_only=False).results}
    finally:
        app.close()


def test_a_nesting_bomb_fails_alone_and_costs_no_one_else(
    tmp_path: Path, database_url: str, server: FixtureServer
) -> None:
    bomb = HEAD + b"<a>" * (9 * 1024 * 1024 // 3)  # under the 10 MiB body cap
    server.route("/bomb.xml", Response(body=bomb, headers=RSS, gzip=True))
    feeds = [
        ("bomb", server.url("/bomb.xml")),
        innocent(server, "slow", 1, 0.5),
        innocent(server, "slower", 2, 1.0),
    ]

    got = results(make(tmp_path, database_url, feeds))

    assert len(gzip.compress(bomb)) < 20_000  # what crossed the wire
    assert got["bomb"].outcome == "error"
    assert "more than the 500,000 a feed may have" in (got["bomb"].error or "")
    assert [(got[n].outcome, got[n].new) for n in ("slow", "slower")] == [("new", 3), ("new", 3)]


def test_a_deep_nesting_bomb_under_the_tag_count_is_refused_too(
    tmp_path: Path, database_url: str, server: FixtureServer
) -> None:
    server.route("/deep.xml", Response(body=HEAD + b"<item><description>" + b"<div>" * 100_000, headers=RSS))
    got = results(make(tmp_path, database_url, [("deep", server.url("/deep.xml"))]))

    assert got["deep"].outcome == "error"
    assert "nested more than 256 deep" in (got["deep"].error or "")


def test_a_slow_document_is_stopped_in_its_worker_while_the_poll_goes_on(
    tmp_path: Path, server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    database_url = sqlite_url(tmp_path)  # what is tested happens before any database
    # Malformed, shallow and under the tag count: it passes the cheap checks, and
    # feedparser's lenient parser needs about ten seconds of CPU for it. On the
    # event loop it would hold every other feed past its 5 s deadline.
    slow = HEAD + b"<item><title>x</title><description>" + b"<br>" * 450_000 + b"</item></channel></rss>"
    server.route("/slow-to-parse.xml", Response(body=slow, headers=RSS))
    monkeypatch.setattr(poll_module, "PARSE_TIME_LIMIT", 2.0)
    feeds = [
        ("heavy", server.url("/slow-to-parse.xml")),
        innocent(server, "late", 1, 1.0),
        innocent(server, "later", 2, 2.0),
    ]

    got = results(make(tmp_path, database_url, feeds))

    assert got["heavy"].outcome == "error"
    assert "parsing took longer than 2 s and was stopped" in (got["heavy"].error or "")
    assert [(got[n].outcome, got[n].new) for n in ("late", "later")] == [("new", 3), ("new", 3)]


def test_a_gzip_body_without_content_encoding_stops_at_the_body_cap(
    tmp_path: Path, server: FixtureServer
) -> None:
    database_url = sqlite_url(tmp_path)  # what is tested happens before any database
    base = server.base_url
    many = feedgen.rss("Many", base, feedgen.entries(f"{base}/many", 2000, seed=3))
    swollen = gzip.compress(many)
    assert len(swollen) < 1024 * 1024 < len(many)  # under the cap on the wire, far over it inflated
    server.route("/feed.xml.gz", Response(raw_body=swollen, headers=RSS))
    fine = gzip.compress(feedgen.rss("Few", base, feedgen.entries(f"{base}/few", 3, seed=4)))
    server.route("/few.xml.gz", Response(raw_body=fine, headers=RSS))
    feeds = [("swollen", server.url("/feed.xml.gz")), ("few", server.url("/few.xml.gz"))]

    got = results(make(tmp_path, database_url, feeds, fetch="  max_body_bytes: 1048576\n"))

    assert got["swollen"].outcome == "error"
    assert "the gzip-compressed body expands past 1 MiB" in (got["swollen"].error or "")
    assert (got["few"].outcome, got["few"].new) == ("new", 3)


def test_nul_and_lone_surrogates_in_a_json_feed_are_stored_on_every_database(
    tmp_path: Path, database_url: str, server: FixtureServer
) -> None:
    # PostgreSQL refuses NUL in text, and no database encodes a lone surrogate:
    # both arrive as JSON escapes, which json.loads turns into such strings.
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
        b'{"id": "a\\u0000", "url": "http://x.test/a\\ud800", "title": "NUL\\u0000 and \\udfff",'
        b' "content_text": "x\\u0000y", "tags": ["t\\u0000"], "authors": [{"name": "\\ud83d"}]}]}'
    )
    server.route("/feed.json", Response(body=body, headers={"Content-Type": "application/feed+json"}))
    app = make(tmp_path, database_url, [("json", server.url("/feed.json"))])
    try:
        (result,) = run_poll(app).results
        with app.read() as s:
            title, content, url = s.execute(
                sa.select(candidates.c.title, candidates.c.content, candidates.c.url)
            ).one()
    finally:
        app.close()

    assert (result.outcome, result.new) == ("new", 1)
    assert (title, content, url) == ("NUL and \ufffd", "xy", "http://x.test/a\ufffd")


def test_entries_with_huge_ids_links_and_titles_are_stored_without_failing_their_batch(
    tmp_path: Path, database_url: str, server: FixtureServer
) -> None:
    # PostgreSQL indexes refuse a key over about 2,700 bytes, and its full-text
    # vector one over 1 MB; one such entry must not fail the write of every feed in its batch.
    base = server.base_url
    rng = random.Random(12)
    long = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(5000))  # incompressible
    huge_title = " ".join("".join(rng.choice("abcdefghij") for _ in range(6)) for _ in range(200_000))
    items = (
        f"<item><guid isPermaLink='false'>{long}</guid><title>Long id</title><link>{base}/a</link></item>"
        f"<item><title>Long link</title><link>{base}/{long}</link></item>"
        f"<item><guid>t</guid><title>{huge_title}</title><link>{base}/t</link></item>"
    )
    body = HEAD + items.encode() + b"</channel></rss>"
    server.route("/long.xml", Response(body=body, headers=RSS))
    feeds = [("long", server.url("/long.xml")), innocent(server, "fine", 1, 0.0)]

    got = results(make(tmp_path, database_url, feeds))

    assert (got["long"].outcome, got["long"].new) == ("new", 3), got["long"].error
    assert (got["fine"].outcome, got["fine"].new) == ("new", 3)
