"""The weekly email's build time and size for a week of 1,000 and 10,000 new candidates.

(Not ``benchmarks/email.py``: run as a script, that name would stand for the standard library's
``email`` package in every benchmark of this folder.)

    .venv/bin/python benchmarks/weekly_email.py                       # 1,000 and 10,000, 5 runs each
    .venv/bin/python benchmarks/weekly_email.py --candidates 500 --runs 2

Candidates are generated (titles in English, Korean and Japanese, 600-character excerpts, a score on
half of them, one in ten a cross-post, spread over feeds.yaml's sections and no section) and written
to a SQLite database the way the poll stores them. "build" is the pure part: the store's rows to the
fitted message (content, both parts rendered, CSS inlined, fewer items per section until it is under
90 KB); "weekly" is the whole ``Service.mail.weekly(dry_run=True)``: the clock, the reads, the build.
Medians over --runs. Target: under 1 s for 10,000.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from aggregator.app import App, make_app  # noqa: E402
from aggregator.config import Settings, load_config  # noqa: E402
from aggregator.mail.message import fitted  # noqa: E402
from aggregator.mail.week import build_content, window  # noqa: E402
from aggregator.service import Service  # noqa: E402
from aggregator.store import mail as store  # noqa: E402
from aggregator.store.tables import articles, candidates, feeds  # noqa: E402
from tests.feedgen import WORDS, feeds_yaml  # noqa: E402

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WEEK = "2026-W50"
KOREAN = ["대규모", "언어", "모델", "추론", "비용", "평가", "벤치마크", "공개", "추천", "시스템", "실험"]
JAPANESE = ["大規模言語モデル", "評価", "推論", "公開しました", "画像認識", "推薦システム"]
FEEDS = 40


def _app(folder: Path) -> App:
    path = folder / "feeds.yaml"
    pairs = [(f"feed-{i}", f"http://127.0.0.1:9/{i}.xml") for i in range(FEEDS)]
    email = "email:\n  recipients: [a@example.org]\n  sender: bot@example.org\n  timezone: UTC\n"
    path.write_text(feeds_yaml(pairs, extra=email), encoding="utf-8")
    settings = Settings(database_url=f"sqlite:///{folder / 'bench.sqlite3'}", data_dir=folder)
    app = make_app(settings, load_config(path), config_path=path, clock=lambda: NOW, parse_workers=0)
    app.sync_feeds()
    return app


def _stock(app: App, n: int, rng: random.Random) -> None:
    sections = [*app.taxonomy.promotable_sections(), None]
    with app.write() as s:
        feed_ids = list(s.execute(sa.select(feeds.c.id)).scalars())
        s.execute(sa.delete(candidates))
        rows, texts = [], []
        for i in range(1, n + 1):
            words = rng.choice((WORDS, KOREAN, JAPANESE))
            title = " ".join(rng.choice(words) for _ in range(rng.randint(5, 10)))
            seen = NOW - timedelta(days=1, seconds=i)
            rows.append({
                "id": i, "feed_id": rng.choice(feed_ids), "entry_key": f"k{i}", "url": f"https://example.com/{i}",
                "title": title, "published_at": seen, "date_source": "published", "first_seen_at": seen,
                "updated_at": seen, "content_hash": f"{i:064x}", "suggested_section": rng.choice(sections),
                "suggestion_reason": "cues: " + " ".join(rng.sample(words, 2)), "score": rng.random() * 10
                if i % 2 else None, "group_id": i - 1 if i % 10 == 0 else None,
            })  # fmt: skip
            texts.append({
                "candidate_id": i, "status": "ok", "text_source": "page", "extracted_at": seen,
                "text": " ".join(rng.choice(words) for _ in range(120))[:600],
            })  # fmt: skip
        s.execute(sa.insert(candidates), rows)
        s.execute(sa.insert(articles), texts)


def _median_ms(run: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(app: App, n: int, runs: int) -> tuple[float, float, int, int]:
    _stock(app, n, random.Random(n))
    win = window(WEEK, app.config.email)
    with app.read() as s:
        rows, feed_rows = store.week_candidates(s, win.start, win.end), store.feed_rows(s)
    assert len(rows) == n, (len(rows), n)
    result: list[tuple[int, int]] = []

    def build() -> None:
        def content_for(cap: int):  # type: ignore[no-untyped-def]
            return build_content(win, rows, feed_rows, ("2026-12", None, []), app.taxonomy, NOW, cap=cap)

        content, _, size = fitted(content_for, sender="bot@example.org", date=NOW)
        result.append((size, content.shown))

    build_ms = _median_ms(build, runs)
    service = Service(app)
    weekly_ms = _median_ms(lambda: service.mail.weekly(WEEK, dry_run=True), runs)
    size, shown = result[-1]
    return build_ms, weekly_ms, size, shown


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--candidates", type=int, action="append", help="candidates in the week (repeat)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sizes = args.candidates or [1000, 10000]
    print(f"{'candidates':>10} {'build ms':>9} {'weekly ms':>10} {'bytes':>8} {'shown':>6}")
    with tempfile.TemporaryDirectory() as folder:
        app = _app(Path(folder))
        try:
            for n in sizes:
                build_ms, weekly_ms, size, shown = measure(app, n, args.runs)
                print(f"{n:>10,} {build_ms:>9.1f} {weekly_ms:>10.1f} {size:>8,} {shown:>6}")
        finally:
            app.close()


if __name__ == "__main__":
    main()
