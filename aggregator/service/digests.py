"""The facade's digests operations (see :mod:`aggregator.service`)."""

from __future__ import annotations

from aggregator.service.part import Part


class Digests(Part):
    """Digests: each method reads the clock once, owns its unit of work and returns plain values."""
