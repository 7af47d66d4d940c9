"""Control and bidi-override characters in text from the world: find them, show them, remove them. Pure.

Titles, summaries, article text, labels, notes and error messages come from
feeds, pages and people. Printed raw, some of their characters act instead of
being read: ``ESC [2J`` clears a terminal, ``ESC ] 8 ;;`` opens a hyperlink,
``ESC ] 0 ;`` retitles the window, a carriage return overwrites the line, and
U+202E reverses what follows (CVE-2021-42574, "Trojan Source"). Three uses:

- :func:`show_controls` for a terminal: each such character becomes a visible
  escape (``\\x1b``, ``\\u202e``), so a curator sees that it was there;
- :func:`strip_controls` for the digest and the email, where it is removed
  (``digest lint`` reports it first, see :func:`find_controls`);
- :func:`json_dumps` for ``--json``: the same value, those characters written as
  JSON escapes, so the output is safe on a terminal and loses nothing.

Tabs and line feeds are text, not controls. The right-to-left and left-to-right
marks (U+200E, U+200F, U+061C) are kept: they belong to Arabic and Hebrew text
and reorder nothing beyond their neighbours.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["CONTROLS", "find_controls", "json_dumps", "show_controls", "strip_controls"]

CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but tab and line feed, DEL, C1 (0x9b is a one-byte CSI)
    "\u202a-\u202e"  # LRE, RLE, PDF, LRO, RLO: embeddings and overrides
    "\u2066-\u2069]"  # LRI, RLI, FSI, PDI: isolates
)
"""Every character that acts on a terminal or reorders text rather than being read."""

# In JSON, C0 is escaped by the encoder already; these are the rest of CONTROLS.
_JSON_UNESCAPED = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def show_controls(text: str) -> str:
    """``text`` with each control or bidi-override character written as a visible escape (``\\x1b``)."""
    return CONTROLS.sub(_escape, text) if CONTROLS.search(text) else text


def strip_controls(text: str) -> str:
    """``text`` without its control and bidi-override characters (a CR before a LF included)."""
    return CONTROLS.sub("", text) if CONTROLS.search(text) else text


def find_controls(text: str) -> list[str]:
    """The distinct control and bidi-override characters in ``text``, as ``U+202E``, first seen first."""
    return list(dict.fromkeys(f"U+{ord(ch):04X}" for ch in CONTROLS.findall(text)))


def json_dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` with control and bidi characters as ``\\uXXXX`` escapes.

    The value read back is the same; the text itself can be printed on a terminal.
    Those characters only occur inside JSON strings, so escaping them in the
    output is escaping them in the strings.
    """
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    return _JSON_UNESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
