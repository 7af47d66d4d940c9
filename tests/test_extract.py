"""extract_page, decode_html, text_from_feed and detect_language on pages written for these tests.

The pages are in tests/fixtures/pages/; the encoded ones (EUC-KR, Shift_JIS, a
BOM, UTF-8 declared as Latin-1) are the UTF-8 pages beside them, re-encoded.
A last group reads the real pages in ../shared/corpus/pages in place (skipped
where the folder is missing). Nothing here may touch the network: every test
runs with socket connections refused.
"""

from __future__ import annotations

import pickle
import random
import re
import socket
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trafilatura
from trafilatura.utils import safe_base_url, safe_relative_url

from aggregator.articles import extract, language, links, walls
from aggregator.articles.extract import (
    PageText,
    challenge_reason,
    decode_html,
    detect_language,
    extract_page,
    text_from_feed,
    word_count,
)
from aggregator.urls import is_http_url

PAGES = Path(__file__).parent / "fixtures" / "pages"
URL = "https://blog.example.com/2024/03/many-models/"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """trafilatura must only ever see bytes we hand it: refuse every connection."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("extraction tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def page(name: str, content_type: str | None = "text/html", url: str = URL, **kwargs: Any) -> PageText:
    return extract_page((PAGES / name).read_bytes(), url=url, content_type=content_type, **kwargs)


def html(body: str, *, head: str = "", lang: str = "en") -> bytes:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head>'
        f"<body>{body}</body></html>"
    ).encode()


ARTICLE = " ".join(
    f"Paragraph {i} explains how the ranking service batches requests for small models on shared hosts."
    for i in range(12)
)


# -- the article among boilerplate ------------------------------------------------


def test_article_is_kept_and_boilerplate_left_out() -> None:
    result = page("article_boilerplate.html")

    assert result.status == "ok" and result.reason is None
    text = result.text or ""
    assert "# Serving many small models on one box" in text
    assert "## Why one container per model stopped working" in text
    assert "Our recommendation team trains several hundred small ranking models" in text
    assert "forty hosts now serve what four hundred containers used to serve" in text
    # Link texts stay (their targets are in `links`), with whitespace folded as a browser shows it.
    assert "our tiny-serve repository and published the distilled checkpoints on the Hugging Face hub" in text
    for boilerplate in (
        "Pricing",  # navigation
        "Careers",
        "Sponsored gadget deals",  # sidebar
        "personality quiz",
        "zebrafinch",  # comments
        "quokka",
        "Copyright Example Corp",  # footer
        "Privacy policy",
    ):
        assert boilerplate not in text, boilerplate
    assert result.word_count == word_count(text) > 150


def test_metadata() -> None:
    result = page("article_boilerplate.html")

    assert result.title == "Serving many small models on one box"
    assert result.author == "Mina Park"
    assert result.site_name == "Example Engineering"
    assert result.language == "en"
    assert result.published == datetime(2024, 3, 5, 1, 20, 30, tzinfo=UTC)
    assert result.published is not None and result.published.utcoffset() is not None


def test_lead_image_is_resolved_against_the_page_url() -> None:
    result = page("article_boilerplate.html", url="https://blog.example.com/2024/03/many-models/?utm=x#top")
    assert result.lead_image == "https://blog.example.com/images/many-models/lead.png"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta name="twitter:image" content="img/card.jpg">', f"{URL}img/card.jpg"),
        ('<link rel="image_src" href="//cdn.example.net/a.png">', "https://cdn.example.net/a.png"),
        (
            '<meta property="og:image" content="data:image/png;base64,AAAA">'
            '<meta property="og:image" content="https://cdn.example.net/b.png">',
            "https://cdn.example.net/b.png",
        ),
        ('<meta property="og:image" content="javascript:alert(1)">', None),
        ('<base href="https://static.example.org/posts/"><meta property="og:image" content="c.png">',
         "https://static.example.org/posts/c.png"),
    ],
)  # fmt: skip
def test_lead_image_sources(head: str, expected: str | None) -> None:
    result = extract_page(html(f"<article><p>{ARTICLE}</p></article>", head=head), url=URL, content_type=None)
    assert result.status == "ok"
    assert result.lead_image == expected


def test_links_are_absolute_http_deduplicated_and_in_order() -> None:
    result = page("article_boilerplate.html")
    assert result.links == (
        "https://github.com/example/tiny-serve",
        "https://huggingface.co/example/tiny-ranker",
        "https://blog.example.com/docs/batching",
        "https://blog.example.com/2024/03/2023/12/profiling-notes/",
    )  # not: "#results" (this page), mailto:, javascript:, the repeated GitHub link, nav and footer links


def prepared_links(body: bytes, url: str) -> list[str]:
    """The hrefs of a page as extract_page hands it to trafilatura (which is told no URL)."""
    tree = walls.parse_html(decode_html(body, "text/html")[0])
    links.prepare_anchors(tree, links.base_url(tree, url))
    return [href for anchor in tree.iter("a") if (href := anchor.get("href"))]


def assert_trafilatura_would_keep(hrefs: list[str], url: str) -> None:
    """Given the page's URL, trafilatura would resolve no http(s) link differently (so it is not given it)."""
    base = safe_base_url(url)
    for href in hrefs:
        resolved = safe_relative_url(base, href) or href  # trafilatura's convert_link
        if is_http_url(href) or is_http_url(resolved):
            assert resolved == href


