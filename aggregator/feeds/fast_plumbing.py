"""The fast path's half of feedparser's mixin: its plumbing rewritten leaner, with feedparser 6's behaviour.

The start/end bookkeeping (xml:base, xml:lang, inline XHTML), text runs, ``pop``
(which stores an element's text) and a few helpers, memoised; the handlers
themselves (``_start_title``, ``_end_guid``, ...) are feedparser's, inherited.
:class:`aggregator.feeds.fast_reader.TreeReader` walks an lxml tree through them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import xml.sax.saxutils
from typing import Any, NamedTuple

from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin, make_safe_absolute_uri
from feedparser.util import FeedParserDict

__all__ = ["ElementInfo", "Plumbing", "Unsupported"]

_XHTML_TYPE = "application/xhtml+xml"
_QUERY_ENTITY = re.compile("&([A-Za-z0-9_]+);")  # feedparser's repair of "?a=1&b=2" read as "&b;=2"
_NOT_STORED = frozenset({"category", "tags", "itunes_keywords"})
_C1_CONTROL = re.compile("[\x80-\x9f]")  # what feedparser's windows-1252 table maps
_CONTENT_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html", "xhtml": _XHTML_TYPE}
# Keys a FeedParserDict maps or computes: stored through it, as feedparser does.
_MAPPED_KEYS = frozenset(FeedParserDict.keymap) | {"category", "enclosures", "license"}


class Unsupported(Exception):
    """The document needs something the fast path does not reproduce; feedparser reads it."""


class ElementInfo(NamedTuple):
    """How the reader treats one element name, given the namespaces declared so far."""

    name: str
    """feedparser's name for it: "title", "content:encoded", "media:content"."""
    local: str
    """The name written inside inline XHTML: without any prefix."""
    key: str
    """The handler suffix, also the key of an element without handler: "content_encoded"."""
    start: Any
    """The bound ``_start_<key>`` handler, or None."""
    end: Any
    """The bound ``_end_<key>`` handler, or None."""
    ends_textinput: bool
    ends_image: bool


