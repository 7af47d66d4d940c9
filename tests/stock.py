"""A database stocked with candidates the real way: feeds served over HTTP on 127.0.0.1, then a poll.

Triage, queue, digest and screen tests start from here, so what they decide on
went through the same write path as in production.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from aggregator.app import App, make_app
from aggregator.config import Settings, load_config
from aggregator.service.polling import run_poll
from aggregator.store.tables import candidates
from tests import feedgen
from tests.fixture_server import FixtureServer

T0 = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)


class Clock:
    """An injected clock: tests move it by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Stock:
    app: App
    clock: Clock
    config_path: Path
    ids: dict[str, int] = field(default_factory=dict)
    """Candidate id by entry title."""

    def id(self, title: str) -> int:
        return self.ids[title]


def feed_entries(site: str, titles: list[str], *, start: datetime = T0) -> list[feedgen.Entry]:
    """One entry per title, a day apart, newest first."""
    return [
        feedgen.Entry(
            guid=f"{site}/p/{i}",
            title=title,
            link=f"{site}/p/{i}",
            published=start - timedelta(days=i + 1),
            summary=f"Summary of {title}.",
            content=f"<p>{title}. " + "Body text of the post. " * 40 + "</p>",
        )
        for i, title in enumerate(titles)
    ]


def stock(
    server: FixtureServer,
    tmp_path: Path,
    database_url: str,
    feeds: dict[str, list[str]],
    *,
    hints: dict[str, str] | None = None,
    clock: Clock | None = None,
) -> Stock:
    """Serve one feed per name with these entry titles, poll them all, and return the app and the ids."""
    clock = clock or Clock()
    pairs: list[tuple[str, str]] = []
    for name, titles in feeds.items():
        site = server.url(f"/{name}")
        server.add(f"/{name}.xml", feedgen.rss(f"{name} blog", server.base_url, feed_entries(site, titles)))
        pairs.append((name, server.url(f"/{name}.xml")))
    text = feedgen.feeds_yaml(pairs)
    for name, hint in (hints or {}).items():
        text = text.replace(f"  - name: {name}\n", f"  - name: {name}\n    section_hint: {hint}\n")
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    app = make_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data"),
        load_config(path),
        config_path=path,
        clock=clock,
        rng=random.Random(7),
        parse_workers=0,
    )
    app.sync_feeds()
    run_poll(app, due_only=False)
    with app.read() as s:
        ids = {r.title: r.id for r in s.execute(sa.select(candidates.c.id, candidates.c.title))}
    return Stock(app, clock, path, ids)
