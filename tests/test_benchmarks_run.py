"""Every benchmark still runs against the code as it is, on a small size (a move or a changed
signature must not leave a benchmark broken until someone next measures). These check that each
prints its table, not how fast anything is: speed is the benchmarks' own business."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS_PAGES = ROOT.parent / "shared" / "corpus" / "pages"


def _run(tmp_path: Path, script: str, *args: str) -> str:
    env = {**os.environ, "AGGREGATOR_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("AGGREGATOR_DATABASE_URL", None)
    env.pop("AGGREGATOR_TEST_POSTGRES_URL", None)  # the queue benchmark would measure PostgreSQL too
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done.stdout


def test_poll_benchmark_runs(tmp_path: Path) -> None:
    out = _run(tmp_path, "poll.py", "--feeds", "20", "--entries", "3", "--ports", "2", "--workers", "1")
    assert "cold (all new)" in out and "warm (all unchanged)" in out


def test_queue_benchmark_runs(tmp_path: Path) -> None:
    out = _run(tmp_path, "queue.py", "--candidates", "400", "--feeds", "20", "--repeat", "1")
    assert "worst p95" in out


def test_render_benchmark_runs(tmp_path: Path) -> None:
    out = _run(tmp_path, "render.py", "--items", "30", "--runs", "2")
    assert "load+render" in out


def test_cli_latency_benchmark_runs(tmp_path: Path) -> None:
    out = _run(tmp_path, "cli_latency.py", "--candidates", "200", "--feeds", "5", "--rounds", "1")
    for command in ("--help", "queue", "show ID", "promote ID", "log"):
        assert command in out


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS_PAGES.is_dir(), reason="../shared/corpus is missing")
def test_extract_speed_benchmark_runs(tmp_path: Path) -> None:
    out = _run(tmp_path, "extract_speed.py", "--copies", "1", "--repeat", "1")
    assert "pages/s" in out


def test_soak_benchmark_runs(tmp_path: Path) -> None:
    out = _run(tmp_path, "soak.py", "--feeds", "40", "--entries", "2", "--cycles", "5", "--workers", "1")
    assert "peak RSS MB" in out and "warm cycles: CPU median" in out


def test_freshness_benchmark_runs(tmp_path: Path) -> None:
    out = _run(tmp_path, "freshness.py", "--feeds", "20", "--days", "1", "--fixed", "6h", "--ports", "2")
    assert "auto" in out and "fixed 6h" in out and "req/feed/d" in out and "hourly" in out


def test_email_benchmark_runs(tmp_path: Path) -> None:
    out = _run(tmp_path, "weekly_email.py", "--candidates", "300", "--runs", "1")
    assert "build ms" in out and "weekly ms" in out and "300" in out
