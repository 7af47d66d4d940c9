"""feeds.yaml's validated values, kept between commands so that most never import YAML or pydantic.

Validating the file takes PyYAML and pydantic, about 0.2 s of imports for a
command that then runs in a few milliseconds. :func:`load_configuration` reads
the file's bytes (always: an edit is seen at once) and looks for the frozen
:class:`~aggregator.configuration.Configuration` made from exactly those bytes
by exactly this code: the key is the SHA-256 of the bytes, the package's
version and the size and modification time of each module that validates or
defines the values. Only a file that validated is ever cached, so a malformed
one is reported in full by every command, as before.

The cache lives in $AGGREGATOR_CACHE_DIR, else $XDG_CACHE_HOME/aggregator,
else ~/.cache/aggregator (a folder only its owner may read), one small pickle
per version of the file, written atomically. A cache that cannot be read or
written only costs speed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator import __version__
from aggregator.config.files import read_config_bytes
from aggregator.configuration import (
    Configuration,
    DigestOptions,
    EmailSchedule,
    Feed,
    FetchLimits,
    Notebook,
    TrendPost,
)

if TYPE_CHECKING:
    from aggregator.config.models import FeedsFile

__all__ = ["cache_dir", "freeze", "load_configuration"]

_PACKAGE = Path(__file__).resolve().parents[1]
#: The modules whose code decides what a file's values are.
_SOURCES = (
    "config/models.py",
    "config/checks.py",
    "config/yamlfile.py",
    "config/cache.py",
    "configuration.py",
    "taxonomy.py",
)


#: The layout of the cached values; bumped whenever :mod:`aggregator.configuration` changes shape
#: (2: ``Feed.interval_auto``), so a cache written by older code is never read as this code's.
FORMAT = 2

#: What an ``interval: auto`` feed keeps in ``Feed.interval``: the base of its first error backoff.
DEFAULT_INTERVAL = timedelta(hours=1)


def cache_dir() -> Path:
    """$AGGREGATOR_CACHE_DIR, else $XDG_CACHE_HOME/aggregator, else ~/.cache/aggregator."""
    if explicit := os.environ.get("AGGREGATOR_CACHE_DIR"):
        return Path(explicit)
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "aggregator"
    return Path.home() / ".cache" / "aggregator"


def load_configuration(path: Path) -> Configuration:
    """feeds.yaml at ``path`` as frozen values; a ConfigError listing every problem, as ``load_config``."""
    data = read_config_bytes(path)
    key = _key(data)
    cached = _read(key)
    if cached is not None:
        return cached
    from aggregator.config.yamlfile import parse_config  # YAML and pydantic: only on a miss

    configuration = freeze(parse_config(data, source=str(path)))
    _write(key, configuration)
    return configuration


def _digest(model: FeedsFile) -> DigestOptions:
    d, t = model.digest, model.digest.trend_post
    trend_post = TrendPost(
        t.author, tuple(t.categories), tuple(t.tags), t.math, t.toc, t.pin, t.img_path, t.image,
        t.image_alt, t.description, t.intro, tuple(t.headings.items()),
    )  # fmt: skip
    notebook = Notebook(d.notebook.title, d.notebook.links)
    return DigestOptions(d.title, d.preface, d.template, d.notes, trend_post, notebook)


def freeze(model: FeedsFile) -> Configuration:
    """The validated file as frozen values."""
    fc = model.fetch
    return Configuration(
        digest=_digest(model),
        taxonomy=model.taxonomy(),
        feeds=tuple(
            Feed(
                f.name,
                f.url,
                f.label,
                f.language,
                f.section_hint,
                f.weight,
                interval=DEFAULT_INTERVAL if f.interval == "auto" else f.interval,
                enabled=f.enabled,
                interval_auto=f.interval == "auto",
            )
            for f in model.feeds
        ),
        fetch=FetchLimits(
            user_agent_contact=fc.user_agent_contact,
            connect_timeout=fc.connect_timeout,
            read_timeout=fc.read_timeout,
            deadline=fc.deadline,
            max_body_bytes=fc.max_body_bytes,
            max_redirects=fc.max_redirects,
            concurrency=fc.concurrency,
            per_host=fc.per_host,
            adopt_redirect_after=fc.adopt_redirect_after,
            backoff_cap=fc.backoff_cap,
            allow_private_networks=tuple(fc.allow_private_networks),
        ),
        email=EmailSchedule(
            tuple(model.email.recipients),
            model.email.sender,
            model.email.weekday,
            model.email.time,
            model.email.timezone,
        ),
    )


def _key(data: bytes) -> str:
    digest = hashlib.sha256(f"{__version__}\0{FORMAT}\0".encode())
    for name in _SOURCES:
        try:
            info = (_PACKAGE / name).stat()
            digest.update(f"{name}:{info.st_size}:{info.st_mtime_ns}\0".encode())
        except OSError:
            digest.update(f"{name}:missing\0".encode())
    digest.update(data)
    return digest.hexdigest()


def _read(key: str) -> Configuration | None:
    try:
        with (cache_dir() / f"feeds-{key}.pickle").open("rb") as file:
            value = pickle.load(file)
    except FileNotFoundError:
        return None
    except Exception:  # unreadable, truncated, or written by other code: a miss, rebuilt below
        return None
    return value if isinstance(value, Configuration) else None


def _write(key: str, value: Configuration) -> None:
    folder = cache_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".feeds-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "wb") as file:
                pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, folder / f"feeds-{key}.pickle")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(folder)
    except OSError:
        pass  # a read-only home or a full disk: the next command validates the file again


#: How many versions of feeds.yaml (of every file, together) the cache keeps.
KEEP = 32


def _prune(folder: Path) -> None:
    """Forget all but the :data:`KEEP` newest entries (another process may prune at once)."""
    entries = []
    for entry in folder.glob("feeds-*.pickle"):
        try:
            entries.append((entry.stat().st_mtime_ns, entry))
        except OSError:
            continue
    for _, entry in sorted(entries, reverse=True)[KEEP:]:
        entry.unlink(missing_ok=True)
