"""The suggestion wing's plain values: what it is given and what it answers, frozen.

They live here rather than in :mod:`aggregator.types` (which is at its size limit); the
service facade passes them to the front ends as they are, like the other wings' values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SuggestItem:
    """What a candidate (or a digest item) carries that a suggestion reads."""

    title: str
    url: str = ""
    feed: str = ""
    """The feed's name in feeds.yaml; empty when unknown (an imported digest's item)."""
    label: str = ""
    """The company printed in the digest line ("Amazon", "네이버"); empty for individuals."""
    text: str = ""
    """The extracted (or the feed's) text; may be empty."""
    language: str | None = None
    section_hint: str | None = None
    """The feed's ``section_hint``: a top section ("aws") or a subsection ("aws/mlops")."""


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled example: an item and the subsection the curators put it in."""

    item: SuggestItem
    section: str
    """A full subsection id, such as ``business/mlops``."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Where a candidate probably belongs, how sure that is, and why in one line."""

    section: str
    """A full subsection id of the taxonomy."""
    confidence: float
    """The model's probability of ``section``, 0.0-1.0."""
    reason: str
    """One line a curator can check: source → top section; cue words → subsection."""
    alternatives: tuple[tuple[str, float], ...] = ()
    """The next most likely subsections with their probabilities, best first."""


@dataclass(frozen=True, slots=True)
class ScoreInput:
    """What the importance score reads about one candidate."""

    item: SuggestItem
    links: tuple[str, ...] = ()
    """The article's links (absolute URLs): code and checkpoints among them raise the score."""
    weight: float = 1.0
    """The feed's ``weight`` in feeds.yaml: multiplies the score."""
    promoted: int = 0
    """How many of the feed's decided candidates were promoted..."""
    decided: int = 0
    """... out of how many decided (promoted or rejected)."""
    suggestion: Suggestion | None = None
    """The candidate's suggested section, when there is one: research counts below business."""


@dataclass(frozen=True, slots=True)
class Contribution:
    """One reason of a score: a short phrase and the points it added (or took)."""

    phrase: str
    points: float


@dataclass(frozen=True, slots=True)
class Score:
    """An importance score, 0-100, with every reason that made it."""

    value: float
    reasons: tuple[Contribution, ...]

    def explain(self) -> str:
        """``"+15 public code (GitHub); -10 research"``: the reasons in one line."""
        return "; ".join(f"{r.points:+g} {r.phrase}" for r in self.reasons)


@dataclass(frozen=True, slots=True)
class Posting:
    """One candidate as cross-post grouping sees it."""

    key: str
    """The caller's id for it (a candidate id)."""
    url: str
    title: str
    text: str = ""
    feed: str = ""
    published: datetime | None = None
    """When it was published (aware UTC), or None (then it is never the earliest)."""


@dataclass(frozen=True, slots=True)
class Group:
    """A group of postings of one article: its primary and every member, primary first."""

    primary: str
    members: tuple[str, ...]
    reason: str
    """Why the newest member joined: "same canonical URL", "near-duplicate text (0.82)", ..."""


@dataclass(frozen=True, slots=True)
class EvalMiss:
    """A test item the model placed elsewhere than the curators."""

    title: str
    url: str
    expected: str
    predicted: str
    confidence: float
    reason: str
    seen: bool
    """True when a training digest holds the same URL."""


@dataclass(frozen=True, slots=True)
class EvalReport:
    """``aggregator suggest eval``'s answer: accuracies, a confusion table and the misses."""

    items: int
    section_accuracy: float
    subsection_accuracy: float
    confusion: dict[str, dict[str, int]]
    """expected subsection -> predicted subsection -> count."""
    misses: tuple[EvalMiss, ...]
    unseen_items: int
    """Test items whose URL no training digest holds: the honest measure of generalisation."""
    unseen_section_accuracy: float | None
    unseen_subsection_accuracy: float | None
    training_items: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredSuggestion:
    """What is stored beside a candidate: its suggestion, its score, their reasons, and its group."""

    section: str | None
    confidence: float | None
    reason: str | None
    score: float | None
    score_reasons: tuple[Contribution, ...]
    group_id: int | None
    """The id of its group's primary (itself when it is the primary); None when alone."""
    routes: tuple[tuple[int, str, str | None], ...] = ()
    """The group's other members: (candidate id, feed name, URL), its primary first when another."""

    def explain(self) -> str:
        """``"+15 public code (GitHub o/r); -8 research"``: the score's reasons in one line."""
        return "; ".join(f"{r.points:+g} {r.phrase}" for r in self.score_reasons)


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """One feed's record for ``aggregator feeds report``: what it brought and what became of it."""

    feed: str
    label: str
    in_config: bool
    candidates: int
    promoted: int
    rejected: int
    duplicates: int
    """Its candidates that are another route to an article listed elsewhere (not their group's primary)."""
    last_item: datetime | None
    """The publication date of its newest candidate; None when it has none."""
    verdict: str = ""
    """``noisy``, ``quiet`` or ''."""
    why: str = ""
