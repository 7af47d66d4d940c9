"""What every command shares: the global options and how to open the application."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console

from aggregator.app import App, make_app
from aggregator.config import FeedsFile, Settings, load_config


@dataclass
class CliState:
    config_path: Path | None = None
    verbose: int = 0


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, CliState):
        obj = root.obj = CliState()
    return obj


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def load(ctx: typer.Context) -> tuple[Settings, Path, FeedsFile]:
    settings = Settings()
    path = settings.config_path(state(ctx).config_path)
    return settings, path, load_config(path)


@contextmanager
def open_app(ctx: typer.Context, *, sync: bool = True) -> Iterator[App]:
    """Settings and feeds.yaml in, schema brought up to date, feeds synced: an App."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(state(ctx).verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    settings, path, config = load(ctx)
    app = make_app(settings, config, config_path=path)
    try:
        if sync:
            app.sync_feeds()
        yield app
    finally:
        app.close()


def when(value: datetime | None) -> str:
    """A timestamp for a table: UTC, to the minute; '-' when unset."""
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
