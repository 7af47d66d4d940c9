"""Digest issues as plain values: ordering, Markdown rendering through templates, reading existing digests.

Pure: no database, no clock, no network. ``store/digests.py`` loads an issue into these values and
writes what :func:`parse_digest` reads; the CLI passes text in and out.

**Ordering** within a subsection (:func:`order_items`): items the curator has placed (a ``position``)
come first, in position order; the others follow, newest first (by publication date, then by id,
highest first). ``digest move`` writes a position for every item of the subsection, so after a move
the order is exactly what the curator sees; an item promoted later has no position and goes to the end
of an ordered subsection, or takes its date's place in one nobody has ordered.

**Rendering** (:func:`render`) goes through Jinja2 templates with autoescaping off (the output is
Markdown, not HTML); the Markdown escaping is done by the filters below, so every link stays a link.
No control or bidi-override character (:data:`aggregator.controls.CONTROLS`: ESC, C1, U+202E...)
reaches the Markdown: the filters remove them from text before escaping it, ``md_url``
percent-encodes them, and whatever a curator's template prints raw loses them at the end;
``digest lint`` reports the items whose title, label or notes hold any (``control_characters``).

- ``md_text``: whitespace runs and newlines folded to one space; ``[`` and ``]`` escaped (Markdown such
  as ``*Data2vec 2.0*`` or ``**Renate**`` kept); ``<`` escaped where it would open a tag or an autolink;
  backticks escaped when they are unbalanced (a code span would swallow the link's end);
- ``md_url``: tabs and newlines removed, spaces, ``(``, ``)``, ``\\``, control and bidi-override
  characters percent-encoded (as UTF-8);
- ``link(text, url)``: ``[text](url)`` for an http(s) URL; anything else is printed as plain text in a
  code span after the text, never as a link (``digest lint`` reports it);
- ``headline(item, hide_labels)``: ``Title (Mon YYYY, Label)``, the label left out with its comma when it
  is empty or the section hides labels.

The shipped templates are ``summary`` (seed 000), ``unnumbered`` (seed 002), ``trend-post`` (seed 003)
and ``notebook`` (seed 004), in ``aggregator/templates/digest/``; a curator's copy is used with
``--template PATH`` (it may include the shipped ones by name).

**Reading** (:func:`parse_digest`) takes digests written like seeds 000 and 002 and maps their headings
to the taxonomy; see its docstring for the rules. It never drops anything silently: what it cannot
place is a problem (the import refuses), what it leaves out on purpose is a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from aggregator.controls import CONTROLS, find_controls, show_controls, strip_controls
from aggregator.errors import DigestError
from aggregator.taxonomy import Section
from aggregator.urls import is_http_url

if TYPE_CHECKING:
    import jinja2  # imported where a digest is rendered: not on every command

__all__ = [
    "MONTHS",
    "TEMPLATES",
    "Digest",
    "DigestItem",
    "DigestSection",
    "DigestSubsection",
    "LintFinding",
    "LintItem",
    "NotesStyle",
    "ParsedDigest",
    "ParsedItem",
    "build_digest",
    "headline",
    "link",
    "lint_findings",
    "md_text",
    "md_url",
    "month_key",
    "month_name",
    "order_items",
    "parse_digest",
    "render",
]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TEMPLATES = ("summary", "unnumbered", "trend-post", "notebook")
NotesStyle = Literal["nested", "inline"]

_YM_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")

# -- the values -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One item of an issue, with the curator's overrides already applied."""

    id: int
    """The candidate's id (what ``digest move`` takes)."""
    title: str
    """The title printed: the curator's override, else the article's title (may hold Markdown)."""
    url: str | None
    """The display URL, as published."""
    month: date | str
    """The month printed: a date, or ``"YYYY-MM"``."""
    label: str = ""
    """The label printed (the curator's override, else the feed's); may be empty."""
    notes: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    """Image lines printed after the notes, as written: ``![diagram](./x.png)``."""
    published_at: datetime | None = None
    position: int | None = None
    """The curator's order within the subsection; None: newest first, after the ordered ones."""
    article_title: str | None = None
    """The article's own title, when the printed one is an override (trend-post footnotes use it)."""

    @property
    def month_name(self) -> str:
        """``Dec 2022``."""
        return month_name(self.month)

    @property
    def is_link(self) -> bool:
        """True when the URL is http(s), so the item is printed as a link."""
        return bool(self.url) and is_http_url(self.url or "")


