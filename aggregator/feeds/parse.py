"""Feed documents to :class:`ParsedFeed` values. Pure: bytes and headers in, values out.

No I/O and no clock: dates are reported as the feed gives them (fallbacks and
clamping are decided later, with ``now``, in ``decide.py``)::

    body ─> gunzip? ─┬─> JSON Feed reader ───────────────────────────────────────────────┐
                     └─> tags ─> decode ─> repair ─┬─> lxml + feedparser's handlers ──────────┤
                                                   └─> depth ─> feedparser (no sanitising) ───┴─> ParsedFeed

A document with absurd structure (more tags or deeper nesting than any feed)
is refused before the expensive parse (:mod:`aggregator.feeds.shape`), and a
gzip-compressed body is inflated only up to the same cap as the HTTP body.

Feed HTML is never rendered by this product, so feedparser runs with
``sanitize_html=False`` and ``resolve_relative_uris=False``: those two passes
are most of its time. Only the links we keep are resolved. Whatever those
options say, feedparser joins ``<link>``, ``href`` and permalink guids with
``xml:base`` (and with the ``Content-Location`` it is given); the entry and home
links are then resolved against the final URL by
:func:`~aggregator.urls.resolve_url`.

Decoding (see :func:`aggregator.feeds.feedbytes.decode`) trusts a byte-order mark, then valid UTF-8
(wrong declarations are common, accidental valid UTF-8 is not), then the HTTP
charset and the XML declaration; feedparser is then handed UTF-8.

A well-formed RSS or Atom document skips feedparser's SAX parser: the fast path
(:mod:`aggregator.feeds.parse_fast`) parses it with lxml and feeds the tree to
feedparser's own element handlers: the same result, about three times faster.
It declines (and feedparser parses) whatever it is unsure of, malformed XML
first. Both paths end in :func:`aggregator.feeds.text.xml_feed`.

Every failure to find a feed raises :class:`ParseError` with a reason a person
can act on; a malformed document whose entries could still be read is returned
with ``warning`` set.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from html.entities import html5 as _HTML5_ENTITIES
from typing import Any

import feedparser

from aggregator.errors import ParseError
from aggregator.feeds.feedbytes import (
    MAX_GUNZIPPED_BYTES,
    decode,
    gunzip,
    peek,
    split_content_type,
    xml_declared_encoding,
)
from aggregator.feeds.jsonfeed import parse_json_feed
from aggregator.feeds.parse_fast import parse_fast
from aggregator.feeds.shape import check_depth, check_tag_count
from aggregator.feeds.text import (
    TITLE_EXCERPT_CHARS,
    UNTITLED,
    feed_title,
    parse_date,
    plain_text,
    readable_entries,
    xml_feed,
)
from aggregator.types import ParsedFeed
from aggregator.urls import resolve_url

__all__ = ["MAX_GUNZIPPED_BYTES", "TITLE_EXCERPT_CHARS", "UNTITLED", "parse_date", "parse_feed", "plain_text"]


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
    max_bytes: int | None = None,
) -> ParsedFeed:
    """Parse an RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.0/1.1 document.

    ``url`` is the final URL the body came from (after redirects): relative links
    are resolved against it and it names the feed in errors. ``content_type``
    defaults to the ``Content-Type`` in ``headers``. ``max_bytes`` caps a body
    that is itself gzip-compressed once inflated (default
    :data:`MAX_GUNZIPPED_BYTES`), as the fetcher caps every body.

    Raises :class:`ParseError` when the body holds nothing feed-like, and also
    when feedparser itself fails on an odd document (it raises KeyError or
    TypeError on some well-formed XML): a feed's bad input is that feed's error,
    never a crash of the poll.
    """
    try:
        return _parse_feed(body, url=url, content_type=content_type, headers=headers, max_bytes=max_bytes)
    except ParseError:
        raise
    except RecursionError:  # JSON nested thousands deep
        raise ParseError(url, "not parsed: the document is nested too deeply to read") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, LookupError) as exc:
        raise ParseError(
            url, f"the feed parser failed on this document ({type(exc).__name__}: {exc}); check the feed"
        ) from exc


def _parse_feed(
    body: bytes,
    *,
    url: str,
    content_type: str | None = None,
    headers: Mapping[str, str] | None = None,
    fast: bool = True,
    max_bytes: int | None = None,
) -> ParsedFeed:
    """:func:`parse_feed`; ``fast=False`` always uses feedparser for XML (for comparisons)."""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    if content_type is None:
        content_type = lowered.get("content-type")
    mime, charset = split_content_type(content_type)
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body, url, MAX_GUNZIPPED_BYTES if max_bytes is None else max_bytes)
    start = peek(body)
    if not start:
        raise ParseError(url, "empty response body: the server sent no document; check the feed URL")
    if start[0] == "{" or (mime in _JSON_TYPES and start[0] != "<"):
        return parse_json_feed(body, url=url, charset=charset)
    return _parse_xml_feed(
        body, url=url, mime=mime, charset=charset, http_language=lowered.get("content-language"), fast=fast
    )


# -- XML feeds (lxml fast path, else feedparser) -------------------------------


def _parse_xml_feed(
    body: bytes, *, url: str, mime: str, charset: str | None, http_language: str | None, fast: bool
) -> ParsedFeed:
    check_tag_count(body, url)
    text = decode(body, charset, xml_declared_encoding(body))
    xml, line_offset, warnings = _repair_xml(text)
    if fast:
        parsed = parse_fast(xml, url=url, http_language=http_language, warnings=warnings)
        if parsed is not None:
            return parsed
    check_depth(xml, url)
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
    malformed = _describe_bozo(result, line_offset) if _get(result, "bozo") else None
    if not version and not raw_entries:
        raise ParseError(url, _not_a_feed_reason(text, mime, feed, url, malformed))
    if malformed and not feed_title(feed) and not readable_entries(raw_entries):
        raise ParseError(url, f"not a feed: {malformed}, and no entries or feed title could be read")
    if malformed:
        warnings.insert(0, malformed + "; entries were read leniently and may be incomplete")
    return xml_feed(version, feed, raw_entries, url=url, http_language=http_language, warnings=warnings)


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
    count = 0
    if _XML_INVALID_CHARS.search(stripped):
        stripped, count = _XML_INVALID_CHARS.subn("", stripped)
    if "&#" in stripped:  # the same characters written as references (&#0;), outside CDATA sections
        stripped, references = _drop_invalid_references(stripped)
        count += references
    if count:
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
_CDATA_OR_REFERENCE = re.compile(
    r"<!\[CDATA\[.*?\]\]>|&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));", re.DOTALL
)


def _xml_allows(number: int) -> bool:
    """Whether XML 1.0 allows the character ``number`` (a reference to any other is an error)."""
    return (
        number in (0x9, 0xA, 0xD)
        or 0x20 <= number <= 0xD7FF
        or 0xE000 <= number <= 0xFFFD
        or 0x10000 <= number <= 0x10FFFF
    )


def _drop_invalid_references(text: str) -> tuple[str, int]:
    """``text`` without the character references XML forbids (``&#0;``, ``&#x1f;``): a strict parser
    stops at them, and feedparser's lenient one turns them into characters no database stores (a NUL
    in a link). CDATA sections, where ``&#0;`` is only text, are left alone."""
    dropped = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal dropped
        hexadecimal, decimal = match.group(1), match.group(2)
        if hexadecimal is None and decimal is None:
            return match.group(0)  # a CDATA section
        if _xml_allows(int(hexadecimal, 16) if hexadecimal is not None else int(decimal)):
            return match.group(0)
        dropped += 1
        return ""

    return _CDATA_OR_REFERENCE.sub(replace, text), dropped


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
