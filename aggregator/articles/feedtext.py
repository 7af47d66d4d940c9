"""An article's text from the feed's own content or summary (HTML or plain text), the last resort when the
page has none. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

import trafilatura
from trafilatura.settings import Document

from aggregator.articles.htmltree import PARSER_ERRORS, parse_html
from aggregator.articles.language import detect_language, word_count
from aggregator.articles.links import prepare_anchors
from aggregator.articles.pagetext import PageText
from aggregator.articles.plaintext import looks_like_markup, plain_text
from aggregator.articles.rendering import render
from aggregator.articles.whitespace import BLANK_LINES, fold_whitespace
from aggregator.urls import is_http_url

__all__ = ["text_from_feed"]

_TEXT_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+[^\s<>\"'()\[\]{}.,;:!?]")


def text_from_feed(
    content: str | None,
    content_type: str | None,
    summary: str | None,
    *,
    url: str,
    min_words: int = 80,
    language: str | None = None,
) -> tuple[Literal["feed", "summary"], PageText] | None:
    """The article's text from the feed: its content, else its summary; None when neither has text.

    The content wins when it has ``min_words`` words or more, or more words than
    the summary. The page's length threshold does not flag feed text: it is the
    publisher's own words and the last resort, so any text is ok and
    ``word_count`` says how much there is. ``language`` is the feed's.
    """
    feed = _fragment(content, content_type, url=url, language=language) if content else None
    if feed is not None and feed.word_count >= min_words:
        return "feed", feed
    brief = _fragment(summary, None, url=url, language=language) if summary else None
    if brief is not None and (feed is None or brief.word_count > feed.word_count):
        return "summary", brief
    return ("feed", feed) if feed is not None else None


def _fragment(fragment: str, content_type: str | None, *, url: str, language: str | None) -> PageText | None:
    """A feed's HTML (or plain text) fragment as text; None when it has none."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    is_html = "html" in media_type if media_type else looks_like_markup(fragment)
    if is_html:
        text, links = _fragment_html(fragment, url)
    else:
        text = fragment.strip()
        links = tuple(dict.fromkeys(m.group() for m in _TEXT_URL.finditer(text)))
    text = unicodedata.normalize("NFC", BLANK_LINES.sub("\n\n", text)).strip()
    if not text:
        return None
    return PageText(
        status="ok",
        reason=None,
        text=text,
        title=None,
        author=None,
        published=None,
        site_name=None,
        language=detect_language(text, declared=language),
        lead_image=None,
        links=links,
        word_count=word_count(text),
    )


def _fragment_html(fragment: str, url: str) -> tuple[str, tuple[str, ...]]:
    """Text and links of feed HTML: trafilatura's rendering when it keeps the text, else lxml's."""
    try:
        tree = parse_html(f"<html><body><article>{fragment}</article></body></html>")
    except PARSER_ERRORS:
        tree = None
    if tree is None:
        return "", ()
    prepare_anchors(tree, url)
    links: dict[str, None] = {}
    for anchor in tree.iter("a"):
        href = anchor.get("href")
        if href and is_http_url(href) and href.split("#", 1)[0] != url.split("#", 1)[0]:
            links.setdefault(href)
    plain = plain_text(tree)
    fold_whitespace(tree)
    try:
        document = trafilatura.bare_extraction(
            tree,
            url=url or None,
            favor_recall=True,
            include_comments=False,
            output_format="txt",
            include_tables=True,
            include_formatting=True,
            include_links=False,
            with_metadata=False,
        )
    except PARSER_ERRORS:
        document = None
    if isinstance(document, Document):
        text = render(document.body, True)
        # The feed's content is the article: trafilatura may only drop what is not text.
        if word_count(text) >= FEED_TEXT_KEPT * word_count(plain):
            return text, tuple(links)
    return plain, tuple(links)


#: trafilatura's rendering of feed HTML is used when it keeps this share of the words.
FEED_TEXT_KEPT = 0.9
