"""The facade's polling operations (see :mod:`aggregator.service`)."""

from __future__ import annotations

from aggregator.service.part import Part


class Polling(Part):
    """Polling: each method reads the clock once, owns its unit of work and returns plain values."""
