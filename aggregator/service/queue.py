"""The facade's queue operations (see :mod:`aggregator.service`)."""

from __future__ import annotations

from aggregator.service.part import Part


class Queue(Part):
    """Queue: each method reads the clock once, owns its unit of work and returns plain values."""