@dataclass(frozen=True, slots=True)
class DigestSubsection:
    id: str
    """The full id: ``business/mlops``."""
    number: str
    """``2.4``, fixed by the taxonomy."""
    title: str
    items: tuple[DigestItem, ...]
    heading: bool = True
    """False for the items of a top section that has no subsections (printed without a ``###``)."""


@dataclass(frozen=True, slots=True)
class DigestSection:
    id: str
    number: str
    title: str
    hide_labels: bool
    subsections: tuple[DigestSubsection, ...]
    """The subsections that have items, in taxonomy order."""

    @property
    def items(self) -> tuple[DigestItem, ...]:
        """Every item of the section, subsection by subsection."""
        return tuple(item for sub in self.subsections for item in sub.items)


@dataclass(frozen=True, slots=True)
class Digest:
    """An issue ready to render: only the sections and subsections that have items."""

    name: str
    """``2022-12``."""
    title: str
    preface: str
    sections: tuple[DigestSection, ...]
    status: str = "draft"
    published_at: datetime | None = None
    unplaced: tuple[tuple[str, DigestItem], ...] = ()
    """Items whose section is not in the taxonomy (feeds.yaml changed): (section id, item); never rendered."""

    @property
    def items(self) -> tuple[DigestItem, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @property
    def date(self) -> datetime:
        """When the issue was published, else the first day of its month (UTC)."""
        if self.published_at is not None:
            return self.published_at
        year, month = month_key(self.name)
        return datetime(year, month, 1, tzinfo=UTC)

    def numbers(self) -> dict[int, int]:
        """Each item's 1-based number across the issue in printed order (trend-post footnotes)."""
        return {item.id: i for i, item in enumerate(self.items, start=1)}


def month_key(value: date | str) -> tuple[int, int]:
    """(year, month) of a date or of ``"YYYY-MM"``; ValueError for anything else."""
    if isinstance(value, date):
        return value.year, value.month
    match = _YM_RE.fullmatch(value)
    if not match:
        raise ValueError(f"not a month: {value!r} (write YYYY-MM)")
    return int(match[1]), int(match[2])


def month_name(value: date | str) -> str:
    """``Dec 2022`` for a date in December 2022 or for ``"2022-12"``."""
    year, month = month_key(value)
    return f"{MONTHS[month - 1]} {year}"


def _newest_first_key(item: DigestItem) -> tuple[float, int]:
    if item.published_at is not None:
        moment = item.published_at.timestamp()
    else:
        year, month = month_key(item.month)
        moment = datetime(year, month, 1, tzinfo=UTC).timestamp()
    return (-moment, -item.id)


def order_items(items: Iterable[DigestItem]) -> list[DigestItem]:
    """The printed order of one subsection's items (see the module docstring)."""
    placed = sorted((i for i in items if i.position is not None), key=lambda i: (i.position, i.id))
    unplaced = sorted((i for i in items if i.position is None), key=_newest_first_key)
    return placed + unplaced


def build_digest(
    *,
    name: str,
    title: str,
    preface: str,
    taxonomy: Sequence[Section],
    items: Iterable[tuple[str, DigestItem]],
    status: str = "draft",
    published_at: datetime | None = None,
) -> Digest:
    """An issue from (section id, item) pairs, in taxonomy order and numbering.

    A section id is a full subsection id (``aws/mlops``), or a top section's id when that section has
    no subsections. Numbers come from the taxonomy (``3.4`` even when 3.1 to 3.3 are empty); empty
    subsections and sections are left out; items in a section the taxonomy does not have go to
    ``unplaced``.
    """
    by_section: dict[str, list[DigestItem]] = {}
    for section_id, item in items:
        by_section.setdefault(section_id, []).append(item)
    sections: list[DigestSection] = []
    for i, section in enumerate(taxonomy, start=1):
        subs: list[DigestSubsection] = []
        if not section.subsections:  # items sit in the top section itself
            found = by_section.pop(section.id, [])
            if found:
                subs.append(
                    DigestSubsection(
                        section.id, str(i), section.title, tuple(order_items(found)), heading=False
                    )
                )
        for j, sub in enumerate(section.subsections, start=1):
            full_id = f"{section.id}/{sub.id}"
            found = by_section.pop(full_id, [])
            if found:
                subs.append(DigestSubsection(full_id, f"{i}.{j}", sub.title, tuple(order_items(found))))
        if subs:
            sections.append(
                DigestSection(section.id, str(i), section.title, section.hide_labels, tuple(subs))
            )
    unplaced = tuple((sid, item) for sid in sorted(by_section) for item in order_items(by_section[sid]))
    return Digest(
        name=name,
        title=title,
        preface=preface,
        sections=tuple(sections),
        status=status,
        published_at=published_at,
        unplaced=unplaced,
    )


# -- Markdown escaping ------------------------------------------------------------------------

_WS = re.compile(r"\s+")
_BRACKET = re.compile(r"(\\*)([\[\]])")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\u202a-\u202e\u2066-\u2069()\\]")
_URL_DROP = re.compile(r"[\t\r\n]")


