"""``aggregator run`` as a real process: SIGTERM stops it within its deadline and releases its claims,
SIGHUP reloads feeds.yaml (or keeps the old one when the new one is invalid), a second daemon on one
SQLite file is refused. The test waits on the daemon's JSON log lines, never on a clock."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from aggregator.store import db
from tests import feedgen
from tests.fixture_server import FixtureServer
from tests.test_daemon import patient_yaml, serve_blog

#: Seconds any one expected log line may take (a bound for a broken daemon, not a timing).
PATIENCE = 60


class Daemon:
    """``aggregator run --log-format json`` in a process; its log lines read as they come."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        command = [sys.executable, "-m", "aggregator", "run", "--log-format", "json", *args]
        self.process = subprocess.Popen(
            command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        self.seen: list[dict[str, Any]] = []
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            try:
                self._lines.put(json.loads(line))
            except ValueError:
                self._lines.put({"event": "raw", "message": line})
        self._lines.put(None)

    def wait_for(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The next log line ``wanted`` accepts (the lines before it are kept in ``seen``)."""
        end = time.monotonic() + PATIENCE
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no such log line; the daemon said: {self.seen}")
            if line is None:
                pytest.fail(f"the daemon ended first; it said: {self.seen}")
            self.seen.append(line)
            if wanted(line):
                return line

    def send(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def exit_code(self) -> int:
        code = self.process.wait(PATIENCE)
        while self._lines.get(timeout=PATIENCE) is not None:
            pass  # the rest of the log
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(PATIENCE)
        assert self.process.stderr is not None
        self.process.stderr.close()


def event(name: str, **fields: object) -> Callable[[dict[str, Any]], bool]:
    return lambda line: line.get("event") == name and all(line.get(k) == v for k, v in fields.items())


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "AGGREGATOR_DATABASE_URL": database_url,
        "AGGREGATOR_CONFIG": str(tmp_path / "feeds.yaml"),
        "AGGREGATOR_DATA_DIR": str(tmp_path / "data"),
    }


@pytest.fixture
def gate(server: FixtureServer, tmp_path: Path) -> Iterator[threading.Event]:
    """feeds.yaml with a fast feed and a slow one whose answer waits for the gate."""
    held = threading.Event()
    pairs = [("fast", serve_blog(server, "fast", 2)), ("slow", serve_blog(server, "slow", 2, gate=held))]
    (tmp_path / "feeds.yaml").write_text(patient_yaml(pairs), encoding="utf-8")
    yield held
    held.set()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    built = sa.create_engine(database_url)
    yield built
    built.dispose()


def counts(engine: sa.Engine) -> dict[str, Any]:
    with engine.connect() as s:
        return {
            "candidates": dict(
                s.execute(
                    sa.text(
                        "SELECT f.name, COUNT(c.id) FROM feeds f LEFT JOIN candidates c ON c.feed_id = f.id "
                        "GROUP BY f.name"
                    )
                ).all()
            ),
            "leases": s.execute(
                sa.text("SELECT COUNT(*) FROM feeds WHERE lease_owner IS NOT NULL")
            ).scalar_one(),
            "instances": s.execute(sa.text("SELECT COUNT(*) FROM instances")).scalar_one(),
        }


def start_held(env: dict[str, str], server: FixtureServer, stop_seconds: str) -> Daemon:
    daemon = Daemon({**env, "AGGREGATOR_STOP_SECONDS": stop_seconds})
    daemon.wait_for(event("poll", feed="fast", outcome="new"))
    assert server.wait_for_requests(2, timeout=PATIENCE) and server.requests_for("/slow.xml")
    return daemon


def test_sigterm_lets_work_in_flight_finish_then_exits_0(
    env: dict[str, str], server: FixtureServer, gate: threading.Event, engine: sa.Engine
) -> None:
    daemon = start_held(env, server, "60")
    try:
        daemon.send(signal.SIGTERM)
        daemon.wait_for(event("stop", signal="SIGTERM"))
        gate.set()  # the held feed answers while the daemon is stopping: it is stored
        daemon.wait_for(event("poll", feed="slow", outcome="new"))
        assert daemon.wait_for(event("stop", outcome="ok"))["message"] == "stopped, its claims released"
        assert daemon.exit_code() == 0
    finally:
        daemon.stop()
    assert counts(engine) == {"candidates": {"fast": 2, "slow": 2}, "leases": 0, "instances": 0}


def test_sigterm_cancels_at_the_deadline_and_releases_the_claims(
    env: dict[str, str], server: FixtureServer, gate: threading.Event, engine: sa.Engine
) -> None:
    daemon = start_held(env, server, "1")
    try:
        daemon.send(signal.SIGTERM)
        daemon.wait_for(event("stop", signal="SIGTERM"))
        cancelling = daemon.wait_for(event("stop", outcome="cancelled"))
        assert cancelling["message"] == "the 1 s deadline passed: cancelling the work in flight"
        daemon.wait_for(event("stop", message="stopped, its claims released"))
        assert daemon.exit_code() == 0
        assert not gate.is_set()  # it never waited for the held answer
    finally:
        daemon.stop()
    # The held feed was not polled; its claim is released for the next daemon.
    assert counts(engine) == {"candidates": {"fast": 2, "slow": 0}, "leases": 0, "instances": 0}


def test_a_second_signal_stops_at_once(
    env: dict[str, str], server: FixtureServer, gate: threading.Event, engine: sa.Engine
) -> None:
    daemon = start_held(env, server, "600")
    try:
        daemon.send(signal.SIGINT)
        daemon.wait_for(event("stop", signal="SIGINT"))
        daemon.send(signal.SIGINT)
        assert daemon.wait_for(event("stop", outcome="cancelled"))["message"].startswith("a second signal")
        assert daemon.exit_code() == 130
    finally:
        daemon.stop()
    assert counts(engine)["leases"] == 0


def test_sighup_reloads_feeds_yaml(
    env: dict[str, str], server: FixtureServer, tmp_path: Path, engine: sa.Engine
) -> None:
    config = tmp_path / "feeds.yaml"
    alpha, beta = serve_blog(server, "alpha", 2), serve_blog(server, "beta", 3)
    config.write_text(feedgen.feeds_yaml([("alpha", alpha)]), encoding="utf-8")
    daemon = Daemon(env)
    try:
        daemon.wait_for(event("poll", feed="alpha", outcome="new"))
        config.write_text(feedgen.feeds_yaml([("beta", beta)]), encoding="utf-8")
        daemon.send(signal.SIGHUP)
        reloaded = daemon.wait_for(event("reload", outcome="ok"))
        assert (reloaded["added"], reloaded["removed"]) == (["beta"], ["alpha"])
        daemon.wait_for(event("poll", feed="beta", outcome="new"))  # polled at once, not at the next tick
        daemon.send(signal.SIGTERM)
        assert daemon.exit_code() == 0
    finally:
        daemon.stop()
    assert counts(engine)["candidates"] == {"alpha": 2, "beta": 3}  # alpha's candidates kept
    with engine.connect() as s:
        assert dict(s.execute(sa.text("SELECT name, in_config FROM feeds")).all()) == {
            "alpha": False,
            "beta": True,
        }


def test_an_invalid_feeds_yaml_is_logged_and_the_old_one_kept(
    env: dict[str, str], server: FixtureServer, tmp_path: Path
) -> None:
    config = tmp_path / "feeds.yaml"
    good = feedgen.feeds_yaml([("alpha", serve_blog(server, "alpha", 2))])
    config.write_text(good, encoding="utf-8")
    daemon = Daemon(env)
    try:
        daemon.wait_for(event("poll", feed="alpha", outcome="new"))
        config.write_text(good.replace("    url: ", "    ur: "), encoding="utf-8")
        daemon.send(signal.SIGHUP)
        refused = daemon.wait_for(
            event("reload", message="feeds.yaml not reloaded: the configuration in use stays")
        )
        problems = [
            line["message"] for line in daemon.seen if line.get("event") == "reload" and line is not refused
        ]
        problems = [p for p in problems if p.startswith(str(config))]
        assert problems and all("\n" not in p for p in problems), daemon.seen
        assert any("url" in p for p in problems), problems
        # Still running on the old file: a valid one is taken at the next SIGHUP.
        config.write_text(good, encoding="utf-8")
        daemon.send(signal.SIGHUP)
        daemon.wait_for(event("reload", outcome="ok"))
        daemon.send(signal.SIGTERM)
        assert daemon.exit_code() == 0
    finally:
        daemon.stop()


def test_a_second_daemon_on_the_same_sqlite_file_is_refused(
    env: dict[str, str], server: FixtureServer, tmp_path: Path, database_url: str
) -> None:
    path = db.sqlite_file(database_url)
    if path is None:
        pytest.skip("PostgreSQL serves any number of daemons")
    (tmp_path / "feeds.yaml").write_text(feedgen.feeds_yaml([("alpha", serve_blog(server, "alpha", 1))]))
    first = Daemon(env)
    try:
        first.wait_for(event("poll", feed="alpha"))
        second = subprocess.run(
            [sys.executable, "-m", "aggregator", "run", "--once"], env=env, capture_output=True, text=True,
            timeout=PATIENCE,
        )  # fmt: skip
        assert second.returncode == 1
        assert second.stderr.strip().startswith("error: another daemon (")
        assert f":{first.process.pid}) is running on {path}" in second.stderr
        commands = subprocess.run(
            [sys.executable, "-m", "aggregator", "queue"],
            env=env,
            capture_output=True,
            text=True,
            timeout=PATIENCE,
        )
        assert commands.returncode == 0, commands.stderr  # commands work beside the daemon
        first.send(signal.SIGTERM)
        assert first.exit_code() == 0
    finally:
        first.stop()


def test_metrics_are_served_on_127_0_0_1_while_the_daemon_runs(
    env: dict[str, str], server: FixtureServer, tmp_path: Path
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    (tmp_path / "feeds.yaml").write_text(patient_yaml([("fast", serve_blog(server, "fast", 2))]), "utf-8")
    daemon = Daemon(env, "--metrics-port", "0")
    try:
        port = daemon.wait_for(event("metrics"))["port"]
        daemon.wait_for(event("tick", polled=1, new=2))
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=PATIENCE)
        assert answer.status_code == 200
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text)
            for s in family.samples
        }
        assert samples[("aggregator_ticks_total", ())] >= 1
        assert samples[("aggregator_polls_total", (("result", "new"),))] == 1
        assert samples[("aggregator_entries_stored_total", (("kind", "new"),))] == 2
        daemon.send(signal.SIGTERM)
        assert daemon.exit_code() == 0
        with pytest.raises(httpx.ConnectError):  # stopped with the daemon
            httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=PATIENCE)
    finally:
        daemon.stop()
