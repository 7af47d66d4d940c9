"""Whitespace as a browser folds it: in a page's tree (before trafilatura reads it) and in one text.
Pure; lxml only, so what shows a feed's HTML as text needs no trafilatura.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]

__all__ = ["BLANK_LINES", "HTML_WHITESPACE", "fold", "fold_whitespace"]

BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


_PRESERVED = ("pre", "code", "textarea", "script", "style", "listing", "xmp", "plaintext")
_CJK_LINE_BREAK = re.compile(
    "(?<=[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff9f])"
    "[ \t\r\f]*\n[ \t\r\n\f]*"
    "(?=[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff9f])"
)
HTML_WHITESPACE = " \t\r\n\f"
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")
# Characters XML text may not hold. The HTML parser lets a character reference such as
# ``&#x3;`` through, but lxml refuses to write such a text back into the tree.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def fold_whitespace(tree: HtmlElement) -> None:
    """Fold whitespace in text the way a browser shows it, before trafilatura renders it.

    A line break between two Japanese or Chinese characters disappears (CSS Text's
    segment-break rule) instead of becoming a space; other runs of HTML whitespace
    become one space. ``<pre>``, ``<code>`` and the like keep theirs.
    """
    # One pass over every node of the page, so the cheap tests come first: most
    # texts have nothing to fold, and most pages have nothing preserved.
    preserved = {node for element in tree.iter(*_PRESERVED) for node in element.iter()}
    for element in tree.iter():
        text = element.text
        if text and _foldable(text) and element not in preserved:
            element.text = _fold_some(text)
        tail = element.tail
        if tail and _foldable(tail) and (not preserved or element.getparent() not in preserved):
            element.tail = _fold_some(tail)


def fold(text: str) -> str:
    # Most text nodes have nothing to fold: skip the regexes for them (a
    # measurable share of extraction time on large pages).
    return _fold_some(text) if _foldable(text) else text


def _foldable(text: str) -> bool:
    """Whether ``text`` has whitespace to fold: a tab, CR, LF or FF, or two spaces in a row."""
    # Substring tests: half the cost of a regular expression's search on this many texts.
    return "\n" in text or "  " in text or "\t" in text or "\r" in text or "\f" in text


def _fold_some(text: str) -> str:
    """``text``, which has whitespace to fold, folded."""
    if not text.strip(HTML_WHITESPACE):
        return " "  # the commonest case: the indentation between two tags
    if "\n" in text:
        text = _CJK_LINE_BREAK.sub("", text)
    return _NOT_XML.sub("", _HTML_SPACE.sub(" ", text))