def test_prepared_links_are_what_trafilatura_would_resolve_them_to() -> None:
    hrefs = [
        "#top", "notes", "./notes?x=1", "../2023/12/profiling-notes/", "/docs/batching",
        "//cdn.example.com/a", "https://github.com/example/tiny-serve", "HTTP://Example.com/Upper",
        "mailto:me@example.com", "javascript:void(0)", " /spaced ", "?page=2", "https://other.example.org/a/../b",
    ]  # fmt: skip
    body = html("".join(f'<a href="{href}">link {i}</a> ' for i, href in enumerate(hrefs)))
    prepared = prepared_links(body, URL)
    assert len(prepared) == len(hrefs)
    assert_trafilatura_would_keep(prepared, URL)
    for path in sorted(PAGES.glob("*.html")):
        assert_trafilatura_would_keep(prepared_links(path.read_bytes(), URL), URL)


def test_heading_permalinks_are_left_out_and_other_same_page_links_kept() -> None:
    body = (
        '<article><h1>Batching small models<a class="headerlink" href="#top">¶</a></h1>'
        f"<p>{ARTICLE}</p>"
        '<h2 id="why">Why batching<a hidden class="anchor" aria-hidden="true" href="#why">#</a></h2>'
        f'<p>{ARTICLE} As the <a href="#costs">section on costs</a> shows, it pays.<a href="#fn1">1</a></p>'
        '<h3 id="costs">Costs <a href="#costs">🔗</a></h3>'
        f"<p>{ARTICLE}</p></article>"
    )
    result = extract_page(html(body), url=URL, content_type="text/html")

    assert result.status == "ok"
    lines = (result.text or "").splitlines()
    assert "## Why batching" in lines and "### Costs" in lines
    assert not any(line.startswith("#") and line.rstrip().endswith(("#", "¶", "🔗")) for line in lines), lines
    text = result.text or ""
    assert "As the section on costs shows, it pays." in text  # a same-page link with words is text
    assert re.search(r"it pays\.\s*1", text)  # a footnote mark is a digit, not a permalink mark
    assert result.links == ()  # same-page links are never in links


def test_a_space_trafilatura_drops_after_a_link_comes_back() -> None:
    # Text loose in a <div> beside a heading: trafilatura's link mode trims the space
    # after the link ("the team blogso"); the page had one, so the text gets it back.
    body = (
        '<article><div class="post-body">Last year I wrote mostly for '
        '<a href="https://work.example.org/blog">the team blog</a> so this one is overdue.<br>'
        f"<h2>Why batching</h2><p>{ARTICLE}</p>"
        '<p>It ships as <a href="https://github.com/example/tiny-serve">tiny-serve</a>\'s default.</p>'
        "</div></article>"
    )
    result = extract_page(html(body), url=URL, content_type="text/html")

    assert result.status == "ok"
    text = " ".join((result.text or "").split())
    assert "the team blog so this one is overdue." in text
    assert "tiny-serve's default" in text  # no space on the page, none added
    assert result.links == ("https://work.example.org/blog", "https://github.com/example/tiny-serve")


# -- structure: code and tables ------------------------------------------------------


