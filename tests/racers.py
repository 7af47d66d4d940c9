"""Processes that start the same work at the same instant, for the tests of two replicas at once.

Kept apart from the test modules so that a spawned child imports only this
and aggregator, not pytest's test modules.

- :func:`start_worker` and :func:`connect_worker` run in ``spawn`` children:
  for each job each waits at a barrier shared with its twin, so both start the
  real code path together, and reports what happened (never raises).
- :data:`GATED_CLI` is the source of a launcher that imports the command line,
  says it is ready on one pipe and waits for one byte on another before it
  runs ``aggregator`` with its arguments: two of them released by one write
  each start within a fraction of a millisecond of each other.
"""

from __future__ import annotations

import multiprocessing
import traceback
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any


def start_worker(barrier: Barrier, jobs: Any, results: Any) -> None:
    """Run jobs (database URL, feeds.yaml path) until None: make_app and sync_feeds, as a command does."""
    from aggregator.app import make_app
    from aggregator.config import Settings, load_config

    while (job := jobs.get()) is not None:
        url, config_path = job
        config = load_config(Path(config_path))
        barrier.wait()
        try:
            app = make_app(Settings(database_url=url), config, config_path=Path(config_path))
            try:
                report = app.sync_feeds()
            finally:
                app.close()
            results.put(("ok", sorted(report.added)))
        except BaseException as exc:  # reported to the test, which fails on it
            last = traceback.format_exception_only(exc)[-1].strip()
            results.put(("error", last))


def connect_worker(barrier: Barrier, jobs: Any, results: Any) -> None:
    """Run jobs (database URL) until None: open the database's first connection, as every command does."""
    from aggregator.store import db

    while (url := jobs.get()) is not None:
        engine = db.create_engine_for(url)
        barrier.wait()
        try:
            with engine.connect() as conn:
                results.put(("ok", conn.exec_driver_sql("PRAGMA journal_mode").scalar()))
        except BaseException as exc:  # reported to the test, which fails on it
            results.put(("error", traceback.format_exception_only(exc)[-1].strip()))
        finally:
            engine.dispose()


class Workers:
    """``n`` spawned workers sharing one barrier, fed jobs through a queue; stopped on exit."""

    def __init__(self, n: int, target: Any = start_worker) -> None:
        ctx = multiprocessing.get_context("spawn")
        # Held here for as long as the workers live: a child unpickles its
        # handle of the barrier after it starts, so the parent must keep it.
        self.barrier = ctx.Barrier(n)
        self.jobs, self.results = ctx.Queue(), ctx.Queue()
        self.procs = [
            ctx.Process(target=target, args=(self.barrier, self.jobs, self.results), daemon=True)
            for _ in range(n)
        ]
        for proc in self.procs:
            proc.start()

    def run(self, job: Any, timeout: float = 60) -> list[tuple[str, Any]]:
        """Every worker runs ``job`` at once; their outcomes."""
        for _ in self.procs:
            self.jobs.put(job)
        return [self.results.get(timeout=timeout) for _ in self.procs]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for _ in self.procs:
            self.jobs.put(None)
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


GATED_CLI = """
import os, sys
from aggregator.cli import main
os.write(int(os.environ["RACE_READY_FD"]), b"r")
os.read(int(os.environ["RACE_GO_FD"]), 1)
sys.argv = ["aggregator", *sys.argv[1:]]
main()
"""
