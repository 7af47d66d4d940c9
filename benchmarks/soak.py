"""The daemon's tick over many cycles of N local feeds: peak RSS per cycle (flat, not growing), CPU per cycle.

    python benchmarks/soak.py                         # 500 feeds, 30 cycles, 20 ms latency
    python benchmarks/soak.py --cycles 100 --feeds 1000
    python benchmarks/soak.py --database-url postgresql+psycopg://postgres@127.0.0.1/test

A separate process serves the feeds and their article pages on 127.0.0.1 (spread
over several ports that stand in for hosts), every answer 20 ms late. One feed
in twenty is faulty, the same ones every cycle: a 500, a malformed document, a
404 or a page of HTML. Before each cycle a tenth of the feeds, drawn anew,
publishes a post (a new entry and its article page, with a new ETag).

The daemon runs in this process on an injected clock: each cycle moves the
clock two hours on (every healthy feed, polled hourly, is due again; the faulty
ones come back as their backoff allows) and runs one tick of ``aggregator run``
(claim, poll, extract the new pages beside it) on the App's long-lived pools.
Before each cycle the peak RSS of this process and of its worker processes is
reset (``/proc/PID/clear_refs``), so each row shows that cycle's own peak. The
first cycle is cold (every entry new, every page extracted); the rest are warm.
Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.app import make_app
from aggregator.config import Settings, load_config
from aggregator.poll_types import PollRun
from aggregator.service import Service
from benchmarks import processes
from tests import feedgen

START = datetime(2024, 3, 2, 12, 0, tzinfo=UTC)
FAULTS = ("status 500", "malformed", "status 404", "html page")


def article_page(title: str, content: str) -> bytes:
    nav = "".join(f'<li><a href="/topic/{i}">Topic {i}</a></li>' for i in range(12))
    return (
        f"<!doctype html><html lang=en><head><title>{title}</title></head><body>"
        f"<nav><ul>{nav}</ul></nav><main><article><h1>{title}</h1>{content}</article></main>"
        "<footer>© An invented blog</footer></body></html>"
    ).encode()


class Site:
    """The feeds and their pages, served by a FixtureServer in the server process."""

    def __init__(self, n: int, entries: int, latency: float, ports: int, seed: int) -> None:
        from tests.fixture_server import FixtureServer, Response

        self.server = FixtureServer(latency=latency, ports=ports).start()
        self.rng = random.Random(seed)
        self.n, self.ports = n, ports
        self.items: list[list[feedgen.Entry]] = []
        self.faulty = set(self.rng.sample(range(n), n // 20))
        for i in range(n):
            site = self.server.base_urls[i % ports]
            items = feedgen.entries(f"{site}/b{i}", entries, seed=i, start=START - timedelta(days=1))
            self.items.append(items)
            for item in items:
                self._add_page(item)
            if i in self.faulty:
                kind = FAULTS[i % len(FAULTS)]
                path = f"/feeds/{i}.xml"
                if kind == "status 500":
                    self.server.route(path, Response(status=500, body=b"upstream down\n"))
                elif kind == "status 404":
                    self.server.route(path, Response(status=404, body=b"no such feed\n"))
                elif kind == "malformed":
                    self.server.add(path, b"<rss><channel><item><title>broken" * 50)
                else:
                    self.server.add(path, b"<html><body>Not a feed</body></html>", content_type="text/html")
            else:
                self._publish_feed(i, version=0)
        self.version = 0

    def url(self, i: int) -> str:
        return self.server.url(f"/feeds/{i}.xml", i % self.ports)

    def _add_page(self, item: feedgen.Entry) -> None:
        path = "/" + item.link.split("/", 3)[3]
        self.server.add(path, article_page(item.title, item.content or ""), content_type="text/html")

    def _publish_feed(self, i: int, version: int) -> None:
        site = self.server.base_urls[i % self.ports] + f"/b{i}"
        body = (feedgen.atom if i % 4 == 3 else feedgen.rss)(f"Blog {i}", site, self.items[i][:20])
        self.server.add(f"/feeds/{i}.xml", body, etag=f'"{i}-{version}"')

    def cycle(self, now: datetime, share: float) -> int:
        """A tenth (``share``) of the healthy feeds publishes a post dated ``now``; how many did."""
        self.version += 1
        healthy = [i for i in range(self.n) if i not in self.faulty]
        chosen = self.rng.sample(healthy, max(1, int(len(healthy) * share)))
        for i in chosen:
            site = self.server.base_urls[i % self.ports] + f"/b{i}"
            [post] = feedgen.entries(site, 1, seed=self.version * 100_003 + i, start=now)
            post = feedgen.Entry(
                guid=f"{post.guid}-v{self.version}",
                title=post.title,
                link=f"{post.link}-v{self.version}",
                published=now,
                summary=post.summary,
                content=post.content,
            )
            self.items[i].insert(0, post)
            self._add_page(post)
            self._publish_feed(i, self.version)
        return len(chosen)


def serve(conn: Connection, n: int, entries: int, latency: float, ports: int, seed: int) -> None:
    site = Site(n, entries, latency, ports, seed)
    conn.send([site.url(i) for i in range(n)])
    while True:
        message = conn.recv()
        if message == "stop":
            break
        now, share = message
        conn.send(site.cycle(now, share))
    site.server.stop()


def reset_peaks() -> None:
    """Make each process's peak RSS (VmHWM) start again from its current RSS (Linux 4.0+)."""
    for proc in [Path("/proc/self"), *processes._live_children()]:
        # gone meanwhile, or a kernel without it: the peak then covers earlier cycles too
        with contextlib.suppress(OSError):
            (proc / "clear_refs").write_text("5")


