"""Reading a digest's lines: headings, items, links and ``(Mon YYYY, Label)``; pure.

The pieces :mod:`aggregator.digest.read` puts together. Every pattern below runs in time linear in
the line's length (no two adjacent parts can match the same characters), so a hostile file cannot
stall the import: the month and the plain item, which would need such patterns, are found by the
functions after them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from aggregator.digest.model import MONTHS

__all__ = [
    "BULLET",
    "HEADING",
    "IMAGE",
    "ITEM",
    "MAX_JOINED_LINES",
    "MAX_LINE",
    "NUMBERED",
    "RULE",
    "TOP_BULLET",
    "WS",
    "item_from_link",
    "plain_item",
    "read_link",
]

WS = re.compile(r"\s+")
HEADING = re.compile(r"(#{1,6})(?:[ \t]+(.*))?")
NUMBERED = re.compile(r"(\d+(?:\.\d+)*)\.?[ \t]+(.+)")
ITEM = re.compile(r"([*+-])[ \t]+(?=\[)")
BULLET = re.compile(r"([ \t]+)([*+-])(?:[ \t]+(.*))?")
TOP_BULLET = re.compile(r"[*+-](?:[ \t]+|$)")
_PLAIN_START = re.compile(r"[*+-][ \t]+(?!\[)")
_BACKTICKS = re.compile(r"`+")
IMAGE = re.compile(r"[ \t]*!\[")
RULE = re.compile(r"[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*")
_MONTH_START = re.compile(
    r"\((Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?[ \t]+(\d{4})", re.IGNORECASE
)
_UNESCAPE = re.compile(r"\\([\[\]\\`<])")
MAX_JOINED_LINES = 3
MAX_LINE = 20_000
"""The longest line read, in characters (the seeds' longest is about 1,500)."""


@dataclass(frozen=True, slots=True)
class _Month:
    """``(Mon YYYY[, Label])`` at the end of a link's text."""

    start: int
    """Where the ``(`` is."""
    name: str
    year: int
    label: str | None


def _find_month(text: str) -> _Month | None:
    """The first ``(Mon YYYY)`` or ``(Mon YYYY, Label)`` that runs to the end of ``text``.

    Trailing whitespace is allowed; a label runs to the last ``)``. Found without a pattern ending in
    ``(.*)\\)$``, which would read the rest of the line again from every ``(``.
    """
    end = len(text.rstrip()) - 1
    if end < 0 or text[end] != ")":
        return None
    for found in _MONTH_START.finditer(text, 0, end):
        after = found.end()
        if after == end:
            return _Month(found.start(), found[1], int(found[2]), None)
        while text[after] in " \t":  # the runs skipped for each "(" are apart: linear in all
            after += 1
        if text[after] == ",":
            return _Month(found.start(), found[1], int(found[2]), text[after + 1 : end].lstrip(" \t"))
    return None


def plain_item(line: str) -> tuple[str, str, str] | None:
    """``* Title (Mon YYYY) `url`rest`` (how a link that is not http(s) is printed): (title, url, rest).

    The code span is the first run of backticks after a space that is closed by the same run; its
    content loses one space on each side when it has both (Markdown's rule).
    """
    start = _PLAIN_START.match(line)
    if start is None:
        return None
    unclosed = len(line) + 1
    for run in _BACKTICKS.finditer(line, start.end()):
        title_end = run.start()
        while title_end > start.end() and line[title_end - 1] in " \t":
            title_end -= 1
        if title_end == run.start() or title_end <= start.end():
            continue  # the title must be followed by a space, and not be empty
        if len(run[0]) >= unclosed:
            continue  # a run as long as one that found no closing run after it finds none either
        close = line.find(run[0], run.end() + 1)
        if close < 0:
            unclosed = len(run[0])
            continue
        code = line[run.end() : close]
        if code.startswith(" ") and code.endswith(" ") and code.strip():
            code = code[1:-1]
        title = line[start.end() : title_end]
        if not _find_month(title):
            return None
        return title, code, line[close + len(run[0]) :]
    return None


def _read_bracketed(text: str, start: int, open_: str, close: str) -> int | None:
    """The index just past the bracket matching ``text[start]`` (backslash escapes honoured), or None."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == open_:
            depth += 1
        elif char == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def read_link(text: str) -> tuple[str, str, str] | Literal["open", "no_url"] | None:
    """``[label](url)rest`` at the start of ``text``: (label, url, rest).

    "open": the label's bracket is not closed yet; "no_url": the label ends the text with no ``(url)``
    after it (a title broken before its URL); None: not a link.
    """
    end = _read_bracketed(text, 0, "[", "]")
    if end is None:
        return "open"
    if end == len(text.rstrip()):
        return "no_url"
    if end >= len(text) or text[end] != "(":
        return None
    if text.startswith("(<", end):
        close = text.find(">)", end)
        if close < 0:
            return None
        return text[1 : end - 1], text[end + 2 : close], text[close + 2 :]
    dest_end = _read_bracketed(text, end, "(", ")")
    if dest_end is None:
        return None
    url = text[end + 1 : dest_end - 1].strip()
    if not url or any(c.isspace() for c in url):
        return None
    return text[1 : end - 1], url, text[dest_end:]


def item_from_link(label_text: str, url: str) -> tuple[str, str, str | None, str | None] | None:
    """(title, url, month, label) from a link's text and URL; None when there is no title."""
    text = WS.sub(" ", label_text).strip()
    month: str | None = None
    label: str | None = None
    found = _find_month(text)
    if found:
        month_index = [m.casefold() for m in MONTHS].index(found.name[:3].casefold()) + 1
        month = f"{found.year:04d}-{month_index:02d}"
        label = found.label.strip() if found.label is not None else None
        if label is not None:
            label = _UNESCAPE.sub(r"\1", label)
        text = text[: found.start].rstrip()
    title = _UNESCAPE.sub(r"\1", text)
    if not title:
        return None
    return title, url, month, label
