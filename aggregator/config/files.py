"""The bytes of feeds.yaml, read with care: only a regular file or a pipe, and at most 4 MiB.

Light on purpose (no YAML, no pydantic): every command reads the file, and most
find its validated values in the cache (:mod:`aggregator.config.cache`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from aggregator.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("feeds.yaml")
#: The largest feeds.yaml read (the shipped file of 41 feeds is 11 KB; 4 MiB holds over 10,000 feeds).
MAX_CONFIG_BYTES = 4 * 1024 * 1024


def read_config_bytes(path: Path) -> bytes:
    """The bytes of feeds.yaml; a ConfigError naming the file when it is missing, unreadable or too big.

    Only a regular file or a pipe (``--config <(...)``) is read, and at most
    :data:`MAX_CONFIG_BYTES` of it: ``--config /dev/zero`` is refused at once.
    """
    source = str(path)
    try:
        with path.open("rb") as file:
            kind = os.fstat(file.fileno()).st_mode
            if not (stat.S_ISREG(kind) or stat.S_ISFIFO(kind)):
                raise ConfigError(
                    source,
                    [f"{source}: not a regular file (point --config or AGGREGATOR_CONFIG at feeds.yaml)"],
                )
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            source,
            [
                f"{source}: file not found (create it from the shipped feeds.yaml, or point --config "
                "or AGGREGATOR_CONFIG at the right file)"
            ],
        ) from None
    except OSError as exc:
        raise ConfigError(
            source,
            [f"{source}: cannot read the file: {exc.strerror or exc} (check the path and its permissions)"],
        ) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            source,
            [
                f"{source}: larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB, which no feeds.yaml needs "
                "(check that --config or AGGREGATOR_CONFIG names the right file)"
            ],
        )
    return data
