"""feeds.yaml and the environment, validated at the edge.

- :mod:`~aggregator.config.settings`: :func:`load_settings`, the environment (``AGGREGATOR_*``), no pydantic.
- :mod:`~aggregator.config.files`: the bytes of feeds.yaml, read with care.
- :mod:`~aggregator.config.cache`: :func:`load_configuration`, the file as frozen values, cached.
- :mod:`~aggregator.config.models`: the pydantic models of the file (:class:`FeedsFile`).
- :mod:`~aggregator.config.yamlfile`: :func:`load_config`, YAML with lines, then the models.
- :mod:`~aggregator.config.messages` and :mod:`~aggregator.config.checks`: problems in words, checks
  across entries.

Importing this package is light: the names of the pydantic modules are loaded
on first use, so a command whose feeds.yaml is cached never imports pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from aggregator.config.cache import load_configuration
from aggregator.config.files import DEFAULT_CONFIG_PATH, MAX_CONFIG_BYTES, read_config_bytes
from aggregator.config.settings import Settings, load_settings

if TYPE_CHECKING:
    from aggregator.config.models import (
        DigestConfig,
        EmailConfig,
        FeedConfig,
        FeedsFile,
        FetchConfig,
        SectionConfig,
        SubsectionConfig,
        parse_duration,
        taxonomy_of,
    )
    from aggregator.config.yamlfile import load_config, parse_config

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "MAX_CONFIG_BYTES",
    "DigestConfig",
    "EmailConfig",
    "FeedConfig",
    "FeedsFile",
    "FetchConfig",
    "SectionConfig",
    "Settings",
    "SubsectionConfig",
    "load_config",
    "load_configuration",
    "load_settings",
    "parse_config",
    "parse_duration",
    "read_config_bytes",
    "taxonomy_of",
]

_LAZY = {
    "DigestConfig": "models",
    "EmailConfig": "models",
    "FeedConfig": "models",
    "FeedsFile": "models",
    "FetchConfig": "models",
    "SectionConfig": "models",
    "SubsectionConfig": "models",
    "parse_duration": "models",
    "taxonomy_of": "models",
    "load_config": "yamlfile",
    "parse_config": "yamlfile",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
