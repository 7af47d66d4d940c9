"""An OPML document's feed outlines, read with listparser, with the attributes listparser drops.

listparser (https://github.com/kurtmckee/listparser) is what feed readers use to
read subscription lists: it reads the lists real readers export, malformed ones
included, with their folder hierarchy as categories. It keeps only a feed's URL,
title and categories; :class:`_Handler` also keeps each feed outline's other
attributes (``language``, and aggregator's own ``name``, ``label`` and
``section_hint``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import listparser
import lxml.etree  # type: ignore[import-untyped,unused-ignore]  # no stubs (lxml-stubs not used)


class _Handler(listparser.Handler):  # type: ignore[misc]
    """listparser's handler, keeping every feed outline's attributes (lower-cased names) too."""

    def start_opml_outline(self, attrs: dict[str, str]) -> None:
        super().start_opml_outline(attrs)
        url = attrs.get("xmlurl", "").strip()
        if url and url in self.found_urls:
            self.found_urls[url][1].setdefault("attrs", dict(attrs))


@dataclass(frozen=True, slots=True)
class Outlines:
    """What listparser found: the OPML version (None: not OPML) and the feed outlines."""

    version: str | None
    feeds: list[dict[str, Any]]


def parse_outlines(data: bytes) -> Outlines:
    """The feed outlines of ``data``, as listparser's ``parse`` reads them (lxml, recovering)."""
    handler = _Handler()
    handler.harvest.update({"bozo": False, "feeds": [], "lists": [], "opportunities": [], "version": ""})
    handler.harvest["meta"] = listparser.common.SuperDict()
    parser = lxml.etree.HTMLParser(target=handler, recover=True, no_network=True)
    lxml.etree.parse(io.BytesIO(data), parser)
    version = str(handler.harvest.get("version") or "")
    return Outlines(version if version.startswith("opml") else None, handler.harvest["feeds"])