def test_code_blocks_keep_their_line_breaks() -> None:
    text = page("code_blocks.html").text or ""
    block = (
        "```\n"
        "def warm_up(pool):\n"
        "    for worker in pool.workers:\n"
        "        worker.run(extract_page, SAMPLE_PAGE)\n"
        "        if worker.failed:\n"
        '            raise RuntimeError("worker did not start")\n'
        "```"
    )
    assert block in text
    assert "$ time curl -s localhost:8080/health\nreal    0m0.041s" in text


def test_table_cells_are_kept() -> None:
    text = page("table.html").text or ""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert [cell.strip() for cell in rows[0].strip("| ").split("|")] == [
        "Variant",
        "Size (MB)",
        "Latency (ms)",
        "NDCG@10 change",
    ]
    assert any(
        [cell.strip() for cell in row.strip("| ").split("|")]
        == ["int8 static calibrated", "206", "17.9", "-0.2%"]
        for row in rows
    )


# -- Korean and Japanese ---------------------------------------------------------------


def test_korean_article() -> None:
    result = page("korean.html")

    assert result.status == "ok"
    assert result.language == "ko"
    assert result.title == "작은 언어 모델로 검색 품질 높이기"
    assert result.site_name == "예시 기술 블로그"
    assert "가장 크게 배운 점은 데이터 정제가 모델 크기보다 중요하다는 것입니다." in (result.text or "")
    assert "저작권" not in (result.text or "")  # footer


def test_japanese_article_with_a_wrong_lang_attribute() -> None:
    result = page("japanese.html")  # <html lang="en"> over Japanese text

    assert result.status == "ok"
    assert result.language == "ja"
    assert result.title == "推論サーバーのメモリ使用量を半分にした話"
    text = result.text or ""
    assert "ｶﾀｶﾅの半角表記や「かぎ括弧」、①のような記号もそのまま残ることを確認しています。" in text
    # The source's line breaks between Japanese characters vanish rather than becoming spaces.
    assert "同時接続数が増えるとメモリが急激に増えていました。" in text
    assert 150 < result.word_count < 300  # about 400 kanji and kana, two to a word


# -- flagged pages ----------------------------------------------------------------------


def test_cloudflare_challenge() -> None:
    result = page("cloudflare_challenge.html")

    assert result.status == "challenge"
    assert result.text is None and result.title is None and result.word_count == 0
    assert "Cloudflare" in (result.reason or "")


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("Attention Required! | Cloudflare", "<p>Sorry, you have been blocked.</p>"),
        ("Access Denied", '<h1>Access Denied</h1><p>You don\'t have permission to access "/x" on this server.'
         "</p><p>Reference #18.1a2b3c4d</p>"),
        ("DDOS-GUARD", "<p>Checking your browser before accessing the website.</p>"),
        ("Example Blog", "<p>Please enable cookies.</p><p>We use them to keep the site working.</p>"),
        ("Example Blog", "<p>This site requires JavaScript.</p>"),
        ("Example Blog", '<div id="app"></div><script src="/js/app.js"></script>'),
    ],
)  # fmt: skip
def test_bot_walls_and_javascript_shells(title: str, body: str) -> None:
    result = extract_page(html(body, head=f"<title>{title}</title>"), url=URL, content_type="text/html")
    assert result.status == "challenge", result.reason
    assert result.text is None


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ((PAGES / "cloudflare_challenge.html").read_bytes(), "text/html", "Cloudflare"),
        (html("<p>Please enable JavaScript to view this website.</p>"), "text/html", "enable JavaScript"),
        (html("<h1>Access Denied</h1>", head="<title>Access Denied</title>"), None, "Access Denied"),
        # A plain error page with a script is not an application shell: no marker, no challenge.
        (html("<h1>404</h1><p>Not found.</p>", head="<script src='/a.js'></script>"), "text/html", None),
        (html("<h1>Internal Server Error</h1>"), "text/html; charset=utf-8", None),
        (b"Just a moment...", "text/plain", None),  # not HTML
        (b"", "text/html", None),
    ],
    ids=["cloudflare", "enable-javascript", "access-denied", "404-with-script", "500", "plain-text", "empty"],
)
def test_challenge_reason_of_an_error_page(
    body: bytes, content_type: str | None, expected: str | None
) -> None:
    reason = challenge_reason(body, content_type=content_type)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason


