"""The lxml fast path (aggregator.feeds.parse_fast) against the feedparser path, document by document.

Wherever the fast path reads a document, the ParsedFeed must equal the one the
feedparser path makes of it, field by field; where it declines, parse_feed falls
back to feedparser. The corpus (../shared/corpus/feeds) is read in place and
skipped where it is missing.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from aggregator.errors import ParseError
from aggregator.feeds import feedbytes, parse
from aggregator.feeds.parse_fast import fallback_reason, parse_fast, read_feed
from aggregator.types import ParsedFeed
from tests import feedgen

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus" / "feeds"
URL = "https://example.com/feeds/main.xml"

Outcome = ParsedFeed | tuple[str, str]


def outcome(body: bytes, *, fast: bool, url: str = URL, content_type: str | None = None) -> Outcome:
    try:
        return parse._parse_feed(body, url=url, content_type=content_type, fast=fast)
    except ParseError as exc:
        return ("ParseError", exc.reason)


def repaired(body: bytes, content_type: str | None = None) -> bytes | None:
    """The bytes parse.py hands the fast path (None for JSON or an empty body)."""
    _, charset = feedbytes.split_content_type(content_type)
    if body[:2] == b"\x1f\x8b":
        body = feedbytes.gunzip(body, URL)
    start = feedbytes.peek(body)
    if not start or start[0] == "{":
        return None
    text = feedbytes.decode(body, charset, feedbytes.xml_declared_encoding(body))
    return parse._repair_xml(text)[0]


def reason(body: bytes, *, url: str = URL, content_type: str | None = None) -> str | None:
    """Why the fast path declines ``body`` (None when it reads it)."""
    xml = repaired(body, content_type)
    if xml is None:
        return "not XML"
    return fallback_reason(xml, base=url if b"xml:base" in xml else "")


def assert_same(body: bytes, *, url: str = URL, content_type: str | None = None) -> bool:
    """Both paths agree on ``body``; returns whether the fast path read it."""
    slow = outcome(body, fast=False, url=url, content_type=content_type)
    fast = outcome(body, fast=True, url=url, content_type=content_type)
    taken = reason(body, url=url, content_type=content_type) is None
    if isinstance(slow, ParsedFeed) and isinstance(fast, ParsedFeed):
        for field in ("title", "link", "format", "language", "warning"):
            assert getattr(fast, field) == getattr(slow, field), field
        assert [entry.key for entry in fast.entries] == [entry.key for entry in slow.entries]
        for fast_entry, slow_entry in zip(fast.entries, slow.entries, strict=True):
            assert fast_entry == slow_entry
    assert fast == slow
    return taken


# -- the project's fixtures and generated feeds ------------------------------------

XML_FIXTURES = sorted(path.name for path in FIXTURES.iterdir() if path.suffix != ".json")


@pytest.mark.parametrize("name", XML_FIXTURES)
def test_fixtures_agree(name: str) -> None:
    body = (FIXTURES / name).read_bytes()
    assert_same(body)
    assert_same(body, url="https://blog.example.org/rss/")


def test_well_formed_fixtures_take_the_fast_path() -> None:
    declined = {name: reason((FIXTURES / name).read_bytes()) for name in XML_FIXTURES}
    declined = {name: why for name, why in declined.items() if why}
    assert set(declined) == {"truncated.xml", "html-page.html"}, declined


@pytest.mark.parametrize("seed", range(12))
def test_generated_feeds_agree(seed: int) -> None:
    site = f"http://127.0.0.1:8000/blog{seed}"
    items = feedgen.entries(site, 15, seed=seed)
    extra = '<item><title>Q&amp;A</title><guid isPermaLink="true">/p/extra</guid></item>' if seed % 3 else ""
    for body in (
        feedgen.rss(f"Blog {seed}", site, items, extra_item_xml=extra),
        feedgen.atom(f"Blog {seed}", site, items),
    ):
        assert assert_same(body, url=site + "/feed.xml")


# -- quirks both paths must share ------------------------------------------------

RSS_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"'
    ' xmlns:media="http://search.yahoo.com/mrss/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
    "<channel><title>T</title><link>https://example.com/</link>"
)
ATOM_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"'
    ' xmlns:media="http://search.yahoo.com/mrss/"><title>T</title><id>urn:x</id>'
)


def rss(items: str, channel: str = "") -> bytes:
    return (RSS_HEAD + channel + items + "</channel></rss>").encode()


def atom(entries: str, feed: str = "") -> bytes:
    return (ATOM_HEAD + feed + entries + "</feed>").encode()


QUIRKS = {
    "guid variants": rss(
        "<item><title>a</title><guid>1234</guid></item>"
        '<item><title>b</title><guid isPermaLink="True">https://example.com/b</guid></item>'
        '<item><title>c</title><guid isPermaLink="false">https://example.com/c</guid></item>'
        "<item><title>d</title><link>https://example.com/d</link><guid>/d</guid></item>"
        "<item><title>e</title><guid>  https://example.com/e  </guid><link></link></item>"
    ),
    "links": rss(
        "<item><title>a</title><link> https://example.com/a?x=1&amp;amp;y=2&amp;z;=3 </link></item>"
        '<item><title>b</title><atom:link rel="alternate" href="/b"/><link>https://example.com/b2</link></item>'
        '<item><title>c</title><link>https://example.com/c</link><atom:link href="https://example.com/c2"/></item>'
        '<item><title>d</title><atom:link rel="self" href="https://example.com/d"/></item>'
        '<item><title>e</title><enclosure url="https://example.com/e.mp3" type="audio/mpeg" length="1"/>'
        "</item>",
        '<atom:link rel="self" type="application/rss+xml" href="https://example.com/feed"/>',
    ),
    "titles": rss(
        "<item><title>  first\n title </title><title>second</title><guid>a</guid></item>"
        "<item><media:title>media</media:title><title>own</title><guid>b</guid></item>"
        "<item><media:content url='x'><media:title>nested</media:title></media:content><guid>c</guid></item>"
        "<item><title><![CDATA[<b>bold</b> &amp; co]]></title><guid>d</guid></item>"
        "<item><title>x &lt;i&gt;y&lt;/i&gt; &amp;amp; &#8217;</title><guid>e</guid></item>"
        "<item><title></title><description>only a description</description><guid>f</guid></item>"
        "<item><title>a</title><source url='https://example.org/'>Src</source><title>b</title><guid>g</guid></item>"
    ),
    "summaries and content": rss(
        "<item><guid>a</guid><description>d1</description><description>d2</description></item>"
        "<item><guid>b</guid><itunes:summary>it</itunes:summary><description>&lt;p&gt;d&lt;/p&gt;</description></item>"
        "<item><guid>c</guid><content:encoded><![CDATA[<p>c</p>]]></content:encoded><description>d</description></item>"
        "<item><guid>d</guid><description>a &amp; b<p>raw <b>html</b></p> tail</description></item>"
        "<item><guid>e</guid><description>x<div>in a div</div></description></item>"
        "<item><guid>f</guid><content:encoded>  </content:encoded><dc:description>dc</dc:description></item>"
        "<item><guid>g</guid><media:description>md</media:description></item>"
    ),
    "authors and tags": rss(
        "<item><guid>a</guid><author>jane@example.com (Jane Doe)</author></item>"
        "<item><guid>b</guid><dc:creator>Kim</dc:creator><dc:creator>Lee</dc:creator></item>"
        "<item><guid>c</guid><itunes:author>Pod</itunes:author><category>x</category>"
        '<category domain="d">y</category><category>x</category><dc:subject>z</dc:subject>'
        '<media:category>m</media:category><itunes:category text="It"/>'
        "<itunes:keywords>k1, k2</itunes:keywords>"
        "<media:keywords>m1,m2</media:keywords></item>",
        "<managingEditor>ed@example.com</managingEditor><itunes:owner><itunes:name>Own</itunes:name>"
        "<itunes:email>o@example.com</itunes:email></itunes:owner>",
    ),
    "dates": rss(
        "<item><guid>a</guid><pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate>"
        "<dc:date>2024-03-06</dc:date></item>"
        "<item><guid>b</guid><pubDate>2024/3/10 10:00</pubDate><pubDate>bad</pubDate></item>"
        "<item><guid>c</guid><date>2024-01-01T00:00:00Z</date><lastBuildDate>2024-01-02</lastBuildDate></item>"
        "<item><guid>d</guid><dcterms:modified xmlns:dcterms='http://purl.org/dc/terms/'>2024-02-02</dcterms:modified></item>"
    ),
    "languages": rss(
        '<item xml:lang="fr"><guid>a</guid><title>t</title></item>'
        '<item><guid>b</guid><title xml:lang="de_DE">t</title><language>ja</language></item>'
        '<item lang=""><guid>c</guid><description xml:lang="ko">d</description></item>',
        "<language>en_US</language><dc:language>it</dc:language>",
    ),
    "images and text inputs": rss(
        "<item><guid>a</guid><title>a</title><image><title>img</title><link>https://x/</link></image>"
        "<link>https://example.com/a</link></item>",
        "<image><url>https://example.com/i.png</url><title>Logo</title><link>https://example.com/</link>"
        "<width>1</width><height>x</height><description>d</description></image>"
        "<textInput><title>Search</title><name>q</name><link>https://example.com/s</link></textInput>",
    ),
    "encodings and characters": rss(
        "<item><guid>a</guid><title>caf\u00c3\u00a9 \u0096 \u0080</title></item>"
        "<item><guid>b</guid><title>\u00e9t\u00e9 \u2603 \U0001f600</title>"
        "<description>\u0093q\u0094</description></item>"
        "<item><guid>c</guid><title>tab\tand\r\nnewline&#13;</title></item>"
    ),
    "unknown elements": rss(
        "<item><guid>a</guid><foo>bar</foo><links>text</links><x:y xmlns:x='urn:x' a='1'>z</x:y>"
        "<wrapper><title>wrapped</title></wrapper></item>"
        "<item><guid>b</guid><content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content'>"
        "<![CDATA[<p>no slash</p>]]></content:encoded></item>"
    ),
    "rss at the channel's side": (
        b'<?xml version="1.0"?><rss version="0.92"><channel><title>A</title><item><title>i</title></item>'
        b"<title>B</title></channel><item><title>outside</title><link>https://example.com/o</link></item></rss>"
    ),
    "rss 0.91 netscape": (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel>'
        b"<title>N</title><item><title>n &#8211; 1</title><link>https://example.com/n</link></item></channel></rss>"
    ),
    "rss in a namespace": (
        b'<?xml version="1.0"?><rss xmlns="http://backend.userland.com/rss2" version="2.0"><channel>'
        b"<title>U</title><item><title>u</title><link>https://example.com/u</link></item></channel></rss>"
    ),
    "rdf": (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b'<channel rdf:about="https://example.com/"><title>R</title><link>https://example.com/</link></channel>'
        b'<item rdf:about="https://example.com/1"><title>one</title><link>https://example.com/1</link>'
        b"<dc:date>2024-04-02T09:30:00+09:00</dc:date></item>"
        b'<item rdf:about="/2"><title>two</title></item></rdf:RDF>'
    ),
    "rss 0.90": (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://my.netscape.com/rdf/simple/0.9/"><channel><title>old</title>'
        b"<link>https://example.com/</link></channel><item><title>i</title><link>https://example.com/i</link>"
        b"</item></rdf:RDF>"
    ),
    "atom links and ids": atom(
        '<entry><id>tag:x,2024:1</id><title>a</title><link href="/a"/><link rel="alternate" type="text/html"'
        ' href="https://example.com/a2"/></entry>'
        '<entry><id>https://example.com/b</id><title>b</title><link rel="enclosure" href="/b.mp3"/></entry>'
        '<entry><id>c</id><title>c</title><link rel="alternate" type="application/pdf" href="c.pdf"/></entry>'
        '<entry><id>d</id><title>d</title><link rel="ALTERNATE" type="TEXT/HTML" href="D"/></entry>',
        '<link rel="self" href="https://example.com/feed"/><link href="https://example.com/"/>',
    ),
    "atom text constructs": atom(
        '<entry><id>a</id><title type="html">&lt;b&gt;A&lt;/b&gt; &amp;amp;</title>'
        '<summary type="text">1 &lt; 2</summary><content type="html">&lt;p&gt;c&lt;/p&gt;</content></entry>'
        '<entry><id>b</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><em>B</em></div></title>'
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">\n <p class="x">b &amp; <br/>'
        '<a href="/y" title="q&quot;">y</a></p>\n</div></content></entry>'
        '<entry><id>c</id><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">one</div>'
        '<div xmlns="http://www.w3.org/1999/xhtml">two</div></content></entry>'
        '<entry><id>d</id><content type="text/plain">plain</content><summary>s</summary></entry>'
        '<entry><id>e</id><content src="https://example.com/e" type="text/html"/><summary>s</summary></entry>'
        '<entry><id>f</id><content type="application/octet-stream">aGVsbG8=</content></entry>'
        "<entry><id>g</id><summary>first</summary><summary>second</summary></entry>"
        '<entry><id>h</id><content type="xhtml"><xhtml:div xmlns:xhtml="http://www.w3.org/1999/xhtml">'
        '<xhtml:p xml:lang="en">h</xhtml:p></xhtml:div></content></entry>'
        '<entry><id>i</id><content type="html"><p>not escaped</p></content></entry>'
    ),
    "atom authors": atom(
        "<entry><id>a</id><title>a</title></entry>"
        "<entry><id>b</id><title>b</title><author><name>B</name><email>b@example.com</email></author></entry>"
        "<entry><id>c</id><title>c</title><author><email>c@example.com</email></author>"
        "<contributor><name>K</name></contributor></entry>",
        "<author><name>Feed Author</name><uri>https://example.com/</uri></author>",
    ),
    "atom xml:base": (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://example.com/ml/">'
        b'<title>B</title><link href="./"/><entry xml:base="https://example.org/x/"><id>1</id><title>1</title>'
        b'<link href="one"/></entry><entry><id>2</id><title>2</title><link href="two"/></entry>'
        b'<entry xml:base="../up/"><id>/3</id><title>3</title></entry></feed>'
    ),
    "atom 0.3": (
        b'<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old</title>'
        b'<link rel="alternate" type="text/html" href="https://example.com/"/><entry><title>e</title>'
        b'<link rel="alternate" type="text/html" href="https://example.com/e"/><id>tag:e</id>'
        b"<issued>2005-07-01T10:00:00Z</issued><modified>2005-07-02T18:30:02Z</modified>"
        b'<content type="text/html" mode="escaped">&lt;p&gt;x&lt;/p&gt;</content>'
        b'<summary type="text/plain" mode="base64">aGk=</summary></entry></feed>'
    ),
    "feed language on the root": (
        b'<?xml version="1.0"?><rss version="2.0" xml:lang="pt_BR"><channel><title>L</title>'
        b"<item><title>i</title><guid>g</guid></item></channel></rss>"
    ),
    "redeclared prefixes": (
        b'<?xml version="1.0"?><rss version="2.0" xmlns:c="http://purl.org/rss/1.0/modules/content/">'
        b"<channel><title>P</title><item><guid>a</guid><c:encoded>one</c:encoded></item>"
        b'<item xmlns:c="urn:other"><guid>b</guid><c:encoded>two</c:encoded></item>'
        b"<item><guid>c</guid><c:encoded>three</c:encoded></item></channel></rss>"
    ),
}


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_quirks_agree(name: str) -> None:
    assert_same(QUIRKS[name])


def test_quirk_documents_take_the_fast_path() -> None:
    declined = {name: reason(body) for name, body in QUIRKS.items()}
    assert {name: why for name, why in declined.items() if why} == {}


def test_fallbacks_are_still_parsed() -> None:
    svg = atom(
        '<entry><id>s</id><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        '<svg xmlns="http://www.w3.org/2000/svg"><title>t</title></svg></div></content></entry>'
    )
    xlink = rss('<item xmlns:xl="http://www.w3.org/1999/xlink" xl:href="x"><guid>a</guid></item>')
    # expat splits "&lt;div&gt;" into pieces, which feedparser's unwrapping of a <div> looks at
    pieces = atom('<entry><id>p</id><content type="html">&lt;div&gt;<p>x</p><div>y</div></content></entry>')
    for body, why in ((svg, "svg"), (xlink, "XLink"), (pieces, "escaped markup")):
        assert why in (reason(body) or "")
        assert_same(body)


# -- generated odd documents --------------------------------------------------------

NAMESPACES = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"'
    ' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:x="urn:x"'
    ' xmlns:xhtml="http://www.w3.org/1999/xhtml"'
)
ODD_ELEMENTS = [
    "title", "link", "description", "guid", "pubDate", "dc:creator", "dc:date", "content:encoded", "category",
    "author", "atom:link", "media:content", "media:title", "media:group", "enclosure", "source", "image",
    "comments", "foo", "x:bar", "itunes:summary", "itunes:keywords", "language", "xhtml:body", "p", "div",
    "b",
    "date", "name", "url", "summary", "content", "id", "published", "updated", "email", "uri",
    "media:description", "atom:summary", "managingEditor",
]  # fmt: skip
ODD_ATTRIBUTES = {
    "type": ["html", "xhtml", "text", "text/plain", "TEXT/HTML", "application/octet-stream"],
    "rel": ["alternate", "self", "enclosure", "ALTERNATE"],
    "href": ["https://example.com/a", "/rel", "rel2", ""],
    "url": ["/u"],
    "isPermaLink": ["true", "false", "True"],
    "xml:lang": ["en", "", "ko_KR"],
    "xml:base": ["https://b.example/d/", "sub/", ""],
    "term": ["t1", ""],
    "mode": ["escaped", "base64"],
    "x:attr": ["v"],
}
ODD_TEXTS = [
    "",
    " ",
    "plain",
    "a &amp; b",
    "&lt;b&gt;x&lt;/b&gt;",
    "caf\u00c3\u00a9",
    "\u0093q\u0094",
    "https://example.com/x",
    "/rel/x",
    "2024-03-05T10:00:00Z",
    "Tue, 05 Mar 2024 10:00:00 GMT",
    "2024/3/5",
    "Q&amp;amp;A",
    "<![CDATA[<p>cdata &amp; x</p>]]>",
    "  multi\n line  ",
    "aGVsbG8=",
    "jane@example.com (Jane)",
    "&#8217;",
    "x&amp;y;=z",
    "&lt;div&gt;",
]
ODD_DECLARATIONS = [
    'xmlns:x="urn:y"',
    'xmlns:content="urn:other"',
    'xmlns:c2="http://purl.org/rss/1.0/modules/content/"',
    'xmlns="urn:default"',
    'xmlns="http://www.w3.org/1999/xhtml"',
]


def odd_element(rng: random.Random, depth: int) -> str:
    name = rng.choice(ODD_ELEMENTS)
    attributes = dict.fromkeys(rng.sample(sorted(ODD_ATTRIBUTES), rng.choice([0, 0, 1, 2])))
    markup = "".join(f' {key}="{rng.choice(ODD_ATTRIBUTES[key])}"' for key in attributes)
    if rng.random() < 0.1:
        markup += " " + rng.choice(ODD_DECLARATIONS)
    body = rng.choice(ODD_TEXTS)
    if depth < 3 and rng.random() < 0.3:
        body += "".join(
            odd_element(rng, depth + 1) + rng.choice(["", " ", "tail"]) for _ in range(rng.randint(1, 3))
        )
    return f"<{name}{markup}>{body}</{name}>"


def odd_document(seed: int) -> bytes:
    rng = random.Random(seed)
    entries = [
        "".join(odd_element(rng, 1) for _ in range(rng.randint(0, 7))) for _ in range(rng.randint(0, 4))
    ]
    head = "".join(odd_element(rng, 1) for _ in range(rng.randint(0, 3)))
    if seed % 2:
        items = "".join(f"<item>{entry}</item>" for entry in entries)
        document = f'<rss version="2.0" {NAMESPACES}><channel>{head}{items}</channel></rss>'
    else:
        items = "".join(f"<entry>{entry}</entry>" for entry in entries)
        base = ' xml:base="https://base.example/x/"' if seed % 4 else ""
        document = f'<feed xmlns="http://www.w3.org/2005/Atom" {NAMESPACES}{base}>{head}{items}</feed>'
    return ('<?xml version="1.0" encoding="utf-8"?>' + document).encode()


def test_odd_documents_agree() -> None:
    taken = 0
    for seed in range(250):
        body = odd_document(seed)
        try:
            taken += assert_same(body)
        except (KeyError, TypeError, IndexError):
            # feedparser's handlers fail on some of these; then both paths fail alike
            with pytest.raises((KeyError, TypeError, IndexError)):
                parse._parse_feed(body, url=URL, fast=False)
    assert taken > 200


# -- hostile documents -----------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10)
        for level in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
    + b"<guid>g</guid></item></channel></rss>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<rss version="2.0"><channel><title>&xxe;</title><item><title>x</title></item></channel></rss>'
)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_entity_declarations_are_never_expanded(body: bytes) -> None:
    xml = repaired(body)
    assert xml is not None
    assert read_feed(xml) is None
    assert "entity" in (fallback_reason(xml) or "")
    started = time.process_time()
    try:
        feed = parse_feed_fast_or_slow(body)
    except ParseError:
        return
    assert time.process_time() - started < 5
    texts = [feed.title or ""] + [entry.title for entry in feed.entries]
    assert all("lollollol" not in text and "root:" not in text for text in texts)


def parse_feed_fast_or_slow(body: bytes) -> ParsedFeed:
    return parse.parse_feed(body, url=URL)


def test_deep_nesting_does_not_crash() -> None:
    depth = 10_000
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>deep</title><item><guid>g</guid>'
        + b"<x>" * depth
        + b"</x>" * depth
        + b"</item></channel></rss>"
    )
    xml = repaired(body)
    assert xml is not None
    assert read_feed(xml) is None  # libxml2 refuses more than 256 levels without huge_tree
    with contextlib.suppress(ParseError):
        parse.parse_feed(body, url=URL)
    shallow = body.replace(b"<x>" * depth, b"<x>" * 200).replace(b"</x>" * depth, b"</x>" * 200)
    assert reason(shallow) is None
    assert_same(shallow)


def test_parse_fast_declines_what_is_not_a_feed() -> None:
    for body in (b'<?xml version="1.0"?><html><body/></html>', b'<?xml version="1.0"?><rss><channel>'):
        assert parse_fast(body, url=URL) is None


# -- the real-world corpus -------------------------------------------------------


def _corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(path.name for path in CORPUS.iterdir() if path.is_file() and path.name != "INDEX.tsv")


def _wellformed() -> set[str]:
    index = CORPUS / "INDEX.tsv"
    if not index.is_file():
        return set()
    with index.open(encoding="utf-8", newline="") as handle:
        return {row["file"] for row in csv.DictReader(handle, delimiter="\t") if row["wellformed"] == "True"}


CORPUS_FILES = _corpus_files()
MISSING = pytest.param("", marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS}"))

# Corpus files the fast path leaves to feedparser, and why (a prefix of the reason).
CORPUS_FALLBACKS = {
    "intertwingly-samruby.atom.xml": "inline <svg>",
    "openstreetmap-pl-wp.rss.xml": "not well-formed",
    "reuters-mostread-invalid.rss.xml": "not well-formed",
    "tablix-avian-blog.atom.xml": "root element",
}


@functools.cache
def corpus_reason(name: str) -> str | None:
    return reason((CORPUS / name).read_bytes())


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_FILES or [MISSING])
def test_corpus_agrees(name: str) -> None:
    body = (CORPUS / name).read_bytes()
    taken = assert_same(body)
    if name in CORPUS_FALLBACKS:
        assert not taken
        assert (corpus_reason(name) or "").startswith(CORPUS_FALLBACKS[name])


@pytest.mark.corpus
def test_corpus_takes_the_fast_path() -> None:
    if not CORPUS_FILES:
        pytest.skip(f"corpus not found at {CORPUS}")
    reasons = {name: corpus_reason(name) for name in CORPUS_FILES}
    xml = {name: why for name, why in reasons.items() if why != "not XML"}
    declined = {name: why for name, why in xml.items() if why}
    assert declined.keys() == CORPUS_FALLBACKS.keys(), Counter(declined.values())
    wellformed = _wellformed() & xml.keys()
    assert len(wellformed - declined.keys()) >= 0.95 * len(wellformed)


def test_odd_documents_never_raise_anything_but_parse_error() -> None:
    # feedparser raises KeyError/TypeError on some of these; parse_feed must turn
    # that into the feed's own ParseError, never an exception that ends a poll.
    failures = []
    for seed in range(1500):
        try:
            parse.parse_feed(odd_document(seed), url="http://example.com/feed")
        except ParseError:
            pass
        except Exception as exc:
            failures.append((seed, repr(exc)))
    assert failures == []
