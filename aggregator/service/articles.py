"""The facade's article operations (see :mod:`aggregator.service`): one candidate and its article."""

from __future__ import annotations

from collections.abc import Sequence

from aggregator.service.part import Part
from aggregator.store import articles as article_store
from aggregator.store import repo
from aggregator.store import triage as triage_store
from aggregator.triage_types import CandidateView


class Articles(Part):
    """Articles: each method reads the clock once, owns its read and returns plain values."""

    def show(self, candidate_id: int, *, decisions: int = 5) -> CandidateView:
        """The candidate, its article, its triage state and its latest ``decisions`` (newest first).

        What `aggregator show ID` prints and the triage screen's article view
        shows; ``candidate`` is None when there is no such candidate. Until the article has text,
        ``feed_text`` is the feed's summary as text to read (never its raw HTML).
        """
        now = self.app.clock()
        with self.app.read() as s:
            candidate = repo.get_candidate(s, candidate_id)
            article = article_store.get_article(s, candidate_id)
            triage = triage_store.triage_state(s, candidate_id, now)
            log = triage_store.history(s, candidate_ids=[candidate_id], limit=decisions) if decisions else []
        feed_text = None
        if candidate is not None and candidate.summary and not (article and article.text):
            from aggregator.articles.plaintext import readable  # lxml, only when there is no article text

            feed_text = readable(candidate.summary) or None
        return CandidateView(candidate, article, triage, tuple(log), feed_text)

    def missing(self, candidate_ids: Sequence[int]) -> tuple[int, ...]:
        """Those of ``candidate_ids`` that name no candidate, in the order given (each once)."""
        with self.app.read() as s:
            return tuple(cid for cid in dict.fromkeys(candidate_ids) if repo.get_candidate(s, cid) is None)