def _escape_bracket(match: re.Match[str]) -> str:
    slashes, bracket = match[1], match[2]
    if len(slashes) % 2 == 1:  # already escaped by the curator
        return match[0]
    return f"{slashes}\\{bracket}"


def md_text(text: str) -> str:
    """Text for a link's label or a heading: one line, brackets escaped, the curator's Markdown kept,
    no control or bidi-override characters."""
    # Controls go before the escaping reads the text: "<\x00script>" must not become a tag after it.
    out = strip_controls(_WS.sub(" ", text)).strip()
    out = _BRACKET.sub(_escape_bracket, out)
    out = _TAG_START.sub(r"\\<", out)
    if out.count("`") % 2 == 1:
        out = out.replace("`", "\\`")
    trailing = len(out) - len(out.rstrip("\\"))
    if trailing % 2 == 1:  # a lone final backslash would escape what follows (a "]" or a space)
        out += "\\"
    return out


def md_url(url: str) -> str:
    """A URL safe inside ``(...)``: spaces, parentheses, backslashes, control and bidi-override characters
    percent-encoded (a U+202E in a link stays where it was, as ``%E2%80%AE``, and reorders nothing)."""
    cleaned = _URL_DROP.sub("", url.strip())
    return _URL_UNSAFE.sub(_percent, cleaned)


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match[0].encode("utf-8"))


def _code_span(text: str) -> str:
    text = strip_controls(_URL_DROP.sub("", text.strip()))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def link(text: str, url: str | None) -> str:
    """``[text](url)`` for an http(s) URL; otherwise the text, then the URL as plain text (if any).

    ``text`` is Markdown already (pass it through ``md_text`` or ``headline``).
    """
    if url and is_http_url(url):
        return f"[{text}]({md_url(url)})"
    if url and url.strip():
        return f"{text} {_code_span(url)}"
    return text


def headline(item: DigestItem, hide_labels: bool = False) -> str:
    """``Title (Mon YYYY, Label)`` as Markdown; the label left out with its comma when empty or hidden."""
    label = "" if hide_labels else md_text(item.label)
    suffix = f"{item.month_name}, {label}" if label else item.month_name
    title = md_text(item.title)
    return f"{title} ({suffix})" if title else f"({suffix})"


def _note(text: str, indent: str = "") -> str:
    """A note as written, its further lines indented to stay inside its bullet; no control characters."""
    lines = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    return ("\n" + indent).join(lines)


def _block(text: str) -> str:
    """Verbatim Markdown ending with exactly one newline (the preface)."""
    text = strip_controls(text)
    return text.rstrip("\n") + "\n" if text.strip() else ""


def _yaml_str(text: str) -> str:
    """A double-quoted YAML scalar (front matter)."""
    out = strip_controls(_WS.sub(" ", text)).strip().replace("\\", "\\\\").replace('"', '\\"')
    return f'"{out}"'


# -- templates --------------------------------------------------------------------------------


