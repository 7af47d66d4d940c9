"""Suggestions for the curators: where a candidate belongs, how much it matters, the same article once.

A domain wing over plain values (:mod:`.values`); it reads no database. The second step of issue 15
feeds it from the store (examples from imported digests and promotions, candidates from the poll).

- :mod:`.section`: :class:`~.section.SectionSuggester`, the subsection with a confidence and a reason
  (:mod:`.features`, :mod:`.text_model`, :mod:`.priors`, :mod:`.lexicon`);
- :mod:`.scoring`: :func:`~.scoring.importance`, the curators' published rules as a score with reasons;
- :mod:`.grouping`: :class:`~.grouping.Grouper`, cross-posts grouped, one primary each;
- :mod:`.evaluate`: the engine of ``aggregator suggest eval``; :mod:`.sources`: an item's feed by its URL.

Importing this package is light; its modules load scikit-learn and datasketch.
"""