def test_empty_spa_shell_is_a_challenge() -> None:
    # Flagged as a challenge rather than too_short: the article exists but needs JavaScript, which is a
    # property of the site (a later fetch will not help), not a short post.
    result = page("spa_shell.html")
    assert result.status == "challenge"
    assert "JavaScript" in (result.reason or "")


def test_paywall_stub() -> None:
    result = page("paywall_stub.html")
    assert result.status == "paywall"
    assert result.text is None
    assert "subscribers" in (result.reason or "")


def test_paywall_teaser_in_a_large_page() -> None:
    # Too much navigation for the cheap check before extraction; the teaser is caught after it.
    nav = "".join(
        f'<li><a href="/section/{i}">Section number {i} of the newspaper</a></li>' for i in range(60)
    )
    body = (
        f"<header><nav><ul>{nav}</ul></nav></header><article><h1>Retraining every night</h1>"
        "<p>Nightly retraining sounds like good hygiene for a recommendation system, but the compute bill "
        "and the debugging time can quietly exceed what the fresher model earns back. Here is what we found "
        "when we measured it over a full year of production traffic across all markets.</p>"
        "<p>Subscribe to continue reading.</p></article>"
    )
    result = extract_page(
        html(body, head="<title>Retraining every night</title>"), url=URL, content_type=None
    )
    assert result.status == "paywall", result.reason
    assert result.text is None
    assert result.title == "Retraining every night"  # the teaser's metadata is the article's


def test_long_article_that_mentions_subscribing_is_not_a_paywall() -> None:
    result = page("long_article_subscribe.html")
    assert result.status == "ok", result.reason
    assert "There is no paywall" in (result.text or "")
    assert result.word_count > extract.PAYWALL_TEASER_WORDS


def test_paywall_class_name_beside_a_full_article_is_ok() -> None:
    body = f'<article class="paywall-wrapper"><p>{ARTICLE}</p><p>{ARTICLE}</p></article>'
    assert extract_page(html(body), url=URL, content_type="text/html").status == "ok"


def test_too_short_page_keeps_its_metadata_not_its_text() -> None:
    result = page("too_short.html")

    assert result.status == "too_short"
    assert result.text is None
    assert result.title == "Slides from our talk at the ML meetup"
    assert 20 < result.word_count < 80
    assert "fewer than 80" in (result.reason or "")
    assert page("too_short.html", min_words=20).status == "ok"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ((PAGES / "document.pdf").read_bytes(), "application/pdf"),
        ((PAGES / "document.pdf").read_bytes(), "text/html; charset=utf-8"),  # mislabelled
        ((PAGES / "document.pdf").read_bytes(), None),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", None),
        (b'{"title": "not a page"}', "application/json"),
        (b"plain words, no markup at all", "text/plain"),
        (b"\x00\x01\x02\x03 binary", "application/octet-stream"),
    ],
)
def test_not_html(body: bytes, content_type: str | None) -> None:
    result = extract_page(body, url=URL, content_type=content_type)
    assert result.status == "not_html"
    assert result.text is None and result.reason


def test_untyped_html_and_xhtml_are_pages() -> None:
    assert extract_page(html(f"<p>{ARTICLE}</p>"), url=URL, content_type=None).status == "ok"
    assert (
        extract_page(html(f"<p>{ARTICLE}</p>"), url=URL, content_type="application/xhtml+xml").status == "ok"
    )


@pytest.mark.parametrize("body", [b"", b"   \n", b"<html></html>", b"<html><body><p></p></body></html>"])
def test_empty_pages_are_too_short(body: bytes) -> None:
    result = extract_page(body, url=URL, content_type="text/html")
    assert result.status in ("too_short", "challenge"), result
    assert result.text is None


def test_pathological_pages_do_not_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    deep = b"<html><body>" + b"<div>" * 5000 + b"deep" + b"</div>" * 5000 + b"</body></html>"
    assert extract_page(deep, url=URL, content_type="text/html").status in ("too_short", "ok")
    monkeypatch.setattr(walls, "MAX_ELEMENTS", 100)
    wide = html("".join(f"<p>paragraph {i}</p>" for i in range(200)))
    result = extract_page(wide, url=URL, content_type="text/html")
    assert result.status == "error"
    assert "elements" in (result.reason or "")


