"""An article's text from the feed's own content or summary (HTML or plain text), the last resort when the
page has none. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

import trafilatura
from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs (lxml-stubs not used)
from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]
from trafilatura.settings import Document

from aggregator.articles.htmltree import PARSER_ERRORS, parse_html
from aggregator.articles.language import detect_language, word_count
from aggregator.articles.links import prepare_anchors
from aggregator.articles.pagetext import PageText
from aggregator.articles.rendering import BLANK_LINES, fold, fold_whitespace, render
from aggregator.urls import is_http_url

__all__ = ["text_from_feed"]

#: What makes feed text HTML when its type is not given: a tag, a comment or an entity.
_LOOKS_LIKE_MARKUP = re.compile(
    r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>|<!--|&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
)
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
    is_html = "html" in media_type if media_type else bool(_LOOKS_LIKE_MARKUP.search(fragment))
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
    plain = _plain_text(tree)
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

_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt", "figcaption"),
        *("figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main"),
        *("nav", "ol", "p", "section", "summary", "table", "tr", "ul"),
    }
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SKIP = frozenset({"script", "style", "noscript", "template", "head"})
_VERBATIM = re.compile(r"\x00(\d+)\x00")


def _plain_text(tree: HtmlElement) -> str:
    """All text of ``tree``: block elements on their own lines, list items as "- ", ``<pre>`` fenced.

    Whitespace in text is folded as a browser folds it; only ``<pre>`` keeps its own.
    """
    parts: list[str] = []
    verbatim: list[str] = []

    def walk(element: etree._Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == "pre":
            verbatim.append(element.text_content().strip("\n"))
            parts.append(f"\n\n\x00{len(verbatim) - 1}\x00\n\n")
        elif tag not in _SKIP:
            block = tag in _BLOCKS
            if tag == "li":
                parts.append("\n- ")
            elif tag == "tr":
                parts.append("\n")
            elif tag in _HEADINGS:
                parts.append(f"\n\n{'#' * int(tag[1])} ")
            elif block:
                parts.append("\n\n")
            elif tag == "br":
                parts.append("\n")
            elif tag in ("td", "th"):
                parts.append(" | ")
            parts.append(fold(element.text or ""))
            for child in element:
                walk(child)
            if block and tag not in ("li", "tr"):
                parts.append("\n\n")
        parts.append(fold(element.tail or ""))

    walk(tree)
    text = "\n".join(line.strip() for line in "".join(parts).split("\n"))
    text = BLANK_LINES.sub("\n\n", text).strip()
    return _VERBATIM.sub(lambda match: f"```\n{verbatim[int(match.group(1))]}\n```", text)
