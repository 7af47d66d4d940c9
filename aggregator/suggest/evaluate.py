"""The engine of ``aggregator suggest eval``: learn from digests, predict another's sections. Pure.

Digests in the seeds' format are read with :func:`aggregator.digest.read.parse_digest` and the
taxonomy of feeds.yaml; every placed item is a labelled example. Each test item is predicted from what
it carries (title, label, URL: its feed found by :class:`.sources.FeedIndex`; the stored text where the
caller has it) and compared with where the curators put it. Items whose URL a training digest also
holds are counted apart (``unseen_*``): a digest that repeats another measures memory, not judgement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from aggregator.configuration import Configuration
from aggregator.digest.read import parse_digest
from aggregator.errors import DigestError
from aggregator.suggest.section import SectionSuggester
from aggregator.suggest.sources import FeedIndex
from aggregator.suggest.values import EvalMiss, EvalReport, Example, Suggestion
from aggregator.urls import canonical_url

__all__ = ["evaluate", "examples_from_digest"]

Named = tuple[str, str]
"""(where it came from, the digest's text)."""


def examples_from_digest(
    digest: Named, config: Configuration, *, texts: Mapping[str, str] | None = None
) -> tuple[list[Example], list[str]]:
    """Every placed item of a digest as an example, and warnings for what could not be placed.

    Raises :class:`DigestError` when nothing in it can be placed (it is not a digest of this
    taxonomy), naming the file and its first problem.
    """
    source, text = digest
    parsed = parse_digest(text, config.taxonomy, source=source)
    if not parsed.items:
        first = parsed.problems[0] if parsed.problems else f"{source}: no items"
        raise DigestError(
            f"{source}: no item could be placed in feeds.yaml's sections, so it cannot be learned "
            f"from or tested ({first})"
        )
    index = FeedIndex(config)
    texts = texts or {}
    examples = [
        Example(index.item(title=i.title, url=i.url, label=i.label, text=texts.get(i.url, "")), i.section)
        for i in parsed.items
    ]
    warnings = [f"{p} (left out of the evaluation)" for p in parsed.problems]
    return examples, warnings


def evaluate(
    train: Sequence[Named], test: Named, config: Configuration, *, texts: Mapping[str, str] | None = None
) -> EvalReport:
    """Learn from ``train``'s digests, predict ``test``'s items, and score the predictions."""
    examples: list[Example] = []
    warnings: list[str] = []
    for digest in train:
        found, problems = examples_from_digest(digest, config, texts=texts)
        examples.extend(found)
        warnings.extend(problems)
    tests, problems = examples_from_digest(test, config, texts=texts)
    warnings.extend(problems)
    suggester = SectionSuggester(config.taxonomy, examples)
    predicted = suggester.suggest_many([e.item for e in tests])
    seen = {canonical_url(e.item.url) or e.item.url for e in examples}
    return score(tests, predicted, seen, training_items=len(examples), warnings=tuple(warnings))


def score(
    tests: Sequence[Example],
    predicted: Sequence[Suggestion],
    seen: set[str],
    *,
    training_items: int,
    warnings: tuple[str, ...] = (),
) -> EvalReport:
    """Accuracies, the confusion table and the misses of ``predicted`` against ``tests``."""
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses: list[EvalMiss] = []
    hits = {"all": [0, 0], "unseen": [0, 0]}  # [top section right, subsection right]
    unseen = 0
    for example, guess in zip(tests, predicted, strict=True):
        was_seen = (canonical_url(example.item.url) or example.item.url) in seen
        confusion[example.section][guess.section] += 1
        top_ok = guess.section.split("/")[0] == example.section.split("/")[0]
        sub_ok = guess.section == example.section
        for key in ("all",) if was_seen else ("all", "unseen"):
            hits[key][0] += top_ok
            hits[key][1] += sub_ok
        unseen += not was_seen
        if not sub_ok:
            misses.append(
                EvalMiss(
                    example.item.title, example.item.url, example.section, guess.section,
                    guess.confidence, guess.reason, was_seen,
                )
            )  # fmt: skip
    n = len(tests)
    return EvalReport(
        items=n,
        section_accuracy=hits["all"][0] / n if n else 0.0,
        subsection_accuracy=hits["all"][1] / n if n else 0.0,
        confusion={k: dict(v) for k, v in sorted(confusion.items())},
        misses=tuple(misses),
        unseen_items=unseen,
        unseen_section_accuracy=hits["unseen"][0] / unseen if unseen else None,
        unseen_subsection_accuracy=hits["unseen"][1] / unseen if unseen else None,
        training_items=training_items,
        warnings=warnings,
    )
