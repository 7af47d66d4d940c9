"""aggregator: feed aggregation and triage for the curators of a monthly AI/ML digest."""

__version__ = "0.1.0"
