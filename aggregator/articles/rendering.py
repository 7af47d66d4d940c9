"""trafilatura's body rendered as Markdown or plain text. Pure. (Whitespace folded as a browser folds it,
before trafilatura reads a tree, is :mod:`.whitespace`'s, re-exported here.)
"""

from __future__ import annotations

import unicodedata

from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs (lxml-stubs not used)
from trafilatura.xml import xmltotxt

from aggregator.articles.whitespace import BLANK_LINES, HTML_WHITESPACE, fold, fold_whitespace

__all__ = ["BLANK_LINES", "HTML_WHITESPACE", "fold", "fold_whitespace", "render"]


def render(body: etree._Element, markdown: bool) -> str:
    """trafilatura's body as Markdown (or plain) text, link targets left out (they are in ``links``)."""
    etree.strip_tags(body, "ref")
    text = unicodedata.normalize("NFC", xmltotxt(body, markdown))
    return BLANK_LINES.sub("\n\n", text).strip()
