"""A feed's HTML as plain text a reader can read: blocks on their own lines, list items as "- ",
``<pre>`` fenced, whitespace folded as a browser folds it. Pure; lxml only (no trafilatura), so the
command line and the triage screen can show a feed's summary without paying for the extractor.
"""

from __future__ import annotations

import re

from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs (lxml-stubs not used)
from lxml.html import HtmlElement, document_fromstring  # type: ignore[import-untyped,unused-ignore]

from aggregator.articles.whitespace import BLANK_LINES, fold

__all__ = ["looks_like_markup", "plain_text", "readable"]

#: What makes feed text HTML when its type is not given: a tag, a comment or an entity.
_MARKUP = re.compile(
    r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>|<!--|&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
)


def looks_like_markup(text: str) -> bool:
    """Whether ``text`` (of no declared type) is HTML: it has a tag, a comment or an entity."""
    return bool(_MARKUP.search(text))


def readable(fragment: str) -> str:
    """A feed's summary or content (HTML or plain text) as text to read."""
    if not looks_like_markup(fragment):
        return BLANK_LINES.sub("\n\n", fragment).strip()
    try:
        tree = document_fromstring(f"<html><body><article>{fragment}</article></body></html>")
    except (ValueError, etree.LxmlError):  # nothing to parse, or an encoding declaration in text
        return ""
    return plain_text(tree)


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


def plain_text(tree: HtmlElement) -> str:
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
