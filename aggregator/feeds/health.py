"""Pure: a feed's health in one word, from its polling state (``feeds status``, the weekly email)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aggregator.types import FeedState

Health = Literal["disabled", "gone", "never polled", "failing", "malformed", "ok"]

#: The states ``feeds status --failing`` shows: something is wrong with the feed.
PROBLEMS: tuple[Health, ...] = ("failing", "gone", "malformed")


def feed_health(f: FeedState, now: datetime) -> Health:
    """One word for a feed's state, as `feeds status` and the weekly email show it.

    ``now`` is the moment the state is judged at (no rule reads it yet).
    """
    if not f.enabled:
        return "disabled"
    if f.gone_at is not None:
        return "gone"
    if f.last_polled_at is None:
        return "never polled"
    if f.error_count:
        return "failing"
    if f.last_warning:
        return "malformed"
    return "ok"
