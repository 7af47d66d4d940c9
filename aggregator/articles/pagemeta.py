"""A page's title, author, publication date, site name and image, as trafilatura finds them. Pure.

trafilatura's ``extract_metadata`` also looks for categories, tags and a
licence, which we do not keep: those searches (XPath over the whole page, twice
for categories and tags) cost about 7% of what extraction costs per page. This is
``extract_metadata`` (trafilatura 2.3) with those three left out, built from the
same functions, so every field we keep is the one trafilatura gives;
``tests/test_pagemeta.py`` holds it to that on every fixture and corpus page.
"""

from __future__ import annotations

import contextlib
from typing import Any

from htmldate import find_date
from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document

__all__ = ["page_metadata"]


def page_metadata(tree: HtmlElement, url: str | None, date_params: dict[str, Any]) -> Document:
    """Title, author, date, site name, image and canonical URL of the page ``tree``, found at ``url``.

    ``date_params`` are htmldate's (as trafilatura's ``date_extraction_params``).
    Reads the tree without changing it.
    """
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None  # a one-word author in <meta> is a handle or a site, as trafilatura judges
    with contextlib.suppress(Exception):  # as in trafilatura: its JSON-LD reader has bugs
        metadata = extract_meta_json(tree, metadata)
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.author:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, url)
    metadata.date = find_date(tree, **{**date_params, "url": metadata.url})
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url and (match := META_URL.match(metadata.url)):
        metadata.sitename = match[1]
    metadata.clean_and_trim()
    return metadata