def test_a_failing_extractor_is_an_error_status(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("the parser choked")

    monkeypatch.setattr(trafilatura, "bare_extraction", fail)
    result = extract_page(html(f"<p>{ARTICLE}</p>"), url=URL, content_type="text/html")
    assert result == PageText.flagged(
        "error", "trafilatura failed on the page: ValueError: the parser choked"
    )
    # The feed's HTML falls back to lxml's text instead.
    got = text_from_feed(f"<p>{ARTICLE}</p>", "text/html", None, url=URL)
    assert got is not None and (got[1].text or "").startswith("Paragraph 0 explains")


def test_publication_date_is_bounded_by_now() -> None:
    head = '<meta property="article:published_time" content="2030-01-01T00:00:00Z">'
    now = datetime(2024, 6, 1, tzinfo=UTC)
    result = extract_page(html(f"<p>{ARTICLE}</p>", head=head), url=URL, content_type=None, now=now)
    assert result.published is None or result.published <= now


def test_a_copyright_year_is_not_a_publication_date() -> None:
    body = html(f"<article><p>{ARTICLE}</p></article><footer>© 2017 Example Corp</footer>")
    result = extract_page(body, url="https://example.com/post", content_type="text/html")
    assert result.status == "ok"
    assert result.published is None


def test_results_are_frozen_and_pickle() -> None:
    result = page("article_boilerplate.html")
    assert pickle.loads(pickle.dumps(result)) == result
    with pytest.raises(FrozenInstanceError):
        result.status = "error"  # type: ignore[misc]


# -- decoding ---------------------------------------------------------------------------

KOREAN_SENTENCE = "가장 크게 배운 점은 데이터 정제가 모델 크기보다 중요하다는 것입니다."


def test_euc_kr_page_declared_utf8_is_detected() -> None:
    body = (PAGES / "euc_kr_declared_utf8.html").read_bytes()
    text, codec = decode_html(body, "text/html; charset=utf-8")
    assert codec == "cp949"
    assert KOREAN_SENTENCE in text
    result = extract_page(body, url=URL, content_type="text/html; charset=utf-8")
    assert result.status == "ok" and result.language == "ko"
    assert KOREAN_SENTENCE in (result.text or "")


def test_utf8_page_declared_latin1_is_read_as_utf8() -> None:
    body = (PAGES / "utf8_declared_latin1.html").read_bytes()
    _, codec = decode_html(body, "text/html; charset=ISO-8859-1")
    assert codec == "utf-8"
    result = extract_page(body, url=URL, content_type="text/html; charset=ISO-8859-1")
    assert result.title == "Modèles légers à l'été : résumé"
    assert "Merci à Zoë, à Jürgen et à François" in (result.text or "")
    assert result.language == "fr"


def test_shift_jis_meta_charset_reads_as_cp932() -> None:
    body = (PAGES / "shift_jis.html").read_bytes()
    _, codec = decode_html(body, "text/html")
    assert codec == "cp932"  # "①" is a Windows-31J (cp932) character, not in strict Shift_JIS
    result = extract_page(body, url=URL, content_type="text/html")
    assert result.language == "ja"
    assert "ｶﾀｶﾅの半角表記や「かぎ括弧」、①のような記号" in (result.text or "")


def test_byte_order_mark_wins_over_declarations() -> None:
    body = (PAGES / "bom_utf8.html").read_bytes()  # BOM, <meta charset="windows-1252">
    text, codec = decode_html(body, "text/html; charset=iso-8859-1")
    assert codec == "utf-8"
    assert not text.startswith("\ufeff")
    result = extract_page(body, url=URL, content_type="text/html; charset=iso-8859-1")
    assert KOREAN_SENTENCE in (result.text or "")


KO = "작은 언어 모델로 검색 품질을 높였습니다. " * 30
JA = "推論サーバーのメモリ使用量を半分にしました。" * 30


@pytest.mark.parametrize(
    ("body", "content_type", "codec", "why"),
    [
        ("café".encode("cp1252"), "text/html; charset=windows-1252", "cp1252", "HTTP charset"),
        (b'<meta charset="latin1">caf\xe9', None, "cp1252", "Latin-1 is read as windows-1252"),
        (b'<meta charset="iso-8859-1">na\x96ve \x93quoted\x94', None, "cp1252", "C1 bytes are cp1252's"),
        (f'<meta charset="euc-kr">{KO}'.encode("cp949"), None, "cp949", "EUC-KR is read as cp949"),
        (f'<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">{JA}'.encode("cp932"),
         None, "cp932", "http-equiv"),
        (f'<?xml version="1.0" encoding="Shift_JIS"?><html>{JA}</html>'.encode("cp932"), None, "cp932",
         "XML declaration"),
        (f'<meta charset="euc-kr">{KO}'.encode("cp949"), "text/html; charset=utf-8", "cp949",
         "a wrong HTTP charset falls back to the <meta>"),
        (f'<meta charset="windows-1252">{KO}'.encode("cp949"), None, "cp949",
         "a single-byte charset over Korean bytes reads as mojibake: detected"),
        (f'<meta charset="no-such-charset">{JA}'.encode(), None, "utf-8", "unknown label"),
        (f'<meta charset="base64">{JA}'.encode(), None, "utf-8", "not a text encoding"),
        (f'<meta charset="utf-16">{JA}'.encode(), None, "utf-8", "a readable <meta> cannot be UTF-16"),
        ("\ufeff<p>UTF-16 with a BOM</p>".encode("utf-16-le"), "text/html; charset=utf-8", "utf-16-le",
         "BOM"),
    ],
)  # fmt: skip
def test_decode_html(body: bytes, content_type: str | None, codec: str, why: str) -> None:
    text, used = decode_html(body, content_type)
    assert used == codec, why
    assert "\ufffd" not in text


@pytest.mark.parametrize("codec", ["euc_jp", "cp932", "cp949", "gb18030"])
def test_undeclared_legacy_encodings_are_detected(codec: str) -> None:
    sample = KO if codec == "cp949" else "深度学习模型的推理优化方法。" * 30 if codec == "gb18030" else JA
    text, used = decode_html(f"<p>{sample}</p>".encode(codec), None)
    assert sample in text, used


def test_undecodable_bytes_do_not_raise() -> None:
    text, codec = decode_html(bytes(range(128, 256)) * 4, "text/html; charset=utf-8")
    assert isinstance(text, str) and codec


# -- the feed's own text -----------------------------------------------------------------

FEED_HTML = (
    "<p>We moved <strong>four hundred</strong> containers onto forty hosts.</p>"
    '<p>The code is on <a href="https://github.com/example/tiny-serve">GitHub</a> and the weights on '
    '<a href="https://huggingface.co/example/tiny-ranker">the hub</a>; see <a href="/docs">the docs</a>.</p>'
    "<pre><code>pip install tiny-serve\ntiny-serve --models ./models</code></pre>"
    "<p>The post Serving many models appeared first on Example Engineering.</p>"
)


def test_feed_content_shorter_than_min_words_still_beats_a_shorter_summary() -> None:
    got = text_from_feed(FEED_HTML, "text/html", "A short summary.", url=URL)
    assert got is not None
    assert got[0] == "feed"
    assert got[1].word_count < 80


def test_a_longer_summary_beats_a_short_content() -> None:
    summary = f"<p>{ARTICLE}</p>"
    got = text_from_feed("<p>Read more on our blog.</p>", "text/html", summary, url=URL)
    assert got is not None
    source, result = got
    assert source == "summary"
    assert (result.text or "").startswith("Paragraph 0 explains")


def test_feed_content_wins_when_long_enough() -> None:
    got = text_from_feed(FEED_HTML, "text/html", "A short summary.", url=URL, min_words=10)
    assert got is not None
    source, result = got
    assert source == "feed"
    assert result.status == "ok" and result.reason is None
    text = result.text or ""
    assert "We moved four hundred containers onto forty hosts." in text.replace("**", "")
    assert "pip install tiny-serve\ntiny-serve --models ./models" in text
    assert result.links == (
        "https://github.com/example/tiny-serve",
        "https://huggingface.co/example/tiny-ranker",
        "https://blog.example.com/docs",
    )
    assert result.language == "en"


def test_feed_plain_text_content_and_language() -> None:
    content = f"{KO}\n\n자세한 내용은 https://github.com/example/ko-search 에 있습니다."
    got = text_from_feed(content, "text/plain", None, url=URL, language="ko")
    assert got is not None
    source, result = got
    assert source == "feed"
    assert result.language == "ko"
    assert result.links == ("https://github.com/example/ko-search",)
    assert result.text == content.strip()


def test_summary_is_the_fallback() -> None:
    summary = "<p>Nightly retraining costs more than it earns &amp; here is why.</p>"
    got = text_from_feed(None, None, summary, url=URL)
    assert got is not None
    source, result = got
    assert source == "summary"
    assert result.text == "Nightly retraining costs more than it earns & here is why."
    assert result.status == "ok"


@pytest.mark.parametrize(
    ("content", "summary"), [(None, None), ("", ""), ("<p> </p>", "   "), ("<img src='x.png'>", None)]
)
def test_no_feed_text(content: str | None, summary: str | None) -> None:
    assert text_from_feed(content, "text/html", summary, url=URL) is None


# -- language and word counts ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "declared", "expected"),
    [
        ("Serving many small models on one box", None, "en"),
        ("Serving many small models on one box", "en-US", "en"),
        ("Modèles légers à l'été", "fr", "fr"),
        ("Serving many small models", "ko", "en"),  # a Korean blog's English post
        ("Serving many small models", "ja-JP", "en"),
        ("작은 언어 모델로 검색 품질 높이기", None, "ko"),
        ("작은 언어 모델로 검색 품질 높이기", "en", "ko"),
        ("GPT-4와 Llama 3를 비교한 벤치마크 결과를 정리했습니다", None, "ko"),
        ("推論サーバーのメモリ使用量を半分にした話", "en", "ja"),
        ("Kubernetes で LLM の推論を高速化する", None, "ja"),
        ("機械学習基盤", None, "zh"),  # Han only: Chinese unless declared otherwise
        ("機械学習基盤", "ja", "ja"),
        ("機械学習基盤", "ko-KR", "ko"),
        ("深度学习模型的推理优化", "zh-TW", "zh"),
        ("Модель обучена на большом корпусе", None, "ru"),
        ("Модель обучена на большом корпусе", "uk", "uk"),
        ("Το μοντέλο εκπαιδεύτηκε", "en", "el"),
        ("An English article quoting one Japanese word: 推論.", None, "en"),
        ("12345 !!!", "ja", "ja"),
        ("12345 !!!", None, None),
        ("", "not a language tag!", None),
    ],
)
def test_detect_language(text: str, declared: str | None, expected: str | None) -> None:
    assert detect_language(text, declared=declared) == expected


