"""Reading an existing digest: Markdown written like seeds 000 and 002 placed in the taxonomy.

Pure. :func:`parse_digest` never drops anything silently: what it cannot place is a problem (the
import refuses), what it leaves out on purpose is a warning. It reads the file once, line by line
(:class:`_Reader`), in time linear in the file's length; the line patterns are in
:mod:`aggregator.digest.read_lines`, the heading rules in :mod:`aggregator.digest.read_headings`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from aggregator.controls import CONTROLS, find_controls
from aggregator.digest.lint import short
from aggregator.digest.read_headings import map_section, map_subsection, section_options
from aggregator.digest.read_lines import (
    BULLET,
    HEADING,
    IMAGE,
    ITEM,
    MAX_JOINED_LINES,
    MAX_LINE,
    RULE,
    TOP_BULLET,
    item_from_link,
    plain_item,
    read_link,
)
from aggregator.taxonomy import Section, Taxonomy

__all__ = ["ParsedDigest", "ParsedItem", "parse_digest"]


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One item read from a digest file."""

    line: int
    section: str
    """The full subsection id it maps to."""
    title: str
    """The link text without its ``(Mon YYYY, Label)``, brackets unescaped, whitespace folded."""
    url: str
    month: str | None
    """``YYYY-MM`` from ``(Mon YYYY...)``, or None when the line has none."""
    label: str | None
    """The label written after the month; None when none was written."""
    notes: tuple[str, ...] = ()
    images: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedDigest:
    items: tuple[ParsedItem, ...]
    problems: tuple[str, ...]
    """What cannot be placed: the import refuses while there is any."""
    warnings: tuple[str, ...]
    """What is left out on purpose (text outside any item, a label in a section that hides labels)."""
    title: str | None = None
    """The ``# `` title line's text, if any."""


def parse_digest(text: str, taxonomy: Taxonomy, *, source: str = "digest") -> ParsedDigest:
    """Read a digest written like seeds 000 and 002 and place its items in the taxonomy.

    - ``# Title`` is the issue's title; anything else before the first ``## `` (the preface) is left out.
    - ``## `` headings name top sections and ``### `` headings subsections, numbered (``## 2. Title``,
      ``### 2.4. Title``: number and title must both fit) or not (by title: exactly, ignoring case, or
      as the beginning of the taxonomy's title, such as ``Business Cases`` for ``Business Cases and
      Implementations``; a section's id works too).
    - An item is ``* [Title (Mon YYYY[, Label])](url)``; the title keeps its Markdown; a title broken
      over lines before its ``(url)`` is joined. ``: note`` after the link is its first note; bullets
      indented under it (``    * note``) and plain lines right after it (no blank line between) are
      further notes; ``![..](..)`` lines after it are its image lines.
    - A heading that maps to no section, or to several, is a problem, and so is every item under it,
      an item before any ``### `` heading, or a line that starts like an item but is not one. Other text
      outside items is a warning.
    - So is, wherever it is, a line holding a control or bidi-override character
      (:data:`aggregator.controls.CONTROLS`; tabs are text) or longer than 20,000 characters, and an
      item dated in the year 0.

    Reading takes time linear in the text's length, whatever the text.
    """
    reader = _Reader(taxonomy, source)
    reader.read(reader.screen(text))
    return reader.result()


@dataclass
class _Open:
    """The item being read."""

    line: int
    section: str | None
    title: str
    url: str
    month: str | None
    label: str | None
    notes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    bullet_indent: int | None = None
    last_was_note: bool = False
    after_blank: bool = False


@dataclass
class _Heading:
    """An unmappable heading and the items found under it."""

    line: int
    level: int
    text: str
    reason: str
    items: list[int] = field(default_factory=list)


_Link = tuple[str, str, str] | Literal["open", "no_url"] | None


