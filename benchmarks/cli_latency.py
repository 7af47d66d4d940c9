"""How long a curator waits for each command: ``aggregator`` as fresh processes over 10,000 candidates.

    python benchmarks/cli_latency.py                                  # this checkout's aggregator
    python benchmarks/cli_latency.py --rounds 20
    python benchmarks/cli_latency.py --aggregator .venv/bin/aggregator \\
        --aggregator /path/to/old/.venv/bin/aggregator                # two checkouts, same run

For each ``--aggregator`` (an ``aggregator`` executable, or a ``python`` whose
environment has aggregator installed: it is run as ``python -m aggregator``),
a SQLite database of its own is made with that aggregator's ``db upgrade``, its
feeds synced from an invented feeds.yaml (40 feeds, 3 sections) by one
``queue``, and 10,000 candidates bulk-inserted through this checkout's
``aggregator.store.tables`` (only the columns the other checkout's schema has).

Then each round runs, as fresh processes, in turn for every aggregator:
``--help``, ``queue``, ``show ID``, ``promote ID --section ...`` (a new
candidate each round, so each is a real write) and ``log``. The table shows
the median and 95th percentile of the wall time in milliseconds and the peak
RSS (``wait4``'s ru_maxrss) of each command. Target: every median under 300 ms.
Nothing here touches a host other than this one; the database is a temporary file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __name__ == "__main__":
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import sqlalchemy as sa

from aggregator.store.tables import candidates, feeds

NOW = datetime.now(UTC).replace(microsecond=0)
SECTIONS = {"research": ["nlp", "vision", "systems"], "business": ["mlops", "products"], "notes": []}


def feeds_yaml(n_feeds: int) -> str:
    lines = ["digest:", "  title: Latency digest", "sections:"]
    for top, subs in SECTIONS.items():
        lines += [f"  - id: {top}", f"    title: {top.title()}", "    subsections:"]
        lines += [f"      - {{id: {sub}, title: {sub.title()}}}" for sub in subs]
    lines.append("feeds:")
    for i in range(n_feeds):
        lines += [
            f"  - name: feed-{i:02d}",
            f"    url: https://feeds.invalid/{i}.xml",
            f"    label: Label {i}",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Target:
    """One aggregator under test, with its own database."""

    label: str
    command: list[str]
    env: dict[str, str]
    workdir: Path
    promote_ids: list[int] = field(default_factory=list)


def command_for(executable: str) -> list[str]:
    name = Path(executable).name
    return [executable, "-m", "aggregator"] if name.startswith("python") else [executable]


# A small process that starts each command and reports its wall time and wait4's rusage. A
# child's ru_maxrss counts the memory of the process it was forked from (Linux records the old
# address space's peak at exec), so commands forked from this process, which holds a database's
# worth of rows, would all report this process's size. The launcher stays about 10 MB.
LAUNCHER = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    start = time.perf_counter()
    proc = subprocess.Popen(job["argv"], cwd=job["cwd"], env=job["env"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    print(json.dumps([wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status),
                      err.decode(errors="replace")[-4000:]]), flush=True)
"""


class Launcher:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def run(self, argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, int, str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"argv": argv, "cwd": str(cwd), "env": env}) + "\n")
        self.proc.stdin.flush()
        wall, maxrss, status, err = json.loads(self.proc.stdout.readline())
        return wall, maxrss, status, err

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


_launcher: Launcher | None = None


def run(target: Target, args: list[str], *, check: bool = True) -> tuple[float, int, int]:
    """Run ``aggregator args``; (wall seconds, peak RSS in KiB, exit status)."""
    global _launcher
    if _launcher is None:
        _launcher = Launcher()
    wall, maxrss, status, err = _launcher.run([*target.command, *args], target.workdir, target.env)
    if check and status != 0:
        raise SystemExit(f"{target.label}: aggregator {' '.join(args)} failed:\n{err}")
    return wall, maxrss, status


