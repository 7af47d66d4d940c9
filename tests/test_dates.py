"""Impossible dates (Hugo's zero date, anything before 1995) are missing dates: the fallbacks apply."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.feeds.decide import publication_date
from aggregator.types import ParsedEntry
from tests import feedgen
from tests.fixture_server import FixtureServer

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _entry(published: datetime | None, updated: datetime | None) -> ParsedEntry:
    return ParsedEntry("k", None, "https://example.com/p", "A post", published=published, updated=updated)


@pytest.mark.parametrize(
    ("published", "updated", "expected"),
    [
        (
            datetime(1, 1, 1, tzinfo=UTC),
            datetime(2026, 11, 2, tzinfo=UTC),
            (datetime(2026, 11, 2, tzinfo=UTC), "updated"),
        ),
        (datetime(1, 1, 1, tzinfo=UTC), None, (NOW, "first_seen")),
        (datetime(1970, 1, 1, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC), (NOW, "first_seen")),
        (datetime(1994, 12, 31, 23, 59, tzinfo=UTC), None, (NOW, "first_seen")),
        (datetime(1995, 1, 1, tzinfo=UTC), None, (datetime(1995, 1, 1, tzinfo=UTC), "published")),
        (datetime(2009, 5, 1, tzinfo=UTC), None, (datetime(2009, 5, 1, tzinfo=UTC), "published")),
        (datetime(2030, 1, 1, tzinfo=UTC), None, (NOW, "published")),
    ],
)
def test_dates_before_1995_are_missing(
    published: datetime | None, updated: datetime | None, expected: tuple[datetime, str]
) -> None:
    assert publication_date(_entry(published, updated), NOW) == expected


HUGO = b"""<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>A Hugo site</title><link>https://hugo.example/</link><description>Recent content</description>
<lastBuildDate>Mon, 01 Jan 0001 00:00:00 +0000</lastBuildDate>
<item><title>About</title><link>https://hugo.example/about/</link>
<pubDate>Mon, 01 Jan 0001 00:00:00 +0000</pubDate><guid>https://hugo.example/about/</guid>
<description>About this site.</description></item>
<item><title>A real post</title><link>https://hugo.example/posts/real/</link>
<pubDate>Tue, 03 Nov 2026 09:00:00 +0000</pubDate><guid>https://hugo.example/posts/real/</guid>
<description>A post with a date.</description></item>
</channel></rss>
"""


def test_a_hugo_feed_s_zero_date_is_stored_as_first_seen(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, server: FixtureServer
) -> None:
    server.add("/hugo.xml", HUGO)
    (tmp_path / "feeds.yaml").write_text(
        feedgen.feeds_yaml([("hugo", server.url("/hugo.xml"))]), encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["poll", "--all", "--no-extract"]).exit_code == 0
    listed = runner.invoke(app, ["candidates", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    by_title = {c["title"]: c for c in json.loads(listed.output)}
    assert by_title["A real post"]["published_at"].startswith("2026-11-03T09:00:00")
    about = by_title["About"]
    assert about["date_source"] == "first_seen"
    assert not about["published_at"].startswith("0001")
    assert about["published_at"] >= "2026"
