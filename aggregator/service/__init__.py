"""The service facade: every operation a front end performs, and nothing else they may call.

In the spirit of reader's ``Reader``: the CLI, the triage screen, and the daemon
and the weekly email to come call only :class:`Service`. Each operation reads
the clock once, owns its unit of work (one read or write transaction, or one
poll), and returns plain values from :mod:`aggregator.types` (or the wing's own
frozen values). The store is the facade's private business.

The operations are grouped by wing, each group a small class in its own module
of this package, loaded when first used so that a command imports only what it
runs::

    service.feeds      feeds.yaml sync, status and health, OPML     (service/feeds.py)
    service.polling    poll due feeds, extract pending articles     (service/polling.py)
    service.articles   one candidate and its article                (service/articles.py)
    service.queue      the queue: list, count, feed names            (service/queue.py)
    service.triage     decisions, undo, the decision log            (service/triage.py)
    service.digests    issues: list, show, render, publish, lint, move, import (service/digests.py)
    service.ops        operators' views: gauges, health, status         (service/ops.py)
    service.daemon     `aggregator run`: tick, heartbeat, jobs, reload, stop (service/daemon.py)
    service.mail       the weekly email: preview, send once per week and recipient (service/mail.py)
    service.suggest    suggestions, scores and cross-post groups: refresh, backfill (service/suggest.py)

This module imports nothing heavy: a front end can import it for its types.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aggregator.app import App
    from aggregator.service.articles import Articles
    from aggregator.service.daemon import Daemon
    from aggregator.service.digests import Digests
    from aggregator.service.feeds import Feeds
    from aggregator.service.mail import Mail
    from aggregator.service.ops import Ops
    from aggregator.service.polling import Polling
    from aggregator.service.queue import Queue
    from aggregator.service.suggest import Suggestions
    from aggregator.service.triage import Triage
    from aggregator.taxonomy import Taxonomy


class Service:
    """The facade over one wired :class:`~aggregator.app.App` (its owner closes it)."""

    def __init__(self, app: App) -> None:
        self.app = app

    @property
    def taxonomy(self) -> Taxonomy:
        """The digest's sections, as feeds.yaml orders them."""
        return self.app.taxonomy

    @cached_property
    def feeds(self) -> Feeds:
        from aggregator.service.feeds import Feeds

        return Feeds(self.app)

    @cached_property
    def polling(self) -> Polling:
        from aggregator.service.polling import Polling

        return Polling(self.app)

    @cached_property
    def articles(self) -> Articles:
        from aggregator.service.articles import Articles

        return Articles(self.app)

    @cached_property
    def queue(self) -> Queue:
        from aggregator.service.queue import Queue

        return Queue(self.app)

    @cached_property
    def triage(self) -> Triage:
        from aggregator.service.triage import Triage

        return Triage(self.app)

    @cached_property
    def digests(self) -> Digests:
        from aggregator.service.digests import Digests

        return Digests(self.app)

    @cached_property
    def ops(self) -> Ops:
        from aggregator.service.ops import Ops

        return Ops(self.app)

    @cached_property
    def daemon(self) -> Daemon:
        from aggregator.service.daemon import Daemon

        return Daemon(self.app)

    @cached_property
    def mail(self) -> Mail:
        from aggregator.service.mail import Mail

        return Mail(self.app)

    @cached_property
    def suggest(self) -> Suggestions:
        from aggregator.service.suggest import Suggestions

        return Suggestions(self.app)

    def close(self) -> None:
        self.app.close()
