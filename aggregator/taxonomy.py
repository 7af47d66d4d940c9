"""The digest's sections as frozen values: what feeds.yaml's ``sections`` say, without pydantic.

The configuration is validated at the edge (:mod:`aggregator.config`) and turned
into these values by :mod:`aggregator.app`; the domains, the store and the front
ends read only these. Numbering follows the order in the file: section 2's
fourth subsection is ``2.4``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Subsection:
    """A subsection; its full id is ``<section id>/<id>``."""

    id: str
    title: str


@dataclass(frozen=True, slots=True)
class Section:
    """A top section of the digest with its subsections, in order."""

    id: str
    title: str
    hide_labels: bool = False
    """Print items without the label, as the seeds' "AWS ML Only" section does."""
    subsections: tuple[Subsection, ...] = ()

    def full_ids(self) -> list[str]:
        """The full ids of the subsections, in order: ``["aws/cv", "aws/nlp", ...]``."""
        return [f"{self.id}/{sub.id}" for sub in self.subsections]


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """Every section of the digest, in the order they are printed."""

    sections: tuple[Section, ...] = ()

    def __iter__(self) -> Iterator[Section]:
        return iter(self.sections)

    def __len__(self) -> int:
        return len(self.sections)

    def section_ids(self) -> list[str]:
        """Every section id in order: each top id followed by its full subsection ids."""
        ids: list[str] = []
        for section in self.sections:
            ids.append(section.id)
            ids.extend(section.full_ids())
        return ids

    def promotable_sections(self) -> list[str]:
        """The ids an item can be promoted into: every subsection, and top sections without any."""
        ids: list[str] = []
        for section in self.sections:
            ids.extend(section.full_ids() or [section.id])
        return ids

    def section_number(self, section_id: str) -> str:
        """The printed number of a section: ``"2"`` for ``business``, ``"2.4"`` for ``business/mlops``.

        Numbers come from the order in the file, not from which sections have items.
        Raises KeyError for an unknown id.
        """
        top, _, sub = section_id.partition("/")
        for i, section in enumerate(self.sections, start=1):
            if section.id != top:
                continue
            if not sub:
                return str(i)
            for j, subsection in enumerate(section.subsections, start=1):
                if subsection.id == sub:
                    return f"{i}.{j}"
        raise KeyError(section_id)

    def label(self, section_id: str) -> str:
        """``2.4 Business Cases / Training, Inference and MLOps`` for ``business/mlops``; else the id."""
        top_id, _, sub_id = section_id.partition("/")
        for section in self.sections:
            if section.id != top_id:
                continue
            try:
                number = self.section_number(section_id)
            except KeyError:
                break
            if not sub_id:
                return f"{number} {section.title}"
            for sub in section.subsections:
                if sub.id == sub_id:
                    return f"{number} {section.title} / {sub.title}"
        return section_id