def prepare(label: str, executable: str, root: Path, n: int, n_feeds: int, seed: int) -> Target:
    workdir = root / label
    workdir.mkdir()
    (workdir / "feeds.yaml").write_text(feeds_yaml(n_feeds))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env |= {
        "AGGREGATOR_DATA_DIR": str(workdir / "data"),
        "AGGREGATOR_CACHE_DIR": str(workdir / "cache"),
        "AGGREGATOR_CURATOR": "bench",
        "NO_COLOR": "1",
        "COLUMNS": "120",
    }
    target = Target(label, command_for(executable), env, workdir)
    run(target, ["db", "upgrade"])
    run(target, ["feeds", "status"])  # syncs the feeds of feeds.yaml
    engine = sa.create_engine(f"sqlite:///{workdir / 'data' / 'aggregator.sqlite3'}")
    try:
        target.promote_ids = insert_candidates(engine, n, seed)
    finally:
        engine.dispose()
    return target


def insert_candidates(engine: sa.Engine, n: int, seed: int) -> list[int]:
    """``n`` new candidates spread over the synced feeds and three years; the ids to promote, shuffled."""
    rng = random.Random(seed)
    present = {c["name"] for c in sa.inspect(engine).get_columns("candidates")}
    with engine.begin() as conn:
        feed_ids = list(conn.execute(sa.select(feeds.c.id)).scalars())
        rows = []
        for i in range(1, n + 1):
            published = NOW - timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
            url = f"https://example.invalid/post/{i}"
            row = {
                "id": i,
                "feed_id": rng.choice(feed_ids),
                "entry_key": url,
                "guid": url,
                "url": url,
                "canonical_url": url,
                "title": f"Post {i}: serving large models at a fraction of the cost",
                "summary": "A summary of the post. " * rng.randrange(2, 12),
                "language": "en",
                "tags": [],
                "published_at": published,
                "date_source": "published",
                "first_seen_at": published,
                "updated_at": published,
                "content_hash": f"{i:064x}",
                "status": "new",
                "group_id": i,
                "notes": [],
                "version": 0,
            }
            rows.append({k: v for k, v in row.items() if k in present})
        for start in range(0, n, 5000):
            conn.execute(sa.insert(candidates), rows[start : start + 5000])
    ids = list(range(1, n + 1))
    rng.shuffle(ids)
    return ids


def commands(target: Target, round_: int) -> list[tuple[str, list[str]]]:
    some = target.promote_ids[-1 - round_ % 100]
    return [
        ("--help", ["--help"]),
        ("queue", ["queue"]),
        ("show ID", ["show", str(some)]),
        ("promote ID", ["promote", str(target.promote_ids[round_]), "--section", "research/nlp"]),
        ("log", ["log"]),
    ]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--aggregator",
        action="append",
        help="an aggregator executable or a python with aggregator installed; repeatable "
        "(default: the aggregator beside this python)",
    )
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    executables = [str(Path(e).absolute()) if "/" in e else e for e in args.aggregator or []] or [
        str(Path(sys.executable).with_name("aggregator"))
    ]
    root = Path(tempfile.mkdtemp(prefix="cli-latency-"))
    try:
        targets = []
        for i, executable in enumerate(executables):
            where = Path(executable).absolute()
            label = f"{i + 1}:{where.parents[2].name}" if len(where.parents) > 2 else f"{i + 1}:{where.name}"
            started = time.perf_counter()
            targets.append(
                prepare(label.replace("/", "_"), executable, root, args.candidates, args.feeds, args.seed)
            )
            took = time.perf_counter() - started
            print(f"{executable}: database of {args.candidates:,} candidates in {took:.1f} s")
        walls: dict[tuple[str, str], list[float]] = {}
        rss: dict[tuple[str, str], int] = {}
        for round_ in range(args.rounds + 1):  # round 0 warms the disk cache and is not counted
            for target in targets:
                for name, argv in commands(target, round_):
                    wall, peak, _ = run(target, argv)
                    if round_:
                        walls.setdefault((target.label, name), []).append(wall)
                        rss[target.label, name] = max(rss.get((target.label, name), 0), peak)
        print(f"\n{'aggregator':<28} {'command':<12} {'median ms':>10} {'p95 ms':>8} {'peak RSS MiB':>13}")
        for target in targets:
            for name, _ in commands(target, 0):
                values = walls[target.label, name]
                print(
                    f"{target.label:<28} {name:<12} {statistics.median(values) * 1000:>10.0f} "
                    f"{percentile(values, 0.95) * 1000:>8.0f} {rss[target.label, name] / 1024:>13.1f}"
                )
    finally:
        if _launcher is not None:
            _launcher.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
