"""Cold and warm polls of N local feeds: wall time, CPU time, feeds/s, entries/s, peak RSS.

    python benchmarks/poll.py                     # 1,000 feeds, ~15 entries each, no latency
    python benchmarks/poll.py --latency 0.05      # every response 50 ms late
    python benchmarks/poll.py --database-url postgresql+psycopg://postgres@127.0.0.1/test

The feeds are invented (tests/feedgen.py) with realistic sizes: RSS and Atom,
full content in every entry, about 30-40 KB a feed. Nine feeds in ten send an
ETag or Last-Modified; the tenth sends neither and answers the same bytes, as
real servers do. They are served from a separate process on 127.0.0.1, spread
over several ports that stand in for several hosts, so the server's own CPU
is not counted. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.app import make_app
from aggregator.config import Settings, load_config
from aggregator.service.polling import run_poll
from benchmarks import processes
from tests import feedgen


def serve(conn: Connection, feeds: int, entries: int, latency: float, ports: int) -> None:
    from tests.fixture_server import FixtureServer

    server = FixtureServer(latency=latency, ports=ports).start()
    urls = []
    total_bytes = 0
    for i in range(feeds):
        port = i % ports
        site = f"http://blog{i}.example.com"
        items = feedgen.entries(site, entries, seed=i)
        body = feedgen.atom(f"Blog {i}", site, items) if i % 4 == 3 else feedgen.rss(f"Blog {i}", site, items)
        path = f"/feeds/{i}.xml"
        total_bytes += len(body)
        if i % 10 == 9:
            server.add(path, body)  # no validators: same bytes every time
        elif i % 2:
            server.add(path, body, etag=f'"v{i}"')
        else:
            server.add(path, body, last_modified="Fri, 01 Mar 2024 09:00:00 GMT")
        urls.append(server.url(path, port))
    conn.send((urls, total_bytes))
    conn.recv()
    server.stop()


@dataclass
class Row:
    name: str
    wall: float
    cpu: float
    feeds: int
    entries: int
    rss_mb: float


class Clock:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2024, 3, 2, 12, 0, tzinfo=UTC)

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=15)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument(
        "--ports", type=int, default=50, help="ports (stand-in hosts) to spread the feeds over"
    )
    parser.add_argument("--workers", type=int, default=None, help="parse worker processes (default: cores)")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    server = ctx.Process(target=serve, args=(there, args.feeds, args.entries, args.latency, args.ports))
    server.start()
    processes.IGNORED.add(server.pid or 0)  # the feed server's CPU is not the poll's
    urls, total_bytes = here.recv()

    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "feeds.yaml"
        config_path.write_text(
            feedgen.feeds_yaml([(f"feed-{i}", url) for i, url in enumerate(urls)], allow_private=False)
            .replace("read_timeout: 2", "read_timeout: 20").replace("deadline: 5", "deadline: 60"),
            encoding="utf-8",
        )  # fmt: skip
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        clock = Clock()
        app = make_app(
            Settings(database_url=url, data_dir=Path(tmp)), load_config(config_path), config_path=config_path,
            clock=clock, rng=random.Random(1), parse_workers=args.workers,
        )  # fmt: skip
        app.sync_feeds()
        rows = []
        for name in ("cold (all new)", "warm (all unchanged)"):
            cpu0, t0 = processes.cpu_seconds(), time.perf_counter()
            report = run_poll(app)
            wall, cpu = time.perf_counter() - t0, processes.cpu_seconds() - cpu0
            failed = report.failed
            if failed:
                print(
                    f"{len(failed)} feeds failed, e.g. {failed[0].feed_name}: {failed[0].error}",
                    file=sys.stderr,
                )
            entries = report.new + report.updated if name.startswith("cold") else args.feeds * args.entries
            rows.append(Row(name, wall, cpu, len(report.results), entries, processes.peak_rss_mb()))
            clock.now += timedelta(hours=2)
        app.close()

    here.send("stop")
    server.join()

    print(
        f"\n{args.feeds} feeds x {args.entries} entries ({total_bytes / args.feeds / 1024:.0f} KB a feed), "
        f"latency {args.latency * 1000:.0f} ms, {args.ports} hosts, parse workers "
        f"{app.parse_workers}, database {url.split(':')[0]}\n"
    )
    header = f"{'poll':<22}{'wall s':>8}{'CPU s':>8}{'feeds/s':>10}{'entries/s':>11}{'peak RSS MB':>13}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.name:<22}{r.wall:>8.2f}{r.cpu:>8.2f}{r.feeds / r.wall:>10.0f}"
            f"{r.entries / r.wall:>11.0f}{r.rss_mb:>13.0f}"
        )


if __name__ == "__main__":
    main()
