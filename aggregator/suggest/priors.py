"""Prior log-odds for the top section, from what a curator would see at a glance. Pure.

The feed's ``section_hint`` names where its posts usually go; an AWS product in the title points to
the AWS-only section; research words (a paper, a proof, "we propose") to research; business words
(production, customers, a service) to business. The learned models add to these; with no history at
all these decide. Section ids are feeds.yaml's (``research``, ``business``, ``aws``); a taxonomy
with other ids gets the hint only.
"""

from __future__ import annotations

from collections.abc import Mapping

from aggregator.suggest.features import content
from aggregator.suggest.lexicon import AWS_PRODUCTS, KINDS, TOPICS, find_cues
from aggregator.suggest.values import SuggestItem

__all__ = ["HINT_SUBSECTION", "HINT_TOP", "kind_cues", "top_prior", "top_reason", "topic_evidence"]

HINT_TOP = 1.2
"""Log-odds the feed's hinted top section gets (about 3.3 to 1)."""
HINT_SUBSECTION = 0.7
"""Further log-odds when the hint names the subsection too."""

COMPANY = 0.4
"""Log-odds for business when a company's feed has no hint (its posts are its applications)."""

_TOKEN_PRIORS: dict[str, dict[str, float]] = {
    "cue=aws_product_in_title": {"aws": 1.5},
    "cue=aws_general": {"aws": -0.6, "business": 0.6},
    "cue=research": {"research": 0.5},
    "cue=business": {"business": 0.4},
    "label=none": {"research": 0.3},
}


def top_prior(item: SuggestItem, tokens: list[str], tops: list[str]) -> dict[str, float]:
    """Log-odds to add to each top section's model score for ``item`` (its source tokens given)."""
    prior = dict.fromkeys(tops, 0.0)
    hint = (item.section_hint or "").split("/", 1)[0]
    if hint in prior:
        prior[hint] += HINT_TOP
    elif item.label and "business" in prior:  # a company's own blog, not a lab's: applications
        prior["business"] += COMPANY
    for token in tokens:
        for top, odds in _TOKEN_PRIORS.get(token, {}).items():
            if top in prior:
                prior[top] += odds
    return prior


def kind_cues(text: str) -> dict[str, list[str]]:
    """The cues of each kind of post (:data:`KINDS`) found in ``text``, an item's ``content``."""
    return {kind: find_cues(text, cues) for kind, cues in KINDS.items()}


def top_reason(item: SuggestItem, top: str, kinds: Mapping[str, list[str]] | None = None) -> str:
    """Why ``top`` in a few words, for the suggestion's reason line; '' when only the model says so.
    ``kinds``: :func:`kind_cues` of the item's content, where the caller has them."""
    hint = item.section_hint or ""
    if hint.split("/", 1)[0] == top:
        return f"feed hint '{hint}'"
    head = f"{item.title} {item.url}"
    if top == "aws" and (found := find_cues(head, AWS_PRODUCTS)):
        return f"'{found[0]}'"
    if top in KINDS and (found := kind_cues(content(item))[top] if kinds is None else kinds[top]):
        return ", ".join(f"'{w}'" for w in found[:2])
    return ""


def topic_evidence(item: SuggestItem, topic: str, text: str | None = None) -> list[str]:
    """The topic's cue words found in ``item`` (``text``: its ``content``, where the caller has it), for
    the reason when the model names none."""
    return find_cues(content(item) if text is None else text, TOPICS.get(topic, ()))
