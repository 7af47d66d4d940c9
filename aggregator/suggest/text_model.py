"""The two scikit-learn models the section suggestion factors into, behind small interfaces.

:class:`TokenModel` reads space-separated source tokens (binary counts into a logistic regression);
:class:`TextModel` reads content in any script: TF-IDF over words, word pairs and CJK character
pairs (:func:`aggregator.searchtext.terms`) beside TF-IDF over character 2-4-grams within words,
into a logistic regression. Both answer log-probabilities over a fixed list of classes, uniform for a
class never seen (or when fewer than two were), so the caller's priors decide until history exists.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from aggregator.searchtext import terms

__all__ = ["TextModel", "TokenModel", "word_terms"]

SMOOTHING = 5.0
"""A fitted model's answer is blended with the uniform one as if ``SMOOTHING`` examples said "no
idea": with ten examples a model is a third unsure; a class it never saw keeps a fair chance."""
CUE_WEIGHT = 0.35
"""Weight of one lexicon cue as an example, against 1.0 for a curator's item."""


def word_terms(text: str) -> list[str]:
    """Words and CJK pairs (``searchtext.terms``), plus each pair of neighbouring words."""
    found = [t for t in terms(text) if len(t) > 1 and t not in ENGLISH_STOP_WORDS]
    return found + [f"{a} {b}" for a, b in itertools.pairwise(found)]


def _split(text: str) -> list[str]:
    return text.split()


class _Classes:
    """A fitted classifier's answers, laid out over the caller's class list."""

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes = list(classes)
        self.model: LogisticRegression | None = None
        self.seen = 0.0
        self.only: str | None = None
        self.smoothing = SMOOTHING

    def fit_matrix(self, x: Any, labels: Sequence[str], weights: Sequence[float], c: float) -> None:
        self.model = None
        self.seen = sum(weights)
        self.only = labels[0] if len(set(labels)) == 1 else None
        if len(set(labels)) >= 2:
            # saga: lbfgs took seconds on a few hundred rows here (its BLAS calls), saga milliseconds.
            model = LogisticRegression(C=c, solver="saga", max_iter=1000, tol=1e-3, random_state=0)
            with warnings.catch_warnings():  # short of converged is still a usable model
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(x, list(labels), sample_weight=np.asarray(weights, dtype=float))
            self.model = model

    def log_proba_matrix(self, x: Any, n: int) -> np.ndarray:
        probs = np.zeros((n, len(self.classes)))
        if self.model is not None:
            known = {c: i for i, c in enumerate(self.model.classes_)}
            raw = self.model.predict_proba(x)
            for j, name in enumerate(self.classes):
                if name in known:
                    probs[:, j] = raw[:, known[name]]
        elif self.only in self.classes:  # one class seen so far: it, as sure as the examples make it
            probs[:, self.classes.index(self.only)] = 1.0
        else:
            return np.full((n, len(self.classes)), -math.log(len(self.classes)))
        share = self.smoothing / (self.seen + self.smoothing)
        return np.log((1 - share) * probs + share / len(self.classes))


class TokenModel(_Classes):
    """Source tokens (``host=...``, ``label=...``, ``cue=...``) to a class."""

    def __init__(self, classes: Sequence[str]) -> None:
        super().__init__(classes)
        self.vectorizer = CountVectorizer(tokenizer=_split, lowercase=False, binary=True, token_pattern=None)

    def fit(self, docs: Sequence[str], labels: Sequence[str]) -> None:
        x = self.vectorizer.fit_transform(docs) if len(set(labels)) >= 2 else None
        self.fit_matrix(x, labels, [1.0] * len(labels), c=1.0)

    def log_proba(self, docs: Sequence[str]) -> np.ndarray:
        x = self.vectorizer.transform(docs) if self.model is not None else None
        return self.log_proba_matrix(x, len(docs))


class TextModel(_Classes):
    """Content in any script to a class, with the words that most support each answer."""

    def __init__(self, classes: Sequence[str]) -> None:
        super().__init__(classes)
        self.words = TfidfVectorizer(analyzer=word_terms, sublinear_tf=True, min_df=1)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=1)
        self.names: Any = ()

    def fit(self, docs: Sequence[str], labels: Sequence[str], *, extra: tuple[list[str], list[str]]) -> None:
        all_docs = [*docs, *extra[0]]
        all_labels = [*labels, *extra[1]]
        weights = [1.0] * len(docs) + [CUE_WEIGHT] * len(extra[0])
        if len(set(all_labels)) < 2:
            self.fit_matrix(None, all_labels, weights, c=10.0)
            return
        x = sparse.hstack([self.words.fit_transform(all_docs), self.chars.fit_transform(all_docs)]).tocsr()
        self.names = self.words.get_feature_names_out()
        self.fit_matrix(x, all_labels, weights, c=10.0)

    def _matrix(self, docs: Sequence[str]) -> Any:
        return sparse.hstack([self.words.transform(docs), self.chars.transform(docs)]).tocsr()

    def log_proba(self, docs: Sequence[str]) -> np.ndarray:
        x = self._matrix(docs) if self.model is not None else None
        return self.log_proba_matrix(x, len(docs))

    def evidence(self, doc: str, label: str, limit: int = 3) -> list[str]:
        """The words of ``doc`` that most support ``label`` (by weight times TF-IDF), best first."""
        model = self.model
        if model is None or label not in model.classes_:
            return []
        row = self.words.transform([doc])
        names = self.names
        coef = model.coef_
        if coef.shape[0] == 1:  # two classes: one row, for the second class
            coef = np.vstack([-coef[0], coef[0]])
        weights = coef[list(model.classes_).index(label), : len(names)]
        scored = sorted(
            (
                (v * weights[j], names[j])
                for j, v in zip(row.indices, row.data, strict=True)
                if weights[j] > 0
            ),
            reverse=True,
        )
        return [name for _, name in scored[:limit]]
