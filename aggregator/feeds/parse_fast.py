"""The fast path for well-formed RSS and Atom: lxml builds the tree, feedparser's handlers read it.

feedparser's strict parser is expat, through xml.sax, calling Python for every
run of text and every tag; its mixin then rebuilds attribute dictionaries, joins
URLs, deep-copies dictionaries and walks its FeedParserDict mapping on each of
them. Here libxml2 (through lxml) parses the document in C, and one walk of the
tree feeds the elements to the very handlers feedparser's strict parser uses
(``_start_title``, ``_end_guid``, ...), inherited from its mixin. Only the
plumbing is rewritten, leaner: naming elements and attributes (what
``StrictFeedParser.startElementNS`` does), the start/end bookkeeping (xml:base,
xml:lang, inline XHTML), ``pop`` (which stores an element's text) and a few
helpers, memoised. They keep feedparser 6's behaviour, quirks included, so the
raw result equals :func:`feedparser.parse`'s for the same bytes, and
:func:`aggregator.feeds.text.xml_feed` turns either into the same :class:`ParsedFeed`.
tests/test_parse_fast.py holds the two paths to that, document by document.

:func:`read_feed` returns None whenever it is not sure, and the caller then uses
feedparser: a document lxml does not parse (malformed XML: feedparser reads it
leniently and says so; deeper than 256 levels; a text node over 10 MB), a DTD
(only a plain ``<!DOCTYPE ...>`` on a line of its own, which feedparser removes,
is accepted; entity declarations never are, so nothing is ever expanded), a root
other than ``<rss>``, ``<rdf:RDF>`` or ``<feed>``, no RSS or Atom version, and
the few things whose plumbing is not reproduced: inline SVG and MathML, XLink
declarations, non-ASCII element names, an attribute whose prefix is ambiguous,
escaped markup beside inline XHTML in Atom content (expat splits such text into
pieces that feedparser's unwrapping of a ``<div>`` looks at), and a handler that
raises (feedparser then raises the same).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import threading
import xml.sax.saxutils
from collections.abc import Iterable
from typing import Any, NamedTuple

from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin, make_safe_absolute_uri
from feedparser.util import FeedParserDict
from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs (lxml-stubs not used)

from aggregator.feeds.text import xml_feed
from aggregator.types import ParsedFeed

__all__ = ["FastResult", "fallback_reason", "parse_fast", "read_feed"]

FastResult = dict[str, Any]
"""feedparser's result shape as :mod:`aggregator.feeds.text` reads it: version, feed, entries, bozo."""

# The declaration feedparser writes over the document's own after re-encoding it as UTF-8.
_XML_DECLARATION = re.compile(rb"^<\?xml[^>]*?>")
_UTF8_DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>"
_FIRST_ELEMENT = re.compile(rb"<\w")
_DOCTYPE = re.compile(rb"^\s*<!DOCTYPE([^>]*?)>", re.MULTILINE)

_XLINK = "http://www.w3.org/1999/xlink"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_XHTML_TYPE = "application/xhtml+xml"
_ROOTS = frozenset({"rss", "rdf:rdf", "feed"})
_UNSUPPORTED_LOCAL_NAMES = frozenset({"svg", "math"})  # feedparser's svgOK / MathML bookkeeping
_QUERY_ENTITY = re.compile("&([A-Za-z0-9_]+);")  # feedparser's repair of "?a=1&b=2" read as "&b;=2"
_NOT_STORED = frozenset({"category", "tags", "itunes_keywords"})
_C1_CONTROL = re.compile("[\x80-\x9f]")  # what feedparser's windows-1252 table maps
_CONTENT_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html", "xhtml": _XHTML_TYPE}
# Keys a FeedParserDict maps or computes: stored through it, as feedparser does.
_MAPPED_KEYS = frozenset(FeedParserDict.keymap) | {"category", "enclosures", "license"}
_MISSING = object()


def _make_parser() -> etree.XMLParser:
    # No DTD is loaded or validated and no entity is substituted: with the DOCTYPE
    # check in _prepare, only XML's five entities and character references remain.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        recover=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,  # expat reports neither; without them text runs stay whole
        remove_pis=True,
        strip_cdata=True,
        collect_ids=False,
    )


_PARSERS = threading.local()  # an lxml parser must not be shared between threads


def _parser() -> etree.XMLParser:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = _make_parser()
    return parser


class _Unsupported(Exception):
    """The document needs something the fast path does not reproduce; feedparser reads it."""


def read_feed(xml: bytes, *, base: str = "") -> FastResult | None:
    """feedparser's result for ``xml`` (UTF-8 starting with an XML declaration), or None.

    ``base`` is the Content-Location feedparser would be given (the feed URL when
    the document uses xml:base, else empty).
    """
    return _read(xml, base)[0]


