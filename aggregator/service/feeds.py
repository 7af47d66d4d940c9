"""The facade's feeds operations (see :mod:`aggregator.service`)."""

from __future__ import annotations

from aggregator.service.part import Part


class Feeds(Part):
    """Feeds: each method reads the clock once, owns its unit of work and returns plain values."""