def peaks_mb() -> tuple[float, float]:
    """This process's peak RSS and the sum of its live workers' peaks, in MB."""
    own = _hwm(Path("/proc/self"))
    workers = sum(_hwm(proc) for proc in processes._live_children())
    return own / 1024, workers / 1024


def _hwm(proc: Path) -> int:
    try:
        for line in (proc / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Row:
    cycle: int
    published: int
    polled: int
    new: int
    failed: int
    extracted: int
    wall: float
    cpu: float
    rss_own: float
    rss_workers: float


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--entries", type=int, default=10, help="entries in each feed at the start")
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every response")
    parser.add_argument("--changing", type=float, default=0.10, help="share of feeds that post each cycle")
    parser.add_argument("--ports", type=int, default=20, help="ports (stand-in hosts) for the feeds")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: usable CPUs)")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    args_ = (there, args.feeds, args.entries, args.latency, args.ports, args.seed)
    server = ctx.Process(target=serve, args=args_)
    server.start()
    processes.IGNORED.add(server.pid or 0)  # the feed server's CPU and memory are not the daemon's
    urls: list[str] = here.recv()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "feeds.yaml"
        feeds = [(f"feed-{i}", url) for i, url in enumerate(urls)]
        # A fixed hour: every healthy feed is due again each cycle.
        text = feedgen.feeds_yaml(feeds, interval="1h").replace("read_timeout: 2", "read_timeout: 20")
        text = text.replace("deadline: 5", "deadline: 60")
        config_path.write_text(text, encoding="utf-8")
        url = args.database_url or f"sqlite:///{tmp}/soak.sqlite3"
        clock = _Clock(START)
        app = make_app(
            Settings(database_url=url, data_dir=Path(tmp)), load_config(config_path), config_path=config_path,
            clock=clock, rng=random.Random(args.seed), parse_workers=args.workers,
        )  # fmt: skip
        service = Service(app)
        try:
            service.feeds.sync()
            for cycle in range(args.cycles):
                published = 0
                if cycle:
                    here.send((clock.now, args.changing))
                    published = here.recv()
                reset_peaks()
                cpu0, t0 = processes.cpu_seconds(), time.perf_counter()
                run = tick(service)
                wall, cpu = time.perf_counter() - t0, processes.cpu_seconds() - cpu0
                own, workers = peaks_mb()
                extracted = len(run.extracted.articles) if run.extracted else 0
                report = run.report
                rows.append(
                    Row(cycle, published, len(report.results), report.new, len(report.failed), extracted,
                        wall, cpu, own, workers)
                )  # fmt: skip
                clock.now += timedelta(hours=2)
            workers_used = app.parse_workers
        finally:
            service.close()
    here.send("stop")
    server.join()
    print_table(args, url, workers_used, rows)


def tick(service: Service) -> PollRun:
    """One tick of ``aggregator run``: claim the due feeds, poll them, extract pages beside it."""
    run = service.daemon.tick()
    assert run is not None  # None only once the daemon has been asked to stop
    return run


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def print_table(args: argparse.Namespace, url: str, workers: int, rows: list[Row]) -> None:
    print(
        f"\n{args.feeds} feeds ({args.feeds // 20} faulty), {args.changing:.0%} posting per cycle, "
        f"latency {args.latency * 1000:.0f} ms, {args.ports} hosts, {workers} workers, "
        f"database {url.split(':')[0]}\n"
    )
    header = (
        f"{'cycle':>5}{'posted':>8}{'polled':>8}{'new':>6}{'failed':>8}{'pages':>7}{'wall s':>8}{'CPU s':>7}"
        f"{'peak RSS MB':>13}{'workers MB':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.cycle:>5}{r.published:>8}{r.polled:>8}{r.new:>6}{r.failed:>8}{r.extracted:>7}{r.wall:>8.2f}"
            f"{r.cpu:>7.2f}{r.rss_own:>13.0f}{r.rss_workers:>12.0f}"
        )
    warm = rows[1:]
    if len(warm) >= 4:
        half = len(warm) // 2
        early, late = warm[:half], warm[half:]
        print(
            f"\nwarm cycles: CPU median {statistics.median(r.cpu for r in warm):.2f} s, "
            f"wall median {statistics.median(r.wall for r in warm):.2f} s; peak RSS median "
            f"{statistics.median(r.rss_own for r in early):.0f} MB in the first half, "
            f"{statistics.median(r.rss_own for r in late):.0f} MB in the second "
            f"(workers {statistics.median(r.rss_workers for r in early):.0f} → "
            f"{statistics.median(r.rss_workers for r in late):.0f} MB)"
        )


if __name__ == "__main__":
    main()