def fallback_reason(xml: bytes, *, base: str = "") -> str | None:
    """Why :func:`read_feed` returns None for ``xml``, or None when it does not."""
    return _read(xml, base)[1]


def parse_fast(
    xml: bytes | str,
    *,
    url: str,
    http_language: str | None = None,
    warnings: Iterable[str] = (),
) -> ParsedFeed | None:
    """The :class:`ParsedFeed` the feedparser path makes of ``xml``, or None when unsure.

    ``xml`` is the repaired document (see ``aggregator.feeds.parse._repair_xml``) and
    ``warnings`` the repairs' warnings; ``url`` and ``http_language`` are as for
    :func:`aggregator.feeds.parse.parse_feed`. Text is encoded as UTF-8.
    """
    if isinstance(xml, str):
        xml = xml.encode("utf-8", "surrogatepass")
    result = read_feed(xml, base=url if b"xml:base" in xml else "")
    if result is None:
        return None
    return xml_feed(
        result["version"],
        result["feed"],
        result["entries"],
        url=url,
        http_language=http_language,
        warnings=list(warnings),
    )


def _read(xml: bytes, base: str) -> tuple[FastResult | None, str | None]:
    try:
        data, doctype_version = _prepare(xml)
        try:
            root = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError as exc:
            raise _Unsupported(f"not well-formed ({exc})") from None
        reader = _TreeReader(base, nested_namespaces=data.count(b"xmlns") != len(root.nsmap))
        reader.read(root)
        if not (doctype_version or reader.version):
            raise _Unsupported("no RSS or Atom version")  # feedparser's path decides what it is
    except _Unsupported as exc:
        return None, str(exc)
    except (RecursionError, MemoryError):
        return None, "too deep or too large"
    except Exception as exc:  # a handler fails: feedparser fails the same way, let it say so
        return None, f"{type(exc).__name__} in a handler ({exc})"
    result = {
        "version": doctype_version or reader.version,
        "feed": reader.feeddata,
        "entries": reader.entries,
        "bozo": False,
    }
    return result, None


def _prepare(xml: bytes) -> tuple[bytes, str | None]:
    """The bytes feedparser hands expat, and the version a DOCTYPE implies (RSS 0.91 Netscape)."""
    if _XML_DECLARATION.search(xml):
        xml = _XML_DECLARATION.sub(_UTF8_DECLARATION, xml, count=1)
    else:
        xml = _UTF8_DECLARATION + b"\n" + xml
    first = _FIRST_ELEMENT.search(xml)
    if first is None:
        raise _Unsupported("no element")
    head = xml[: first.start() + 1]
    if b"<!ENTITY" in head:
        raise _Unsupported("entity declarations")
    if b"<!DOCTYPE" not in head:
        return xml, None
    doctypes = _DOCTYPE.findall(head)
    if len(doctypes) != 1 or b"[" in doctypes[0] or head.count(b"<!DOCTYPE") != 1:
        raise _Unsupported("a DOCTYPE with an internal subset, or one feedparser would not remove")
    version = "rss091n" if b"netscape" in doctypes[0].lower() else None
    return _DOCTYPE.sub(b"", head, count=1) + xml[first.start() + 1 :], version


def _split(tag: str) -> tuple[str | None, str]:
    if tag[0] == "{":
        namespace, local = tag[1:].split("}", 1)
        return namespace, local
    return None, tag


class _Element(NamedTuple):
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


