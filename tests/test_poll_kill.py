"""A poll killed with SIGKILL part-way, then run again: nothing lost, nothing stored twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import sqlalchemy as sa

from tests import feedgen
from tests.fixture_server import Response, serve

FEEDS = 24
ENTRIES = 6
HOSTS = 6  # ports standing in for hosts: four feeds each, the default per-host limit


def test_poll_killed_part_way_then_rerun(tmp_path: Path, database_url: str) -> None:
    gate = threading.Event()
    with serve(ports=HOSTS) as server:
        base = server.base_url
        pairs = []
        for i in range(FEEDS):
            body = feedgen.rss(f"F{i}", base, feedgen.entries(f"{base}/s{i}", ENTRIES, seed=i))
            host = i % HOSTS
            if host % 2:
                # The feeds of every other host answer only after the first poll has been killed.
                server.route(
                    f"/f{i}.xml",
                    Response(body=body, headers={"Content-Type": "application/rss+xml"}, gate=gate),
                )
            else:
                server.add(f"/f{i}.xml", body)
            pairs.append((f"feed-{i}", server.url(f"/f{i}.xml", host)))
        config = tmp_path / "feeds.yaml"
        text = feedgen.feeds_yaml(pairs).replace("read_timeout: 2", "read_timeout: 60")
        config.write_text(text.replace("deadline: 5", "deadline: 120"), encoding="utf-8")
        env = {
            **os.environ,
            "AGGREGATOR_DATABASE_URL": database_url,
            "AGGREGATOR_CONFIG": str(config),
            "AGGREGATOR_DATA_DIR": str(tmp_path / "data"),
        }
        command = [sys.executable, "-m", "aggregator", "-v", "poll", "--all"]
        first = subprocess.Popen(
            command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        try:
            assert first.stderr is not None
            stored_lines = []
            while len(stored_lines) < FEEDS // 2:
                line = first.stderr.readline()
                assert line, f"the poll ended early: {stored_lines}"
                if "stored feed-" in line:
                    stored_lines.append(line)
            assert server.wait_for_requests(FEEDS, timeout=60)
        finally:
            first.kill()
            first.wait()
            first.stderr.close()  # type: ignore[union-attr]
        assert first.returncode == -9

        engine = sa.create_engine(database_url)
        try:
            with engine.connect() as conn:
                committed = conn.exec_driver_sql("SELECT COUNT(*) FROM candidates").scalar_one()
            # Every feed that answered was stored in full before the kill; no held one was.
            assert committed == (FEEDS // 2) * ENTRIES, stored_lines

            gate.set()
            second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            assert second.returncode == 0, second.stderr

            with engine.connect() as conn:
                rows = conn.exec_driver_sql(
                    "SELECT f.name, COUNT(*), COUNT(DISTINCT c.entry_key) FROM candidates c "
                    "JOIN feeds f ON f.id = c.feed_id GROUP BY f.name"
                ).all()
                leases = conn.exec_driver_sql(
                    "SELECT COUNT(*) FROM feeds WHERE lease_until IS NOT NULL"
                ).scalar_one()
        finally:
            engine.dispose()
        assert sorted(rows) == sorted((f"feed-{i}", ENTRIES, ENTRIES) for i in range(FEEDS))
        assert leases == 0
