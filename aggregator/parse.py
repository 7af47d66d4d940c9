"""Feed documents to :class:`ParsedFeed` values. Pure: bytes and headers in, values out.

No I/O and no clock: dates are reported as the feed gives them (fallbacks and
clamping are decided later, with ``now``, in ``decide.py``)::

    body ─> gunzip? ─┬─> JSON Feed reader ───────────────────────────────┐
                     └─> decode ─> repair ─> feedparser (no sanitising) ─┴─> entries ─> ParsedFeed

Feed HTML is never rendered by this product, so feedparser runs with
``sanitize_html=False`` and ``resolve_relative_uris=False``: those two passes
are most of its time. Only the links we keep are resolved. Whatever those
options say, feedparser joins ``<link>``, ``href`` and permalink guids with
``xml:base`` (and with the ``Content-Location`` it is given); the entry and home
links are then resolved against the final URL by
:func:`~aggregator.urls.resolve_url`.

Decoding (see :func:`_decode`) trusts a byte-order mark, then valid UTF-8
(wrong declarations are common, accidental valid UTF-8 is not), then the HTTP
charset and the XML declaration; feedparser is then handed UTF-8.

Every failure to find a feed raises :class:`ParseError` with a reason a person
can act on; a malformed document whose entries could still be read is returned
with ``warning`` set.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz
from html.entities import html5 as _HTML5_ENTITIES
from typing import Any

import feedparser

from aggregator.errors import ParseError
from aggregator.types import ParsedEntry, ParsedFeed
from aggregator.urls import resolve_url

__all__ = ["parse_date", "parse_feed", "plain_text"]

MAX_GUNZIPPED_BYTES = 64 * 1024 * 1024
"""A body that is itself gzip-compressed (a .xml.gz served as is) may expand to this much."""

TITLE_EXCERPT_CHARS = 80
"""Length of the title made from the summary or content when an entry has none."""

UNTITLED = "(untitled)"

_JSON_TYPES = frozenset({"application/feed+json", "application/json"})

# dict.get, not FeedParserDict.get: faster, and it skips the compatibility mapping
# from `updated` to `published` that warns (feedparser issue 310).
_get = dict.get


def parse_feed(
    body: bytes,
    *,
    url: str,
    content_type: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> ParsedFeed:
    """Parse an RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.0/1.1 document.

    ``url`` is the final URL the body came from (after redirects): relative links
    are resolved against it and it names the feed in errors. ``content_type``
    defaults to the ``Content-Type`` in ``headers``.

    Raises :class:`ParseError` when the body holds nothing feed-like.
    """
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    if content_type is None:
        content_type = lowered.get("content-type")
    mime, charset = _split_content_type(content_type)
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body, url)
    start = _peek(body)
    if not start:
        raise ParseError(url, "empty response body: the server sent no document; check the feed URL")
    if start[0] == "{" or (mime in _JSON_TYPES and start[0] != "<"):
        return _parse_json_feed(body, url=url, charset=charset)
    return _parse_xml_feed(
        body, url=url, mime=mime, charset=charset, http_language=lowered.get("content-language")
    )


# -- XML feeds (feedparser) --------------------------------------------------


def _parse_xml_feed(
    body: bytes, *, url: str, mime: str, charset: str | None, http_language: str | None
) -> ParsedFeed:
    text = _decode(body, charset, _xml_declared_encoding(body))
    xml, line_offset, warnings = _repair_xml(text)
    response_headers = {"content-type": "application/xml; charset=utf-8"}
    if b"xml:base" in xml:
        # feedparser scopes xml:base correctly only under an absolute base: without
        # one, an entry's xml:base leaks into the following entries. With one, it
        # urljoins on every start tag (a third more time on large feeds), so the
        # base is given only when xml:base is used; otherwise links are resolved
        # against the URL afterwards, with the same result.
        response_headers["content-location"] = url
    result = feedparser.parse(
        io.BytesIO(xml), response_headers=response_headers, sanitize_html=False, resolve_relative_uris=False
    )
    feed = result["feed"]
    version: str = _get(result, "version") or ""
    raw_entries: list[dict[str, Any]] = result["entries"]
    title = _detail_text(feed, "title")
    malformed = _describe_bozo(result, line_offset) if _get(result, "bozo") else None
    if not version and not raw_entries:
        raise ParseError(url, _not_a_feed_reason(text, mime, feed, url, malformed))
    # An empty <item/> (nested inside another by some generators) becomes an empty entry.
    readable = [raw for raw in raw_entries if any(_get(raw, key) for key in _ENTRY_FIELDS)]
    if not readable and not title and malformed:
        raise ParseError(url, f"not a feed: {malformed}, and no entries or feed title could be read")
    if malformed:
        warnings.insert(0, malformed + "; entries were read leniently and may be incomplete")
    feed_author = _author(feed) if version.startswith("atom") else None
    feed_link = _absolute_link(url, _get(feed, "link"))
    if len(readable) < len(raw_entries):
        skipped = len(raw_entries) - len(readable)
        warnings.append(f"skipped {skipped} empty {'entry' if skipped == 1 else 'entries'}")
    language = _language(_get(feed, "language")) or _language(http_language)
    entries = (_xml_entry(raw, url=url, feed_author=feed_author, feed_language=language) for raw in readable)
    return ParsedFeed(
        title=title or None,
        link=feed_link,
        format=version or "unknown",
        language=language,
        entries=_unique(entries, warnings),
        warning="; ".join(warnings) or None,
    )


_ENTRY_FIELDS = ("id", "link", "links", "title", "summary", "content", "published", "updated")


def _xml_entry(
    raw: dict[str, Any], *, url: str, feed_author: str | None, feed_language: str | None
) -> ParsedEntry:
    guid = (_get(raw, "id") or "").strip() or None
    raw_link = _get(raw, "link")
    if raw_link and raw_link == guid and _get(raw, "guidislink") and not _is_link_like(raw_link):
        raw_link = None
    link = _absolute_link(url, raw_link) or _alternate_link(url, raw)
    content, content_type, content_language = _content(raw)
    summary = _get(raw, "summary") or None
    if summary is not None and summary == content:
        summary = None  # feedparser copies the content into a missing summary
    published = _entry_date(raw, "published")
    updated = _entry_date(raw, "updated")
    title = _detail_text(raw, "title") or _excerpt(summary or content) or UNTITLED
    language = content_language or _detail_language(raw, "summary_detail", "title_detail") or feed_language
    return ParsedEntry(
        key=_entry_key(guid, link, title, published or updated),
        guid=guid,
        link=link,
        title=title,
        author=_author(raw) or feed_author,
        summary=summary,
        content=content,
        content_type=content_type,
        published=published,
        updated=updated,
        language=language,
        tags=_tags(_get(raw, "tags") or ()),
    )


def _is_link_like(guid: str) -> bool:
    """Whether a guid that feedparser took for the missing link really is one.

    RSS guids are permalinks unless isPermaLink="false", and feedparser lets Atom
    ids stand in for links too: "https://..." and "/blog/post" are links, while
    "1234" (resolved against the feed URL it would be a made-up URL) and tag: or
    urn: ids are not.
    """
    return guid.startswith(("https://", "http://", "/"))


def _alternate_link(url: str, raw: dict[str, Any]) -> str | None:
    """An Atom alternate link of a type feedparser does not take for ``link`` (PDF, XHTML page)."""
    for candidate in _get(raw, "links") or ():
        if _get(candidate, "rel") == "alternate":
            link = _absolute_link(url, _get(candidate, "href"))
            if link:
                return link
    return None


def _content(raw: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(value, 'text/html' or 'text/plain', language) of the entry's best content element."""
    chosen = None
    for item in _get(raw, "content") or ():
        if not _get(item, "value"):
            continue  # e.g. Atom <content src="..."/>
        if _is_html(_get(item, "type")):
            chosen = item
            break
        chosen = chosen or item
    if chosen is None:
        return None, None, None
    content_type = "text/html" if _is_html(_get(chosen, "type")) else "text/plain"
    return chosen["value"], content_type, _language(_get(chosen, "language"))


