"""parse_feed on the project's own fixture feeds (tests/fixtures/feeds) and small inline documents."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from aggregator.errors import ParseError
from aggregator.feeds import parse
from aggregator.feeds.parse import parse_date, parse_feed, plain_text
from aggregator.types import ParsedEntry, ParsedFeed

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
URL = "https://example.com/feeds/main.xml"
KST = timezone(timedelta(hours=9))


def fixture(name: str, *, url: str = URL, content_type: str | None = None) -> ParsedFeed:
    return parse_feed((FIXTURES / name).read_bytes(), url=url, content_type=content_type)


def by_key(feed: ParsedFeed) -> dict[str, ParsedEntry]:
    return {entry.key: entry for entry in feed.entries}


def rss_item(item_xml: str, *, channel: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://example.com/</link>{channel}<item>{item_xml}</item></channel></rss>"
    ).encode()


def atom_entry(entry_xml: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>T</title><id>urn:x</id><updated>2024-01-01T00:00:00Z</updated>"
        f"<entry><id>urn:x:1</id><updated>2024-01-01T00:00:00Z</updated>{entry_xml}</entry></feed>"
    ).encode()


def only_entry(body: bytes) -> ParsedEntry:
    feed = parse_feed(body, url=URL)
    assert len(feed.entries) == 1
    return feed.entries[0]


# -- formats -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "feed_format", "title", "count"),
    [
        ("rss091.xml", "rss091n", "Example Notes 0.91", 2),
        ("rss092.xml", "rss092", "Example Radio 0.92", 2),
        ("rss10.rdf", "rss10", "Example Research (RDF)", 2),
        ("rss20.xml", "rss20", "Example Tech Blog", 2),
        ("atom03.xml", "atom03", "Example Legacy Atom", 1),
        ("atom10.xml", "atom10", "Example ML Lab", 4),
        ("jsonfeed10.json", "json10", "Example JSON Notes", 2),
        ("jsonfeed11.json", "json11", "예시 블로그", 2),
    ],
)
def test_every_format(name: str, feed_format: str, title: str, count: int) -> None:
    feed = fixture(name)
    assert feed.format == feed_format
    assert feed.title == title
    assert len(feed.entries) == count
    for entry in feed.entries:
        assert entry.key
        assert entry.title
        for date in (entry.published, entry.updated):
            assert date is None or date.tzinfo is UTC


def test_rss20_golden() -> None:
    feed = fixture("rss20.xml")
    assert (feed.link, feed.language, feed.warning) == ("https://example.com/blog/", "ko", None)
    first, second = feed.entries
    assert first == ParsedEntry(
        key="post-1042",
        guid="post-1042",
        # the display URL stays as published, tracking parameters and all
        link="https://example.com/blog/llm-serving?utm_source=rss&utm_medium=feed",
        title="대규모 언어 모델 서빙 & 최적화",
        author="김민수",
        summary="짧은 요약입니다.",
        content="<p>본문 <strong>전체</strong>입니다.</p>",
        content_type="text/html",
        published=datetime(2024, 3, 5, 1, 0, tzinfo=UTC),
        updated=None,
        language="ko",
        tags=("MLOps", "추론"),
    )
    assert second.key == second.guid == second.link == "https://example.com/blog/feature-stores"
    assert second.title == "Why Feature Stores Matter"
    assert second.author == "Jane Doe"
    assert second.summary == '<p>A summary with <a href="https://example.com/x">a link</a>.</p>'
    assert (second.content, second.content_type) == (None, None)
    assert second.published == datetime(2024, 3, 4, 23, 30, tzinfo=UTC)


def test_atom10_golden() -> None:
    feed = fixture("atom10.xml")
    assert feed.title == "Example ML Lab"  # type="html" title, markup stripped
    assert feed.link == "https://example.com/ml/"  # "./" against the feed's xml:base
    assert feed.language == "en"
    scaling, cross, tom, pdf = feed.entries
    assert scaling.link == "https://example.com/ml/posts/scaling-laws"
    assert scaling.title == "Scaling laws for tiny models"
    assert scaling.author == "Example Lab"  # an Atom entry inherits the feed's author
    assert scaling.content == '<p>Hello <a href="code">code</a></p>'  # xhtml, never resolved or sanitised
    assert scaling.content_type == "text/html"
    assert scaling.summary == "Plain & simple."
    assert scaling.published == datetime(2024, 4, 30, 10, 0, tzinfo=UTC)
    assert scaling.updated == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert scaling.tags == ("Scaling", "llm")
    assert cross.link == "https://example.org/elsewhere/notes/cross-posted"  # the entry's own xml:base
    assert cross.author == "Guest Writer"
    assert (cross.content, cross.content_type) == ("Plain text content.", "text/plain")
    assert tom.link == "https://cdn.example.net/mirror/post-3"  # protocol-relative
    assert tom.title == "Tom & Jerry <3 data"
    assert pdf.link == "https://example.com/ml/reports/2024.pdf"  # a non-HTML alternate link


def test_atom03() -> None:
    (entry,) = fixture("atom03.xml").entries
    assert entry.key == "tag:example.org,2005:legacy.1"
    assert entry.link == "https://example.org/legacy/old-but-gold"
    assert entry.published == datetime(2005, 7, 1, 10, 0, tzinfo=UTC)
    assert entry.updated == datetime(2005, 7, 2, 18, 30, 2, tzinfo=UTC)
    assert entry.content == "<p>Escaped <em>content</em>.</p>"
    assert entry.author == "Legacy Author"


def test_rss10_rdf() -> None:
    feed = fixture("rss10.rdf")
    assert feed.language == "ja"
    moe, rlhf = feed.entries
    assert moe.key == "https://example.com/research/2024/04/sparse-moe"  # rdf:about
    assert moe.title == "疎な専門家混合モデルの学習"
    assert moe.author == "山田 花子"
    assert moe.tags == ("機械学習",)
    assert moe.content == '<p>本文です。<a href="/research/code">コード</a></p>'
    assert moe.published is None
    assert moe.updated == datetime(2024, 4, 2, 0, 30, tzinfo=UTC)  # dc:date
    assert rlhf.updated == datetime(2024, 3, 15, tzinfo=UTC)


def test_rss091_uses_links_as_keys_and_its_dtd_entities() -> None:
    feed = fixture("rss091.xml")
    assert feed.warning is None  # &ndash; is declared by the RSS 0.91 DTD
    first, _ = feed.entries
    assert first.guid is None
    assert first.key == first.link == "https://example.com/notes/cafe-benchmarks"
    assert first.title == "Café benchmarks – part one"
    assert feed.language == "en-us"


def test_rss092_untitled_item_gets_an_excerpt() -> None:
    _, untitled = fixture("rss092.xml").entries
    assert (
        untitled.title == "An item with no title, only a description that is long enough to be cut into an…"
    )
    assert len(untitled.title) <= parse.TITLE_EXCERPT_CHARS + 1


def test_json_feed_10() -> None:
    feed = fixture("jsonfeed10.json")
    assert feed.link == "https://example.org/"
    article, link_post = feed.entries
    assert article.title == "Retrieval & reranking – notes"
    assert article.author == "Feed Author"  # the feed's author, JSON Feed 1.0 style
    assert (article.content, article.content_type) == ("<p>Hello <b>world</b></p>", "text/html")
    assert article.summary == "A short summary."
    assert article.published == datetime(2024, 2, 10, 13, 0, tzinfo=UTC)
    assert article.updated == datetime(2024, 2, 11, 8, 0, tzinfo=UTC)
    assert article.tags == ("RAG", "search")
    assert link_post.key == link_post.guid == "42"  # a numeric id
    assert link_post.link == "https://example.com/linked-article"  # external_url when there is no url
    assert link_post.content_type == "text/plain"
    assert link_post.title == "A link post without a title. Second line."
    assert link_post.published == datetime(2024, 2, 10, 8, 0, tzinfo=UTC)  # RFC 822, against the spec


def test_json_feed_11() -> None:
    feed = fixture("jsonfeed11.json", url="https://example.com/feed.json")
    assert feed.link == "https://example.com/"
    assert feed.language == "ko-kr"
    assert feed.warning == "dropped 1 entry whose id (or link) repeats an earlier entry's"
    first, second = feed.entries
    assert first.key == "kr-001"  # stripped
    assert first.link == "https://example.com/posts/%EC%B6%94%EB%A1%A0"
    assert first.author == "박지현"  # the first of the item's authors
    assert first.language == "ko"
    assert first.published == datetime(2024, 3, 5, 1, 0, tzinfo=UTC)
    assert second.author == "편집팀"  # the feed's authors
    assert second.language == "ko-kr"
    assert second.published == datetime(2024, 3, 6, 14, 30, tzinfo=KST)
    assert (second.content, second.content_type) == ("텍스트 본문", "text/plain")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'\xef\xbb\xbf \n {"version": "https://jsonfeed.org/version/1.1", "items": []}', None),
        (b'{"version": "https://jsonfeed.org/version/1", "items": []}', "text/plain"),
        (b'  {"items": []}', "application/feed+json"),
    ],
)
def test_json_feed_detected_by_its_first_character(body: bytes, content_type: str | None) -> None:
    feed = parse_feed(body, url=URL, content_type=content_type)
    assert feed.format.startswith("json")
    assert feed.entries == ()


def test_xml_served_as_json_is_still_read_as_xml() -> None:
    feed = parse_feed(rss_item("<title>x</title>"), url=URL, content_type="application/feed+json")
    assert feed.format == "rss20"


# -- links -------------------------------------------------------------------


def test_relative_links_resolve_against_the_final_url() -> None:
    feed = fixture("relative-links.xml", url="https://example.com/feeds/main.xml")
    assert feed.link == "https://example.com/"
    links = {entry.key: entry.link for entry in feed.entries}
    assert links == {
        "rel-1": "https://example.com/posts/root-relative",
        "rel-2": "https://example.com/feeds/path-relative.html",
        "rel-3": "https://cdn.example.org/posts/protocol-relative",
        "rel-4": "https://example.org/posts/wrapped",
        "rel-5": "javascript:alert(1)",  # kept as published: fetching and rendering decide
    }


def test_relative_links_follow_a_redirected_url() -> None:
    feed = fixture("relative-links.xml", url="https://blog.example.org/rss/")
    assert by_key(feed)["rel-2"].link == "https://blog.example.org/rss/path-relative.html"


def test_xml_base_on_an_entry_stays_in_that_entry() -> None:
    # Without an absolute base feedparser lets an entry's xml:base leak into the next entries.
    feed = fixture("xml-base.atom", url="https://example.com/feeds/main.atom")
    assert feed.link == "https://example.com/"
    assert [entry.link for entry in feed.entries] == [
        "https://example.org/guest/first",
        "https://example.com/feeds/second",
        "https://example.com/archive/2024/third",
    ]


def test_guid_that_is_not_a_url_is_kept_as_written_and_is_no_link() -> None:
    entry = only_entry(rss_item("<title>a</title><guid>1234</guid>"))
    assert entry.key == entry.guid == "1234"
    assert entry.link is None


def test_permalink_guid_is_the_link_when_there_is_none() -> None:
    entry = only_entry(rss_item("<title>a</title><guid>https://example.com/posts/a</guid>"))
    assert entry.key == entry.link == "https://example.com/posts/a"
    entry = only_entry(rss_item('<title>a</title><guid isPermaLink="false">https://example.com/p/1</guid>'))
    assert (entry.key, entry.link) == ("https://example.com/p/1", None)


def test_atom_id_is_no_link() -> None:
    entry = only_entry(atom_entry("<title>no link</title>"))
    assert (entry.key, entry.link) == ("urn:x:1", None)


def test_relative_permalink_guid_is_the_link() -> None:
    entry = only_entry(rss_item('<title>a</title><guid isPermaLink="true">/blog/intro</guid>'))
    assert (entry.key, entry.link) == ("/blog/intro", "https://example.com/blog/intro")


# -- titles ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title_xml", "expected"),
    [
        ("AT&amp;T", "AT&T"),
        ("AT&amp;amp;T", "AT&T"),  # escaped twice, as many publishers do
        ("It&amp;#8217;s here", "It’s here"),
        ("<![CDATA[It&#8217;s <b>bold</b>]]>", "It’s bold"),
        ("<![CDATA[Q&A]]>", "Q&A"),
        ("&lt;b&gt;Bold&lt;/b&gt; move", "Bold move"),
        ("Use &amp;lt;div&amp;gt; wisely", "Use <div> wisely"),
        ("Escaping &amp;amp;lt; in XML", "Escaping &lt; in XML"),  # decoded once, not until nothing is left
        ("&amp;copy 2024", "&copy 2024"),  # no semicolon, no entity
        ("x &lt; y and y &gt; z", "x < y and y > z"),
        ("  Multi\n   line\ttitle  ", "Multi line title"),
        ("모델&#160;경량화", "모델 경량화"),
        ("記事　タイトル", "記事　タイトル"),  # the ideographic space is text
        ("대규모 &amp;amp; 分散学習", "대규모 & 分散学習"),
    ],
)
def test_rss_titles_as_plain_text(title_xml: str, expected: str) -> None:
    assert only_entry(rss_item(f"<title>{title_xml}</title><guid>g</guid>")).title == expected


@pytest.mark.parametrize(
    ("title_xml", "expected"),
    [
        ('<title type="html">&lt;em&gt;Deep&lt;/em&gt; learning</title>', "Deep learning"),
        (
            '<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
            "<em>Deep</em> learning</div></title>",
            "Deep learning",
        ),
        ('<title type="text">a &lt;b&gt; tag</title>', "a <b> tag"),
        ('<title type="text">Tom &amp;amp; Jerry</title>', "Tom & Jerry"),
    ],
)
def test_atom_titles_as_plain_text(title_xml: str, expected: str) -> None:
    assert only_entry(atom_entry(title_xml)).title == expected


def test_untitled_entries() -> None:
    from_content = only_entry(
        rss_item(
            "<guid>g</guid><content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
            "<![CDATA[<script>var x = 1;</script><p>추론 서버의 <b>지연 시간</b>을 줄이는 방법</p>]]>"
            "</content:encoded>"
        )
    )
    assert from_content.title == "추론 서버의 지연 시간을 줄이는 방법"
    assert only_entry(rss_item("<guid>g</guid><title>  </title>")).title == "(untitled)"
    blocks = only_entry(
        rss_item("<guid>g</guid><description>&lt;p&gt;one&lt;/p&gt;&lt;p&gt;two</description>")
    )
    assert blocks.title == "one two"


@pytest.mark.parametrize(
    ("value", "html", "expected"),
    [
        ("<b>a</b>&amp;b", True, "a&b"),
        ("<b>a</b>", False, "<b>a</b>"),
        ("&#x1F600; &#0; &#150;", False, "😀 \ufffd –"),
        ("&unknownentity; stays", False, "&unknownentity; stays"),
        ("bell\x07 char", False, "bell char"),
    ],
)
def test_plain_text(value: str, html: bool, expected: str) -> None:
    assert plain_text(value, html=html) == expected


# -- dates -------------------------------------------------------------------


def test_dates_as_publishers_write_them() -> None:
    entries = by_key(fixture("dates.xml"))
    published = {key: entry.published for key, entry in entries.items()}
    assert published == {
        "d1": datetime(2024, 3, 5, 1, 0, tzinfo=UTC),
        "d2": datetime(2024, 3, 5, 15, 0, tzinfo=UTC),
        "d3": datetime(2024, 3, 5, 1, 0, tzinfo=UTC),
        "d4": None,
        "d5": None,
        "d6": datetime(2024, 3, 5, 15, 4, tzinfo=KST),  # Korean dates without a zone are KST
        "d7": datetime(2024, 3, 5, 14, 33, tzinfo=UTC),  # feedparser alone reads 2024-11-03
        "d8": datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
        "d9": None,
        "d10": datetime(2024, 3, 5, 13, 0, tzinfo=UTC),
    }
    assert entries["d4"].updated == datetime(2024, 3, 5, 1, 0, tzinfo=UTC)
    assert all(entry.updated is None for key, entry in entries.items() if key != "d4")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05T10:00:00Z", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("2024-03-05T10:00:00.250+09:00", datetime(2024, 3, 5, 1, 0, 0, 250000, tzinfo=UTC)),
        ("2024-03-05 10:00:00 +0900", datetime(2024, 3, 5, 1, 0, tzinfo=UTC)),
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 10:00:00 GMT", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("5 Mar 2024 10:00 +0100", datetime(2024, 3, 5, 9, 0, tzinfo=UTC)),
        ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
        ("Mittwoch, 6 März 2024 10:00:00 +0100", datetime(2024, 3, 6, 9, 0, tzinfo=UTC)),
        ("Friday, January 29, 2021 04:42 PM", datetime(2021, 1, 29, 16, 42, tzinfo=UTC)),
        ("2024년 3월 5일", datetime(2024, 3, 5, tzinfo=KST)),
        ("2024. 3. 5. 오전 12:30:00", datetime(2024, 3, 5, 0, 30, tzinfo=KST)),
        ("2024년 3월 5일 (화) 오후 3:04", datetime(2024, 3, 5, 15, 4, tzinfo=KST)),
        ("2024年3月5日 15:04", datetime(2024, 3, 5, 15, 4, tzinfo=KST)),
        ("2024年3月5日 15時04分", datetime(2024, 3, 5, 15, 4, tzinfo=KST)),
        ("2024.03.05 15:04 JST", datetime(2024, 3, 5, 15, 4, tzinfo=KST)),
        ("2024/03/05 06:04 UTC", datetime(2024, 3, 5, 6, 4, tzinfo=UTC)),
        ("2024-02-30", None),
        ("31 Feb 2024 10:00 GMT", None),
        ("yesterday", None),
        ("", None),
        ("2024" * 30, None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    parsed = parse_date(text)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is UTC


def test_leap_second_is_clamped() -> None:
    entry = only_entry(rss_item("<guid>g</guid><pubDate>Sat, 31 Dec 2016 23:59:60 GMT</pubDate>"))
    assert entry.published == datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_published_without_updated_does_not_warn() -> None:
    # feedparser maps a missing `updated` to `published` with a DeprecationWarning (an error here).
    entry = only_entry(rss_item("<guid>g</guid><pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate>"))
    assert entry.updated is None


# -- encodings ---------------------------------------------------------------

KOREAN = ["한국어 제목: 모델 경량화", "두 번째 글: 검색 증강 생성"]
KOREAN_DASH = ["한국어 제목: 모델 경량화", "두 번째 글 – 검색 증강 생성"]
JAPANESE = ["日本語のタイトル：推論の高速化", "二つ目の記事　〜評価指標〜"]


@pytest.mark.parametrize(
    ("name", "content_type", "titles"),
    [
        ("euc-kr.xml", None, KOREAN),
        ("euc-kr.xml", "application/rss+xml; charset=euc-kr", KOREAN),
        ("euc-kr.xml", "text/xml; charset=ISO-8859-1", KOREAN),  # a server default loses to the declaration
        ("http-charset-euc-kr.xml", "application/rss+xml; charset=EUC-KR", KOREAN),
        ("shift_jis.xml", None, ["日本語のタイトル：推論の高速化", "二つ目の記事「評価指標」"]),
        ("wrong-declaration.xml", None, KOREAN_DASH + JAPANESE),
        ("wrong-declaration.xml", "application/rss+xml; charset=iso-8859-1", KOREAN_DASH + JAPANESE),
        ("no-declaration-utf8.xml", "text/xml", JAPANESE),  # RFC 3023 would say US-ASCII
        ("no-declaration-utf8.xml", None, JAPANESE),
        ("utf8-bom.xml", None, KOREAN_DASH),
        ("utf16-bom.xml", None, JAPANESE),
        ("latin1-undeclared.xml", None, ["Études de modèles", "Deuxième note"]),
    ],
)
def test_encodings(name: str, content_type: str | None, titles: list[str]) -> None:
    feed = fixture(name, content_type=content_type)
    assert [entry.title for entry in feed.entries] == titles
    assert feed.warning is None


def test_charset_from_the_headers_mapping() -> None:
    body = (FIXTURES / "http-charset-euc-kr.xml").read_bytes()
    feed = parse_feed(body, url=URL, headers={"Content-Type": "application/xml; charset=euc-kr"})
    assert [entry.title for entry in feed.entries] == KOREAN
    assert feed.title == "예시 블로그"


def test_http_charset_beats_a_wrong_declaration() -> None:
    body = rss_item("<title>모델 경량화</title><guid>g</guid>").replace(b"utf-8", b"ISO-8859-1")
    body = body.decode().encode("euc-kr")
    feed = parse_feed(body, url=URL, content_type="text/xml; charset=euc-kr")
    assert feed.entries[0].title == "모델 경량화"


def test_utf8_with_a_stray_byte_stays_utf8() -> None:
    feed = fixture("utf8-stray-byte.xml", content_type="text/xml; charset=ISO-8859-1")
    first, second = feed.entries
    assert first.title == "한국어 제목: 모델 경량화"
    assert second.title == "두 번째 글 caf\ufffd – 검색 증강 생성"


@pytest.mark.parametrize("label", ["base64", "rot13", "no-such-charset", "utf-16", "unicode-escape"])
def test_useless_charset_labels_are_ignored(label: str) -> None:
    text = rss_item("<title>Caf\u00e9</title><guid>g</guid>").decode().replace("utf-8", label)
    feed = parse_feed(text.encode("latin-1"), url=URL, content_type=f"application/xml; charset={label}")
    assert feed.entries[0].title == "Café"  # read as windows-1252, the last resort


def test_gzip_body_is_read() -> None:
    body = gzip.compress((FIXTURES / "rss20.xml").read_bytes())
    assert len(parse_feed(body, url=URL).entries) == 2


def test_gzip_body_has_a_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "MAX_GUNZIPPED_BYTES", 1000)
    with pytest.raises(ParseError, match="expands past"):
        parse_feed(gzip.compress(b" " * 5000 + (FIXTURES / "rss20.xml").read_bytes()), url=URL)


def test_damaged_gzip() -> None:
    with pytest.raises(ParseError, match="damaged gzip"):
        parse_feed(b"\x1f\x8b\x08\x00garbage", url=URL)


# -- identity ----------------------------------------------------------------


def test_entries_without_id_or_link_get_stable_hash_keys() -> None:
    first_run = fixture("no-ids.xml")
    second_run = fixture("no-ids.xml", url="https://mirror.example.org/status.xml")
    keys = [entry.key for entry in first_run.entries]
    assert keys == [entry.key for entry in second_run.entries]
    expected = "sha1:" + hashlib.sha1(b"Status: all systems normal\n2024-03-06T09:00:00+00:00").hexdigest()
    assert keys[0] == expected
    assert keys[2] == "sha1:" + hashlib.sha1(b"Status: undated\n").hexdigest()
    assert len(set(keys)) == 3  # same title, different dates


def test_duplicate_guids_keep_the_first() -> None:
    feed = fixture("duplicate-guids.xml")
    assert [(entry.key, entry.title) for entry in feed.entries] == [
        ("dup-1", "Newest version of the post"),
        ("https://example.com/other", "A different post"),  # an empty guid is no guid
    ]
    assert feed.entries[1].guid is None
    assert feed.warning == "dropped 1 entry whose id (or link) repeats an earlier entry's"


def test_empty_nested_items_are_skipped() -> None:
    body = rss_item("<title>Real</title><guid>g</guid><item/>")
    feed = parse_feed(body, url=URL)
    assert [entry.title for entry in feed.entries] == ["Real"]
    assert feed.warning == "skipped 1 empty entry"


# -- content, authors, languages ----------------------------------------------


def test_content_only_feed_has_no_copied_summary() -> None:
    entry = only_entry(
        rss_item(
            "<guid>g</guid><title>t</title>"
            "<content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
            "<![CDATA[<p>full</p>]]></content:encoded>"
        )
    )
    assert (entry.content, entry.content_type, entry.summary) == ("<p>full</p>", "text/html", None)


def test_atom_content_by_reference_is_no_content() -> None:
    entry = only_entry(atom_entry('<title>t</title><content src="https://example.com/a.html"/>'))
    assert entry.content is None


def test_rss_author_is_not_inherited_from_the_channel() -> None:
    body = rss_item(
        "<guid>g</guid><title>t</title>", channel="<managingEditor>ed@example.com</managingEditor>"
    )
    assert only_entry(body).author is None


@pytest.mark.parametrize(
    ("language", "headers", "expected"),
    [
        ("<language>en_US</language>", {}, "en-us"),
        ("<language>\n  ko-KR \n</language>", {}, "ko-kr"),
        ("<language>not a language!</language>", {}, None),
        ("", {"Content-Language": "ja"}, "ja"),
        ("", {}, None),
    ],
)
def test_languages(language: str, headers: dict[str, str], expected: str | None) -> None:
    feed = parse_feed(rss_item("<guid>g</guid><title>t</title>", channel=language), url=URL, headers=headers)
    assert feed.language == expected
    assert feed.entries[0].language == expected


# -- malformed documents -----------------------------------------------------


def test_truncated_feed_returns_what_it_could_read() -> None:
    feed = fixture("truncated.xml")
    assert [entry.key for entry in feed.entries] == [
        "https://example.com/first",
        "https://example.com/second",
    ]
    assert feed.warning is not None
    assert feed.warning.startswith("malformed XML (no element found at line 19)")


def test_bare_ampersands_and_html_entities_are_repaired() -> None:
    feed = fixture("bare-ampersands.xml")
    assert feed.title == "Q&A about models"
    assert feed.link == "https://example.com/?a=1&b=2"
    (entry,) = feed.entries
    assert entry.title == "Ranking & recall at scale … part 2"
    assert entry.link == "https://example.com/post?id=7&lang=ko"
    assert entry.summary == "<p>Inside CDATA &nbsp; and R&D stay as they are.</p>"
    assert feed.warning == (
        "escaped 3 bare ampersands (&) not allowed in XML; replaced 2 HTML entities undefined in XML"
    )


def test_control_characters_are_removed() -> None:
    feed = parse_feed(rss_item("<guid>g</guid><title>bad\x0bchar\x00</title>"), url=URL)
    assert feed.entries[0].title == "badchar"
    assert feed.warning == "removed 2 control characters not allowed in XML"


def test_references_to_characters_xml_forbids_are_removed_outside_cdata() -> None:
    """``&#0;`` in a link used to reach the store as a NUL (PostgreSQL refuses it); found by Hypothesis."""
    feed = parse_feed(
        rss_item(
            "<guid>g</guid><link>https://example.com/p/0&#0;</link><title>a&#x1F;b &#233;t&#xE9;</title>"
            "<description><![CDATA[literal &#0; stays text]]></description>"
        ),
        url=URL,
    )
    (entry,) = feed.entries
    assert entry.link == "https://example.com/p/0"
    assert entry.title == "ab été"
    assert "\x00" not in (entry.summary or "")
    assert feed.warning == "removed 2 control characters not allowed in XML"


