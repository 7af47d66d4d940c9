"""Feed values from feedparser-shaped results: entries, plain text, dates, links.

Shared by the feedparser path (:mod:`aggregator.feeds.parse`) and the lxml fast path
(:mod:`aggregator.feeds.parse_fast`): both produce feedparser's raw result (``feed``,
``entries``, ``version``) and :func:`xml_feed` turns it into a :class:`ParsedFeed`,
so the two paths cannot disagree after parsing. Pure: no I/O and no clock.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz
from html.entities import html5 as _HTML5_ENTITIES
from typing import Any

from aggregator.types import ParsedEntry, ParsedFeed
from aggregator.urls import resolve_url

TITLE_EXCERPT_CHARS = 80
"""Length of the title made from the summary or content when an entry has none."""

UNTITLED = "(untitled)"

# dict.get, not FeedParserDict.get: faster, and it skips the compatibility mapping
# from `updated` to `published` that warns (feedparser issue 310).
_get = dict.get


# -- XML feeds: feedparser's result to a ParsedFeed ----------------------------


def xml_feed(
    version: str,
    feed: dict[str, Any],
    raw_entries: list[dict[str, Any]],
    *,
    url: str,
    http_language: str | None,
    warnings: list[str],
) -> ParsedFeed:
    """The :class:`ParsedFeed` of a feedparser result; ``warnings`` (the repairs') is appended to."""
    readable = readable_entries(raw_entries)
    feed_author = _author(feed) if version.startswith("atom") else None
    feed_link = absolute_link(url, _get(feed, "link"))
    if len(readable) < len(raw_entries):
        skipped = len(raw_entries) - len(readable)
        warnings.append(f"skipped {skipped} empty {'entry' if skipped == 1 else 'entries'}")
    language = language_tag(_get(feed, "language")) or language_tag(http_language)
    entries = (_xml_entry(raw, url=url, feed_author=feed_author, feed_language=language) for raw in readable)
    return ParsedFeed(
        title=feed_title(feed) or None,
        link=feed_link,
        format=version or "unknown",
        language=language,
        entries=unique_entries(entries, warnings),
        warning="; ".join(warnings) or None,
        ttl=feed_ttl(_get(feed, "ttl")),
    )


#: The longest RSS ttl read as it is; a larger number (a year of minutes, or garbage) is read as this.
MAX_TTL = timedelta(days=7)


def feed_ttl(value: object) -> timedelta | None:
    """RSS 2.0's ``<ttl>`` (minutes the channel may be cached) as a duration; None when absent or not
    a positive whole number. Capped at :data:`MAX_TTL`: the scheduler caps it further."""
    if not isinstance(value, str) or not (text := value.strip()).isascii() or not text.isdigit():
        return None
    minutes = int(text[:12])
    return min(timedelta(minutes=minutes), MAX_TTL) if minutes > 0 else None


def feed_title(feed: dict[str, Any]) -> str:
    return _detail_text(feed, "title")


def readable_entries(raw_entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries with something in them: an empty <item/> (nested inside another by some
    generators) becomes an empty entry."""
    return [raw for raw in raw_entries if any(_get(raw, key) for key in _ENTRY_FIELDS)]


_ENTRY_FIELDS = ("id", "link", "links", "title", "summary", "content", "published", "updated")


def _xml_entry(
    raw: dict[str, Any], *, url: str, feed_author: str | None, feed_language: str | None
) -> ParsedEntry:
    guid = (_get(raw, "id") or "").strip() or None
    raw_link = _get(raw, "link")
    if raw_link and raw_link == guid and _get(raw, "guidislink") and not _is_link_like(raw_link):
        raw_link = None
    link = absolute_link(url, raw_link) or _alternate_link(url, raw)
    content, content_type, content_language = _content(raw)
    summary = _get(raw, "summary") or None
    if summary is not None and summary == content:
        summary = None  # feedparser copies the content into a missing summary
    published = _entry_date(raw, "published")
    updated = _entry_date(raw, "updated")
    title = _detail_text(raw, "title") or excerpt(summary or content) or UNTITLED
    language = content_language or _detail_language(raw, "summary_detail", "title_detail") or feed_language
    return ParsedEntry(
        key=entry_key(guid, link, title, published or updated),
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
    links = _get(raw, "links")
    for candidate in links if isinstance(links, list) else ():  # an unknown <links> element is text
        if isinstance(candidate, dict) and _get(candidate, "rel") == "alternate":
            link = absolute_link(url, _get(candidate, "href"))
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
    return chosen["value"], content_type, language_tag(_get(chosen, "language"))


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
            return language_tag(detail["language"])
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


# -- shared: identity, links, languages ------------------------------------------


def entry_key(guid: str | None, link: str | None, title: str, date: datetime | None) -> str:
    """The id, else the link, else a hash of title and date: stable across runs."""
    if guid:
        return guid
    if link:
        return link
    seed = title + "\n" + (date.isoformat() if date else "")
    return "sha1:" + hashlib.sha1(seed.encode("utf-8")).hexdigest()


def unique_entries(entries: Iterable[ParsedEntry], warnings: list[str]) -> tuple[ParsedEntry, ...]:
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


def absolute_link(base: str, link: str | None) -> str | None:
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


def language_tag(value: str | None) -> str | None:
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


def excerpt(markup: str | None) -> str:
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
