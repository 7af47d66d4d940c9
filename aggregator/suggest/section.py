"""Section suggestion: which subsection of the taxonomy a candidate belongs in, how sure, and why.

Two linear models over plain values (scikit-learn), factored as the taxonomy is:

- the **top section** (research, business, AWS-only) from the item's source and kind
  (:func:`.features.source_tokens`: feed, label, host, hint, cue families), plus prior log-odds
  from the feed's ``section_hint`` and the cues (:mod:`.priors`);
- the **topic** (the subsection id: cv, nlp, recsys, mlops) from its content: TF-IDF over words and
  CJK character pairs (:func:`aggregator.searchtext.terms`) and over character n-grams, so English,
  Korean and Japanese are read alike; the topic cues of :mod:`.lexicon` are extra, lightly
  weighted examples, so a topic never seen in the history is still found.

P(top/topic) = P(top) · P(topic), over the taxonomy's real pairs. The feed's own history of
promotions enters through the top model's ``feed=``/``host=`` tokens, learned jointly with the cues
(an AWS post on a SageMaker feature goes to the AWS-only section, AWS's post on an open-source
library to business): measured on the seeds, a separate Laplace-smoothed prior on the feed's record
only cost accuracy (leave-one-out subsection 0.71 → 0.58), so the record is quoted in the reason.
Learning an example marks the models stale; the next suggestion refits them incrementally: each
example's content and source tokens are read once, when learned, and the topic model hashes its
text once and restarts from its previous weights (:mod:`.text_model`): a promotion on a history
of 5,000 examples reaches the next suggestion in about half a second (``benchmarks/suggest.py``;
a full refit took 9 s).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from aggregator.suggest import priors
from aggregator.suggest.features import content, host_of, source_tokens
from aggregator.suggest.lexicon import TOPICS
from aggregator.suggest.text_model import TextModel, TokenModel
from aggregator.suggest.values import Example, Suggestion, SuggestItem
from aggregator.taxonomy import Taxonomy

__all__ = ["SectionSuggester"]


class SectionSuggester:
    """Learns from examples, suggests a subsection for items; not thread-safe (one per caller)."""

    def __init__(self, taxonomy: Taxonomy, examples: Iterable[Example] = ()) -> None:
        self.taxonomy = taxonomy
        self.pairs = [tuple(full.split("/", 1)) for section in taxonomy for full in section.full_ids()]
        self.tops = [section.id for section in taxonomy if section.subsections]
        self.topics = sorted({sub for _, sub in self.pairs})
        self.titles = {s.id: s.title for s in taxonomy} | {
            f"{s.id}/{sub.id}": sub.title for s in taxonomy for sub in s.subsections
        }
        self.examples: list[Example] = []
        self._texts: list[str] = []
        self._sources: list[str] = []
        self.history: dict[str, Counter[str]] = defaultdict(Counter)
        self._top = TokenModel(self.tops)
        self._topic = TextModel(self.topics)
        self._stale = True
        self.learn_many(examples)

    # -- learning ------------------------------------------------------------------------------

    def learn(self, example: Example) -> None:
        """One more labelled example (a promotion): counted now, in the models at the next suggestion."""
        self.learn_many([example])

    def learn_many(self, examples: Iterable[Example]) -> None:
        known = {f"{top}/{sub}" for top, sub in self.pairs}
        for example in examples:
            if example.section not in known:
                continue  # a section feeds.yaml no longer has: nothing to learn from
            self.examples.append(example)
            text = content(example.item)
            self._texts.append(text)
            self._sources.append(source_tokens(example.item, text))
            if example.item.feed:
                self.history[example.item.feed][example.section] += 1
            self._stale = True

    def fit(self) -> None:
        """Refit both models on every example so far (called by the next suggestion when stale)."""
        tops = [e.section.split("/", 1)[0] for e in self.examples]
        subs = [e.section.split("/", 1)[1] for e in self.examples]
        self._top.fit(self._sources, tops)
        cue_docs, cue_labels = _cue_examples(self.topics)
        self._topic.fit(self._texts, subs, extra=(cue_docs, cue_labels))
        self._stale = False

    # -- suggesting ----------------------------------------------------------------------------

    def suggest(self, item: SuggestItem) -> Suggestion:
        """The most likely subsection for ``item``, its probability, and the reason in one line."""
        return self.suggest_many([item])[0]

    def suggest_many(self, items: Sequence[SuggestItem]) -> list[Suggestion]:
        """:meth:`suggest` for many items at once: each model reads the batch once, and the reasons'
        words come from the topic model's rows of that same reading (faster per item)."""
        if not items:
            return []
        if self._stale:
            self.fit()
        texts = [content(item) for item in items]
        sources, kinds = [], []
        for item, text in zip(items, texts, strict=True):
            sources.append(source_tokens(item, text))
            kinds.append(priors.kind_cues(text))  # while the text's words are in find_cues's cache
        top_logp = self._top.log_proba(sources)
        topic_logp, words = self._topic.read(texts)
        ranked = []
        for i, item in enumerate(items):
            top_prior = priors.top_prior(item, sources[i].split(), self.tops)
            top_scores = {t: top_logp[i][j] + top_prior.get(t, 0.0) for j, t in enumerate(self.tops)}
            ranked.append(self._rank(item, top_scores, dict(zip(self.topics, topic_logp[i], strict=True))))
        evidence = self._topic.evidence_many(words, [best.partition("/")[2] for (best, _), *_ in ranked])
        out = []
        for i, (item, (first, *others)) in enumerate(zip(items, ranked, strict=True)):
            best, confidence = first
            reason = self._reason(item, best, texts[i], kinds[i], evidence[i])
            alternatives = tuple((s, round(p, 4)) for s, p in others[:2])
            out.append(Suggestion(best, round(confidence, 4), reason, alternatives))
        return out

    def _rank(
        self, item: SuggestItem, tops: dict[str, float], topics: dict[str, float]
    ) -> list[tuple[str, float]]:
        """Every subsection with its probability, the most likely first."""
        hint_top, _, hint_sub = (item.section_hint or "").partition("/")
        scores: dict[str, float] = {}
        for top, sub in self.pairs:
            full = f"{top}/{sub}"
            score = tops[top] + topics[sub]
            if hint_sub and top == hint_top and sub == hint_sub:
                score += priors.HINT_SUBSECTION
            scores[full] = score
        probs = _softmax(scores)
        return sorted(probs.items(), key=lambda kv: kv[1], reverse=True)

    def _reason(
        self, item: SuggestItem, best: str, text: str, kinds: dict[str, list[str]], words: list[str]
    ) -> str:
        """The reason line, given the item's ``content``, its :func:`.priors.kind_cues` and the topic
        model's evidence for ``best``."""
        top, _, sub = best.partition("/")
        record = self.history.get(item.feed) if item.feed else None
        source = item.label or item.feed or host_of(item.url) or "this source"
        why_top = priors.top_reason(item, top, kinds)
        if record and record[best]:
            why_top = f"{record[best]} of the feed's {sum(record.values())} promotions here"
        words = words or priors.topic_evidence(item, sub, text)
        cue = ", ".join(f"'{w}'" for w in words[:3]) if words else "its words"
        return (
            f"{source} → {self.titles.get(top, top)}" + (f" ({why_top})" if why_top else "")
            + f"; {cue} → {self.titles.get(best, sub)}"
        )  # fmt: skip


def _cue_examples(topics: list[str]) -> tuple[list[str], list[str]]:
    docs: list[str] = []
    labels: list[str] = []
    for topic in topics:
        for cue in TOPICS.get(topic, ()):
            docs.append(cue)
            labels.append(topic)
    return docs, labels


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exps = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exps.values())
    return {k: v / total for k, v in exps.items()}


def describe(suggester: SectionSuggester) -> dict[str, Any]:
    """What the suggester holds (for the report and the benchmark): examples and feeds with history."""
    return {"examples": len(suggester.examples), "feeds_with_history": len(suggester.history)}
