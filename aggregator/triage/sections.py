"""Where the promote picker starts for a candidate. Pure: the taxonomy, the item and its suggestion
are given (the triage screen reads the stored suggestion, ``service.suggest.of``; it takes any
:data:`SectionSuggester`).
"""

from __future__ import annotations

from collections.abc import Callable

from aggregator.taxonomy import Taxonomy
from aggregator.triage_types import QueueItem

SectionSuggester = Callable[[Taxonomy, QueueItem, str | None, str | None], str | None]
"""(taxonomy, item, its feed's section hint in feeds.yaml, its suggested section) -> the section the
picker preselects."""


def default_section(
    taxonomy: Taxonomy, item: QueueItem, feed_hint: str | None = None, suggested: str | None = None
) -> str | None:
    """The section the promote picker preselects for ``item``.

    The section the item is promoted into already; else its suggested section (the
    suggestion engine's, stored beside the candidate) when feeds.yaml still has it;
    else the feed's section hint (the item's, else ``feed_hint`` from feeds.yaml), where a top-level hint
    (``aws``) means its first subsection (``aws/cv``); else None (the picker
    starts at the top).
    """
    promotable = taxonomy.promotable_sections()
    if item.section in promotable:
        return item.section
    if suggested in promotable:
        return suggested
    hint = item.section_hint if item.section_hint is not None else feed_hint
    if hint is None:
        return None
    if hint in promotable:
        return hint
    return next((sid for sid in promotable if sid.startswith(f"{hint}/")), None)
