"""OPML in and out: read a subscription list, export the feeds.

Reading (with listparser, which reads the lists real readers export) refuses any document
that declares a DTD or entities (no XXE, no billion laughs): OPML never needs them. Adding the
feeds of a list to feeds.yaml is the edge's business (:mod:`aggregator.config.opml_import`), as
it edits and validates the file.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aggregator.configuration import Feed
from aggregator.errors import ConfigError

__all__ = ["OpmlFeed", "export_opml", "read_opml", "read_opml_file"]


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One feed outline of an OPML document."""

    title: str
    """The outline's text (else its title, else the feed URL)."""
    xml_url: str
    html_url: str | None = None
    category: str | None = None
    """The titles of the enclosing outlines joined with '/', else the outline's category attribute."""
    label: str | None = None
    """aggregator's own export carries the digest label here."""
    language: str | None = None
    name: str | None = None
    """aggregator's own export carries the feed's name (its slug in feeds.yaml) here."""
    section_hint: str | None = None
    """aggregator's own export carries the feed's section hint here (``section_hint``)."""


# -- reading --------------------------------------------------------------------------------

_DECLARATION_RE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def read_opml_file(path: Path) -> list[OpmlFeed]:
    """:func:`read_opml` on a file; problems name the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            str(path), [f"{path}: cannot read the file: {exc.strerror or exc} (check the path)"]
        ) from None
    return read_opml(data, source=str(path))


def read_opml(data: bytes, *, source: str = "OPML") -> list[OpmlFeed]:
    """The feed outlines of an OPML document, nested ones included, in document order.

    Read with listparser, the field's OPML reader: it reads what real readers
    export (a bare ``&`` in a title, an unclosed outline) where a strict XML
    parser refuses the whole list. Raises ConfigError naming ``source`` when the
    document is not OPML or declares a DTD or entities.
    """
    text = _text_view(data)
    declaration = _DECLARATION_RE.search(text)
    if declaration:
        line = text.count("\n", 0, declaration.start()) + 1
        raise ConfigError(
            source,
            [
                f"{source}:{line}: refused: the document declares <!{declaration[1].upper()}, which OPML "
                "never needs and which can expand entities or read local files (remove the declaration)"
            ],
        )
    from aggregator.feeds.opml_read import parse_outlines  # listparser: only for an import

    found = parse_outlines(data)
    if found.version is None:
        root = _ROOT_RE.search(text)
        what = f"the root element is <{root[1].lower()}>" if root else "no <opml> element"
        raise ConfigError(source, [f"{source}:1: not an OPML document: {what} (give an .opml file)"])
    if not _BODY_RE.search(text):
        raise ConfigError(source, [f"{source}:1: the OPML document has no <body> (export the list again)"])
    return [_feed(outline) for outline in found.feeds]


def _text_view(data: bytes) -> str:
    """The document as text, good enough to find markup in any encoding expat accepts."""
    for boms, encoding in (
        ((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE), "utf-32"),
        ((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "utf-16"),
    ):
        if data.startswith(boms):
            return data.decode(encoding, errors="replace")
    for start, encoding in (
        (b"\x00\x00\x00<", "utf-32-be"),
        (b"<\x00\x00\x00", "utf-32-le"),
        (b"\x00<", "utf-16-be"),
        (b"<\x00", "utf-16-le"),
    ):
        if data.startswith(start):
            return data.decode(encoding, errors="replace")
    return data.decode("latin-1")  # every ASCII-compatible encoding keeps markup bytes as they are


_BODY_RE = re.compile(r"<\s*(?:[\w.-]+:)?body[\s>/]", re.IGNORECASE)
_ROOT_RE = re.compile(r"<\s*([A-Za-z_][\w.:-]*)(?=[\s>/])(?<!\?xml)")


def _feed(outline: dict[str, Any]) -> OpmlFeed:
    categories: list[list[str]] = outline.get("categories") or []
    attrs: dict[str, str] = outline.get("attrs") or {}
    url = str(outline["url"])
    return OpmlFeed(
        title=str(outline.get("title") or "") or url,
        xml_url=url,
        html_url=attrs.get("htmlurl", "").strip() or None,
        category="/".join(categories[0]) if categories else None,
        label=attrs.get("label", "").strip() or None,
        language=attrs.get("language", "").strip() or None,
        name=attrs.get("name", "").strip() or None,
        section_hint=attrs.get("section_hint", "").strip().strip("/") or None,
    )


# -- exporting ------------------------------------------------------------------------------

_NOT_XML_CHAR_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: str) -> str:
    return _NOT_XML_CHAR_RE.sub("", value)


def export_opml(feeds: Sequence[Feed], title: str) -> bytes:
    """An OPML 2.0 document of ``feeds``: each titled by its label (else its name); its name, label,
    language and section hint ride along as attributes, so an import gives the same feeds back."""
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = _xml_text(title)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        title = _xml_text(feed.label or feed.name)
        attrs = {
            "type": "rss",
            "text": title,
            "title": title,
            "xmlUrl": _xml_text(feed.url),
            "name": feed.name,
        }
        if feed.label:
            attrs["label"] = _xml_text(feed.label)
        if feed.language:
            attrs["language"] = feed.language
        if feed.section_hint:
            attrs["category"] = "/" + feed.section_hint
            attrs["section_hint"] = feed.section_hint
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


# -- importing into feeds.yaml ------------------------------------------------------------------
