"""A folder of captured feeds for ``aggregator demo --corpus``: which of its files are feeds.

The folder is walked with everything below it (hidden files and folders aside, symbolic links to
folders not followed), so its root serves as well as its ``feeds/`` folder, whatever the layout.
Each file is judged by its start, gunzipped when it is gzip: XML whose root element is ``rss``,
``RDF`` or ``feed`` is a feed (so is a page a browser saved one in), XML with any other root (OPML,
HTML, a sitemap) is not; JSON that names a JSON Feed version is a feed, other JSON (metadata, RSS
written as JSON) is not. A file that starts as neither (empty, cut short, binary) is served when
its name ends as a feed's does (``.rss``, ``.atom``, ``.rdf``, ``.xml``, ``.json``, each maybe
``.gz``), so the poll says what is wrong with it; any other file (Markdown, TSV, YAML, text) is
skipped.
"""

from __future__ import annotations

import os
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: How much of a file is read to judge it (a feed's root element comes after at most its prolog).
HEAD = 64 * 1024
#: The most a JSON file is read to find its version (JSON Feed's members come in any order).
JSON_LIMIT = 10 * 1024 * 1024
FEED_SUFFIXES = frozenset({".rss", ".atom", ".rdf", ".xml", ".json"})
FEED_ROOTS = frozenset({"rss", "rdf", "feed"})
XML = "application/xml"
JSON_FEED = "application/feed+json"

_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)", re.S | re.I)
_ROOT = re.compile(r"\s*<([A-Za-z_][\w.:-]*)")
_FEED_ELEMENT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:rss|RDF|feed)[\s/>]")
_JSON_FEED_VERSION = re.compile(rb'"version"\s*:\s*"https?:\\?/\\?/jsonfeed\.org')


class NoFeeds(ValueError):
    """The folder holds no feed: the message says where, what was there and what to give instead."""


@dataclass(frozen=True, slots=True)
class CorpusFile:
    """A feed file: where it is, and the Content-Type it is served with."""

    path: Path
    content_type: str


@dataclass(frozen=True, slots=True)
class Corpus:
    """The feed files found in ``folder`` and below it, and how many files of each kind were not feeds."""

    folder: Path
    files: tuple[CorpusFile, ...]
    skipped: Counter[str]

    def skipped_words(self) -> str:
        """``skipped 83 files that are not feeds: 80 .html, 2 .opml, 1 .md`` (the commonest kinds)."""
        total = sum(self.skipped.values())
        if not total:
            return "nothing else there"
        kinds = _commonest(self.skipped)
        shown = ", ".join(f"{n} {kind}" for kind, n in kinds[:5])
        rest = sum(n for _, n in kinds[5:])
        more = f", {rest} more" if rest else ""
        return (
            f"skipped {total} {_files(total)} that {'is' if total == 1 else 'are'} not feeds: {shown}{more}"
        )


def scan(folder: Path) -> Corpus:
    """The feeds in ``folder`` and below it, in path order; :class:`NoFeeds` when there are none."""
    found: list[CorpusFile] = []
    skipped: Counter[str] = Counter()
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(n for n in names if not n.startswith(".")):
            path = Path(directory, name)
            if not path.is_file():  # a FIFO or a socket would block or fail the read
                continue
            try:
                content_type = judge(path)
            except OSError:
                skipped["unreadable"] += 1
                continue
            if content_type:
                found.append(CorpusFile(path, content_type))
            else:
                skipped[_suffix(name) or "without an extension"] += 1
    if not found:
        raise NoFeeds(_no_feeds(folder, skipped))
    return Corpus(folder, tuple(found), skipped)


def _no_feeds(folder: Path, skipped: Counter[str]) -> str:
    advice = "give a folder that holds feed files, such as a captured corpus or its feeds/ folder"
    total = sum(skipped.values())
    if not total:
        return f"no feed in {folder}: it holds no files (hidden ones aside); {advice}"
    kinds = ", ".join(f"{n} {kind}" for kind, n in _commonest(skipped)[:5])
    which = "its one file is not" if total == 1 else f"none of its {total} files is"
    feeds = "an RSS, RDF, Atom or JSON Feed document"
    return f"no feed in {folder} or below it: {which} {feeds} ({kinds}); {advice}"


def judge(path: Path) -> str | None:
    """The Content-Type to serve ``path`` with when it is a feed (or may be one), else None."""
    with path.open("rb") as file:
        head = file.read(HEAD)
        text = _text(_gunzipped(head, HEAD))
        if text.startswith("{") and len(head) == HEAD:
            head += file.read(JSON_LIMIT - HEAD)
    if text.startswith("<"):
        root = _root_element(text)
        if root is not None:
            feed = root.rpartition(":")[2].lower() in FEED_ROOTS or _FEED_ELEMENT.search(text)
            return XML if feed else None  # a feed, maybe saved inside a page; else OPML, HTML, ...
    elif text.startswith("{"):
        return JSON_FEED if _JSON_FEED_VERSION.search(_gunzipped(head, JSON_LIMIT)) else None
    elif text.startswith("["):
        return None  # a JSON list: never a JSON Feed
    suffix = _suffix(path.name)
    if suffix not in FEED_SUFFIXES:
        return None
    return JSON_FEED if suffix == ".json" else XML


def _gunzipped(data: bytes, limit: int) -> bytes:
    """``data`` gunzipped (at most ``limit`` bytes of it; what decompresses of a cut-off stream) if gzip."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(data, limit)
    except zlib.error:
        return b""


def _text(head: bytes) -> str:
    """The start of a document as text, enough to read its markup: byte order marks and blanks gone."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head[: len(head) // 2 * 2].decode("utf-16", "replace")
    else:
        text = head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    return text.lstrip("\ufeff \t\r\n")


def _root_element(text: str) -> str | None:
    """The name of the first element after the XML prolog (declaration, comments, DOCTYPE), or None."""
    at = 0
    while prolog := _PROLOG.match(text, at):
        at = prolog.end()
    root = _ROOT.match(text, at)
    return root[1] if root else None


def _suffix(name: str) -> str:
    """A file's kind by name: ``.xml`` for ``a.rss.xml`` and ``a.xml.gz``, ``""`` for ``README``."""
    return Path(name.lower().removesuffix(".gz")).suffix


def _commonest(kinds: Counter[str]) -> list[tuple[str, int]]:
    """``kinds`` commonest first, ties in alphabetical order."""
    return sorted(kinds.items(), key=lambda kind: (-kind[1], kind[0]))


def _files(n: int) -> str:
    return "file" if n == 1 else "files"