def test_detect_language_counts_latin_letters_beside_other_scripts() -> None:
    # Scripts are counted on the non-ASCII characters alone; accented Latin letters
    # still count as Latin, beside the ASCII ones.
    assert detect_language("Ça déménage: café, naïveté, Ærø" * 3, declared="fr") == "fr"
    assert detect_language("Ελληνικά and a few English words", declared=None) == "en"
    assert detect_language("Ελληνικά κείμενα με λίγα English", declared=None) == "el"


@pytest.mark.parametrize(
    "markup",
    [
        "<html><head><title>T</title><style>p{}</style></head>"
        "<body><script>var a</script>after <b>b</b></body></html>",
        "<html><head><title>T</title></head><body><noscript><p>enable JavaScript</p></noscript>"
        "<template><p>hidden</p></template><p>shown</p></body></html>",
        "<html><body><p>a</p></body><p>after the body</p></html>",
        "<html><!-- a comment -->loose text<body><p>x</p></body></html>",
        "<p>a fragment</p><script>x()</script>",
    ],
)
def test_visible_text_on_the_quick_path_is_the_full_searchs(markup: str) -> None:
    tree = trafilatura.load_html(markup)
    assert tree is not None
    assert walls._visible_texts(tree) == list(walls._VISIBLE_TEXT(tree))


