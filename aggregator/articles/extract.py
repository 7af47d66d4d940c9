"""An article's main text and metadata from its page's bytes, or from the feed's own content. Pure.

    body + Content-Type ─> not HTML? ─> not_html
        ─> decode (BOM > HTTP charset > <meta> charset > detection) ─> parse (lxml)
        ─> bot wall or paywall stub? (cheap checks on the title and small pages) ─> challenge, paywall
        ─> trafilatura: main text as Markdown ─> metadata (pagemeta), links, lead image, language
        ─> teaser behind a paywall? too short? ─> paywall, too_short, else ok

    feed content (HTML or text), else the summary ─> the same text path ─> text_from_feed

The steps live beside this module: ``decode`` (bytes to text, not HTML),
``walls`` (the cheap checks: bot walls, paywall stubs), ``links`` and
``rendering`` (the tree prepared for trafilatura, its body rendered),
``pagemeta``, ``language`` and ``feedtext`` (the feed's own text); the result is
``pagetext.PageText``. This module runs them for one page and re-exports what
callers use.

Everything here runs inside worker processes (``aggregator.workers``): no I/O,
no clock (dates are bounded by the ``now`` the caller passes), and every result
is a frozen, picklable :class:`PageText`. trafilatura only ever sees a parsed
tree, never a URL it could fetch. Hard time and memory limits belong to the
worker pool; the guards here only turn away what is cheap to recognise.

The choice of trafilatura settings (Markdown output, ``include_comments=False``,
``favor_recall``) is measured by ``benchmarks/extract_quality.py``: on the pages
with a reference it scores no worse than trafilatura's best setting, and it is the
fastest of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import trafilatura
from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs (lxml-stubs not used)
from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]
from trafilatura.settings import Document

from aggregator.articles.decode import decode_html
from aggregator.articles.feedtext import text_from_feed
from aggregator.articles.htmltree import PARSER_ERRORS
from aggregator.articles.language import detect_language, primary_language, word_count
from aggregator.articles.links import (
    base_url,
    body_links,
    http_url,
    lead_image,
    prepare_anchors,
    respace_links,
)
from aggregator.articles.pagemeta import page_metadata
from aggregator.articles.pagetext import PageText, without_text
from aggregator.articles.rendering import fold_whitespace, render
from aggregator.articles.walls import (
    PAYWALL_TEASER_WORDS,
    Page,
    challenge,
    challenge_reason,
    inspect_page,
    paywall,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "ExtractSettings",
    "PageText",
    "challenge_reason",
    "decode_html",
    "detect_language",
    "extract_page",
    "text_from_feed",
    "word_count",
]


@dataclass(frozen=True, slots=True)
class ExtractSettings:
    """How trafilatura is asked to extract; the defaults are the measured choice."""

    focus: Literal["balanced", "precision", "recall"] = "recall"
    include_comments: bool = False
    """trafilatura's own default keeps reader comments, which costs precision."""
    markdown: bool = True
    """Markdown (headings, lists, fenced code, tables) rather than plain text."""


DEFAULT_SETTINGS = ExtractSettings()

#: Replacement characters beyond this share of the text mean it could not be decoded.
MAX_REPLACEMENT_SHARE = 0.01


def extract_page(
    body: bytes,
    *,
    url: str,
    content_type: str | None,
    min_words: int = 80,
    now: datetime | None = None,
    language: str | None = None,
    settings: ExtractSettings = DEFAULT_SETTINGS,
) -> PageText:
    """The article on the page ``body`` fetched from ``url``, or why there is none.

    ``now`` bounds the publication date (a page date after it is not believed);
    ``language`` (the feed's) is used when the page declares none. Never raises
    for a bad page: problems are statuses.
    """
    page = inspect_page(body, content_type)
    if isinstance(page, PageText):
        return page
    if flagged := _flag_before_extraction(page, min_words):
        return flagged
    tree = page.tree
    base = base_url(tree, url)
    prepare_anchors(tree, base)
    fold_whitespace(tree)
    extracted = _extract(tree, url, now, settings)
    if isinstance(extracted, PageText):
        return extracted
    document, metadata = extracted
    links = body_links(document.body, url)
    respace_links(document.body, tree)
    text = render(document.body, settings.markdown)
    if settings.include_comments and document.commentsbody is not None and len(document.commentsbody):
        text = f"{text}\n\n{render(document.commentsbody, settings.markdown)}".strip()
    words = word_count(text)
    declared = _declared_language(tree) or language
    result = PageText(
        status="ok",
        reason=None,
        text=text,
        title=_clean(metadata.title) or _clean(page.title),
        author=_clean(metadata.author),
        published=_published(metadata.date),
        site_name=_clean(metadata.sitename),
        language=detect_language(text or page.title, declared=declared),
        lead_image=lead_image(tree, base) or http_url(metadata.image, base),
        links=links,
        word_count=words,
    )
    if reason := paywall(page, words, min_words):
        return without_text(result, "paywall", reason)
    if words < min_words:
        return without_text(result, "too_short", f"the main text has {words} words, fewer than {min_words}")
    return result