def _configure(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.update(
        md_text=md_text,
        md_url=md_url,
        month_name=month_name,
        headline=headline,
        note=_note,
        block=_block,
        yaml_str=_yaml_str,
    )
    env.globals.update(link=link)
    return env


def _new_environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    import jinja2

    return _configure(
        jinja2.Environment(
            loader=loader,
            autoescape=False,  # Markdown, not HTML: the filters above do the escaping
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
    )


@cache
def _package_environment() -> jinja2.Environment:
    import jinja2

    return _new_environment(jinja2.PackageLoader("aggregator", "templates/digest"))


def _template(template: str | Path) -> jinja2.Template:
    import jinja2

    if isinstance(template, str) and template in TEMPLATES:
        return _package_environment().get_template(f"{template}.md.j2")
    path = Path(template)
    if not path.is_file():
        raise DigestError(
            f"no digest template {str(template)!r}: use one of {', '.join(TEMPLATES)}, "
            "or the path of a .j2 file (start from a copy of aggregator/templates/digest/summary.md.j2)"
        )
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(str(path.resolve().parent)),
            jinja2.PackageLoader("aggregator", "templates/digest"),
        ]
    )
    return _new_environment(loader).get_template(path.name)


def render(digest: Digest, template: str | Path = "summary", *, notes: NotesStyle = "nested") -> str:
    """The issue as Markdown through a shipped template (by name) or a curator's (by path).

    A template gets ``digest``, ``notes`` (``nested`` or ``inline``) and ``numbers`` (item id to its
    1-based number in printed order); see the header comment of each shipped template.
    """
    import jinja2

    if notes not in ("nested", "inline"):
        raise DigestError(f"unknown notes style {notes!r} (use nested or inline)")
    try:
        compiled = _template(template)
        # The filters clean what they print; this catches what a template prints raw
        # (``{{ item.title }}`` in a curator's copy, an image line, a section title from feeds.yaml).
        return strip_controls(compiled.render(digest=digest, notes=notes, numbers=digest.numbers()))
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or str(template)
        raise DigestError(f"{where}:{exc.lineno}: {exc.message} (fix the template)") from None
    except jinja2.TemplateError as exc:
        raise DigestError(
            f"template {str(template)!r}: {exc} (the variables a template gets are listed at the top "
            "of the shipped templates)"
        ) from None


# -- lint (the analysis; store/digests.py gathers the data) -------------------------------------


@dataclass(frozen=True, slots=True)
class LintItem:
    """What lint needs to know of one item."""

    id: int
    issue: str
    section: str
    title: str
    """The title printed (the curator's override, else the article's)."""
    url: str | None
    canonical_url: str | None
    group_id: int | None
    dated: bool
    """False when the article's date is only the day we first saw it and the curator set no month."""
    label: str = ""
    """The label printed (the curator's override, else the feed's)."""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LintFinding:
    kind: Literal["duplicate", "other_issue", "no_date", "not_http", "unknown_section", "control_characters"]
    message: str
    ids: tuple[int, ...]


def lint_findings(
    issue: str, items: Sequence[LintItem], others: Sequence[LintItem], known_sections: Iterable[str]
) -> list[LintFinding]:
    """Problems of issue ``issue``: the same article twice (by canonical URL or group), an article also
    in another issue (``others``: items of other issues sharing a URL or group), items without a date,
    links that are not http(s), items in a section feeds.yaml no longer has, and titles, labels or notes
    holding control or bidi-override characters (left out of the rendered digest; a U+202E may be a
    spoof, so a curator looks before publishing).
    """
    findings: list[LintFinding] = []
    known = set(known_sections)
    # Duplicates: items connected by a shared canonical URL or group id.
    parent: dict[int, int] = {item.id: item.id for item in items}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first_by_key: dict[tuple[str, object], int] = {}
    for item in items:
        for key in (("url", item.canonical_url), ("group", item.group_id)):
            if key[1] is None:
                continue
            if key in first_by_key:
                parent[root(item.id)] = root(first_by_key[key])
            else:
                first_by_key[key] = item.id
    groups: dict[int, list[LintItem]] = {}
    for item in items:
        groups.setdefault(root(item.id), []).append(item)
    for members in groups.values():
        if len(members) > 1:
            where = ", ".join(f"{m.id} ({m.section})" for m in members)
            findings.append(
                LintFinding(
                    "duplicate",
                    f"the same article is in {issue} {len(members)} times: candidates {where} "
                    f"(keep one: `aggregator unpromote ID` the others)",
                    tuple(m.id for m in members),
                )
            )
    for item in items:
        elsewhere = sorted(
            {
                o.issue
                for o in others
                if o.issue != issue
                and (
                    (item.canonical_url is not None and o.canonical_url == item.canonical_url)
                    or (item.group_id is not None and o.group_id == item.group_id)
                )
            }
        )
        if elsewhere:
            findings.append(
                LintFinding(
                    "other_issue",
                    f"candidate {item.id} ({_short(item.title)}) is also in {', '.join(elsewhere)} "
                    "(unpromote it here or there, unless it belongs in both on purpose)",
                    (item.id,),
                )
            )
        if not item.dated:
            findings.append(
                LintFinding(
                    "no_date",
                    f"candidate {item.id} ({_short(item.title)}) has no date of its own, only the day it "
                    "was first seen (set the month the digest should print)",
                    (item.id,),
                )
            )
        if not (item.url and is_http_url(item.url)):
            shown = repr(item.url) if item.url else "no link at all"
            findings.append(
                LintFinding(
                    "not_http",
                    f"candidate {item.id} ({_short(item.title)}) links to {shown}, not an http(s) URL; "
                    "it is printed as plain text, not as a link",
                    (item.id,),
                )
            )
        if item.section not in known:
            findings.append(
                LintFinding(
                    "unknown_section",
                    f"candidate {item.id} ({_short(item.title)}) is in section {item.section!r}, which "
                    "feeds.yaml does not have, so it is not rendered (promote it into a section that "
                    "exists, or restore the section)",
                    (item.id,),
                )
            )
        controls = _controls_finding(issue, item)
        if controls is not None:
            findings.append(controls)
    return findings


