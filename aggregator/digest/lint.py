"""The lint analysis of an issue: what a curator should look at before publishing.

Pure: :mod:`aggregator.digest.issues` gathers the items from the store and calls
:func:`lint_findings`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from aggregator.controls import find_controls, show_controls
from aggregator.urls import is_http_url

__all__ = ["LintFinding", "LintItem", "lint_findings", "short"]

_WS = re.compile(r"\s+")


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
    published: date | None = None
    """The day the article was published, by its feed; None when the digest import or first sight gave it."""


#: An item published this long before the first day of its issue's month is flagged (``long_before``).
LONG_BEFORE = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class LintFinding:
    kind: Literal[
        "duplicate",
        "other_issue",
        "no_date",
        "long_before",
        "not_http",
        "unknown_section",
        "control_characters",
    ]
    message: str
    ids: tuple[int, ...]


def lint_findings(
    issue: str, items: Sequence[LintItem], others: Sequence[LintItem], known_sections: Iterable[str]
) -> list[LintFinding]:
    """Problems of issue ``issue``: the same article twice (by canonical URL or group), an article also
    in another issue (``others``: items of other issues sharing a URL or group), items without a date,
    items published more than :data:`LONG_BEFORE` before the first day of the issue's month,
    links that are not http(s), items in a section feeds.yaml no longer has, and titles, labels or notes
    holding control or bidi-override characters (left out of the rendered digest; a U+202E may be a
    spoof, so a curator looks before publishing).
    """
    known = set(known_sections)
    findings = _duplicates(issue, items)
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
                    f"candidate {item.id} ({short(item.title)}) is also in {', '.join(elsewhere)} "
                    "(unpromote it here or there, unless it belongs in both on purpose)",
                    (item.id,),
                )
            )
        if not item.dated:
            findings.append(
                LintFinding(
                    "no_date",
                    f"candidate {item.id} ({short(item.title)}) has no date of its own, only the day it "
                    "was first seen (set the month the digest should print)",
                    (item.id,),
                )
            )
        old = _long_before(issue, item)
        if old is not None:
            findings.append(old)
        if not (item.url and is_http_url(item.url)):
            shown = repr(item.url) if item.url else "no link at all"
            findings.append(
                LintFinding(
                    "not_http",
                    f"candidate {item.id} ({short(item.title)}) links to {shown}, not an http(s) URL; "
                    "it is printed as plain text, not as a link",
                    (item.id,),
                )
            )
        if item.section not in known:
            findings.append(
                LintFinding(
                    "unknown_section",
                    f"candidate {item.id} ({short(item.title)}) is in section {item.section!r}, which "
                    "feeds.yaml does not have, so it is not rendered (promote it into a section that "
                    "exists, or restore the section)",
                    (item.id,),
                )
            )
        controls = _controls_finding(issue, item)
        if controls is not None:
            findings.append(controls)
    return findings


def _long_before(issue: str, item: LintItem) -> LintFinding | None:
    """The ``long_before`` finding: an item whose own date is long before the issue's month began."""
    try:
        first = date(int(issue[:4]), int(issue[5:7]), 1)
    except ValueError:  # not a YYYY-MM name: nothing to compare with
        return None
    if item.published is None or item.published >= first - LONG_BEFORE:
        return None
    return LintFinding(
        "long_before",
        f"item {item.id} ({short(item.title)}) was published {item.published.isoformat()}, long before "
        f"{issue} (check it belongs here, or move it)",
        (item.id,),
    )


def _duplicates(issue: str, items: Sequence[LintItem]) -> list[LintFinding]:
    """The ``duplicate`` findings: items connected by a shared canonical URL or group id."""
    findings: list[LintFinding] = []
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
            # A cross-post group's primary (the publisher's own post, else the earliest) is the one to keep.
            primary = next((m for m in members if m.group_id == m.id), None)
            members.sort(key=lambda m: m is not primary)
            where = ", ".join(f"{m.id} ({m.section}{', primary' if m is primary else ''})" for m in members)
            keep = f"keep the primary, {primary.id}" if primary is not None else "keep one"
            findings.append(
                LintFinding(
                    "duplicate",
                    f"the same article is in {issue} {len(members)} times, by {len(members)} routes: "
                    f"candidates {where} ({keep}: `aggregator unpromote ID` the others)",
                    tuple(m.id for m in members),
                )
            )
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
        f"candidate {item.id} ({short(show_controls(item.title))}) has control or bidi-override characters "
        f"in its {where}; the digest leaves them out, but a U+202E can make a title read backwards, so "
        f"look at it (`aggregator show {item.id}`), then print "
        + "; ".join(fixes[name] for name, _ in fields),
        (item.id,),
    )


def short(title: str, width: int = 60) -> str:
    one = _WS.sub(" ", title).strip()
    return one if len(one) <= width else one[: width - 3] + "..."
