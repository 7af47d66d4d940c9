"""parse_feed over the real-world corpus in ../shared/corpus/feeds (skipped where it is missing).

The corpus belongs to its publishers: it is read in place, never copied here.
"""

from __future__ import annotations

import csv
import functools
import re
from datetime import UTC
from pathlib import Path

import pytest

from aggregator.errors import ParseError
from aggregator.feeds.parse import parse_feed
from aggregator.types import ParsedFeed
from aggregator.urls import canonical_url, is_http_url

FEEDS = Path(__file__).parents[1].parent / "shared" / "corpus" / "feeds"
URL = "https://example.com/feed"

pytestmark = pytest.mark.corpus

# Files whose entry count differs from INDEX.tsv's `items` (or that have no count there), and why.
# The value is the expected number of entries, or ParseError.
EXPECTED_DIFFERENCES: dict[str, tuple[int | type[ParseError], str]] = {
    "nixos-news.rss.xml": (
        1,
        "99 items without guids that all link to https://nixos.org/news.html: identity falls back to the "
        "link, so the 98 after the first repeat its key and are dropped",
    ),
    "scriptingnews.rss.xml": (
        48,
        "two guids appear twice (2017/06/24.html#a100632, 2017/06/25.html#a080631)",
    ),
    "suspilne-ua.rss.xml": (19, "one article is listed twice, same link and no guid"),
    "taverncast-podcast.rss.xml": (130, "the guid shows/geekistry-2.mp3 appears twice"),
    "tablix-avian-blog.atom.xml": (
        10,
        "INDEX has no count (an Atom feed saved inside an XHTML page); its 10 Atom entries are read",
    ),
    "scriptingnews-jsonfeed.json": (
        ParseError,
        "not a JSON Feed but RSS serialised as JSON (rss.js); INDEX counts 0 items",
    ),
}

# Publishers writing in Korean or Japanese: their titles must come out in that script.
CJK_FEEDS = {
    "aggregated-jp-techblog-atom.xml": "ja",
    "aggregated-jp-techblog-feed.json": "ja",
    "aggregated-jp-techblog-rss.xml": "ja",
    "dreamgonfly-ko-ml-hugo.rss.xml": "ko",
    "novemberde-ko-hugo.rss.xml": "ko",
    "sculove-ko-gatsby-huge.rss.xml": "ko",
    "sogap-jp-hatena-embeds.rss.xml": "ja",
    "taetaetae-ko-hugo.rss.xml": "ko",
}
SCRIPTS = {"ko": re.compile("[\uac00-\ud7a3]"), "ja": re.compile("[\u3040-\u30ff]")}

# The same items published in several formats by one site.
SAME_CONTENT = [
    ("aggregated-jp-techblog-atom.xml", "aggregated-jp-techblog-rss.xml", "aggregated-jp-techblog-feed.json"),
    ("cornucopia-blogger.atom.xml", "cornucopia-blogger-altrss.rss.xml"),
    ("dustri-org.atom.xml", "dustri-org.rss.xml"),
]


def _files() -> list[str]:
    if not FEEDS.is_dir():
        return []
    return sorted(path.name for path in FEEDS.iterdir() if path.is_file() and path.name != "INDEX.tsv")


def _index() -> dict[str, dict[str, str]]:
    index = FEEDS / "INDEX.tsv"
    if not index.is_file():
        return {}
    with index.open(encoding="utf-8", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


FILES = _files()
INDEX = _index()
MISSING = pytest.param("", marks=pytest.mark.skip(reason=f"corpus not found at {FEEDS}"))


def _params(names: list[str]) -> list[object]:
    return list(names) or [MISSING]


@functools.cache
def parsed(name: str) -> ParsedFeed | ParseError:
    """Each file is parsed once per test session, whatever order the tests run in."""
    try:
        return parse_feed((FEEDS / name).read_bytes(), url=URL)
    except ParseError as exc:
        return exc


@pytest.mark.parametrize("name", _params(FILES))
def test_only_parse_error_escapes(name: str) -> None:
    result = parsed(name)  # anything but ParseError would propagate and fail here
    if isinstance(result, ParseError):
        assert result.url == URL
        assert result.reason
        return
    for entry in result.entries:
        assert entry.key
        assert entry.title and entry.title == entry.title.strip()
        assert entry.link is None or is_http_url(entry.link)
        for date in (entry.published, entry.updated):
            assert date is None or date.tzinfo is UTC
    assert len({entry.key for entry in result.entries}) == len(result.entries)


WELLFORMED = [name for name in FILES if INDEX.get(name, {}).get("wellformed") == "True"]


@pytest.mark.parametrize("name", _params(WELLFORMED))
def test_entry_count_matches_the_index(name: str) -> None:
    result = parsed(name)
    got: int | type[ParseError] = ParseError if isinstance(result, ParseError) else len(result.entries)
    if name in EXPECTED_DIFFERENCES:
        expected, why = EXPECTED_DIFFERENCES[name]
        assert got == expected, why
        assert str(expected) != INDEX[name]["items"], f"{name} now matches INDEX.tsv; drop its exception"
    else:
        assert got == int(INDEX[name]["items"]), result


def test_expected_differences_name_corpus_files() -> None:
    if not FILES:
        pytest.skip(f"corpus not found at {FEEDS}")
    assert set(EXPECTED_DIFFERENCES) <= set(WELLFORMED)


MALFORMED = [name for name in FILES if INDEX.get(name, {}).get("wellformed") == "False"]


@pytest.mark.parametrize("name", _params(MALFORMED))
def test_malformed_feeds_say_so(name: str) -> None:
    result = parsed(name)
    if isinstance(result, ParsedFeed):
        assert result.warning, "a malformed document read without a warning"


@pytest.mark.parametrize("name", _params([name for name in CJK_FEEDS if name in FILES]))
def test_korean_and_japanese_titles_decode(name: str) -> None:
    result = parsed(name)
    assert isinstance(result, ParsedFeed)
    titles = " ".join(entry.title for entry in result.entries)
    assert SCRIPTS[CJK_FEEDS[name]].search(titles)
    assert "\ufffd" not in titles


@pytest.mark.parametrize("names", [group for group in SAME_CONTENT if set(group) <= set(FILES)] or [MISSING])
def test_same_items_in_every_format(names: tuple[str, ...]) -> None:
    seen = []
    for name in names:
        result = parsed(name)
        assert isinstance(result, ParsedFeed)
        seen.append(
            {
                canonical_url(entry.link or ""): (entry.title, entry.published or entry.updated)
                for entry in result.entries
            }
        )
    assert all(items == seen[0] for items in seen[1:])