def _controls_finding(issue: str, item: LintItem) -> LintFinding | None:
    """The ``control_characters`` finding of an item, naming each field, its characters and the fix."""
    fields = [
        (name, found)
        for name, found in (
            ("title", find_controls(item.title)),
            ("label", find_controls(item.label)),
            ("notes", list(dict.fromkeys(code for note in item.notes for code in find_controls(note)))),
        )
        if found
    ]
    if not fields:
        return None
    where = ", ".join(f"{name} ({' '.join(found)})" for name, found in fields)
    promote = f"aggregator promote {item.id} --digest {issue} --section {item.section}"
    fixes = {
        "title": f"a clean title with `{promote} --title '...'`",
        "label": f"a clean label with `{promote} --label '...'` (or correct the feed's label in feeds.yaml)",
        "notes": f"clean notes with `aggregator note {item.id} --replace '...'` (then add any others)",
    }
    return LintFinding(
        "control_characters",
        f"candidate {item.id} ({_short(show_controls(item.title))}) has control or bidi-override characters "
        f"in its {where}; the digest leaves them out, but a U+202E can make a title read backwards, so "
        f"look at it (`aggregator show {item.id}`), then print "
        + "; ".join(fixes[name] for name, _ in fields),
        (item.id,),
    )


def _short(title: str, width: int = 60) -> str:
    one = _WS.sub(" ", title).strip()
    return one if len(one) <= width else one[: width - 3] + "..."


# -- reading existing digests -----------------------------------------------------------------


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


# Every pattern below runs in time linear in the line's length (no two adjacent parts can match the
# same characters), so a hostile file cannot stall the import: the month and the plain item, which
# would need such patterns, are found by the functions after them.
_HEADING = re.compile(r"(#{1,6})(?:[ \t]+(.*))?")
_NUMBERED = re.compile(r"(\d+(?:\.\d+)*)\.?[ \t]+(.+)")
_ITEM = re.compile(r"([*+-])[ \t]+(?=\[)")
_BULLET = re.compile(r"([ \t]+)([*+-])(?:[ \t]+(.*))?")
_TOP_BULLET = re.compile(r"[*+-](?:[ \t]+|$)")
_PLAIN_START = re.compile(r"[*+-][ \t]+(?!\[)")
_BACKTICKS = re.compile(r"`+")
_IMAGE = re.compile(r"[ \t]*!\[")
_RULE = re.compile(r"[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*")
_MONTH_START = re.compile(
    r"\((Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?[ \t]+(\d{4})", re.IGNORECASE
)
_UNESCAPE = re.compile(r"\\([\[\]\\`<])")
_MAX_JOINED_LINES = 3
_MAX_LINE = 20_000
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


