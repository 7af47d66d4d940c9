"""The two scikit-learn models the section suggestion factors into, behind small interfaces.

:class:`TokenModel` reads space-separated source tokens (binary counts into a logistic regression);
:class:`TextModel` reads content in any script: TF-IDF over words, word pairs and CJK character
pairs (:func:`aggregator.searchtext.terms`) beside TF-IDF over character 2-4-grams within words,
into a logistic regression. Both answer log-probabilities over a fixed list of classes, uniform for a
class never seen (or when fewer than two were), so the caller's priors decide until history exists.

Learning is incremental, so a promotion reaches the next suggestion in a fraction of a second rather
than a full refit's seconds (9 s on 5,000 examples, most of it the character n-grams' vocabulary):
each example is vectorised once and its counts kept, the vocabularies are learned again only when
the history has grown by half (so their cost is amortised), the IDF weights are recomputed on the
kept counts (milliseconds), and the regression restarts from its previous weights for a few epochs
(``warm_start``) instead of from zero. The first fit of a process runs to convergence.

Suggesting is batched too: :meth:`TextModel.read` vectorises a batch once and answers both the
log-probabilities and the words' TF-IDF rows, from which :meth:`TextModel.evidence_many` ranks each
document's supporting words with the regression's weights in a few array operations (a batch of 500
in about a millisecond, where two scikit-learn calls per document took a quarter of a second: most of
it their input checks, the rest counting the document's words a second time).
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
from sklearn.feature_extraction.text import (
    ENGLISH_STOP_WORDS,
    CountVectorizer,
    TfidfTransformer,
)
from sklearn.linear_model import LogisticRegression

from aggregator.searchtext import terms

__all__ = ["TextModel", "TokenModel", "word_terms"]

SMOOTHING = 5.0
"""A fitted model's answer is blended with the uniform one as if ``SMOOTHING`` examples said "no
idea": with ten examples a model is a third unsure; a class it never saw keeps a fair chance."""
CUE_WEIGHT = 0.35
"""Weight of one lexicon cue as an example, against 1.0 for a curator's item."""
WARM_EPOCHS = 4
"""Epochs of a refit that starts from the previous weights (a promotion learned): about 50 ms each
on 5,000 examples; the first fit runs to convergence."""


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
        self._previous: LogisticRegression | None = None
        self.seen = 0.0
        self.only: str | None = None
        self.smoothing = SMOOTHING

    def fit_matrix(
        self, x: Any, labels: Sequence[str], weights: Sequence[float], c: float, *, warm: bool = False
    ) -> None:
        """Fit on ``x``; with ``warm``, start from the last fit's weights when it knew the same classes."""
        self.model = None
        self.seen = sum(weights)
        self.only = labels[0] if len(set(labels)) == 1 else None
        if len(set(labels)) >= 2:
            # saga: lbfgs took seconds on a few hundred rows here (its BLAS calls), saga milliseconds.
            previous = self._previous if warm else None
            model = previous if previous is not None and set(previous.classes_) == set(labels) else None
            if model is None:
                model = LogisticRegression(
                    C=c, solver="saga", max_iter=1000, tol=1e-3, random_state=0, warm_start=True
                )
            else:
                model.set_params(max_iter=WARM_EPOCHS)
            with warnings.catch_warnings():  # short of converged is still a usable model
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(x, list(labels), sample_weight=np.asarray(weights, dtype=float))
            self.model = self._previous = model

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
    """Content in any script to a class, with the words that most support each answer.

    ``fit`` is given every document so far, the earlier ones first and unchanged (the caller's
    history only grows): a document is vectorised once. The vocabularies (words, character n-grams)
    are learned again only when the history has grown by half since they were (a new example's
    unknown words wait until then); in between, a fit adds the new rows, recomputes the IDF weights
    and restarts the regression from its previous weights.
    """

    def __init__(self, classes: Sequence[str]) -> None:
        super().__init__(classes)
        self.words = CountVectorizer(analyzer=word_terms)
        self.chars = CountVectorizer(analyzer="char_wb", ngram_range=(2, 4))
        self.word_idf = TfidfTransformer(sublinear_tf=True)
        self.char_idf = TfidfTransformer(sublinear_tf=True)
        self.names: Any = ()
        self._counts: list[tuple[Any, Any]] = []
        """The documents fitted so far as (word, character) counts, a pair of matrices per fit."""
        self._cues: tuple[Any, Any] = (None, None)
        """The lexicon's cues as counts (the same every fit; counted again with the vocabularies)."""
        self._rows = 0
        self._vocabulary_rows = -1
        """How many documents the vocabularies were learned from (-1: not yet)."""

    def _count(self, docs: Sequence[str]) -> tuple[Any, Any]:
        return self.words.transform(docs), self.chars.transform(docs)

    def _weighed(self, counts: tuple[Any, Any]) -> Any:
        return self._weighed_parts(counts)[1]

    def _weighed_parts(self, counts: tuple[Any, Any]) -> tuple[Any, Any]:
        """The word block's TF-IDF rows alone (what :meth:`evidence_many` reads), and the whole matrix."""
        words = self.word_idf.transform(counts[0])
        return words, sparse.hstack([words, self.char_idf.transform(counts[1])]).tocsr()

    def fit(self, docs: Sequence[str], labels: Sequence[str], *, extra: tuple[list[str], list[str]]) -> None:
        all_docs = [*docs, *extra[0]]
        all_labels = [*labels, *extra[1]]
        weights = [1.0] * len(docs) + [CUE_WEIGHT] * len(extra[0])
        if len(set(all_labels)) < 2:
            self.fit_matrix(None, all_labels, weights, c=10.0)
            return
        warm = self.model is not None
        if self._rows > len(docs) or len(all_docs) >= 1.5 * self._vocabulary_rows:
            words, chars = self.words.fit_transform(all_docs), self.chars.fit_transform(all_docs)
            self.names = self.words.get_feature_names_out()
            n = len(docs)
            self._counts = [(words[:n], chars[:n])]
            self._cues = (words[n:], chars[n:])
            self._rows, self._vocabulary_rows, warm = n, len(all_docs), False
        elif len(docs) > self._rows:
            self._counts.append(self._count(docs[self._rows :]))
            self._rows = len(docs)
        words = sparse.vstack([*(w for w, _ in self._counts), self._cues[0]]).tocsr()
        chars = sparse.vstack([*(c for _, c in self._counts), self._cues[1]]).tocsr()
        self.word_idf.fit(words)
        self.char_idf.fit(chars)
        self.fit_matrix(self._weighed((words, chars)), all_labels, weights, c=10.0, warm=warm)

    def log_proba(self, docs: Sequence[str]) -> np.ndarray:
        return self.read(docs)[0]

    def read(self, docs: Sequence[str]) -> tuple[np.ndarray, Any]:
        """:meth:`log_proba` of ``docs``, and their words' TF-IDF rows for :meth:`evidence_many` (None
        when no model is fitted): the batch is vectorised once, for both."""
        if self.model is None:
            return self.log_proba_matrix(None, len(docs)), None
        words, x = self._weighed_parts(self._count(docs))
        return self.log_proba_matrix(x, len(docs)), words

    def _label_weights(self) -> tuple[dict[str, int], np.ndarray]:
        """Each class's row of the regression's word weights (two classes: one row, for the second)."""
        model = self.model
        assert model is not None
        coef = model.coef_
        if coef.shape[0] == 1:
            coef = np.vstack([-coef[0], coef[0]])
        return {str(c): i for i, c in enumerate(model.classes_)}, coef[:, : len(self.names)]

    def evidence(self, doc: str, label: str, limit: int = 3) -> list[str]:
        """The words of ``doc`` that most support ``label`` (by weight times TF-IDF), best first.

        One document through scikit-learn; a batch reads them with :meth:`read` and
        :meth:`evidence_many`, which give the same words (``tests/test_suggest_batch.py``)."""
        model = self.model
        if model is None or label not in model.classes_:
            return []
        row = self.word_idf.transform(self.words.transform([doc]))
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

    def evidence_many(self, words: Any, labels: Sequence[str], limit: int = 3) -> list[list[str]]:
        """:meth:`evidence` for each row of ``words`` (from :meth:`read`) and its label, computed on
        the sparse rows and the weights at once: per row, the best ``limit`` of weight times TF-IDF
        over its positive weights, ties broken by the word as :meth:`evidence` does."""
        if self.model is None or words is None:
            return [[] for _ in labels]
        index, weights = self._label_weights()
        rows = np.asarray([index.get(label, -1) for label in labels], dtype=np.intp)
        indptr, columns, tfidf = words.indptr, words.indices, words.data
        row_of = np.repeat(np.arange(len(labels)), np.diff(indptr))
        label_of = rows[row_of]
        weight = weights[label_of, columns]  # label -1 reads the last row: masked out just below
        keep = (weight > 0) & (label_of >= 0)
        row_of, columns, score = row_of[keep], columns[keep], tfidf[keep] * weight[keep]
        order = np.lexsort((-score, row_of))  # by row, then the best score first
        row_of, columns, score = row_of[order], columns[order], score[order]
        starts = np.searchsorted(row_of, np.arange(len(labels) + 1))
        return [
            _best(columns[a:b], score[a:b], self.names, limit) for a, b in itertools.pairwise(starts.tolist())
        ]


def _best(columns: np.ndarray, score: np.ndarray, names: Any, limit: int) -> list[str]:
    """The ``limit`` best of one row (``score`` descending), ties on the score broken by the word,
    descending, as ``sorted(..., reverse=True)`` over (score, word) pairs breaks them."""
    if limit <= 0:
        return []
    if len(score) > limit:  # past the cut only the words that tie with the last kept one matter
        cut = score[limit - 1]
        end = limit
        while end < len(score) and score[end] == cut:
            end += 1
        columns, score = columns[:end], score[:end]
    scored = sorted(zip(score.tolist(), (names[j] for j in columns.tolist()), strict=True), reverse=True)
    return [name for _, name in scored[:limit]]
