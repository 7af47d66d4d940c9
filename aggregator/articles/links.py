"""Links on a page: its base URL, its anchors made absolute (heading permalinks dropped), the article
body's links, the space trafilatura drops after a link, the lead image. Pure.
"""

from __future__ import annotations

import re

from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs (lxml-stubs not used)
from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]

from aggregator.articles.rendering import HTML_WHITESPACE
from aggregator.urls import is_http_url, resolve_url

__all__ = ["base_url", "body_links", "http_url", "lead_image", "prepare_anchors", "respace_links"]


def base_url(tree: HtmlElement, url: str) -> str:
    """The document's base URL: ``<base href>`` resolved against ``url``, else ``url``."""
    base = tree.find(".//base[@href]")
    if base is not None:
        resolved = resolve_url(url, base.get("href"))
        if is_http_url(resolved):
            return resolved
    return url


def prepare_anchors(tree: HtmlElement, base: str) -> None:
    """Drop heading permalinks; resolve every other ``<a href>`` against the base.

    A permalink is a same-page link whose text is a mark ("#", "¶", "§", "🔗"),
    shown beside a heading on hover: left in, trafilatura prints it as part of the
    heading ("## Self-Reflection#"). The links are resolved because trafilatura
    resolves relative links against the site's root, not the page, so "#section"
    and "../post" would point elsewhere.
    """
    for anchor in list(tree.iter("a")):
        href = (anchor.get("href") or "").strip()
        if href.startswith("#") and _PERMALINK_MARK.fullmatch(anchor.text_content().strip()):
            anchor.drop_tree()  # keeps the text after it
        elif href and not href.startswith(("https://", "http://")):
            anchor.set("href", resolve_url(base, href))


def respace_links(body: etree._Element, tree: HtmlElement) -> None:
    """Give back the space after a link that trafilatura dropped.

    On some pages (text loose in a ``<div>`` beside headings) trafilatura's link
    mode moves a link into a paragraph of its own and trims the space after it,
    gluing words ("the blog at workso I figured"). A link in ``body`` followed
    straight by a letter gets a space back when the same link on the page
    (``tree``, which trafilatura leaves as it was) had one after it.
    """
    glued = [ref for ref in body.iter("ref") if ref.tail and ref.tail[0].isalnum()]
    if not glued:
        return
    spaced = {
        ((anchor.get("href") or "").strip(), "".join(anchor.text_content().split()))
        for anchor in tree.iter("a")
        if anchor.tail and anchor.tail[0] in HTML_WHITESPACE
    }
    for ref in glued:
        if ((ref.get("target") or "").strip(), "".join("".join(ref.itertext()).split())) in spaced:
            ref.tail = f" {ref.tail}"


#: What a permalink shows: one to three marks, no letter or digit ("#", "¶", "§", "🔗", "⚓︎").
_PERMALINK_MARK = re.compile(r"[^\w\s]{1,3}")


def body_links(body: etree._Element, url: str) -> tuple[str, ...]:
    page = url.split("#", 1)[0]
    links: dict[str, None] = {}
    for ref in body.iter("ref"):
        target = (ref.get("target") or "").strip()
        if target and is_http_url(target) and target.split("#", 1)[0] != page:
            links.setdefault(target)
    return tuple(links)


_IMAGE_META = etree.XPath(
    "//meta[@property='og:image' or @property='og:image:url' or @property='og:image:secure_url'"
    " or @name='og:image' or @name='twitter:image' or @name='twitter:image:src'"
    " or @property='twitter:image']/@content | //link[@rel='image_src']/@href"
)


def lead_image(tree: HtmlElement, base: str) -> str | None:
    for value in _IMAGE_META(tree):
        if image := http_url(str(value), base):
            return image
    return None


def http_url(value: str | None, base: str) -> str | None:
    if not value or not value.strip():
        return None
    resolved = resolve_url(base, value)
    return resolved if is_http_url(resolved) else None