def _detail_text(container: dict[str, Any], key: str) -> str:
    value = _get(container, key)
    if not value:
        return ""
    detail = _get(container, key + "_detail") or {}
    return plain_text(value, html=_is_html(_get(detail, "type", "text/html")))


def _detail_language(raw: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        detail = _get(raw, key)
        if detail and _get(detail, "language"):
            return _language(detail["language"])
    return None


def _author(container: dict[str, Any]) -> str | None:
    detail = _get(container, "author_detail") or {}
    name = _get(detail, "name") or _get(container, "author") or ""
    return plain_text(name, html=False) or None


def _tags(raw_tags: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in raw_tags:
        name = _get(tag, "label") or _get(tag, "term") or ""
        name = plain_text(name, html=False) if isinstance(name, str) else ""
        if name:
            seen.setdefault(name)
    return tuple(seen)


def _entry_date(raw: dict[str, Any], key: str) -> datetime | None:
    text = _get(raw, key)
    if text and _YEAR_FIRST_NOT_ISO.match(text):
        # feedparser reads "2020/1/10" and "2020.01.10" as 2020-11-01.
        return parse_date(text)
    parsed = _get(raw, key + "_parsed")
    if parsed:
        try:
            # feedparser's *_parsed are UTC struct_times; a leap second becomes :59.
            year, month, day, hour, minute, second = parsed[:6]
            return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
        except (TypeError, ValueError):
            pass
    return parse_date(text) if text else None


_YEAR_FIRST_NOT_ISO = re.compile(r"\s*\d{4}\s*[./년年]")


def _repair_xml(text: str) -> tuple[bytes, int, list[str]]:
    """Fix what commonly breaks strict XML parsing and costs the slow lenient parser.

    Returns UTF-8 bytes that start with an XML declaration, the number of lines
    removed from the top (to report line numbers of the original), and warnings.
    """
    warnings: list[str] = []
    stripped = text.lstrip("\ufeff \t\r\n")
    line_offset = text.count("\n", 0, len(text) - len(stripped))
    # Text before the XML declaration makes expat fail outright ("XML or text
    # declaration not at start of entity"); feedparser then re-parses leniently.
    if not stripped.startswith("<?xml"):
        stripped = '<?xml version="1.0" encoding="utf-8"?>' + stripped
    if _XML_INVALID_CHARS.search(stripped):
        stripped, count = _XML_INVALID_CHARS.subn("", stripped)
        warnings.append(f"removed {count} control character{'s' if count != 1 else ''} not allowed in XML")
    head = stripped[:4096]
    if _AMPERSAND_SUSPECT.search(stripped) and "<!ENTITY" not in head:
        stripped, bare, entities = _repair_ampersands(stripped)
        if bare:
            warnings.append(f"escaped {bare} bare ampersand{'s' if bare != 1 else ''} (&) not allowed in XML")
        if entities and "<!DOCTYPE" not in head:  # a DTD (RSS 0.91's) may declare HTML's entities
            noun = "entity" if entities == 1 else "entities"
            warnings.append(f"replaced {entities} HTML {noun} undefined in XML")
    return stripped.encode("utf-8", "surrogatepass"), line_offset, warnings


_XML_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# An "&" that does not start one of XML's own references: a bare ampersand
# ("?a=1&b=2") or an HTML entity such as &nbsp; -- the commonest XML errors in feeds.
_NOT_XML_REFERENCE = r"&(?!(?:lt|gt|amp|quot|apos|#[0-9]+|#[xX][0-9A-Fa-f]+);)"
_AMPERSAND_SUSPECT = re.compile(_NOT_XML_REFERENCE)
_CDATA_OR_SUSPECT = re.compile(
    r"<!\[CDATA\[.*?\]\]>|" + _NOT_XML_REFERENCE + r"(?:([A-Za-z][A-Za-z0-9]{1,31});)?", re.DOTALL
)


def _repair_ampersands(text: str) -> tuple[str, int, int]:
    """Escape bare ampersands and turn HTML entities into character references, outside CDATA.

    Inside CDATA both are legitimate text and stay as they are. Returns the
    text, the number of ampersands escaped and the number of entities replaced.
    """
    bare = entities = 0

    def repair(match: re.Match[str]) -> str:
        nonlocal bare, entities
        found = match.group(0)
        if found[0] == "<":
            return found
        name = match.group(1)
        chars = _HTML5_ENTITIES.get(name + ";") if name else None
        if chars is None:
            bare += 1
            return "&amp;" + found[1:]  # an unknown "&name;" is shown literally, as a browser would
        entities += 1
        return "".join(f"&#{ord(char)};" for char in chars)

    return _CDATA_OR_SUSPECT.sub(repair, text), bare, entities


def _describe_bozo(result: dict[str, Any], line_offset: int) -> str:
    exc = _get(result, "bozo_exception")
    get_message = getattr(exc, "getMessage", None)
    get_line = getattr(exc, "getLineNumber", None)
    if callable(get_message) and callable(get_line):
        line = get_line()
        where = f" at line {line + line_offset}" if isinstance(line, int) and line > 0 else ""
        return f"malformed XML ({get_message()}{where})"
    return f"malformed feed ({exc})"


def _not_a_feed_reason(text: str, mime: str, feed: dict[str, Any], url: str, malformed: str | None) -> str:
    head = text[:2048].lstrip("\ufeff \t\r\n")
    lowered = head.lower()
    served_as = mime or "no Content-Type"
    if "<html" in lowered or "<!doctype html" in lowered:
        reason = f"not a feed: got an HTML page ({served_as}); check the feed URL"
        for link in _get(feed, "links") or ():
            href = _get(link, "href")
            if href and _get(link, "rel") == "alternate" and _get(link, "type") in _FEED_LINK_TYPES:
                return reason + f" (the page names a feed at {resolve_url(url, href)})"
        return reason
    if head.startswith("<"):
        root = _ROOT_ELEMENT.search(head)
        if root and not malformed:
            return f"not a feed: an XML document whose root element is <{root.group(1)}> ({served_as})"
        return f"not a feed: {malformed or 'no RSS, Atom or RDF element found'} ({served_as})"
    sample = " ".join(head[:40].split())
    return f"not a feed: the body is neither XML nor JSON ({served_as}, starts with {sample!r})"


_FEED_LINK_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
_ROOT_ELEMENT = re.compile(r"<([A-Za-z_][\w.:-]*)")


# -- JSON Feed ---------------------------------------------------------------


def _parse_json_feed(body: bytes, *, url: str, charset: str | None) -> ParsedFeed:
    """Read a JSON Feed (https://jsonfeed.org/version/1.1), forgiving wrong types."""
    try:
        doc = json.loads(_decode(body, charset, None))
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
    language = _language(_json_str(doc.get("language")))
    entries = (
        _json_entry(item, url=url, feed_author=feed_author, feed_language=language) for item in raw_items
    )
    title = plain_text(_json_str(doc.get("title")) or "", html=False)
    return ParsedFeed(
        title=title or None,
        link=_absolute_link(url, _json_str(doc.get("home_page_url"))),
        format=feed_format,
        language=language,
        entries=_unique(entries, warnings),
        warning="; ".join(warnings) or None,
    )


def _json_entry(
    item: dict[str, Any], *, url: str, feed_author: str | None, feed_language: str | None
) -> ParsedEntry:
    raw_id = item.get("id")
    guid = str(raw_id).strip() if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else ""
    link = _absolute_link(url, _json_str(item.get("url"))) or _absolute_link(
        url, _json_str(item.get("external_url"))
    )
    content_html = _json_str(item.get("content_html"))
    content_text = _json_str(item.get("content_text"))
    content = content_html or content_text
    summary = _json_str(item.get("summary"))
    published = parse_date(_json_str(item.get("date_published")) or "")
    updated = parse_date(_json_str(item.get("date_modified")) or "")
    title = plain_text(_json_str(item.get("title")) or "", html=False)
    title = title or _excerpt(summary or content) or UNTITLED
    raw_tags = item.get("tags")
    tags = (
        (plain_text(tag, html=False) for tag in raw_tags if isinstance(tag, str))
        if isinstance(raw_tags, list)
        else ()
    )
    return ParsedEntry(
        key=_entry_key(guid or None, link, title, published or updated),
        guid=guid or None,
        link=link,
        title=title,
        author=_json_author(item) or feed_author,
        summary=summary,
        content=content,
        content_type=("text/html" if content_html else "text/plain") if content else None,
        published=published,
        updated=updated,
        language=_language(_json_str(item.get("language"))) or feed_language,
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
    return value if isinstance(value, str) and value else None


# -- shared: identity, links, languages ------------------------------------------


def _entry_key(guid: str | None, link: str | None, title: str, date: datetime | None) -> str:
    """The id, else the link, else a hash of title and date: stable across runs."""
    if guid:
        return guid
    if link:
        return link
    seed = title + "\n" + (date.isoformat() if date else "")
    return "sha1:" + hashlib.sha1(seed.encode("utf-8")).hexdigest()


def _unique(entries: Iterable[ParsedEntry], warnings: list[str]) -> tuple[ParsedEntry, ...]:
    """Keep the first entry of each key; say how many later ones were dropped."""
    kept: dict[str, ParsedEntry] = {}
    dropped = 0
    for entry in entries:
        if entry.key in kept:
            dropped += 1
        else:
            kept[entry.key] = entry
    if dropped:
        noun = "entry" if dropped == 1 else "entries"
        warnings.append(f"dropped {dropped} {noun} whose id (or link) repeats an earlier entry's")
    return tuple(kept.values())


def _absolute_link(base: str, link: str | None) -> str | None:
    """``link`` resolved against ``base``; None when it stays relative (or is empty).

    Any scheme is kept, as published: which links may be fetched or shown as
    links is decided downstream (decide.py, fetch.py's guard, the renderers).
    """
    if not link:
        return None
    if link.startswith(("https://", "http://")) and not _NOT_PLAIN_ABSOLUTE.search(link):
        return link  # the common case, without urljoin's cost
    resolved = resolve_url(base, link)
    return resolved if _ABSOLUTE.match(resolved) else None


_NOT_PLAIN_ABSOLUTE = re.compile(r"\s|^https?:///")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]")


def _language(value: str | None) -> str | None:
    if not value:
        return None
    tag = "".join(value.split()).replace("_", "-").lower()
    return tag if 0 < len(tag) <= 35 and _LANGUAGE_TAG.fullmatch(tag) else None


_LANGUAGE_TAG = re.compile(r"[a-z]{1,8}(?:-[a-z0-9]{1,8})*")


def _is_html(content_type: str | None) -> bool:
    """text/html, application/xhtml+xml, or Atom's "html" and "xhtml"."""
    return content_type is not None and "html" in content_type


# -- text --------------------------------------------------------------------

_TAG = re.compile(r"<!--.*?-->|<!\[CDATA\[|\]\]>|</?[A-Za-z][^<>]*>", re.DOTALL)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|hr|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|pre|section|article|header|footer"
    r"|figure|figcaption|img|dd|dt|dl)\b",
    re.IGNORECASE,
)
_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# "&amp;#8217;" and "&amp;amp;" are escaped twice by many publishers; "&amp;lt;" is
# left alone, since it is also how a title that talks about "&lt;" is written.
_DOUBLE_ESCAPED = re.compile(r"&amp;(?=(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|amp|quot|apos|nbsp|#39);)")
# Whitespace except the ideographic space, which is part of Japanese text.
_SPACES = re.compile(r"[^\S\u3000]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def plain_text(value: str, *, html: bool) -> str:
    """Text for a title or a name: tags stripped (``html``), entities decoded once, whitespace folded.

    Entities are decoded in plain text too: feeds escape titles inconsistently,
    and a title whose text really is ``&#8211;`` is rarer than one that means ``–``.
    """
    if html and "<" in value:
        value = _TAG.sub("", value)
    if "&" in value:
        value = _ENTITY.sub(_decode_entity, _DOUBLE_ESCAPED.sub("&", value))
    if _CONTROL.search(value):
        value = _CONTROL.sub("", value)
    return _SPACES.sub(" ", value).strip()


def _decode_entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name[0] != "#":
        return _HTML5_ENTITIES.get(name + ";", match.group(0))
    number = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    if 0x80 <= number <= 0x9F:  # as browsers do: C1 controls mean windows-1252
        return bytes([number]).decode("cp1252", "replace")
    if number == 0 or number > 0x10FFFF or 0xD800 <= number <= 0xDFFF:
        return "\ufffd"
    return chr(number)


def _excerpt(markup: str | None) -> str:
    """A short plain-text excerpt of HTML (or text), for entries without a title."""
    if not markup:
        return ""
    head = markup[: TITLE_EXCERPT_CHARS * 50]
    if "<" in head:
        head = _SCRIPT_STYLE.sub(" ", head)
        head = head[: head.rfind("<")] if head.rfind("<") > head.rfind(">") else head  # a cut tag
        # Block-level tags separate words; inline ones do not ("<b>시간</b>을" is one word).
        head = _TAG.sub(lambda tag: " " if _BLOCK_TAG.match(tag.group(0)) else "", head)
    text = plain_text(head, html=False)
    if len(text) <= TITLE_EXCERPT_CHARS:
        return text
    cut = text[:TITLE_EXCERPT_CHARS]
    space = cut.rfind(" ")
    if space > TITLE_EXCERPT_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"


# -- dates -------------------------------------------------------------------

_KST = timezone(timedelta(hours=9))
_ZONES = {"UTC": UTC, "GMT": UTC, "Z": UTC, "KST": _KST, "JST": _KST}
# 2024-03-05, 2024.03.05, 2024/3/5, 2024년 3월 5일, 2024年3月5日, optionally a time and a zone.
_NUMERIC_DATE = re.compile(
    r"(\d{4})\s*[-./년年]\s*(\d{1,2})\s*[-./월月]\s*(\d{1,2})\s*[일日]?\.?"
    r"(?:[\sT]*(?:\([^)]*\)|[월화수목금토일]요일|[月火水木金土日]曜日)?\s*"
    r"(오전|오후|午前|午後|AM|PM|am|pm)?\s*(\d{1,2})\s*[:시時]\s*(\d{1,2})\s*[분分]?"
    r"(?:\s*:?\s*(\d{1,2})(?:\.\d+)?\s*[초秒]?)?\s*"
    r"(오전|오후|午前|午後|AM|PM|am|pm)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT|KST|JST)?\s*$"
)
_CJK_MARKS = frozenset("년월일오전후年月日午前後")
_PM = frozenset({"오후", "午後", "PM", "pm"})
_AM = frozenset({"오전", "午前", "AM", "am"})
# Month abbreviations RFC 822 dates carry in other languages (pt, es, fr, de, it).
_MONTHS = {
    "fev": "Feb", "abr": "Apr", "mai": "May", "ago": "Aug", "set": "Sep", "out": "Oct", "dez": "Dec",
    "ene": "Jan", "dic": "Dec", "janv": "Jan", "févr": "Feb", "fevr": "Feb", "mars": "Mar", "avr": "Apr",
    "juin": "Jun", "juil": "Jul", "août": "Aug", "aout": "Aug", "sept": "Sep", "déc": "Dec",
    "mär": "Mar", "märz": "Mar", "mrz": "Mar", "okt": "Oct",
    "gen": "Jan", "mag": "May", "giu": "Jun", "lug": "Jul", "ott": "Oct",
}  # fmt: skip
_RFC822_SHAPE = re.compile(r"\d{1,2}[\s-]+[^\W\d_]+\.?[\s-]+\d{2,4}\b")
_WORD = re.compile(r"[^\W\d_]+\.?")
_ENGLISH_FORMATS = ("%A, %B %d, %Y %I:%M %p", "%B %d, %Y %I:%M %p", "%A, %B %d, %Y", "%B %d, %Y", "%d %B %Y")


def parse_date(text: str) -> datetime | None:
    """A timezone-aware UTC datetime from a date string feedparser could not read, or None.

    Tries ISO 8601 / RFC 3339, RFC 822 (also with weekday and month names in a
    few other languages), Korean and Japanese numeric dates, and a few long
    English forms. A date without a zone is taken as UTC, except a Korean or
    Japanese one, taken as UTC+9.
    """
    text = " ".join(text.split())
    if not text or len(text) > 64:
        return None
    return _iso_date(text) or _rfc822_date(text) or _numeric_date(text) or _english_date(text)


def _iso_date(text: str) -> datetime | None:
    if not text[:4].isdigit():
        return None
    try:
        value = datetime.fromisoformat(text.replace(" +", "+").replace(" -", "-"))
    except ValueError:
        return None
    return _as_utc(value, UTC)


def _rfc822_date(text: str) -> datetime | None:
    # Drop a weekday in any language ("Seg,", "Mittwoch,"), map foreign month names.
    head, comma, rest = text.partition(",")
    if comma and head.isalpha():
        text = rest.strip()
    if not _RFC822_SHAPE.match(text):  # "January 29, 2021 04:42 PM" would lose its PM
        return None
    text = _WORD.sub(lambda m: _MONTHS.get(m.group(0).rstrip(".").lower(), m.group(0)), text)
    parts = parsedate_tz(text)
    if parts is None:
        return None
    try:
        value = datetime(*parts[:5], min(parts[5], 59))
    except ValueError:
        return None
    offset = parts[9]
    zone = timezone(timedelta(seconds=offset)) if offset is not None and abs(offset) < 86400 else UTC
    return _as_utc(value, zone)


def _numeric_date(text: str) -> datetime | None:
    match = _NUMERIC_DATE.fullmatch(text)
    if not match:
        return None
    year, month, day, ampm, hour, minute, second, ampm_after, zone = match.groups()
    hour_value = int(hour or 0)
    marker = ampm or ampm_after
    if marker in _PM and hour_value < 12:
        hour_value += 12
    elif marker in _AM and hour_value == 12:
        hour_value = 0
    try:
        value = datetime(int(year), int(month), int(day), hour_value, int(minute or 0), int(second or 0))
    except ValueError:
        return None
    default = _KST if any(char in _CJK_MARKS for char in text) else UTC
    return _as_utc(value, _zone(zone) or default)


def _english_date(text: str) -> datetime | None:
    for pattern in _ENGLISH_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _zone(text: str | None) -> timezone | None:
    if not text:
        return None
    if text in _ZONES:
        return _ZONES[text]
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _as_utc(value: datetime, default: timezone) -> datetime | None:
    if value.tzinfo is None:
        value = value.replace(tzinfo=default)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# -- bytes to text -------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels whose documents are really written in a superset (as browsers decode them, WHATWG Encoding).
_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ksc5601": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
# A server's ISO-8859-1 is usually its default, not a statement about the document.
_WEAK_CHARSETS = frozenset({"cp1252"})
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


def _decode(body: bytes, http_charset: str | None, declared: str | None) -> str:
    """The document's text: BOM, then valid UTF-8, then the declared charsets, then windows-1252."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, "replace")
    if body[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return body.decode("utf-16-le" if body[0] == 0x3C else "utf-16-be", "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lenient = body.decode("utf-8", "replace")
    bad = lenient.count("\ufffd")
    non_ascii = len(lenient) - len(lenient.encode("ascii", "ignore"))
    if non_ascii - bad > 10 * bad:  # UTF-8 with a few stray bytes, whatever was declared
        return lenient
    candidates = [_codec(name) for name in (http_charset, declared)]
    ordered = [name for name in candidates if name and name not in _WEAK_CHARSETS]
    ordered += [name for name in candidates if name and name in _WEAK_CHARSETS]
    for encoding in dict.fromkeys(ordered):
        if encoding == "utf-8":
            continue
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    fallback = next((name for name in ordered if name != "utf-8"), "cp1252")
    try:
        return body.decode(fallback)
    except UnicodeDecodeError:
        return body.decode(fallback if fallback != "cp1252" else "latin-1", "replace")


def _codec(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
        "a".encode(name)  # "base64", "rot13" and friends are codecs, but not text encodings
    except (LookupError, UnicodeError):
        return None
    if name in ("utf-16", "utf-32"):
        return None  # without a BOM these are guesses; the BOM check came first
    if name in ("idna", "punycode", "unicode-escape", "raw-unicode-escape"):
        return None  # text codecs, but no document is written in them
    if name in ("iso8859-1", "ascii"):
        return "cp1252"
    return name


def _xml_declared_encoding(body: bytes) -> str | None:
    match = _XML_ENCODING.match(body[:512].lstrip(b"\xef\xbb\xbf \t\r\n"))
    return match.group(1).decode("ascii") if match else None


def _split_content_type(value: str | None) -> tuple[str, str | None]:
    if not value:
        return "", None
    mime, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, param_value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = param_value.strip().strip("\"'") or None
    return mime.strip().lower(), charset


def _peek(body: bytes) -> str:
    """The start of the document, BOM and leading whitespace removed, enough to sniff its kind."""
    head = body[:1024]
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, "ignore").lstrip()
    if head[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return "<"
    return head.decode("latin-1").lstrip()


def _gunzip(body: bytes, url: str) -> bytes:
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(body, MAX_GUNZIPPED_BYTES)
    except zlib.error as exc:
        raise ParseError(url, f"not a feed: a damaged gzip body ({exc})") from None
    if not data and not decompressor.eof:
        raise ParseError(url, "not a feed: a damaged gzip body (it ends before any data)")
    if decompressor.unconsumed_tail:
        limit = MAX_GUNZIPPED_BYTES // (1024 * 1024)
        raise ParseError(url, f"not a feed: the gzip-compressed body expands past {limit} MiB")
    return data