class _TreeReader(_FeedParserMixin):  # type: ignore[misc]
    """feedparser's strict parser, fed from an lxml tree instead of SAX events."""

    def __init__(self, baseuri: str, *, nested_namespaces: bool) -> None:
        # What StrictFeedParser.__init__ sets, then the mixin's state.
        self.bozo = 0
        self.exc = None
        self.decls: dict[str, str] = {}
        self.baseuri = baseuri
        self.lang: str | None = None
        self.encoding = "utf-8"
        super().__init__()
        self.resolve_relative_uris = False
        self.sanitize_html = False
        self.contentparams: dict[str, Any] = {}  # a FeedParserDict in feedparser; no key of it is mapped
        self._nested_namespaces = nested_namespaces
        self._elements: dict[str, _Element] = {}
        self._joins: dict[tuple[str, str], str] = {}
        self._depths: dict[int, dict[str, int]] = {}  # property_depth_map, keyed by id(entry)
        self._resolved: dict[tuple[str, str], str] = {}
        self._dates: dict[str | None, Any] = {}
        self._markup_pieces: dict[int, list[str]] = {}  # keeps them alive: ids stay unique

    # -- the walk (xml.sax.expatreader + StrictFeedParser) --------------------

    def read(self, root: Any) -> None:
        for prefix, uri in root.nsmap.items():
            self._declare(prefix, uri)
        element = self._element(root.tag)
        if element.name not in _ROOTS:
            raise _Unsupported(f"root element <{root.tag}>")
        self._visit(root, root.nsmap)

    def _visit(self, node: Any, nsmap: dict[str | None, str]) -> None:
        tag = node.tag
        if tag.__class__ is not str:
            raise _Unsupported("an entity reference")
        if self._nested_namespaces:
            own = node.nsmap
            if own != nsmap:
                for prefix, uri in own.items():
                    if nsmap.get(prefix, _MISSING) != uri:
                        self._declare(prefix, uri)
                nsmap = own
        self._start(
            self._elements.get(tag) or self._element(tag), self._attributes(node) if node.attrib else {}
        )
        text = node.text
        if text:
            self._data(text)
        for child in node:
            self._visit(child, nsmap)
            text = child.tail
            if text:
                self._data(text)
        self._end(self._elements.get(tag) or self._element(tag))

    def _declare(self, prefix: str | None, uri: str) -> None:
        """StrictFeedParser.startPrefixMapping."""
        if not uri:
            return
        if uri == _XLINK:
            raise _Unsupported("an XLink namespace declaration")
        self.track_namespace(prefix or None, uri)
        self._elements.clear()

    def _element(self, tag: str) -> _Element:
        """How feedparser names and handles an element: known namespaces by their usual prefix."""
        namespace, local = _split(tag)
        if not local.isascii():
            raise _Unsupported("a non-ASCII element name")
        local = local.lower()
        if local in _UNSUPPORTED_LOCAL_NAMES:
            raise _Unsupported(f"inline <{local}>")
        lowered = (namespace or "").lower()
        if "backend.userland.com/rss" in lowered:
            namespace = lowered = "http://backend.userland.com/rss"
        known = self._matchnamespaces.get(lowered)
        name = local
        if known:
            name = known.lower() + ":" + local
        elif namespace:
            for declared, uri in self.namespaces_in_use.items():
                if declared and uri == namespace:
                    name = declared + ":" + local
                    break
        name = name.lower()
        # unknown_starttag / unknown_endtag: the handler's name, through the document's prefixes
        prefix, suffix = name.split(":", 1) if ":" in name else ("", name)
        prefix = self.namespacemap.get(prefix, prefix)
        key = (prefix + "_" if prefix else "") + suffix
        element = _Element(
            name=name,
            local=name.split(":", 1)[1] if ":" in name else name,
            key=key,
            start=getattr(self, "_start_" + key, None),
            end=getattr(self, "_end_" + key, None),
            ends_textinput=not prefix and name not in ("title", "link", "description", "name"),
            ends_image=not prefix
            and name not in ("title", "link", "description", "url", "href", "width", "height"),
        )
        self._elements[tag] = element
        return element

    def _attributes(self, node: Any) -> dict[str, str]:
        """The attribute dictionary StrictFeedParser.startElementNS builds, normalised."""
        attrs: dict[str, str] = {}
        qualified: list[tuple[str, str]] = []
        for key, value in node.attrib.items():
            if not key.isascii():
                raise _Unsupported("a non-ASCII attribute name")  # expat and libxml2 differ on names
            if key[0] == "{":
                namespace, local = _split(key)
                prefix = self._matchnamespaces.get((namespace or "").lower(), "")
                attrs[(prefix + ":" + local if prefix else local).lower()] = value
                qualified.append((self._attribute_prefix(node, namespace) + ":" + local, value))
            else:
                attrs[key.lower()] = value
                qualified.append((key, value))
        for qname, value in qualified:
            attrs[qname.lower()] = value
        for key in ("rel", "type"):
            if key in attrs:
                attrs[key] = attrs[key].lower()
        return attrs

    @staticmethod
    def _attribute_prefix(node: Any, namespace: str | None) -> str:
        if namespace == _XML_NS:
            return "xml"
        prefixes: list[str] = [prefix for prefix, uri in node.nsmap.items() if prefix and uri == namespace]
        if len(prefixes) != 1:
            raise _Unsupported("an attribute whose namespace prefix is ambiguous")
        return prefixes[0]

    # -- the mixin's plumbing, same behaviour, less work --------------------------

    def _join(self, base: str, uri: str) -> str:
        """make_safe_absolute_uri (under a base) or _urljoin (without one), memoised."""
        key = (base, uri)
        joined = self._joins.get(key)
        if joined is None:
            joined = (make_safe_absolute_uri(base, uri) or base) if base else _urljoin(base, uri)
            self._joins[key] = joined
        return joined

    def _start(self, element: _Element, attrs_d: dict[str, str]) -> Any:
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

    def _end(self, element: _Element) -> None:
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
        raise _Unsupported("a handler restarting an element")  # only _start_title does, inside SVG

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
                raise _Unsupported("escaped markup beside inline XHTML")
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
