"""Worker processes die with their parent, whatever kills it (issue 12, point 7).

A parent killed with SIGKILL runs no cleanup: before, its parse workers (about
93 MB each) and multiprocessing's resource tracker lived on, reparented to init.
Here the parent is a real process (a small script, then the real ``aggregator
poll``) killed with SIGKILL, and each of its workers must end on its own.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from tests import feedgen
from tests.fixture_server import Response, serve

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux's pidfd_open")

REPO = Path(__file__).resolve().parents[1]

# The parent: a pool of two workers and ``busy`` jobs that never end (a worker
# runs one job and holds the next, so one job keeps one worker busy). It prints
# its workers' pids, the busy worker prints "busy PID" on the same stdout as its
# job starts, and the parent waits to be killed.
PARENT = textwrap.dedent(
    """
    import sys, threading
    sys.path.insert(0, {repo!r})
    from aggregator.workers import WorkerPool
    from tests.test_workers_orphans import block

    pool = WorkerPool(2, timeout=600, memory_limit=256 * 1024 * 1024)
    pool.start()
    for _ in range({busy}):
        pool.submit(block)
    print(" ".join(str(w.process.pid) for w in pool._workers), flush=True)
    threading.Event().wait()
    """
)


def block() -> None:
    """A job that never ends by itself: only its worker's death stops it."""
    print(f"busy {os.getpid()}", flush=True)
    threading.Event().wait()


def wait_for_exit(pid: int, timeout: float) -> bool:
    """True once process ``pid`` has ended (or is gone), waiting at most ``timeout`` seconds."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


def kill_and_reap(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGKILL)
    process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@pytest.mark.parametrize("busy", [0, 1], ids=["idle", "one busy"])
def test_workers_end_when_their_parent_is_killed(busy: int) -> None:
    script = PARENT.format(repo=str(REPO), busy=busy)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert parent.stdout is not None
        lines = [parent.stdout.readline() for _ in range(busy + 1)]
        started = sorted(int(line.split()[1]) for line in lines if line.startswith("busy "))
        pids = sorted(int(pid) for pid in next(line for line in lines if not line.startswith("busy")).split())
        assert len(pids) == 2
        assert len(started) == busy and set(started) <= set(pids)  # inside its job when the parent dies
    finally:
        kill_and_reap(parent)
    assert all(wait_for_exit(pid, timeout=10) for pid in pids), pids


def test_a_killed_poll_leaves_no_worker_behind(tmp_path: Path) -> None:
    # Feeds that keep the parse workers busy: malformed, under the structure
    # limits, and seconds of work each for feedparser's lenient parser.
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    heavy = head + b"<item><title>x</title><description>" + b"<br>" * 300_000 + b"</item></channel></rss>"
    with serve() as server:
        pairs = []
        for i in range(3):
            server.route(
                f"/heavy{i}.xml", Response(body=heavy, headers={"Content-Type": "application/rss+xml"})
            )
            pairs.append((f"heavy-{i}", server.url(f"/heavy{i}.xml")))
        config = tmp_path / "feeds.yaml"
        config.write_text(feedgen.feeds_yaml(pairs).replace("deadline: 5", "deadline: 60"), encoding="utf-8")
        env = {
            **os.environ,
            "AGGREGATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "AGGREGATOR_CONFIG": str(config),
        }
        poll = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "-vv", "poll", "--all", "--no-extract"],
            env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=REPO,
        )  # fmt: skip
        try:
            assert poll.stderr is not None
            for line in poll.stderr:
                if "worker processes for aggregator.feeds.parse:" in line:
                    pids = [int(pid) for pid in line.rsplit(":", 1)[1].split(",")]
                    break
            else:
                pytest.fail("the poll never started its parse workers")
            assert server.wait_for_requests(3, timeout=30)  # the documents are on their way to the workers
        finally:
            kill_and_reap(poll)
    assert poll.returncode == -signal.SIGKILL
    assert all(wait_for_exit(pid, timeout=10) for pid in pids), pids
