"""Checks across the entries of feeds.yaml that no single field can make: unique ids, names and URLs,
and section hints that name a section of the file."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from aggregator.config.messages import Loc, format_loc

SECTION_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*(?:/[a-z0-9][a-z0-9-]*)?")


def _get(obj: object, key: str) -> object:
    """A field of a raw mapping or of a validated model; None when absent."""
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _items(obj: object) -> list[object]:
    return list(obj) if isinstance(obj, list) else []


def cross_problems(
    sections: object, feeds: object, line_of: Callable[[Loc], int | None]
) -> list[tuple[Loc, str]]:
    """Problems no single field can see: unique ids, names and URLs, and section hints that exist.

    Works on the raw parsed YAML as well as on models, so it runs even when some fields are invalid.
    """
    problems: list[tuple[Loc, str]] = []

    def unique(seen: dict[str, Loc], value: object, loc: Loc, what: str, advice: str) -> bool:
        """Remember ``value`` at ``loc``; on a repeat, record a problem and return False."""
        if not isinstance(value, str):
            return False
        if value in seen:
            line = line_of(seen[value])
            first = format_loc(seen[value]) + (f" on line {line}" if line else "")
            problems.append((loc, f"duplicate {what} {value!r} (already used by {first}; {advice})"))
            return False
        seen[value] = loc
        return True

    known: list[str] = []
    section_ids: dict[str, Loc] = {}
    for i, section in enumerate(_items(sections)):
        top = _get(section, "id")
        if not unique(section_ids, top, ("sections", i, "id"), "section id", "give each section its own id"):
            continue
        known.append(str(top))
        sub_ids: dict[str, Loc] = {}
        for j, sub in enumerate(_items(_get(section, "subsections"))):
            sub_id = _get(sub, "id")
            loc: Loc = ("sections", i, "subsections", j, "id")
            if unique(sub_ids, sub_id, loc, "subsection id", "give each subsection its own id"):
                known.append(f"{top}/{sub_id}")

    names: dict[str, Loc] = {}
    urls: dict[str, Loc] = {}
    for i, feed in enumerate(_items(feeds)):
        unique(names, _get(feed, "name"), ("feeds", i, "name"), "feed name", "rename one of them")
        unique(urls, _get(feed, "url"), ("feeds", i, "url"), "feed URL", "keep one of the two feeds")
        hint = _get(feed, "section_hint")
        if isinstance(hint, str) and known and hint not in known and SECTION_ID_RE.fullmatch(hint):
            close = difflib.get_close_matches(hint, known, n=1)
            advice = (f"did you mean {close[0]!r}? " if close else "") + f"use one of: {', '.join(known)}"
            problems.append((("feeds", i, "section_hint"), f"unknown section {hint!r} ({advice})"))
    return problems
