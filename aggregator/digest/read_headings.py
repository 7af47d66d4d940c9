"""Which section of the taxonomy a digest's ``##`` or ``###`` heading names, and why not; pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aggregator.digest.read_lines import NUMBERED, WS
from aggregator.taxonomy import Section, Taxonomy

__all__ = ["map_section", "map_subsection", "section_options"]


def section_options(taxonomy: Taxonomy) -> list[tuple[str, str, str]]:
    """(id, title, extra key) of every top section, what a ``##`` heading is matched against."""
    return [(s.id, s.title, s.id) for s in taxonomy]


def _norm_title(text: str) -> str:
    return WS.sub(" ", text.strip().strip("*_").strip()).casefold()


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


def _options_text(titles: Iterable[str]) -> str:
    return ", ".join(repr(t) for t in titles)


def map_section(
    heading: str, taxonomy: Taxonomy, options: Sequence[tuple[str, str, str]]
) -> tuple[Section | None, int, str]:
    """The section a ``##`` heading names, its 1-based number, and why not when it names none."""
    titles = _options_text(s.title for s in taxonomy)
    advice = f"rename the heading to one of {titles}, or add the section to feeds.yaml"
    numbered = NUMBERED.fullmatch(heading.strip())
    if numbered and "." not in numbered[1] and 1 <= int(numbered[1]) <= len(taxonomy):
        number, name = int(numbered[1]), numbered[2]
        section = taxonomy.sections[number - 1]
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
        return taxonomy.sections[number - 1], number, ""
    if len(found) > 1:
        names = _options_text(s.title for s in taxonomy if s.id in found)
        return None, 0, f"the heading could be any of {names} (write the full title)"
    return None, 0, f"no section of feeds.yaml has this title ({advice})"


def map_subsection(heading: str, section: Section, section_number: int) -> tuple[str | None, str]:
    """The full subsection id a ``###`` heading names under ``section``, or None and why."""
    if not section.subsections:
        return None, (
            f"section {section.title!r} has no subsections in feeds.yaml (put its items right under the "
            "'##' heading, or add subsections to feeds.yaml)"
        )
    options = [(f"{section.id}/{sub.id}", sub.title, sub.id) for sub in section.subsections]
    titles = _options_text(sub.title for sub in section.subsections)
    advice = f"rename the heading to one of {titles}, or add the subsection to {section.id!r} in feeds.yaml"
    numbered = NUMBERED.fullmatch(heading.strip())
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
