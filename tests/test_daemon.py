"""``aggregator run``: ``--once`` through the command line, its logs, the SQLite single-daemon lock, and
a tick stopped and cancelled in flight; on both backends, against the fixture HTTP server."""

from __future__ import annotations

import io
import json
import logging
import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from aggregator.app import App, make_app
from aggregator.cli import app as cli
from aggregator.config import Settings, load_config
from aggregator.daemon.logs import LiveLine, event, setup_logging
from aggregator.poll_types import PollRun
from aggregator.service import Service
from aggregator.service.daemon import DaemonLock
from aggregator.stopping import Stopping
from aggregator.store import db
from aggregator.store.tables import articles, candidates, digests, feeds, instances, job_runs
from aggregator.types import FeedUpdateResult
from tests import feedgen
from tests.fixture_server import FixtureServer, Response

runner = CliRunner()


@pytest.fixture(autouse=True)
def _loggers_as_they_were() -> Iterator[None]:
    """The daemon quiets some loggers for its life; a test's daemon must not quiet the next test's."""
    names = ("aggregator.feeds.poll", "aggregator.articles.pages", "apscheduler", "httpx", "httpcore")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def serve_blog(server: FixtureServer, name: str, n: int, *, gate: threading.Event | None = None) -> str:
    """A feed of ``n`` entries whose article pages are served too; the feed's URL."""
    items = feedgen.entries(server.url(f"/{name}"), n, seed=len(name))
    for entry in items:
        page = f"<html><head><title>{entry.title}</title></head><body><article><h1>{entry.title}</h1>"
        page += entry.content * 3 + "</article></body></html>"
        server.add(urlsplit(entry.link).path, page.encode(), content_type="text/html; charset=utf-8")
    body = feedgen.rss(f"{name} blog", server.base_url, items)
    if gate is None:
        server.add(f"/{name}.xml", body)
    else:
        server.route(
            f"/{name}.xml", Response(body=body, headers={"Content-Type": "application/rss+xml"}, gate=gate)
        )
    return server.url(f"/{name}.xml")


def patient_yaml(pairs: list[tuple[str, str]]) -> str:
    """feeds.yaml whose fetches wait for a held answer (a minute) rather than time out."""
    text = feedgen.feeds_yaml(pairs).replace("read_timeout: 2", "read_timeout: 60")
    return text.replace("deadline: 5", "deadline: 120")


@pytest.fixture
def project(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, server: FixtureServer
) -> Path:
    pairs = [("alpha", serve_blog(server, "alpha", 3)), ("beta", serve_blog(server, "beta", 2))]
    (tmp_path / "feeds.yaml").write_text(feedgen.feeds_yaml(pairs), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    return tmp_path


def invoke(*args: str) -> Result:
    return runner.invoke(cli, list(args), catch_exceptions=False)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_once_polls_extracts_runs_the_due_jobs_and_exits_0(project: Path, database_url: str) -> None:
    result = invoke("run", "--once", "--log-format", "json")
    assert result.exit_code == 0, result.output
    lines = json_lines(result.stderr)
    assert lines, result.stderr
    for line in lines:  # every line a JSON object with its time, level and event
        assert {"ts", "level", "event", "message"} <= line.keys()
    polls = {line["feed"]: line for line in lines if line["event"] == "poll"}
    assert {name: polls[name]["outcome"] for name in ("alpha", "beta")} == {"alpha": "new", "beta": "new"}
    assert all(isinstance(polls[name]["seconds"], float) for name in polls)
    (tick,) = [line for line in lines if line["event"] == "tick"]
    assert (tick["polled"], tick["new"], tick["failed"], tick["extracted"]) == (2, 5, 0, 5)
    jobs = {(line["job"], line["outcome"]) for line in lines if line["event"] == "job"}
    assert ("monthly_draft", "ok") in jobs and ("housekeeping", "ok") in jobs
    assert lines[-1]["event"] == "stop" and lines[-1]["outcome"] == "ok"

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as s:
            assert s.execute(sa.select(sa.func.count()).select_from(candidates)).scalar_one() == 5
            statuses = s.execute(sa.select(articles.c.status, articles.c.text_source)).all()
            assert sorted(statuses) == [("ok", "page")] * 5
            assert s.execute(sa.select(digests.c.status)).scalars().all() == ["draft"]
            assert s.execute(sa.select(sa.func.count()).select_from(job_runs)).scalar_one() == 2
            # A clean exit: the claims released, the instance forgotten.
            assert (
                s.execute(sa.select(feeds.c.lease_owner).where(feeds.c.lease_owner.is_not(None))).all() == []
            )
            assert s.execute(sa.select(instances.c.id)).all() == []
    finally:
        engine.dispose()


def test_once_in_text_logs_a_line_per_feed_and_job(project: Path) -> None:
    result = invoke("run", "--once")
    assert result.exit_code == 0, result.output
    text = result.stderr
    assert " INFO alpha: new (3 new, 0 updated) in " in text
    assert " INFO tick: 2 feeds polled, 5 new, 0 failed; 5 pages extracted (" in text
    assert " INFO job housekeeping " in text and "\x1b" not in text  # no summary line off a terminal
    again = invoke("run", "--once")  # nothing due now, nothing owed
    assert again.exit_code == 0 and "feeds polled" not in again.stderr
    assert "housekeeping" in again.stderr and "skipped (ran on " in again.stderr


def test_a_bad_log_format_is_a_usage_error(project: Path) -> None:
    result = invoke("run", "--once", "--log-format", "xml")
    assert result.exit_code == 2
    flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())
    assert "error: --log-format: 'xml' is not a log format (write text or json)" in flat


