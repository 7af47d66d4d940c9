"""Articles extracted per second through the real pipeline, beside trafilatura called directly.

    python benchmarks/extract_speed.py              # the corpus pages, three copies each
    python benchmarks/extract_speed.py --copies 5

The pipeline run is `aggregator extract` minus the CLI: pages fetched from
127.0.0.1 (served by a separate process), extracted in the worker pool, the
articles written to a fresh SQLite database. The floor is trafilatura.extract
on the same bytes with the same settings, in one process and in a pool of
two, with no fetching, decoding, checks, metadata handling or storage. The
ratio is the pipeline's rate over the two-process floor. Pages are read from
../shared/corpus/pages (the benchmark stops if it is missing).

The floor's pool processes import this script (multiprocessing's spawn imports
the main module into each), so it imports nothing of the application at module
level: the floor's processes load trafilatura and nothing else, as the
pipeline's workers load only the extraction code.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
# Not this folder: a sibling script named like a stdlib module (benchmarks/queue.py) would shadow it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from aggregator.poll_types import ExtractReport

PAGES = ROOT.parent / "shared" / "corpus" / "pages"


def corpus_pages() -> list[tuple[str, bytes]]:
    if not PAGES.is_dir():
        sys.exit(f"no corpus at {PAGES}")
    return [(p.name, p.read_bytes()) for p in sorted(PAGES.glob("*.html"))]


def serve(conn: Connection, copies: int) -> None:
    from datetime import UTC, datetime

    from tests import feedgen
    from tests.fixture_server import FixtureServer

    server = FixtureServer(ports=8).start()
    entries = []
    pages = corpus_pages()  # one bytes object per page, served under every copy's path
    for copy in range(copies):
        for i, (name, body) in enumerate(pages):
            path = f"/{copy}/{name}"
            server.add(path, body, content_type="text/html")
            link = server.url(path, (copy * 100 + i) % 8)
            when = datetime(2024, 3, 1, tzinfo=UTC)
            entries.append(feedgen.Entry(f"{copy}-{name}", name, link, when, "summary", ""))
    server.add("/feed.xml", feedgen.rss("Pages", server.base_url, entries))
    conn.send(server.url("/feed.xml"))
    conn.recv()
    server.stop()


def trafilatura_one(body: bytes) -> int:
    import trafilatura

    # extract_page's settings (aggregator.articles.extract.DEFAULT_SETTINGS), metadata included.
    text = trafilatura.extract(
        body, favor_recall=True, include_comments=False, include_tables=True, include_formatting=True,
        include_links=True, output_format="markdown", with_metadata=True,
    )  # fmt: skip
    return len(text or "")


def cpu() -> float:
    """CPU seconds of this process and of its children, those the App keeps alive included."""
    from benchmarks import processes

    return processes.cpu_seconds()


def peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def pipeline_run(feed_url: str, workers: int) -> tuple[float, float, float, ExtractReport]:
    """Poll the page feed into a fresh database, then time extracting every page."""
    from aggregator.app import make_app
    from aggregator.config import Settings, load_config
    from aggregator.feeds.poll import run_async
    from aggregator.service.polling import extract_pending, run_poll
    from tests import feedgen

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "feeds.yaml"
        config.write_text(
            feedgen.feeds_yaml([("pages", feed_url)]).replace("read_timeout: 2", "read_timeout: 20")
            .replace("deadline: 5", "deadline: 60"),
            encoding="utf-8",
        )  # fmt: skip
        app = make_app(
            Settings(database_url=f"sqlite:///{tmp}/bench.sqlite3", data_dir=Path(tmp)), load_config(config),
            config_path=config, rng=random.Random(1), parse_workers=workers,
        )  # fmt: skip
        app.sync_feeds()
        run_poll(app)
        own0 = resource.getrusage(resource.RUSAGE_SELF)
        cpu0, t0 = cpu(), time.perf_counter()
        report = run_async(extract_pending(app))
        wall, used = time.perf_counter() - t0, cpu() - cpu0
        own1 = resource.getrusage(resource.RUSAGE_SELF)
        app.close()
    return wall, used, own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime, report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=3, help="times each corpus page is served")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="alternating rounds; medians are shown")
    args = parser.parse_args()
    pages = corpus_pages()
    bodies = [body for _ in range(args.copies) for _, body in pages]

    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    server = ctx.Process(target=serve, args=(there, args.copies))
    server.start()
    from benchmarks import processes

    processes.IGNORED.add(server.pid or 0)  # the page server's CPU is not the pipeline's
    feed_url = here.recv()

    # This machine's speed drifts from minute to minute: floor and pipeline runs
    # alternate, and the table shows medians over --repeat rounds. CPU seconds
    # (all processes of a run, the page server's aside) vary much less than wall
    # time when other work shares the machine.
    one: list[float] = []
    two: list[float] = []
    pipe: list[float] = []
    cpus: dict[str, list[float]] = {"one": [], "two": [], "pipe": []}
    ratios: list[float] = []
    for _ in range(args.repeat):
        cpu0, t0 = cpu(), time.perf_counter()
        for body in bodies:
            trafilatura_one(body)
        one.append(time.perf_counter() - t0)
        cpus["one"].append(cpu() - cpu0)
        cpu0, t0 = cpu(), time.perf_counter()
        with ctx.Pool(args.workers) as pool:
            pool.map(trafilatura_one, bodies, chunksize=1)
        two.append(time.perf_counter() - t0)
        cpus["two"].append(cpu() - cpu0)  # the pool's processes have ended: counted
        wall, used, main_cpu, report = pipeline_run(feed_url, args.workers)
        pipe.append(wall)
        cpus["pipe"].append(used)
        ratios.append(two[-1] / wall)
    here.send("stop")
    server.join()
    counts = report.counts()

    print(f"\n{len(bodies)} pages ({args.copies} copies of {len(bodies) // args.copies} corpus pages), "
          f"median of {args.repeat} alternating rounds\n")  # fmt: skip
    header = f"{'run':<28}{'pages':>7}{'wall s':>9}{'pages/s':>9}{'CPU s':>8}"
    print(header)
    print("-" * len(header))
    for name, runs, key in (
        ("trafilatura, 1 process", one, "one"),
        (f"trafilatura, {args.workers} processes", two, "two"),
        (f"pipeline, {args.workers} workers", pipe, "pipe"),
    ):
        seconds = statistics.median(runs)
        spent = statistics.median(cpus[key])
        print(f"{name:<28}{len(bodies):>7}{seconds:>9.2f}{len(bodies) / seconds:>9.1f}{spent:>8.1f}")
    print(
        f"\npipeline / {args.workers}-process floor: median {statistics.median(ratios):.0%} "
        f"(rounds: {', '.join(f'{r:.0%}' for r in ratios)})"
    )
    print(
        f"last pipeline round: CPU {used:.1f} s "
        f"({main_cpu:.1f} s in the polling process, the rest in workers)"
    )
    print(
        f"peak RSS: {peak_mb(resource.RUSAGE_CHILDREN):.0f} MB in the largest child (a worker, a floor "
        f"process or the page server); {peak_mb(resource.RUSAGE_SELF):.0f} MB in this process (the polling "
        "process, which also runs the one-process floor and holds its pages)"
    )
    print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
