"""A simulated fortnight of N feeds: requests per feed per day and the delay from publication to a
candidate, for ``interval: auto`` beside a fixed interval (1 h by default).

    python benchmarks/freshness.py                    # 500 feeds, 14 days, auto beside fixed 1h
    python benchmarks/freshness.py --feeds 50 --days 2
    python benchmarks/freshness.py --fixed 30m       # auto beside a fixed 30 min

Publishing is invented but shaped like the field: a few feeds post about hourly (news), some daily,
most weekly, some in bursts (a weekly blog that posts a conference's worth in two hours, twice a
fortnight), and some are silent (last post months ago). Times are Poisson draws from one seed, so
both runs see the same posts; every feed also has a week of posts before the fortnight starts, and
serves its 20 newest entries published up to the simulated now, with an ETag (304 when unchanged).

The feeds are served from 127.0.0.1 (several ports standing in for hosts) and polled by the real
poll (``service.polling.run_poll``: claims, fetches, parsing, ``settle``, the store) on an
injected clock stepped like the daemon's 30-second tick, jumping over ticks where nothing is due.
The delay of an entry is from its publication to the poll that stored it (a candidate); entries
the poll never saw (pushed out of the 20 before a poll came) count as missed. Polls go on for a
day past the fortnight so its last posts are seen; requests are counted in the fortnight only.
Extraction is off: it runs beside the poll and adds its own seconds, the same for both schedules.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from aggregator.app import make_app
from aggregator.config import Settings, load_config
from aggregator.feeds import schedule
from aggregator.service.polling import run_poll
from aggregator.store.tables import candidates, feeds
from tests import feedgen
from tests.fixture_server import FixtureServer, Request, Response

START = datetime(2024, 3, 4, 0, 0, tzinfo=UTC)
TICK = timedelta(seconds=30)
#: Entries a feed document holds (the newest first).
DOCUMENT_ENTRIES = 20
#: Share of feeds in each publishing class, and its posts per day.
CLASSES = (("hourly", 0.02, 24.0), ("daily", 0.13, 1.0), ("weekly", 0.60, 1 / 7), ("bursty", 0.10, 1 / 7),
           ("silent", 0.15, 0.0))  # fmt: skip


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class SimFeed:
    name: str
    kind: str
    posts: list[datetime] = field(default_factory=list)
    """Publication times, oldest first."""


def publishing(feeds: int, days: int, seed: int) -> list[SimFeed]:
    """Each feed's publication times from a week before the start to the end, the same for a seed."""
    rng = random.Random(seed)
    out: list[SimFeed] = []
    kinds = [kind for kind, share, _ in CLASSES for _ in range(round(share * feeds))]
    kinds = (kinds + ["weekly"] * feeds)[:feeds]
    rates = {kind: rate for kind, _, rate in CLASSES}
    begin, end = START - timedelta(days=7), START + timedelta(days=days)
    for i, kind in enumerate(kinds):
        feed = SimFeed(f"feed-{i:03d}", kind)
        if kind == "silent":
            last = START - timedelta(days=rng.uniform(30, 400))
            feed.posts = [last - timedelta(days=30 * k) for k in range(5)][::-1]
        else:
            feed.posts = _poisson(rng, begin, end, rates[kind])
        if kind == "bursty":
            for _ in range(2):
                at = START + timedelta(seconds=rng.uniform(0, (end - START).total_seconds()))
                feed.posts += [at + timedelta(minutes=rng.uniform(0, 120)) for _ in range(rng.randint(5, 8))]
            feed.posts.sort()
        out.append(feed)
    return out


def _poisson(rng: random.Random, begin: datetime, end: datetime, per_day: float) -> list[datetime]:
    posts, at = [], begin
    while True:
        at += timedelta(days=rng.expovariate(per_day))
        if at >= end:
            return posts
        posts.append(at.replace(microsecond=0))


class Publisher:
    """Serves each feed's newest entries as of the simulated now, with an ETag."""

    def __init__(self, server: FixtureServer, sims: list[SimFeed], clock: Clock, end: datetime) -> None:
        self.clock = clock
        self.end = end
        self.by_path = {f"/{sim.name}.xml": sim for sim in sims}
        self.requests: Counter[str] = Counter()
        site = server.base_url
        self.entries = {
            sim.name: [
                replace(e, published=at, title=f"{sim.name} {n}")
                for n, (at, e) in enumerate(
                    zip(sim.posts, feedgen.entries(site, len(sim.posts), words=60), strict=True)
                )
            ]
            for sim in sims
        }
        for path in self.by_path:
            server.route(path, self.answer)

    def answer(self, request: Request) -> Response:
        sim = self.by_path[request.path]
        now = self.clock.now
        if now < self.end:  # the run goes on past the end only to see the last posts
            self.requests[sim.name] += 1
        shown = [e for e in self.entries[sim.name] if e.published <= now][-DOCUMENT_ENTRIES:][::-1]
        etag = '"' + hashlib.sha256(repr([e.guid for e in shown]).encode()).hexdigest()[:16] + '"'
        headers = {
            "ETag": etag,
            "Content-Type": "application/rss+xml",
            "Date": format_datetime(now, usegmt=True),
        }
        if request.headers.get("if-none-match") == etag:
            return Response(status=304, headers=headers)
        return Response(body=feedgen.rss(sim.name, "http://blog.example", shown), headers=headers)


