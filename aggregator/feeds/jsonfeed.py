"""A JSON Feed document (https://jsonfeed.org/version/1.1) to a :class:`ParsedFeed`, forgiving wrong types;
its strings lose what no database stores (NUL, lone surrogates). Pure.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aggregator.errors import ParseError
from aggregator.feeds.feedbytes import decode
from aggregator.feeds.text import (
    UNTITLED,
    absolute_link,
    entry_key,
    excerpt,
    language_tag,
    parse_date,
    plain_text,
    unique_entries,
)
from aggregator.types import ParsedEntry, ParsedFeed

__all__ = ["parse_json_feed"]

# In a JSON Feed's strings, what no database stores: NUL (PostgreSQL refuses it) and the lone
# surrogates a \\uD800 escape leaves (UTF-8 cannot encode them). Other control characters are
# kept, as text; every front end shows them as escapes.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def parse_json_feed(body: bytes, *, url: str, charset: str | None) -> ParsedFeed:
    """Read a JSON Feed (https://jsonfeed.org/version/1.1), forgiving wrong types."""
    try:
        doc = json.loads(decode(body, charset, None))
    except (ValueError, RecursionError) as exc:
        raise ParseError(url, f"not a feed: invalid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ParseError(url, "not a feed: a JSON document that is not an object")
    version = _json_str(doc.get("version")) or ""
    items = doc.get("items")
    if "jsonfeed.org/version/" not in version and not isinstance(items, list):
        raise ParseError(url, "not a feed: a JSON document without a JSON Feed version or items")
    if version.rstrip("/").endswith("/1.1"):
        feed_format = "json11"
    elif version.rstrip("/").endswith("/1"):
        feed_format = "json10"
    else:
        feed_format = "json"
    warnings: list[str] = []
    feed_author = _json_author(doc)
    raw_items = [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
    language = language_tag(_json_str(doc.get("language")))
    entries = (
        _json_entry(item, url=url, feed_author=feed_author, feed_language=language) for item in raw_items
    )
    title = plain_text(_json_str(doc.get("title")) or "", html=False)
    return ParsedFeed(
        title=title or None,
        link=absolute_link(url, _json_str(doc.get("home_page_url"))),
        format=feed_format,
        language=language,
        entries=unique_entries(entries, warnings),
        warning="; ".join(warnings) or None,
    )


def _json_entry(
    item: dict[str, Any], *, url: str, feed_author: str | None, feed_language: str | None
) -> ParsedEntry:
    raw_id = item.get("id")
    guid = (
        (_json_str(str(raw_id)) or "").strip()
        if isinstance(raw_id, str | int) and not isinstance(raw_id, bool)
        else ""
    )
    link = absolute_link(url, _json_str(item.get("url"))) or absolute_link(
        url, _json_str(item.get("external_url"))
    )
    content_html = _json_str(item.get("content_html"))
    content_text = _json_str(item.get("content_text"))
    content = content_html or content_text
    summary = _json_str(item.get("summary"))
    published = parse_date(_json_str(item.get("date_published")) or "")
    updated = parse_date(_json_str(item.get("date_modified")) or "")
    title = plain_text(_json_str(item.get("title")) or "", html=False)
    title = title or excerpt(summary or content) or UNTITLED
    raw_tags = item.get("tags")
    tags = (
        (plain_text(_json_str(tag) or "", html=False) for tag in raw_tags)
        if isinstance(raw_tags, list)
        else ()
    )
    return ParsedEntry(
        key=entry_key(guid or None, link, title, published or updated),
        guid=guid or None,
        link=link,
        title=title,
        author=_json_author(item) or feed_author,
        summary=summary,
        content=content,
        content_type=("text/html" if content_html else "text/plain") if content else None,
        published=published,
        updated=updated,
        language=language_tag(_json_str(item.get("language"))) or feed_language,
        tags=tuple(dict.fromkeys(tag for tag in tags if tag)),
    )


def _json_author(obj: dict[str, Any]) -> str | None:
    """The first author's name: ``authors`` (1.1), else ``author`` (1.0)."""
    authors = obj.get("authors")
    candidates = authors if isinstance(authors, list) else []
    candidates = [*candidates, obj.get("author")]
    for author in candidates:
        if isinstance(author, dict):
            name = plain_text(_json_str(author.get("name")) or "", html=False)
            if name:
                return name
    return None


def _json_str(value: object) -> str | None:
    """A JSON string as text we can store: NUL removed, a lone surrogate (``\\ud800``, which no
    database can encode) replaced by U+FFFD; None for anything else or empty."""
    if not isinstance(value, str) or not value:
        return None
    return _UNSTORABLE.sub(_storable, value) if _UNSTORABLE.search(value) else value


def _storable(match: re.Match[str]) -> str:
    return "\ufffd" if "\ud800" <= match.group() <= "\udfff" else ""
