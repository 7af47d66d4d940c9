"""OPML in and out: read a subscription list, export the feeds.

Reading refuses any document that declares a DTD or entities (no XXE, no billion laughs): OPML
never needs them. Adding the feeds of a list to feeds.yaml is the edge's business
(:mod:`aggregator.config.opml_import`), as it edits and validates the file.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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

    Raises ConfigError naming ``source`` when the document is not well-formed, is not OPML, or
    declares a DTD or entities.
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
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else 1
        reason = re.sub(r": line \d+, column \d+$", "", str(exc))
        raise ConfigError(
            source,
            [f"{source}:{line}: not well-formed XML: {reason} (export the list again, or fix the file)"],
        ) from None
    if _local(root.tag) != "opml":
        found = _local(root.tag)
        raise ConfigError(
            source, [f"{source}:1: not an OPML document: the root element is <{found}> (give an .opml file)"]
        )
    body = next((child for child in root if _local(child.tag) == "body"), None)
    if body is None:
        raise ConfigError(source, [f"{source}:1: the OPML document has no <body> (export the list again)"])
    feeds: list[OpmlFeed] = []
    _collect(body, (), feeds)
    return feeds


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


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _collect(parent: ET.Element, categories: tuple[str, ...], into: list[OpmlFeed]) -> None:
    for element in parent:
        if _local(element.tag) != "outline":
            continue
        attrs = {
            key.lower(): value.strip() for key, value in element.attrib.items() if not key.startswith("{")
        }
        name = attrs.get("text") or attrs.get("title") or ""
        xml_url = attrs.get("xmlurl", "")
        if xml_url:
            category = "/".join(categories) or attrs.get("category", "").split(",")[0].strip().strip("/")
            into.append(
                OpmlFeed(
                    title=name or xml_url,
                    xml_url=xml_url,
                    html_url=attrs.get("htmlurl") or None,
                    category=category or None,
                    label=attrs.get("label") or None,
                    language=attrs.get("language") or None,
                )
            )
            _collect(element, categories, into)
        else:
            _collect(element, (*categories, name) if name else categories, into)


# -- exporting ------------------------------------------------------------------------------

_NOT_XML_CHAR_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: str) -> str:
    return _NOT_XML_CHAR_RE.sub("", value)


def export_opml(feeds: Sequence[Feed], title: str) -> bytes:
    """An OPML 2.0 document of ``feeds``; label, language and section hint ride along as attributes."""
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = _xml_text(title)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed.name, "title": feed.name, "xmlUrl": _xml_text(feed.url)}
        if feed.label:
            attrs["label"] = _xml_text(feed.label)
        if feed.language:
            attrs["language"] = feed.language
        if feed.section_hint:
            attrs["category"] = "/" + feed.section_hint
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


# -- importing into feeds.yaml ------------------------------------------------------------------
