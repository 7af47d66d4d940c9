"""The facade's operations for operators (see :mod:`aggregator.service`): what the service holds now.

``gauges`` feeds the daemon's metrics and its summary line.
"""

from __future__ import annotations

from collections import Counter

from aggregator.service.part import Part
from aggregator.types import Gauges


class Ops(Part):
    """Operators' views: each method reads the clock once and opens one unit of work."""

    def gauges(self) -> Gauges:
        """Feeds by health, feeds due, and candidates whose page is due, as of now."""
        from aggregator.feeds.health import feed_health
        from aggregator.store import articles, claims, repo

        now = self.app.clock()
        with self.app.read() as s:
            feeds = repo.list_feeds(s)
            pending = articles.count_pending(s, now=now)
            due = claims.claim_outlook(s, now=now).due
        return Gauges(
            feeds_by_health=dict(Counter(feed_health(f, now) for f in feeds)),
            due=due,
            pending_extractions=pending,
        )
