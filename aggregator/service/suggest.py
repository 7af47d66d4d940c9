"""The suggestion wing's operations for the front ends.

Step one of issue 15 needs no database: :func:`evaluate_digests` learns from digests and tests on
another (``aggregator suggest eval``). The store-backed operations (suggestions kept beside the
candidates, the score, cross-post groups) come with the store's columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aggregator.configuration import Configuration
from aggregator.suggest.values import EvalReport

__all__ = ["evaluate_digests"]


def evaluate_digests(
    train: Sequence[tuple[str, str]],
    test: tuple[str, str],
    config: Configuration,
    *,
    texts: Mapping[str, str] | None = None,
) -> EvalReport:
    """Learn sections from ``train``'s digests ((name, text) each), predict ``test``'s items, score them.

    ``texts`` maps an item's URL to its stored text, where the caller has it. A digest in which no
    item can be placed in feeds.yaml's sections is a :class:`~aggregator.errors.DigestError` naming it.
    """
    from aggregator.suggest.evaluate import evaluate  # scikit-learn: loaded by the command that runs

    return evaluate(train, test, config, texts=texts)
