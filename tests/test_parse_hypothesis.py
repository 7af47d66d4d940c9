"""Random feed documents through the parser: a ParsedFeed or the feed's own ParseError, never anything else.

Issue 12: "random feed documents through the parser (bounded time, no exception
but the feed's own error)". Documents are built from the vocabulary of RSS,
Atom and JSON Feed and then damaged the ways the world damages them: unclosed
and mismatched tags, stray ampersands and entities, DTDs declaring external and
recursive entities, control characters, wrong or missing declarations of the
encoding, byte-order marks, gzip, truncation. Hypothesis's deadline bounds the
time of each parse.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.errors import ParseError
from aggregator.feeds.parse import parse_feed
from aggregator.types import ParsedFeed

URL = "http://feeds.example.com/feed.xml"
SECRET = Path(__file__).parent / "fixtures" / "feeds" / "rss20.xml"  # any local file an XXE could read
NAMES = [
    "rss", "channel", "item", "title", "link", "description", "guid", "pubDate", "author", "category",
    "enclosure", "content:encoded", "dc:creator", "feed", "entry", "id", "updated", "published", "summary",
    "content", "name", "uri", "rdf:RDF", "rdf:li", "a", "p", "br", "div", "img", "script", "style", "x:odd",
    "Title", "ITEM",
]  # fmt: skip
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from("<>&;]]'\"\x00\x1b"),
    max_size=40,
)
ENTITIES = st.sampled_from(
    [
        "&amp;",
        "&lt;",
        "&nbsp;",
        "&bogus;",
        "&#0;",
        "&#xD800;",
        "&#55296;",
        "&#x1b;",
        "&#x110000;",
        "&#99999999;",
        "&",
        "&e;",
        "&lol3;",
    ]
)


def render(tree: object) -> str:
    if isinstance(tree, str):
        return tree
    kind, name, attrs, children = tree  # type: ignore[misc]
    inner = "".join(render(child) for child in children)
    attributes = "".join(f' {key}="{value}"' for key, value in attrs)
    if kind == "empty":
        return f"<{name}{attributes}/>"
    if kind == "unclosed":
        return f"<{name}{attributes}>{inner}"
    if kind == "mismatched":
        return f"<{name}{attributes}>{inner}</{name}x>"
    if kind == "cdata":
        return f"<{name}><![CDATA[{inner}]]></{name}>"
    return f"<{name}{attributes}>{inner}</{name}>"


leaves = st.one_of(
    TEXT,
    ENTITIES,
    st.just("<!-- a comment -->"),
    st.just("<?pi data?>"),
    st.sampled_from(
        ["http://example.com/a", "/relative/b", "javascript:alert(1)", "Mon, 01 Jan 2024 00:00:00 GMT"]
    ),
)
trees = st.recursive(
    leaves,
    lambda children: st.tuples(
        st.sampled_from(["normal", "normal", "normal", "empty", "unclosed", "mismatched", "cdata"]),
        st.sampled_from(NAMES),
        st.lists(
            st.tuples(
                st.sampled_from(["href", "rel", "type", "xml:base", "version", "xmlns"]),
                TEXT.map(lambda t: t.replace('"', "")),
            ),
            max_size=2,
        ),
        st.lists(children, max_size=5),
    ),
    max_leaves=40,
)
ROOTS = st.sampled_from(
    [
        ('<rss version="2.0"><channel>', "</channel></rss>"),
        ('<feed xmlns="http://www.w3.org/2005/Atom">', "</feed>"),
        (
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">',
            "</rdf:RDF>",
        ),
        ("<html><body>", "</body></html>"),
        ("", ""),
    ]
)
DOCTYPES = st.sampled_from(
    [
        "",
        "<!DOCTYPE rss>",
        f'<!DOCTYPE rss [<!ENTITY e SYSTEM "file://{SECRET}">]>',
        '<!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;">]>',
        '<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/never.dtd">',
    ]
)
ENCODINGS = st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252", "euc-kr", "shift_jis"])


@st.composite
def xml_documents(draw: st.DrawFn) -> bytes:
    head, tail = draw(ROOTS)
    body = "".join(render(t) for t in draw(st.lists(trees, max_size=6)))
    declared = draw(st.one_of(st.none(), ENCODINGS, st.just("bogus")))
    declaration = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    text = f"{declaration}{draw(DOCTYPES)}{head}{body}{tail}"
    data = text.encode(draw(ENCODINGS), "replace")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 9)) == 0:
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:
        data = gzip.compress(data)
    return data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "version",
                    "title",
                    "items",
                    "id",
                    "url",
                    "content_html",
                    "content_text",
                    "summary",
                    "date_published",
                    "authors",
                    "home_page_url",
                    "language",
                    "tags",
                    "x",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=30,
)


@st.composite
def json_documents(draw: st.DrawFn) -> bytes:
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": draw(TEXT), "items": draw(json_values)}
    if draw(st.booleans()):
        feed = draw(json_values)  # type: ignore[assignment]
    text = json.dumps(feed)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode("utf-8")


def check(body: bytes, content_type: str | None) -> None:
    try:
        parsed = parse_feed(body, url=URL, content_type=content_type)
    except ParseError as exc:
        assert str(exc).startswith(URL)
        return
    assert isinstance(parsed, ParsedFeed)
    secret = SECRET.read_text(encoding="utf-8")[60:120]  # a line from inside the file an entity names
    for entry in parsed.entries:
        for text in (entry.title, entry.summary or "", entry.content or ""):
            assert secret not in text  # no external entity was read
        # Every string can be stored on both databases: UTF-8 encodable, no NUL (PostgreSQL refuses it).
        for value in dataclasses.astuple(entry):
            for text in value if isinstance(value, tuple) else (value,):
                if isinstance(text, str):
                    assert "\x00" not in text
                    text.encode("utf-8")


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(xml_documents(), st.sampled_from([None, "application/rss+xml", "text/html", "application/json"]))
def test_random_xml_documents_parse_or_fail_as_the_feeds_own_error(
    body: bytes, content_type: str | None
) -> None:
    check(body, content_type)


@settings(max_examples=150, deadline=2000)
@given(json_documents(), st.sampled_from([None, "application/feed+json"]))
def test_random_json_documents_parse_or_fail_as_the_feeds_own_error(
    body: bytes, content_type: str | None
) -> None:
    check(body, content_type)


@settings(max_examples=100, deadline=2000)
@given(st.binary(max_size=2000))
def test_random_bytes_parse_or_fail_as_the_feeds_own_error(body: bytes) -> None:
    check(body, None)


def test_json_nested_past_the_interpreters_limit_is_the_feeds_error() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    )
    try:
        parse_feed(body, url=URL)
    except ParseError as exc:
        assert "nested too deeply" in str(exc) or "not a" in str(exc)
    else:
        raise AssertionError("a JSON feed nested 100,000 deep was read")