def test_visible_text_on_the_quick_path_on_every_fixture_page() -> None:
    for path in sorted(PAGES.glob("*.html")):
        tree = trafilatura.load_html(extract.decode_html(path.read_bytes(), "text/html")[0])
        assert tree is not None, path.name
        assert walls._visible_texts(tree) == list(walls._VISIBLE_TEXT(tree)), path.name


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Serving many small models on one box", 7),
        ("snake_case and GPT-4 count", 5),
        ("작은 언어 모델로 검색 품질 높이기", 6),  # Korean separates words with spaces
        ("推論サーバー", 3),  # six kanji and kana: two to a word
        ("推論サーバーの", 4),  # seven: rounded up
        ("Kubernetes で推論", 3),
        ("", 0),
    ],
)
def test_word_count(text: str, words: int) -> None:
    assert word_count(text) == words


# -- the real pages (../shared/corpus, read in place) -----------------------------------------

CORPUS_LANGUAGES = {
    "dreamgonfly-ko-gan-explained.html": "ko",
    "sculove-ko-reactive-programming.html": "ko",
    "taetaetae-ko-kafka-review.html": "ko",
    "dwango-jp-iframe-to-web-components.html": "ja",
    "postlight-sect.iij.ad.jp.html": "ja",
    "postlight-www.itmedia.co.jp.html": "ja",  # declared Shift_JIS, Japanese as character references
    "lilianweng-2023-06-23-agent.html": "en",
    "huggingface-blog-smollm.html": "en",
    "feeder-gb2312.html": "zh",  # GB2312 read as GB18030
    "feeder-muhasebetre_article.html": "tr",  # windows-1254
    "readrops-greek-cp1253-gutenberg.html": "el",  # cp1253
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(CORPUS_LANGUAGES))
def test_corpus_articles(corpus: Path, name: str) -> None:
    body = (corpus / "pages" / name).read_bytes()
    result = extract_page(body, url="https://example.com/post/", content_type="text/html")
    assert result.status == "ok", result.reason
    assert result.language == CORPUS_LANGUAGES[name]
    assert result.word_count > 150
    assert "\ufffd" not in (result.text or "") and "\ufffd" not in (result.title or "")
    assert all(link.startswith(("http://", "https://")) for link in result.links)


