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

Decoding (see :func:`_decode`) trusts a byte-order mark, then valid UTF-8
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

import codecs
import io
import json
import re
import zlib
from collections.abc import Mapping
from html.entities import html5 as _HTML5_ENTITIES
from typing import Any

import feedparser

from aggregator.errors import ParseError
from aggregator.feeds.parse_fast import parse_fast
from aggregator.feeds.shape import check_depth, check_tag_count
from aggregator.feeds.text import (
    TITLE_EXCERPT_CHARS,
    UNTITLED,
    absolute_link,
    entry_key,
    excerpt,
    feed_title,
    language_tag,
    parse_date,
    plain_text,
    readable_entries,
    unique_entries,
    xml_feed,
)
from aggregator.types import ParsedEntry, ParsedFeed
from aggregator.urls import resolve_url

__all__ = ["TITLE_EXCERPT_CHARS", "UNTITLED", "parse_date", "parse_feed", "plain_text"]

MAX_GUNZIPPED_BYTES = 10 * 1024 * 1024
"""A body that is itself gzip-compressed (a .xml.gz served as is) may expand to this much unless the
caller gives its own cap (the poll gives ``fetch.max_body_bytes``, the cap on every body)."""

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
    mime, charset = _split_content_type(content_type)
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body, url, MAX_GUNZIPPED_BYTES if max_bytes is None else max_bytes)
    start = _peek(body)
    if not start:
        raise ParseError(url, "empty response body: the server sent no document; check the feed URL")
    if start[0] == "{" or (mime in _JSON_TYPES and start[0] != "<"):
        return _parse_json_feed(body, url=url, charset=charset)
    return _parse_xml_feed(
        body, url=url, mime=mime, charset=charset, http_language=lowered.get("content-language"), fast=fast
    )


# -- XML feeds (lxml fast path, else feedparser) -------------------------------


def _parse_xml_feed(
    body: bytes, *, url: str, mime: str, charset: str | None, http_language: str | None, fast: bool
) -> ParsedFeed:
    check_tag_count(body, url)
    text = _decode(body, charset, _xml_declared_encoding(body))
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
# In a JSON Feed's strings, what no database stores: NUL (PostgreSQL refuses it) and the lone
# surrogates a \\uD800 escape leaves (UTF-8 cannot encode them). Other control characters are
# kept, as text; every front end shows them as escapes.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
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


def _gunzip(body: bytes, url: str, max_bytes: int = MAX_GUNZIPPED_BYTES) -> bytes:
    """The first gzip member of ``body``, refused when it inflates past ``max_bytes``."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(body, max_bytes)
    except zlib.error as exc:
        raise ParseError(url, f"not a feed: a damaged gzip body ({exc})") from None
    if not data and not decompressor.eof:
        raise ParseError(url, "not a feed: a damaged gzip body (it ends before any data)")
    if decompressor.unconsumed_tail or (not decompressor.eof and decompressor.decompress(b"", 1)):
        raise ParseError(url, f"not a feed: the gzip-compressed body expands past {_size(max_bytes)}")
    return data


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 and n % (1024 * 1024) == 0 else f"{n:,} bytes"
