"""How long an article takes to read, as `aggregator show` and the triage screen print it. Pure."""

from __future__ import annotations

import math

#: Words a minute for the reading time.
WORDS_PER_MINUTE = 230


def reading_minutes(words: int | None) -> int:
    """Whole minutes, at least one for any text; 0 without words."""
    if not words or words <= 0:
        return 0
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def reading_time(words: int | None) -> str:
    """``2 min (460 words)``; ``-`` without words."""
    if not words or words <= 0:
        return "-"
    return f"{reading_minutes(words)} min ({words} words)"
