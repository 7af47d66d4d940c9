"""Settings from the environment (``AGGREGATOR_*``), read without pydantic: every command starts here.

Each variable is parsed by its own small function with the rules pydantic
applied before (whole numbers may be written ``1_000`` or ``25.0``, booleans
as true/false, yes/no, on/off, 1/0, in any case), and checked against its
bounds. A bad value is a :class:`~aggregator.errors.ConfigError` naming every
bad variable, one line each::

    environment: AGGREGATOR_SMTP_PORT: expected a whole number, got 'abc' (change the value)

Names are read in any case (``aggregator_smtp_port`` too); a ``.env`` file is never read.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from aggregator.config.files import DEFAULT_CONFIG_PATH
from aggregator.errors import ConfigError

__all__ = ["SecretStr", "Settings", "load_settings"]

PREFIX = "AGGREGATOR_"


class SecretStr:
    """A secret that never shows in a repr or a log: ``get_secret_value()`` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"SecretStr({'**********' if self._value else ''!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class _Bad(ValueError):
    """A value that breaks a rule; the message says what was expected."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    raise _Bad(f"expected text, got {_show(value)} (change the value)")


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _path(value: object) -> Path:
    if isinstance(value, Path):
        return value
    return Path(_text(value))


def _optional_path(value: object) -> Path | None:
    return None if value is None else _path(value)


def _whole_number(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if number.is_integer():  # "25.0", as pydantic reads it
                return int(number)
    raise _Bad(f"expected a whole number, got {_show(value)} (change the value)")


def _number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise _Bad(f"expected a number, got {_show(value)} (change the value)")


_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Bad(f"expected true or false, got {_show(value)} (change the value)")


def _optional_secret(value: object) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(_text(value))


def _between(
    parse: Callable[[object], Any], *, low: float, high: float, low_open: bool = False
) -> Callable[[object], Any]:
    """``parse``, then the bounds (``high`` first, as pydantic checked them: NaN fails it)."""

    def check(value: object) -> Any:
        number = parse(value)
        if not number <= high:
            raise _Bad(f"should be less than or equal to {high:g}, got {_show(value)} (change the value)")
        if low_open and not number > low:
            raise _Bad(f"should be greater than {low:g}, got {_show(value)} (change the value)")
        if not low_open and not number >= low:
            raise _Bad(f"should be greater than or equal to {low:g}, got {_show(value)} (change the value)")
        return number

    return check


@dataclass(frozen=True, init=False)
class Settings:
    """Settings from the environment (``AGGREGATOR_*``); never read from a file.

    ``Settings()`` reads the environment; keyword arguments take the place of
    their variables (tests pass ``database_url=...``). A bad value raises
    :class:`~aggregator.errors.ConfigError` naming each bad variable.
    """

    config: Path | None = None
    """AGGREGATOR_CONFIG: the feeds.yaml to use (--config wins)."""
    data_dir: Path = Path("data")
    """AGGREGATOR_DATA_DIR: where the SQLite database and other local state live."""
    database_url: str | None = None
    """AGGREGATOR_DATABASE_URL; None means SQLite under data_dir."""
    database_busy_timeout: float = 30.0
    """AGGREGATOR_DATABASE_BUSY_TIMEOUT: seconds to wait for a lock another process holds (and to connect)."""
    smtp_host: str | None = None
    """AGGREGATOR_SMTP_HOST: the mail server the weekly email goes through (unset: it is not sent)."""
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    """AGGREGATOR_SMTP_STARTTLS: upgrade the connection with STARTTLS (refused if the server cannot)."""
    smtp_tls: bool = False
    """AGGREGATOR_SMTP_TLS: implicit TLS from the first byte (port 465); STARTTLS is then not used."""
    smtp_timeout: float = 30.0
    """AGGREGATOR_SMTP_TIMEOUT: seconds for connecting and for each answer of the mail server."""
    smtp_sender: str | None = None
    """AGGREGATOR_SMTP_SENDER: the From address, in place of feeds.yaml's ``email.sender``."""
    smtp_ca_file: Path | None = None
    """AGGREGATOR_SMTP_CA_FILE: certificates to trust for the mail server (a private relay's CA)."""
    curator: str | None = None
    """AGGREGATOR_CURATOR: the name recorded with triage decisions."""
    workers: int | None = None
    """AGGREGATOR_WORKERS: worker processes for parsing feeds and extracting pages (0: parse in the
    polling process, one extraction worker); unset: the CPUs the process may use (:meth:`worker_count`)."""
    # -- the daemon (`aggregator run`) --
    tick_seconds: float = 30.0
    """AGGREGATOR_TICK_SECONDS: how often the daemon polls the feeds that are due."""
    stop_seconds: float = 30.0
    """AGGREGATOR_STOP_SECONDS: how long work in flight may go on after SIGTERM or Ctrl-C (then cancelled)."""

    def __init__(self, *, environ: Mapping[str, str] | None = None, **overrides: Any) -> None:
        source = os.environ if environ is None else environ
        # Names in any case, as before; the exact upper-case name wins over other spellings.
        found = {key.upper(): value for key, value in sorted(source.items(), reverse=True)}
        unknown = set(overrides) - set(_PARSERS)
        if unknown:
            raise TypeError(f"Settings has no field {', '.join(sorted(unknown))}")
        problems = []
        for item in fields(self):
            name = PREFIX + item.name.upper()
            if item.name in overrides:
                raw: object = overrides[item.name]
            elif name in found:
                raw = found[name]
            else:
                object.__setattr__(self, item.name, item.default)
                continue
            try:
                object.__setattr__(self, item.name, _PARSERS[item.name](raw))
            except _Bad as exc:
                problems.append(f"environment: {name}: {exc}")
        if problems:
            raise ConfigError("environment", problems)

    def resolved_database_url(self) -> str:
        """The database URL: AGGREGATOR_DATABASE_URL, else ``sqlite:///<data_dir>/aggregator.sqlite3``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aggregator.sqlite3').as_posix()}"

    def config_path(self, override: Path | None = None) -> Path:
        """The feeds.yaml to read: ``override`` (--config), else AGGREGATOR_CONFIG, else ./feeds.yaml."""
        if override is not None:
            return override
        if self.config is not None:
            return self.config
        return DEFAULT_CONFIG_PATH

    def worker_count(self) -> int:
        """AGGREGATOR_WORKERS, else the CPUs this process may use: its affinity and its cgroup's quota,
        not the host's core count (:func:`aggregator.cpus.usable_cpus`)."""
        if self.workers is not None:
            return self.workers
        from aggregator.cpus import usable_cpus

        return usable_cpus()


_PARSERS: dict[str, Callable[[object], Any]] = {
    "config": _optional_path,
    "data_dir": _path,
    "database_url": _optional_text,
    "database_busy_timeout": _between(_number, low=0, high=86400, low_open=True),
    "smtp_host": _optional_text,
    "smtp_port": _between(_whole_number, low=1, high=65535),
    "smtp_user": _optional_text,
    "smtp_password": _optional_secret,
    "smtp_starttls": _boolean,
    "smtp_tls": _boolean,
    "smtp_timeout": _between(_number, low=0, high=3600, low_open=True),
    "smtp_sender": _optional_text,
    "smtp_ca_file": _optional_path,
    "curator": _optional_text,
    "workers": _between(_whole_number, low=0, high=1024),
    "tick_seconds": _between(_number, low=1, high=86400),
    "stop_seconds": _between(_number, low=0, high=3600),
}


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; raise ConfigError naming each bad variable.

    The one way the front ends (the CLI, the triage screen, the daemon to come)
    read the environment.
    """
    return Settings(**overrides)