def test_leading_whitespace_before_the_declaration() -> None:
    feed = parse_feed(b"\n\n  " + (FIXTURES / "rss20.xml").read_bytes(), url=URL)
    assert feed.warning is None
    assert len(feed.entries) == 2


def test_feed_with_title_but_no_entries() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet feed</title></channel></rss>'
    feed = parse_feed(body, url=URL)
    assert (feed.title, feed.entries, feed.warning) == ("Quiet feed", (), None)


# -- not a feed --------------------------------------------------------------


def test_html_page_names_its_feed() -> None:
    body = (FIXTURES / "html-page.html").read_bytes()
    with pytest.raises(ParseError) as caught:
        parse_feed(body, url="https://example.com/blog/", content_type="text/html; charset=utf-8")
    assert caught.value.url == "https://example.com/blog/"
    assert caught.value.reason == (
        "not a feed: got an HTML page (text/html); check the feed URL"
        " (the page names a feed at https://example.com/blog/feed.xml)"
    )


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", None, "empty response body"),
        (b" \r\n\t ", "application/rss+xml", "empty response body"),
        (b"<html><body>Moved</body></html>", None, "got an HTML page (no Content-Type)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "image/png", "neither XML nor JSON (image/png"),
        (b"Service Unavailable", "text/plain", "neither XML nor JSON"),
        (b'{"rss": {"channel": {}}}', "application/json", "without a JSON Feed version or items"),
        (b"{not json", None, "invalid JSON"),
        (b"[1, 2, 3]", "application/json", "not an object"),
        (b"[" * 100_000, "application/json", "not a feed"),
        (
            b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>',
            "application/xml",
            "root element is <urlset>",
        ),
        (b'<?xml version="1.0"?><rss version="2.0"><chan', None, "malformed XML (unclosed token at line 1)"),
        (
            b'<?xml version="1.0"?>\n<rss version="2.0"><channel><item><title>x',
            None,
            "no entries or feed title",
        ),
        (b"/etc/passwd", None, "neither XML nor JSON"),  # feedparser would open a path it is given
    ],
)
def test_not_a_feed(body: bytes, content_type: str | None, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(body, url=URL, content_type=content_type)
    assert reason in caught.value.reason
    assert caught.value.reason.startswith(("not a feed: ", "empty response body"))
