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

import re
import threading
from collections.abc import Iterable
from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs (lxml-stubs not used)

from aggregator.feeds.fast_plumbing import Unsupported
from aggregator.feeds.fast_reader import TreeReader
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
            raise Unsupported(f"not well-formed ({exc})") from None
        reader = TreeReader(base, nested_namespaces=data.count(b"xmlns") != len(root.nsmap))
        reader.read(root)
        if not (doctype_version or reader.version):
            raise Unsupported("no RSS or Atom version")  # feedparser's path decides what it is
    except Unsupported as exc:
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
        raise Unsupported("no element")
    head = xml[: first.start() + 1]
    if b"<!ENTITY" in head:
        raise Unsupported("entity declarations")
    if b"<!DOCTYPE" not in head:
        return xml, None
    doctypes = _DOCTYPE.findall(head)
    if len(doctypes) != 1 or b"[" in doctypes[0] or head.count(b"<!DOCTYPE") != 1:
        raise Unsupported("a DOCTYPE with an internal subset, or one feedparser would not remove")
    version = "rss091n" if b"netscape" in doctypes[0].lower() else None
    return _DOCTYPE.sub(b"", head, count=1) + xml[first.start() + 1 :], version