def test_a_second_daemon_on_one_sqlite_file_is_refused(project: Path, database_url: str) -> None:
    path = db.sqlite_file(database_url)
    if path is None:
        pytest.skip("PostgreSQL serves any number of daemons")
    invoke("db", "upgrade")
    with DaemonLock(path) as held:
        held.acquire("other-host:4242")
        result = invoke("run", "--once")
        assert result.exit_code == 1
        assert result.stderr.strip().splitlines()[-1] == (
            f"error: another daemon (other-host:4242) is running on {path}: a SQLite database serves one "
            "daemon (stop that one first; CLI commands work beside it; several replicas need PostgreSQL)"
        )
        assert invoke("queue").exit_code == 0  # commands run beside it
    assert invoke("run", "--once").exit_code == 0  # released: the next daemon starts


def test_the_live_line_is_drawn_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    live = setup_logging("text", 0, screen)
    assert isinstance(live, LiveLine)
    live.show("polled 3 · new 2 · failing 0 · extraction queue 1")
    event(logging.INFO, "poll", "alpha: new (2 new, 0 updated) in 0.10 s, title \x1b[2J", feed="alpha")
    out = screen.getvalue()
    # The log line takes the summary's place, then the summary is drawn again under it.
    shown = "alpha: new (2 new, 0 updated) in 0.10 s, title \\x1b[2J\n"
    assert out.endswith(shown + "polled 3 · new 2 · failing 0 · extraction queue 1")
    assert out.count("\r\x1b[K") == 2
    live.clear()
    plain = io.StringIO()
    assert setup_logging("text", 0, plain) is None
    assert setup_logging("json", 0, Terminal()) is None
    event(logging.INFO, "poll", "beta \x1b[2J", feed="beta \x1b[2J")
    assert "\x1b" not in plain.getvalue()
    logging.getLogger().handlers.clear()


# -- a tick asked to stop, then cancelled ---------------------------------------------------------


@pytest.fixture
def held(tmp_path: Path, database_url: str, server: FixtureServer) -> Iterator[tuple[App, threading.Event]]:
    gate = threading.Event()
    pairs = [("fast", serve_blog(server, "fast", 2)), ("slow", serve_blog(server, "slow", 2, gate=gate))]
    path = tmp_path / "feeds.yaml"
    path.write_text(patient_yaml(pairs), encoding="utf-8")
    app = make_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data"), load_config(path), config_path=path,
        rng=random.Random(7), parse_workers=0,
    )  # fmt: skip
    app.sync_feeds()
    try:
        yield app, gate
    finally:
        gate.set()
        app.close()


def test_a_stopped_tick_finishes_its_fetches_and_a_cancelled_one_abandons_them(
    held: tuple[App, threading.Event], server: FixtureServer
) -> None:
    app, _ = held
    service = Service(app)
    stored: list[str] = []
    fast_stored = threading.Event()
    out: list[PollRun | None] = []

    def on_result(result: FeedUpdateResult) -> None:
        stored.append(result.feed_name)
        if result.feed_name == "fast":
            fast_stored.set()

    tick = threading.Thread(target=lambda: out.append(service.daemon.tick(on_result)))
    tick.start()
    assert fast_stored.wait(30) and server.wait_for_requests(1, timeout=30)
    assert server.requests_for("/slow.xml")
    service.daemon.stop()
    assert service.daemon.tick() is None  # stopping: nothing more is claimed
    service.daemon.cancel()  # the deadline passed: the held fetch is abandoned
    tick.join(30)
    assert not tick.is_alive()
    (run,) = out
    assert run is not None and [r.feed_name for r in run.report.results] == ["fast"] == stored
    with app.read() as s:
        owners = dict(s.execute(sa.select(feeds.c.name, feeds.c.lease_owner)).all())
    assert owners == {"fast": None, "slow": app.instance_id}  # held until the daemon releases it
    service.daemon.release()
    with app.read() as s:
        assert s.execute(sa.select(feeds.c.lease_owner).where(feeds.c.lease_owner.is_not(None))).all() == []


def test_a_stop_request_reaches_listeners_once_and_at_once_when_late() -> None:
    stop = Stopping()
    heard: list[str] = []
    forget = stop.when("cancel", lambda: heard.append("cancel"))
    stop.when("stop", lambda: heard.append("stop"))
    ignored = stop.when("stop", lambda: heard.append("forgotten"))
    ignored()
    stop.stop()
    stop.stop()
    assert heard == ["stop"] and stop.stopping and not stop.cancelled
    stop.cancel()
    forget()
    stop.when("stop", lambda: heard.append("late"))
    assert heard == ["stop", "cancel", "late"] and stop.cancelled