@pytest.mark.corpus
def test_corpus_links_for_scoring(corpus: Path) -> None:
    body = (corpus / "pages" / "lilianweng-2023-06-23-agent.html").read_bytes()
    result = extract_page(body, url="https://lilianweng.github.io/posts/2023-06-23-agent/", content_type=None)
    assert "https://github.com/Significant-Gravitas/Auto-GPT" in result.links
    assert not any(
        link.startswith("https://lilianweng.github.io/posts/2023-06-23-agent/#") for link in result.links
    )


@pytest.mark.corpus
def test_corpus_prepared_links_are_what_trafilatura_would_resolve_them_to(corpus: Path) -> None:
    paths = sorted((corpus / "pages").glob("*.html"))
    assert paths
    for path in paths:
        url = f"https://example.com/posts/{path.stem}/"
        assert_trafilatura_would_keep(prepared_links(path.read_bytes(), url), url)


def test_word_count_matches_a_word_by_word_count() -> None:
    # The reference: walk every word, count CJK characters two to a word.
    kana, han, hangul = language._KANA, language._HAN, language._HANGUL
    pattern = re.compile(
        f"(?P<ideographic>[{kana}{han}]+)|(?P<hangul>[{hangul}]+)|[^\\W{kana}{han}{hangul}]+"
    )

    def reference(text: str) -> int:
        words = ideographic = 0
        for match in pattern.finditer(text):
            run = match.group("ideographic")
            if run is None:
                words += 1
            else:
                ideographic += len(run)
        return words + -(-ideographic // 2)

    rng = random.Random(11)
    alphabet = "ab 가나다 日本語かなカナ 123_-.,\n\t①ー々ﾃｽ"
    samples = ["", "hello world", "안녕하세요 세계", "日本語のテキスト", "mixed 日本 text 한국어 foo_bar"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(3000)]
    assert [word_count(t) for t in samples] == [reference(t) for t in samples]


# -- character references the tree cannot hold ---------------------------------------


@pytest.mark.parametrize("reference", ["&#x3;", "&#1;", "&#x1f;", "&#8;"])
def test_a_control_character_reference_beside_folded_whitespace_is_dropped(reference: str) -> None:
    """The HTML parser lets ``&#x3;`` through, and writing the folded text back into the tree
    used to raise ValueError, ending the extraction of that page (and its run) in a traceback."""
    body = f"<article><h1>Serving</h1><p>before {reference} after\n   the fold</p><p>{ARTICLE}</p></article>"
    result = extract_page(html(body), url=URL, content_type="text/html")
    assert result.status == "ok"
    assert "before after the fold" in result.text
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", result.text)

    from_feed = text_from_feed(
        f"<p>before {reference} after\n   the fold</p><p>{ARTICLE}</p>", "html", None, url=URL
    )
    assert from_feed is not None
    assert "before after the fold" in from_feed[1].text