class Plumbing(_FeedParserMixin):  # type: ignore[misc]
    """_FeedParserMixin with its per-element plumbing replaced: same behaviour, less work."""

    # Set by the reader's __init__ (as feedparser's StrictFeedParser sets them).
    baseuri: str
    lang: str | None
    contentparams: dict[str, Any]
    _joins: dict[tuple[str, str], str]
    _depths: dict[int, dict[str, int]]
    _resolved: dict[tuple[str, str], str]
    _dates: dict[str | None, Any]
    _markup_pieces: dict[int, list[str]]

    def _join(self, base: str, uri: str) -> str:
        """make_safe_absolute_uri (under a base) or _urljoin (without one), memoised."""
        key = (base, uri)
        joined = self._joins.get(key)
        if joined is None:
            joined = (make_safe_absolute_uri(base, uri) or base) if base else _urljoin(base, uri)
            self._joins[key] = joined
        return joined

    def _start(self, element: ElementInfo, attrs_d: dict[str, str]) -> Any:
        """_FeedParserMixin.unknown_starttag."""
        self.depth += 1
        if attrs_d:
            baseuri = attrs_d.get("xml:base", attrs_d.get("base")) or self.baseuri
            lang = attrs_d.get("xml:lang", attrs_d.get("lang"))
            if lang == "":
                lang = None
            elif lang is None:
                lang = self.lang
        else:
            baseuri = self.baseuri
            lang = self.lang
        if baseuri:
            self.baseuri = self._join(self.baseuri, baseuri)
        if lang and element.name in ("feed", "rss"):
            self.feeddata["language"] = lang.replace("_", "-")
        self.lang = lang
        self.basestack.append(self.baseuri)
        self.langstack.append(lang)

        if self.incontent:
            if not self.contentparams.get("type", "xml").endswith("xml"):
                if element.name in ("xhtml:div", "div"):
                    return None  # typepad does this (feedparser's comment)
                self.contentparams["type"] = _XHTML_TYPE
            if self.contentparams.get("type") == _XHTML_TYPE:
                if self.elementstack:
                    tag = f"<{element.local}{self.strattrs(list(attrs_d.items()))}>"
                    self.elementstack[-1][2].append(tag)
                return None

        if element.ends_textinput:
            self.intextinput = 0
        if element.ends_image:
            self.inimage = 0
        if element.start is not None:
            try:
                return element.start(attrs_d)
            except AttributeError:
                pass
        if not attrs_d:
            self.elementstack.append([element.key, 1, []])
        else:
            self._get_context()[element.key] = attrs_d
        return None

    def _end(self, element: ElementInfo) -> None:
        """_FeedParserMixin.unknown_endtag."""
        if element.end is not None:
            try:
                element.end()
            except AttributeError:
                self.pop(element.key)
        else:
            self.pop(element.key)

        if self.incontent:
            if not self.contentparams.get("type", "xml").endswith("xml"):
                if element.name in ("xhtml:div", "div"):
                    return  # feedparser returns here too, before unwinding its stacks
                self.contentparams["type"] = _XHTML_TYPE
            if self.contentparams.get("type") == _XHTML_TYPE and self.elementstack:
                self.elementstack[-1][2].append(f"</{element.name.split(':')[-1]}>")

        basestack = self.basestack
        if basestack:
            basestack.pop()
            if basestack and basestack[-1]:
                self.baseuri = basestack[-1]
        langstack = self.langstack
        if langstack:
            langstack.pop()
            if langstack:
                self.lang = langstack[-1]
        self.depth -= 1

    def unknown_starttag(self, tag: str, attrs: Any) -> None:
        raise Unsupported("a handler restarting an element")  # only _start_title does, inside SVG

    def _data(self, text: str) -> None:
        """_FeedParserMixin.handle_data for a run of text."""
        stack = self.elementstack
        if stack:
            pieces = stack[-1][2]
            if self.contentparams.get("type") == _XHTML_TYPE:
                text = xml.sax.saxutils.escape(text)
            elif "<" in text:
                # expat hands "&lt;" over as a piece of its own: where the pieces
                # matter (_unwrap_div), this text would not be one piece in feedparser.
                self._markup_pieces[id(pieces)] = pieces
            pieces.append(text)

    def handle_data(self, text: str, escape: int = 1) -> None:
        if escape:
            self._data(text)
        elif self.elementstack:
            self.elementstack[-1][2].append(text)

    def push(self, element: str, expecting_text: Any) -> None:
        self.elementstack.append([element, expecting_text, []])

    def push_content(
        self, tag: str, attrs_d: dict[str, str], default_content_type: str, expecting_text: Any
    ) -> None:
        self.incontent += 1
        if self.lang:
            self.lang = self.lang.replace("_", "-")
        content_type = attrs_d.get("type", default_content_type).lower()
        content_type = _CONTENT_TYPES.get(content_type, content_type)
        if attrs_d.get("mode", "") == "base64":
            is_base64 = 1
        elif content_type.startswith("text/") or content_type.endswith(("+xml", "/xml")):
            is_base64 = 0
        else:
            is_base64 = 1
        self.contentparams = {
            "type": content_type,
            "language": self.lang,
            "base": self.baseuri,
            "base64": is_base64,
        }
        self.elementstack.append([tag, expecting_text, []])

    def _get_context(self) -> Any:
        if self.insource:
            return self.sourcedata
        if self.inimage and dict.__contains__(self.feeddata, "image"):
            return self.feeddata["image"]
        if self.intextinput:
            return self.feeddata["textinput"]
        if self.inentry:
            return self.entries[-1]
        return self.feeddata

    def _save(self, key: str, value: Any, overwrite: bool = False) -> None:
        context = self._get_context()
        if key in _MAPPED_KEYS:
            if overwrite:
                context[key] = value
            else:
                context.setdefault(key, value)
        elif overwrite:
            dict.__setitem__(context, key, value)
        else:
            dict.setdefault(context, key, value)

    def resolve_uri(self, uri: str) -> str:
        base = self.baseuri or ""
        if not base and "///" not in uri:
            return uri  # _urljoin("", uri) only folds the slashes of "http:///x"
        return self._resolved.get((base, uri)) or self._resolved.setdefault((base, uri), _urljoin(base, uri))

    def _date(self, value: str | None) -> Any:
        """feedparser's _parse_date, memoised: feeds repeat dates (published and updated, the channel's)."""
        if value in self._dates:
            return self._dates[value]
        parsed = self._dates[value] = _parse_date(value)
        return parsed

    def _end_published(self) -> None:
        self._save("published_parsed", self._date(self.pop("published")), overwrite=True)

    _end_issued = _end_pubdate = _end_published

    def _end_updated(self) -> None:
        self._save("updated_parsed", self._date(self.pop("updated")), overwrite=True)

    _end_modified = _end_lastbuilddate = _end_updated

    @staticmethod
    def looks_like_html(s: str) -> Any:
        # Without "<" or "&" none of feedparser's tests can succeed.
        return ("<" in s or "&" in s) and _FeedParserMixin.looks_like_html(s)

    def pop(self, element: str, strip_whitespace: int = 1) -> Any:
        stack = self.elementstack
        if not stack or stack[-1][0] != element:
            return None
        element, expecting_text, pieces = stack.pop()
        params = self.contentparams

        if params and self.version == "atom10" and params.get("type", "text") == _XHTML_TYPE:
            if id(pieces) in self._markup_pieces:
                raise Unsupported("escaped markup beside inline XHTML")
            pieces = _unwrap_div(pieces)

        output = pieces[0] if len(pieces) == 1 else "".join(pieces)
        if strip_whitespace:
            output = output.strip()
        if not expecting_text:
            return output

        if params and params.get("base64", 0):
            output = _base64_text(output)
        if output and element in self.can_be_relative_uri and (element != "id" or self.guidislink):
            output = self.resolve_uri(output)
        if params:
            if (
                params.get("type") == "text/plain"
                and not self.version.startswith("atom")
                and self.looks_like_html(output)
            ):
                params["type"] = "text/html"
            params.pop("mode", None)
            params.pop("base64", None)

        if not output.isascii():
            # feedparser undoes UTF-8 read as ISO-8859-1, then maps C1 controls to windows-1252.
            with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
                output = output.encode("iso-8859-1").decode("utf-8")
            if _C1_CONTROL.search(output):
                output = output.translate(_cp1252)

        if element in _NOT_STORED:
            return output
        if element == "title" and -1 < self.title_depth <= self.depth:
            return output

        return self._store(element, output, params)

    def _store(self, element: str, output: str, params: dict[str, Any]) -> str:
        """The end of feedparser's pop: ``output`` kept in the entry or the feed, under its name."""
        if self.inentry and not self.insource:
            entry = self.entries[-1]
            if element == "content":
                entry.setdefault(element, [])
                entry[element].append({**params, "value": output})
            elif element == "link":
                if not self.inimage:
                    if "&" in output:
                        output = _QUERY_ENTITY.sub(r"&\g<1>", output.replace("&amp;", "&"))
                    dict.__setitem__(entry, "link", output)
                    if output:
                        entry["links"][-1]["href"] = output
            else:
                if element == "description":
                    element = "summary"
                depths = self._depths.get(id(entry))
                if depths is None:
                    depths = self._depths[id(entry)] = {}
                old_depth = depths.get(element)
                if old_depth is None or self.depth <= old_depth:
                    depths[element] = self.depth
                    if element in _MAPPED_KEYS:
                        entry[element] = output
                    else:
                        dict.__setitem__(entry, element, output)
                if self.incontent:
                    entry[element + "_detail"] = {**params, "value": output}
        elif self.infeed or self.insource:
            context = self._get_context()
            if element == "description":
                element = "subtitle"
            context[element] = output
            if element == "link":
                output = _QUERY_ENTITY.sub(r"&\g<1>", output)
                context[element] = output
                context["links"][-1]["href"] = output
            elif self.incontent:
                context[element + "_detail"] = {**params, "value": output}
        return output


def _unwrap_div(pieces: list[str]) -> list[str]:
    """Atom 1.0 XHTML content without the <div> that wraps all of it (feedparser's pop)."""
    while pieces and len(pieces) > 1 and not pieces[-1].strip():
        del pieces[-1]
    while pieces and len(pieces) > 1 and not pieces[0].strip():
        del pieces[0]
    if pieces and (pieces[0] == "<div>" or pieces[0].startswith("<div ")) and pieces[-1] == "</div>":
        depth = 0
        for piece in pieces[:-1]:
            if piece.startswith("</"):
                depth -= 1
                if depth == 0:
                    return pieces
            elif piece.startswith("<") and not piece.endswith("/>"):
                depth += 1
        return pieces[1:-1]
    return pieces


def _base64_text(output: str) -> str:
    try:
        return base64.decodebytes(output.encode("utf8")).decode("utf8")
    except (binascii.Error, binascii.Incomplete, UnicodeDecodeError):
        return output
