"""Where the promote picker starts for a candidate. Pure: the taxonomy and the item are given.

A later suggestion engine can replace :func:`default_section` (the triage
screen takes any :data:`SectionSuggester`).
"""

from __future__ import annotations

from collections.abc import Callable

from aggregator.taxonomy import Taxonomy
from aggregator.types import QueueItem

SectionSuggester = Callable[[Taxonomy, QueueItem, str | None], str | None]
"""(taxonomy, item, its feed's section hint in feeds.yaml) -> the section the picker preselects."""


def default_section(taxonomy: Taxonomy, item: QueueItem, feed_hint: str | None = None) -> str | None:
    """The section the promote picker preselects for ``item``.

    The section the item is promoted into already; else the feed's section hint
    (the item's, else ``feed_hint`` from feeds.yaml), where a top-level hint
    (``aws``) means its first subsection (``aws/cv``); else None (the picker
    starts at the top).
    """
    promotable = taxonomy.promotable_sections()
    if item.section in promotable:
        return item.section
    hint = item.section_hint if item.section_hint is not None else feed_hint
    if hint is None:
        return None
    if hint in promotable:
        return hint
    return next((sid for sid in promotable if sid.startswith(f"{hint}/")), None)
