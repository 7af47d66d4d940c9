"""The cheap structure checks: bombs refused at once, sloppy but real documents let through."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.errors import ParseError
from aggregator.feeds.shape import MAX_DEPTH, MAX_TAGS, check_depth, check_tag_count

URL = "http://x.test/feed.xml"
HEAD = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'


@pytest.mark.parametrize(
    "bomb",
    [
        HEAD + b"<a>" * (MAX_DEPTH + 1),
        HEAD + b"<a><b>" * 200,
        HEAD + b"<a></b>" * 300,  # closing tags that close nothing open
        HEAD + b"<item><description>" + b"<div class='x'>" * 1000,
    ],
    ids=["unclosed", "alternating", "stray-closers", "deep-html"],
)
def test_deep_documents_are_refused(bomb: bytes) -> None:
    with pytest.raises(ParseError, match=f"nested more than {MAX_DEPTH} deep"):
        check_depth(bomb, URL)


@pytest.mark.parametrize(
    "sloppy",
    [
        # HTML in RSS without CDATA: void elements, paragraphs never closed, upper case.
        HEAD + b"<item><title>x</title><description><p>a<br>b<P>c<img src='x'>d</description></item>" * 500,
        # CDATA and comments full of tags that never close.
        HEAD + b"<item><description><![CDATA[<p>a<p>b<div>c]]></description><!-- <x><y> --></item>" * 500,
        HEAD + b"<item><title>x</title>" * 100 + b"</channel></rss>",  # items never closed
    ],
    ids=["html-in-rss", "cdata", "unclosed-items"],
)
def test_sloppy_documents_pass(sloppy: bytes) -> None:
    check_depth(sloppy, URL)
    check_tag_count(sloppy, URL)


def test_too_many_tags_are_refused() -> None:
    check_tag_count(HEAD + b"<a/>" * (MAX_TAGS - 10), URL)
    with pytest.raises(ParseError, match="has 500,005 tags, more than the 500,000 a feed may have"):
        check_tag_count(HEAD + b"<a>" * MAX_TAGS, URL)


@pytest.mark.corpus
def test_every_real_feed_passes(corpus: Path) -> None:
    feeds = sorted(p for p in (corpus / "feeds").iterdir() if p.suffix in (".xml", ".rss", ".atom"))
    assert len(feeds) > 100
    for path in feeds:
        body = path.read_bytes()
        check_tag_count(body, str(path))
        check_depth(body, str(path))