def _flag_before_extraction(page: Page, min_words: int) -> PageText | None:
    """The bot wall, paywall stub or undecodable page that is not worth extracting, or None."""
    if reason := challenge(page):
        return PageText.flagged("challenge", reason)
    if page.visible_words < PAYWALL_TEASER_WORDS and (reason := paywall(page, page.visible_words, min_words)):
        return PageText.flagged("paywall", reason)
    if page.html.count("\ufffd") > MAX_REPLACEMENT_SHARE * max(len(page.visible), 1):
        return PageText.flagged("error", "the page's bytes are not text in any encoding we could find")
    return None


def _extract(
    tree: HtmlElement, url: str, now: datetime | None, settings: ExtractSettings
) -> tuple[Document, Document] | PageText:
    """trafilatura's main text of the prepared ``tree`` and the page's metadata; or why there is none."""
    try:
        # Not given the URL: every link is already absolute (prepare_anchors), and
        # trafilatura resolving them all again changed nothing. No metadata: page_metadata,
        # below, finds the fields we keep and skips the categories, tags and licence
        # (trafilatura works on a copy of ``tree``, so it reads the page as it was).
        document = trafilatura.bare_extraction(
            tree,
            url=None,
            favor_precision=settings.focus == "precision",
            favor_recall=settings.focus == "recall",
            include_comments=settings.include_comments,
            output_format="txt",  # the body is rendered below, once links are harvested
            include_tables=True,
            include_images=False,
            include_formatting=settings.markdown,
            include_links=True,
            with_metadata=False,
        )
        if isinstance(document, Document):
            metadata = page_metadata(tree, url, _date_params(now))
    except PARSER_ERRORS as exc:
        return PageText.flagged("error", f"trafilatura failed on the page: {type(exc).__name__}: {exc}")
    if not isinstance(document, Document):
        return PageText.flagged("too_short", "no main text found on the page")
    return document, metadata


def _clean(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else ""
    return value or None


_LANGUAGE_META = etree.XPath(
    "//meta[translate(@http-equiv, 'CONTENT-LAGU', 'content-lagu')='content-language']/@content"
    " | //meta[@property='og:locale']/@content"
)


def _declared_language(tree: HtmlElement) -> str | None:
    """The page's own language declaration: ``<html lang>``, Content-Language, og:locale."""
    for value in (tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")):
        if language := primary_language(value):
            return language
    for meta in _LANGUAGE_META(tree):  # a search of the whole page: only when <html> says nothing
        if language := primary_language(str(meta)):
            return language
    return None


def _date_params(now: datetime | None) -> dict[str, object]:
    # htmldate reads the clock for its upper bound unless it is given one.
    latest = (now or datetime(9999, 12, 30, tzinfo=UTC)) + timedelta(days=1)
    return {
        "original_date": True,
        "extensive_search": True,
        "max_date": latest.strftime("%Y-%m-%d"),
        "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    }


def _published(value: str | None) -> datetime | None:
    """htmldate's date as aware UTC (a date without a zone is taken as UTC).

    htmldate's last resort is the page's copyright year, given as January 1st:
    a zoneless midnight on January 1st is that guess, not a publication date.
    """
    if not value:
        return None
    try:
        published = datetime.fromisoformat(value)
    except ValueError:
        return None
    if published.tzinfo is None:
        if (published.month, published.day, published.time()) == (1, 1, datetime.min.time()):
            return None
        return published.replace(tzinfo=UTC)
    return published.astimezone(UTC)