class _Reader:
    """One pass over a digest's lines: where it is (section, subsection, the open item) and what it found."""

    def __init__(self, taxonomy: Taxonomy, source: str) -> None:
        self.taxonomy = taxonomy
        self.source = source
        self.hidden = {s.id for s in taxonomy if s.hide_labels}
        self.options = section_options(taxonomy)
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.items: list[ParsedItem] = []
        self.title: str | None = None
        self.section: Section | None = None
        self.section_number = 0
        self.subsection: str | None = None
        self.bad_heading: _Heading | None = None
        self.bad_headings: list[_Heading] = []
        self.seen_section_heading = False
        self.current: _Open | None = None

    def where(self, line: int) -> str:
        return f"{self.source}:{line}"

    def screen(self, text: str) -> list[str]:
        """The text's lines; one too long to be a digest's is blanked, control characters are removed
        (each a problem naming its line, so the rest is read on to report what else is wrong)."""
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for at, raw in enumerate(lines):
            if len(raw) > MAX_LINE:
                self.problems.append(
                    f"{self.where(at + 1)}: the line is {len(raw):,} characters long; a digest's lines are "
                    f"at most {MAX_LINE:,} (is this file a digest?)"
                )
                lines[at] = ""  # not read further: nothing in it is imported anyway
                continue
            controls = find_controls(raw)
            if controls:
                them = "them" if len(controls) > 1 else "it"
                self.problems.append(
                    f"{self.where(at + 1)}: control character{'s' if len(controls) > 1 else ''} "
                    f"{', '.join(controls)} in the line, which a digest cannot hold (delete {them}; an "
                    f"editor or a copy and paste may have put {them} there)"
                )
                lines[at] = CONTROLS.sub("", raw)
        return lines

    def read(self, lines: list[str]) -> None:
        """Every line in turn; an item's link broken over lines takes the lines it joins."""
        index = 0
        while index < len(lines):
            raw = lines[index]
            number = index + 1
            index += 1
            if not raw.strip():
                if self.current is not None:
                    self.current.after_blank = True
                    self.current.last_was_note = False
                continue
            heading = HEADING.fullmatch(raw)
            if heading:
                self.finish()
                self.heading(len(heading[1]), (heading[2] or "").rstrip(" \t"), raw, number)
                continue
            item_match = ITEM.match(raw)
            plain = None if item_match else plain_item(raw)
            if item_match or plain:
                if not self.seen_section_heading:
                    # The preface (it comes from feeds.yaml) may hold links; they are not items.
                    self.warnings.append(
                        f"{self.where(number)}: a link before the first '##' heading is taken as part of "
                        "the preface and not imported"
                    )
                    continue
                self.finish()
                body = raw[item_match.end() :] if item_match else ""
                # "* Title (Mon YYYY) `url`" is how a link that is not http(s) is printed.
                parsed: _Link = plain if plain is not None else read_link(body)
                parsed, index = _join_broken_link(lines, index, body, parsed)
                self.item(parsed, number)
                continue
            self.other(raw, number)
        self.finish()

    def heading(self, level: int, text: str, raw: str, number: int) -> None:
        if level == 1:
            if self.title is None:
                self.title = text
        elif level == 2:
            self.section_heading(text, raw, number)
        elif level == 3:
            self.subsection_heading(text, raw, number)
        else:
            self.warnings.append(
                f"{self.where(number)}: heading {raw.strip()!r} is not imported (only ## and ### are)"
            )

    def section_heading(self, text: str, raw: str, number: int) -> None:
        self.seen_section_heading = True
        self.subsection = None
        self.section, self.section_number, reason = map_section(text, self.taxonomy, self.options)
        self.bad_heading = None
        if self.section is not None and not self.section.subsections:
            self.subsection = self.section.id  # its items sit in the top section itself
        if self.section is None:
            self.bad_heading = _Heading(number, 2, raw.strip(), reason)
            self.bad_headings.append(self.bad_heading)

    def subsection_heading(self, text: str, raw: str, number: int) -> None:
        self.subsection = None
        if self.bad_heading is not None and self.bad_heading.level == 2:
            return  # its items count against the unmapped section heading
        if self.section is None:
            self.bad_heading = _Heading(
                number, 3, raw.strip(), "a '###' subsection heading before any '##' section heading"
            )
            self.bad_headings.append(self.bad_heading)
            return
        self.subsection, reason = map_subsection(text, self.section, self.section_number)
        self.bad_heading = None
        if self.subsection is None:
            self.bad_heading = _Heading(number, 3, raw.strip(), reason)
            self.bad_headings.append(self.bad_heading)

    def item(self, parsed: _Link, number: int) -> None:
        """An item line (its link joined already): opened as the current item, or a problem."""
        if not isinstance(parsed, tuple):
            self.problems.append(
                f"{self.where(number)}: this line starts like an item but is not '* [Title (Mon YYYY, "
                "Label)](url)' (fix the link: a ']' or ')' may be missing)"
            )
            return
        label_text, url, rest = parsed
        item = item_from_link(label_text, url)
        if item is None:
            self.problems.append(
                f"{self.where(number)}: the item has no title (write one inside the brackets)"
            )
            return
        if item[2] is not None and item[2].startswith("0000-"):
            self.problems.append(
                f"{self.where(number)}: the item is dated in the year 0 (write its month as Mon YYYY, "
                "e.g. Mar 2024)"
            )
        place = self.place(number)
        self.current = current = _Open(number, place, *item)
        rest_text = rest.lstrip()
        if rest_text.startswith(":"):
            note = rest_text[1:].lstrip()
            if note.strip():
                current.notes.append(note)
                current.last_was_note = True
        elif rest_text.strip():
            self.warnings.append(
                f"{self.where(number)}: the text after the link is taken as the item's first note"
            )
            current.notes.append(rest_text)
            current.last_was_note = True
        if place is not None and current.label and place.split("/", 1)[0] in self.hidden:
            self.warnings.append(
                f"{self.where(number)}: section {place.split('/', 1)[0]!r} hides labels, so the label "
                f"{current.label!r} is kept but not printed there"
            )

    def place(self, number: int) -> str | None:
        """The subsection an item on line ``number`` goes to; None when it cannot be placed."""
        if self.bad_heading is not None:
            self.bad_heading.items.append(number)
            return None
        if self.subsection is None:
            self.problems.append(
                f"{self.where(number)}: an item under a '##' heading but before any '###' subsection "
                "heading (add the subsection heading it belongs to)"
            )
        return self.subsection

    def other(self, raw: str, number: int) -> None:
        """A line that is neither blank, nor a heading, nor an item: part of the item, or left out."""
        current = self.current
        stripped = raw.strip()
        if current is not None and IMAGE.match(raw):
            current.images.append(stripped)
            current.last_was_note = False
            return
        bullet = BULLET.fullmatch(raw)
        if current is not None and bullet:
            self.bullet_note(current, bullet, number)
            return
        if RULE.fullmatch(raw):
            self.finish()
            self.warnings.append(f"{self.where(number)}: a horizontal rule is not imported")
            return
        if current is not None and not current.after_blank:
            if raw[:1].isspace() and current.last_was_note and current.notes:
                current.notes[-1] = current.notes[-1] + "\n" + stripped  # a note's further line
            elif TOP_BULLET.match(raw):
                self.problems.append(
                    f"{self.where(number)}: a bullet without a link among the items (make it an item "
                    "'* [Title (Mon YYYY)](url)' or indent it under the item as a note)"
                )
            else:
                current.notes.append(raw.lstrip())  # a note on a plain line under its item (seed 000)
                current.last_was_note = False
            return
        if self.seen_section_heading:
            self.finish()
            self.warnings.append(
                f"{self.where(number)}: text outside any item is not imported: {short(stripped)!r}"
            )
        # before the first '##': the title's preface, which comes from feeds.yaml

    def bullet_note(self, current: _Open, bullet: re.Match[str], number: int) -> None:
        indent = len(bullet[1].expandtabs(4))
        if current.bullet_indent is None:
            current.bullet_indent = indent
        elif indent > current.bullet_indent:
            self.warnings.append(
                f"{self.where(number)}: a note nested deeper than one level becomes a note of its own"
            )
        note = bullet[3] or ""
        if note.strip():
            current.notes.append(note)
        current.last_was_note = True
        current.after_blank = False

    def finish(self) -> None:
        """Close the current item: kept when it has its place, dropped (a problem already) when not."""
        current, self.current = self.current, None
        if current is None or current.section is None:
            return
        self.items.append(
            ParsedItem(
                line=current.line,
                section=current.section,
                title=current.title,
                url=current.url,
                month=current.month,
                label=current.label,
                notes=tuple(current.notes),
                images=tuple(current.images),
            )
        )

    def result(self) -> ParsedDigest:
        for bad in self.bad_headings:
            if bad.items:
                first, last = bad.items[0], bad.items[-1]
                span = f"line {first}" if len(bad.items) == 1 else f"lines {first}-{last}"
                n = len(bad.items)
                count = f"its {n} item{'s' if n != 1 else ''} ({span}) cannot be placed"
            else:
                count = "no items are under it, but what follows could be misplaced"
            self.problems.append(f"{self.where(bad.line)}: {bad.text!r}: {bad.reason}; {count}")
        if not self.items and not self.problems:
            self.problems.append(
                f"{self.where(1)}: no items found (an item is a line '* [Title (Mon YYYY, Label)](url)' "
                "under a '## ' section and a '### ' subsection heading)"
            )
        self.problems.sort(key=_line_of_message)
        return ParsedDigest(tuple(self.items), tuple(self.problems), tuple(self.warnings), self.title)


def _join_broken_link(lines: list[str], index: int, body: str, parsed: _Link) -> tuple[_Link, int]:
    """A link whose label or URL is still open, joined with up to three following lines; the index after."""
    joined = 0
    while parsed in ("open", "no_url") and joined < MAX_JOINED_LINES and index < len(lines):
        following = lines[index]
        if not following.strip() or HEADING.fullmatch(following) or ITEM.match(following):
            break
        sep = "" if parsed == "no_url" and following.lstrip().startswith("(") else " "
        body = body.rstrip() + sep + following.strip()
        index += 1
        joined += 1
        parsed = read_link(body)
    return parsed, index


def _line_of_message(message: str) -> int:
    match = re.search(r":(\d+): ", message)
    return int(match[1]) if match else 0