def _plain_item(line: str) -> tuple[str, str, str] | None:
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


def _read_link(text: str) -> tuple[str, str, str] | Literal["open", "no_url"] | None:
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


def _norm_title(text: str) -> str:
    return _WS.sub(" ", text.strip().strip("*_").strip()).casefold()


def _match(heading: str, options: Sequence[tuple[str, str, str]]) -> list[str]:
    """Ids of the options (id, title, extra key) a heading names: exactly, ignoring case, or as a prefix.

    The most exact kind of match wins; several matches of that kind are ambiguous.
    """
    norm = _norm_title(heading)
    if not norm:
        return []
    exact = [oid for oid, title, _ in options if title.strip() == heading.strip()]
    if exact:
        return exact
    folded = [oid for oid, title, key in options if norm in (_norm_title(title), key.casefold())]
    if folded:
        return folded
    prefix = []
    for oid, title, _ in options:
        full = _norm_title(title)
        if full.startswith(norm) and not full[len(norm)].isalnum():
            prefix.append(oid)
    return prefix


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


def parse_digest(text: str, taxonomy: Sequence[Section], *, source: str = "digest") -> ParsedDigest:
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
    problems: list[str] = []
    warnings: list[str] = []
    items: list[ParsedItem] = []
    title: str | None = None
    hidden = {s.id for s in taxonomy if s.hide_labels}

    section: Section | None = None
    section_number = 0
    subsection: str | None = None
    bad_heading: _Heading | None = None
    bad_headings: list[_Heading] = []
    seen_section_heading = False
    current: _Open | None = None

    def where(line: int) -> str:
        return f"{source}:{line}"

    def finish() -> None:
        nonlocal current
        if current is None:
            return
        if current.section is not None:
            items.append(
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
        current = None

    section_options = [(s.id, s.title, s.id) for s in taxonomy]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for at, raw in enumerate(lines):
        if len(raw) > _MAX_LINE:
            problems.append(
                f"{where(at + 1)}: the line is {len(raw):,} characters long; a digest's lines are at "
                f"most {_MAX_LINE:,} (is this file a digest?)"
            )
            lines[at] = ""  # not read further: nothing in it is imported anyway
            continue
        controls = find_controls(raw)
        if controls:
            them = "them" if len(controls) > 1 else "it"
            problems.append(
                f"{where(at + 1)}: control character{'s' if len(controls) > 1 else ''} "
                f"{', '.join(controls)} in the line, which a digest cannot hold (delete {them}; an "
                f"editor or a copy and paste may have put {them} there)"
            )
            lines[at] = CONTROLS.sub("", raw)  # read on without them, to report what else is wrong
    index = 0
    while index < len(lines):
        raw = lines[index]
        number = index + 1
        index += 1
        stripped = raw.strip()

        if not stripped:
            if current is not None:
                current.after_blank = True
                current.last_was_note = False
            continue

        heading = _HEADING.fullmatch(raw)
        if heading:
            finish()
            level = len(heading[1])
            heading_text = (heading[2] or "").rstrip(" \t")
            if level == 1:
                if title is None:
                    title = heading_text
                continue
            if level == 2:
                seen_section_heading = True
                subsection = None
                section, section_number, reason = _map_section(heading_text, taxonomy, section_options)
                bad_heading = None
                if section is not None and not section.subsections:
                    subsection = section.id  # its items sit in the top section itself
                if section is None:
                    bad_heading = _Heading(number, 2, raw.strip(), reason)
                    bad_headings.append(bad_heading)
                continue
            if level == 3:
                subsection = None
                if bad_heading is not None and bad_heading.level == 2:
                    continue  # its items count against the unmapped section heading
                if section is None:
                    bad_heading = _Heading(
                        number, 3, raw.strip(), "a '###' subsection heading before any '##' section heading"
                    )
                    bad_headings.append(bad_heading)
                    continue
                subsection, reason = _map_subsection(heading_text, section, section_number)
                bad_heading = None
                if subsection is None:
                    bad_heading = _Heading(number, 3, raw.strip(), reason)
                    bad_headings.append(bad_heading)
                continue
            warnings.append(f"{where(number)}: heading {raw.strip()!r} is not imported (only ## and ### are)")
            continue

        item_match = _ITEM.match(raw)
        plain = None if item_match else _plain_item(raw)
        if (item_match or plain) and not seen_section_heading:
            # The preface (it comes from feeds.yaml) may hold links; they are not items.
            warnings.append(
                f"{where(number)}: a link before the first '##' heading is taken as part of the "
                "preface and not imported"
            )
            continue
        if item_match or plain:
            finish()
            body = raw[item_match.end() :] if item_match else ""
            # "* Title (Mon YYYY) `url`" is how a link that is not http(s) is printed.
            parsed: tuple[str, str, str] | Literal["open", "no_url"] | None
            parsed = plain if plain is not None else _read_link(body)
            joined = 0
            while parsed in ("open", "no_url") and joined < _MAX_JOINED_LINES and index < len(lines):
                following = lines[index]
                if not following.strip() or _HEADING.fullmatch(following) or _ITEM.match(following):
                    break
                sep = "" if parsed == "no_url" and following.lstrip().startswith("(") else " "
                body = body.rstrip() + sep + following.strip()
                index += 1
                joined += 1
                parsed = _read_link(body)
            if not isinstance(parsed, tuple):
                problems.append(
                    f"{where(number)}: this line starts like an item but is not '* [Title (Mon YYYY, "
                    "Label)](url)' (fix the link: a ']' or ')' may be missing)"
                )
                continue
            label_text, url, rest = parsed
            item = _item_from_link(label_text, url)
            if item is None:
                problems.append(f"{where(number)}: the item has no title (write one inside the brackets)")
                continue
            if item[2] is not None and item[2].startswith("0000-"):
                problems.append(
                    f"{where(number)}: the item is dated in the year 0 (write its month as Mon YYYY, "
                    "e.g. Mar 2024)"
                )
            place: str | None
            if bad_heading is not None:
                bad_heading.items.append(number)
                place = None
            elif subsection is None:
                place = None
                problems.append(
                    f"{where(number)}: an item under a '##' heading but before any '###' subsection "
                    "heading (add the subsection heading it belongs to)"
                )
            else:
                place = subsection
            current = _Open(number, place, *item)
            rest_text = rest.lstrip()
            if rest_text.startswith(":"):
                note = rest_text[1:].lstrip()
                if note.strip():
                    current.notes.append(note)
                    current.last_was_note = True
            elif rest_text.strip():
                warnings.append(f"{where(number)}: the text after the link is taken as the item's first note")
                current.notes.append(rest_text)
                current.last_was_note = True
            if place is not None and current.label and place.split("/", 1)[0] in hidden:
                warnings.append(
                    f"{where(number)}: section {place.split('/', 1)[0]!r} hides labels, so the label "
                    f"{current.label!r} is kept but not printed there"
                )
            continue

        if current is not None and _IMAGE.match(raw):
            current.images.append(stripped)
            current.last_was_note = False
            continue

        bullet = _BULLET.fullmatch(raw)
        if current is not None and bullet:
            indent = len(bullet[1].expandtabs(4))
            if current.bullet_indent is None:
                current.bullet_indent = indent
            elif indent > current.bullet_indent:
                warnings.append(
                    f"{where(number)}: a note nested deeper than one level becomes a note of its own"
                )
            note = bullet[3] or ""
            if note.strip():
                current.notes.append(note)
            current.last_was_note = True
            current.after_blank = False
            continue

        if _RULE.fullmatch(raw):
            finish()
            warnings.append(f"{where(number)}: a horizontal rule is not imported")
            continue

        if current is not None and not current.after_blank:
            if raw[:1].isspace() and current.last_was_note and current.notes:
                current.notes[-1] = current.notes[-1] + "\n" + stripped  # a note's further line
            elif _TOP_BULLET.match(raw):
                problems.append(
                    f"{where(number)}: a bullet without a link among the items (make it an item "
                    "'* [Title (Mon YYYY)](url)' or indent it under the item as a note)"
                )
            else:
                current.notes.append(raw.lstrip())  # a note on a plain line under its item (seed 000)
                current.last_was_note = False
            continue

        if seen_section_heading:
            finish()
            warnings.append(f"{where(number)}: text outside any item is not imported: {_short(stripped)!r}")
        # before the first '##': the title's preface, which comes from feeds.yaml

    finish()
    for bad in bad_headings:
        if bad.items:
            span = f"line {bad.items[0]}" if len(bad.items) == 1 else f"lines {bad.items[0]}-{bad.items[-1]}"
            count = f"its {len(bad.items)} item{'s' if len(bad.items) != 1 else ''} ({span}) cannot be placed"
        else:
            count = "no items are under it, but what follows could be misplaced"
        problems.append(f"{where(bad.line)}: {bad.text!r}: {bad.reason}; {count}")
    if not items and not problems:
        problems.append(
            f"{where(1)}: no items found (an item is a line '* [Title (Mon YYYY, Label)](url)' under a "
            "'## ' section and a '### ' subsection heading)"
        )
    problems.sort(key=_line_of_message)
    return ParsedDigest(tuple(items), tuple(problems), tuple(warnings), title)


def _line_of_message(message: str) -> int:
    match = re.search(r":(\d+): ", message)
    return int(match[1]) if match else 0


def _item_from_link(label_text: str, url: str) -> tuple[str, str, str | None, str | None] | None:
    """(title, url, month, label) from a link's text and URL; None when there is no title."""
    text = _WS.sub(" ", label_text).strip()
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


def _options_text(titles: Iterable[str]) -> str:
    return ", ".join(repr(t) for t in titles)


def _map_section(
    heading: str, taxonomy: Sequence[Section], options: Sequence[tuple[str, str, str]]
) -> tuple[Section | None, int, str]:
    """The section a ``##`` heading names, its 1-based number, and why not when it names none."""
    titles = _options_text(s.title for s in taxonomy)
    advice = f"rename the heading to one of {titles}, or add the section to feeds.yaml"
    numbered = _NUMBERED.fullmatch(heading.strip())
    if numbered and "." not in numbered[1] and 1 <= int(numbered[1]) <= len(taxonomy):
        number, name = int(numbered[1]), numbered[2]
        section = taxonomy[number - 1]
        if section.id not in _match(name, options):
            return (
                None,
                0,
                (
                    f"section {number} in feeds.yaml is {section.title!r}, not {name.strip()!r} "
                    f"(fix the number or the title)"
                ),
            )
        return section, number, ""
    found = _match(heading, options)
    if len(found) == 1:
        number = next(i for i, s in enumerate(taxonomy, start=1) if s.id == found[0])
        return taxonomy[number - 1], number, ""
    if len(found) > 1:
        names = _options_text(s.title for s in taxonomy if s.id in found)
        return None, 0, f"the heading could be any of {names} (write the full title)"
    return None, 0, f"no section of feeds.yaml has this title ({advice})"


def _map_subsection(heading: str, section: Section, section_number: int) -> tuple[str | None, str]:
    """The full subsection id a ``###`` heading names under ``section``, or None and why."""
    if not section.subsections:
        return None, (
            f"section {section.title!r} has no subsections in feeds.yaml (put its items right under the "
            "'##' heading, or add subsections to feeds.yaml)"
        )
    options = [(f"{section.id}/{sub.id}", sub.title, sub.id) for sub in section.subsections]
    titles = _options_text(sub.title for sub in section.subsections)
    advice = f"rename the heading to one of {titles}, or add the subsection to {section.id!r} in feeds.yaml"
    numbered = _NUMBERED.fullmatch(heading.strip())
    if numbered and numbered[1].count(".") == 1:
        top, sub = (int(part) for part in numbered[1].split("."))
        name = numbered[2]
        if top != section_number:
            return None, (
                f"numbered {top}.{sub} under section {section_number} ({section.title!r}) "
                "(fix the number, or the section heading above it)"
            )
        if not 1 <= sub <= len(section.subsections):
            return None, f"section {section.title!r} has no subsection {top}.{sub} ({advice})"
        chosen = section.subsections[sub - 1]
        full_id = f"{section.id}/{chosen.id}"
        if full_id not in _match(name, options):
            return None, (
                f"subsection {top}.{sub} in feeds.yaml is {chosen.title!r}, not {name.strip()!r} "
                "(fix the number or the title)"
            )
        return full_id, ""
    found = _match(heading, options)
    if len(found) == 1:
        return found[0], ""
    if len(found) > 1:
        return None, f"the heading could be any of {titles} (write the full title)"
    return None, f"section {section.title!r} has no subsection with this title ({advice})"