@dataclass
class Result:
    name: str
    requests: Counter[str]
    """Requests the server answered, by feed."""
    delays: dict[str, list[float]]
    """Minutes from publication to candidate, by publishing class."""
    missed: int
    polls: int
    seconds: float


def simulate(name: str, interval: str, sims: list[SimFeed], args: argparse.Namespace, tmp: Path) -> Result:
    clock = Clock(START)
    server = FixtureServer(ports=args.ports).start()
    try:
        end = START + timedelta(days=args.days)
        publisher = Publisher(server, sims, clock, end)
        pairs = [(sim.name, server.url(f"/{sim.name}.xml", i % args.ports)) for i, sim in enumerate(sims)]
        path = tmp / f"feeds-{name}.yaml"
        path.write_text(feedgen.feeds_yaml(pairs, interval=interval), encoding="utf-8")
        url = f"sqlite:///{tmp}/{name}.sqlite3"  # a fresh database per run
        app = make_app(
            Settings(database_url=url, data_dir=tmp), load_config(path), config_path=path, clock=clock,
            rng=random.Random(args.seed), parse_workers=0,
        )  # fmt: skip
        try:
            app.sync_feeds()
            started, polls = time.perf_counter(), 0
            stop = end + schedule.MAX_AUTO * 1.2  # the last posts are seen: a delay, not a miss
            while clock.now < stop:
                polls += 1 if run_poll(app).results else 0
                clock.now = _next_tick(app, clock.now, stop)
            seconds = time.perf_counter() - started
            delays, missed = _delays(app, sims, end)
        finally:
            app.close()
        return Result(name, publisher.requests, delays, missed, polls, seconds)
    finally:
        server.stop()


def _next_tick(app, now: datetime, end: datetime) -> datetime:  # type: ignore[no-untyped-def]
    """The first 30-second tick at or after the next due time (the daemon's tick, minus idle ones)."""
    with app.read() as s:
        due = s.execute(sa.select(sa.func.min(feeds.c.next_poll_at))).scalar_one()
    if due is None or due >= end:
        return end
    ticks = max(1, -(-(due - now) // TICK))
    return now + TICK * ticks


def _delays(app, sims: list[SimFeed], end: datetime) -> tuple[dict[str, list[float]], int]:  # type: ignore[no-untyped-def]
    kind = {sim.name: sim.kind for sim in sims}
    published = {(sim.name, f"{sim.name} {n}"): at for sim in sims for n, at in enumerate(sim.posts)}
    due = {key for key, at in published.items() if START <= at < end}
    delays: dict[str, list[float]] = {}
    with app.read() as s:
        stmt = sa.select(feeds.c.name, candidates.c.title, candidates.c.first_seen_at).join(feeds)
        for feed, title, seen in s.execute(stmt):
            if (feed, title) in due:
                due.discard((feed, title))
                delay = (seen - published[(feed, title)]).total_seconds() / 60
                delays.setdefault(kind[feed], []).append(delay)
    return delays, len(due)


def _minutes(value: float) -> str:
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


def _row(label: str, requests_per_day: float, delays: list[float]) -> str:
    if not delays:
        return f"{label:<24}{requests_per_day:>10.1f}{'-':>12}{'-':>12}{0:>9}"
    median = statistics.median(delays)
    p95 = statistics.quantiles(delays, n=20)[-1] if len(delays) > 1 else delays[0]
    return f"{label:<24}{requests_per_day:>10.1f}{_minutes(median):>12}{_minutes(p95):>12}{len(delays):>9}"


def report(results: list[Result], sims: list[SimFeed], days: int) -> None:
    header = f"{'schedule':<24}{'req/feed/d':>10}{'median':>12}{'p95':>12}{'entries':>9}"
    print(header)
    print("-" * len(header))
    for r in results:
        every = [d for ds in r.delays.values() for d in ds]
        print(f"{_row(r.name, sum(r.requests.values()) / len(sims) / days, every)}   missed {r.missed}, "
              f"{r.polls} polls in {r.seconds:.0f} s")  # fmt: skip
    print("\nby publishing class:")
    print(header)
    print("-" * len(header))
    for kind, _, _ in CLASSES:
        names = [sim.name for sim in sims if sim.kind == kind]
        for r in results:
            per_day = sum(r.requests[name] for name in names) / max(len(names), 1) / days
            print(_row(f"{kind} ({len(names)}) {r.name}", per_day, r.delays.get(kind, [])))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--fixed", default="1h", help="the fixed interval compared with auto (default 1h)")
    parser.add_argument(
        "--ports", type=int, default=20, help="ports (stand-in hosts) to spread the feeds over"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sims = publishing(args.feeds, args.days, args.seed)
    posts = sum(1 for sim in sims for at in sim.posts if at >= START)
    print(f"\n{args.feeds} feeds, {args.days} days, {posts} posts published, {args.ports} hosts\n")
    with tempfile.TemporaryDirectory() as tmp:
        results = [
            simulate("auto", "auto", sims, args, Path(tmp)),
            simulate(f"fixed {args.fixed}", args.fixed, sims, args, Path(tmp)),
        ]
    report(results, sims, args.days)


if __name__ == "__main__":
    main()
