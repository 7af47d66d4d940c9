"""page_metadata gives trafilatura's metadata for the fields we keep, without the searches for the rest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from trafilatura.metadata import extract_metadata

from aggregator.articles import extract
from aggregator.articles.extract import decode_html
from aggregator.articles.htmltree import parse_html
from aggregator.articles.pagemeta import page_metadata

PAGES = Path(__file__).parent / "fixtures" / "pages"
URL = "https://blog.example.com/2024/03/a-post/"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
#: The fields extract_page takes from the metadata (url feeds the date search and the site name).
KEPT = ("title", "author", "date", "sitename", "image", "url")

RICH = """<!DOCTYPE html>
<html lang="en"><head>
<title>Scaling the feature store - Example Engineering</title>
<meta name="author" content="admin">
<meta property="article:tag" content="ml">
<meta name="keywords" content="feature store, ml">
<link rel="canonical" href="https://blog.example.com/2024/03/a-post/">
<meta property="og:site_name" content="Example Engineering">
<meta property="og:image" content="https://cdn.example.com/lead.png">
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "BlogPosting", "headline": "Scaling the feature store",
 "author": {"@type": "Person", "name": "Min-ji Kim"}, "datePublished": "2024-03-05T09:30:00+09:00"}
</script>
</head><body>
<nav><a href="/">Home</a> <a href="/category/ml/" rel="category tag">ML</a></nav>
<article><h1>Scaling the feature store</h1><p>Some text about feature stores.</p></article>
<footer><a href="https://creativecommons.org/licenses/by-sa/4.0/" rel="license">CC BY-SA 4.0</a></footer>
</body></html>"""

BARE = """<html><head><title>notes</title></head><body>
<h1>A post</h1><p class="byline">By <span class="author">Jo Park</span>, March 5, 2024</p>
<p>Text.</p></body></html>"""


def both(html: str, url: str) -> tuple[dict[str, object], dict[str, object]]:
    params = extract._date_params(NOW)
    ours = page_metadata(parse_html(html), url, params)
    theirs = extract_metadata(parse_html(html), url, params)
    return {f: getattr(ours, f) for f in KEPT}, {f: getattr(theirs, f) for f in KEPT}


@pytest.mark.parametrize("html", [RICH, BARE], ids=["rich", "bare"])
def test_the_kept_fields_are_trafilaturas(html: str) -> None:
    ours, theirs = both(html, URL)
    assert ours == theirs
    assert ours["title"] and ours["date"]  # the pages do have metadata to compare


def test_rich_page_fields() -> None:
    ours, _ = both(RICH, URL)
    assert ours == {
        "title": "Scaling the feature store",
        "author": "Min-ji Kim",
        "date": "2024-03-05T09:30:00+0900",
        "sitename": "Example Engineering",
        "image": "https://cdn.example.com/lead.png",
        "url": "https://blog.example.com/2024/03/a-post/",
    }


def test_categories_tags_and_licence_are_not_looked_for() -> None:
    metadata = page_metadata(parse_html(RICH), URL, extract._date_params(NOW))
    assert not metadata.categories and metadata.license is None
    assert extract_metadata(parse_html(RICH), URL, extract._date_params(NOW)).license  # trafilatura would


def test_the_tree_is_left_as_it_was() -> None:
    tree = parse_html(RICH)
    before = etree.tostring(tree)
    page_metadata(tree, URL, extract._date_params(NOW))
    assert etree.tostring(tree) == before


def test_every_fixture_page_gives_trafilaturas_fields() -> None:
    paths = sorted(PAGES.glob("*.html"))
    assert paths
    for path in paths:
        html = decode_html(path.read_bytes(), "text/html")[0]
        ours, theirs = both(html, URL)
        assert ours == theirs, path.name


def test_every_corpus_page_gives_trafilaturas_fields(corpus: Path) -> None:
    paths = sorted((corpus / "pages").glob("*.html"))
    assert paths
    differ = []
    for path in paths:
        html = decode_html(path.read_bytes(), "text/html")[0]
        ours, theirs = both(html, f"https://example.com/{path.stem}")
        if ours != theirs:
            differ.append(path.name)
    assert differ == []
