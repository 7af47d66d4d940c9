"""The triage queue over 100,000 candidates: listing, filters, deep pages and search, per backend.

    python benchmarks/queue.py                                   # SQLite (a temporary file)
    python benchmarks/queue.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    AGGREGATOR_TEST_POSTGRES_URL=... python benchmarks/queue.py  # both backends
    python benchmarks/queue.py --candidates 20000 --repeat 10    # a quicker look

Builds ~40 invented feeds (a few Korean and Japanese, some hinted ``aws`` or a
research section) and 100,000 candidates with realistic titles and 2-5 KB of
article text each, statuses mixed as a real queue is (mostly new; some
shortlisted, rejected, promoted into digest sections, snoozed, some of those
snoozes over). Rows are bulk-loaded (executemany on SQLite, COPY on
PostgreSQL); the search index is then built with the real
``store.search.index_candidates``, in chunks, and timed. On PostgreSQL the
data lives in a schema of its own, dropped afterwards, and is ANALYZEd after
loading as autovacuum would; SQLite gets no ANALYZE, as in production.

Each query runs ``--repeat`` times (after one warm-up) through the real
``store.queue.list_queue`` (or ``count_queue``), in a read transaction of its
own, and the table shows the median and 95th percentile in milliseconds, the
rows returned and how many candidates match. Target: p95 under 50 ms in every row.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import random
import statistics
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# This file shares its name with the standard library's queue module, and
# Python puts a script's folder first on sys.path: for the other scripts here
# (poll.py...), `import queue` (by multiprocessing, concurrent.futures, psycopg)
# finds this file. Then it hands over to the standard library's module and
# defines nothing else of its own; run as a script, the project's root takes
# this folder's place on the path.
if __name__ == "queue":
    _spec = importlib.util.spec_from_file_location("queue", Path(sysconfig.get_path("stdlib")) / "queue.py")
    assert _spec is not None and _spec.loader is not None
    sys.modules["queue"] = _stdlib_queue = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_stdlib_queue)
else:
    if __name__ == "__main__":
        sys.path[0] = str(Path(__file__).resolve().parents[1])

    import sqlalchemy as sa

    from aggregator.store import db
    from aggregator.store.queue import count_queue, list_queue
    from aggregator.store.search import index_candidates
    from aggregator.store.tables import articles, candidates, digest_items, digests, feeds
    from aggregator.triage_types import STATUSES, QueueQuery, Status

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)

# -- invented text -------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


EN_TOPICS = _words(
    "model training inference latency embedding retrieval ranking serving pipeline feature store "
    "transformer attention quantization distillation evaluation dataset labeling drift monitoring "
    "recommendation search vision language speech cluster gpu batch stream cache index vector "
    "agent diffusion tokenizer benchmark kubernetes throughput fine-tuning adapter reward policy "
    "multimodal segmentation detection forecasting anomaly graph sparse dense mixture experts"
)
EN_FILLER = _words(
    "the of and to a in we our with for is that this on it as by at from are be can which more "
    "than how when each into one new all so used use also but not about after before while over"
)
EN_TITLES = (
    "How we cut {a} {b} by half",
    "Scaling {a} {b} to millions of users",
    "Lessons from a year of {a} {b}",
    "{A} {b}: a practical guide",
    "Inside our {a} {b} platform",
    "Faster {a} with {b} and {c}",
    "Evaluating {a} {b} in production",
    "What we learned building {a} for {b}",
)
KO_NOUNS = _words(
    "모델 학습 추론 추천 시스템 데이터 서비스 검색 개발 성능 개선 사용자 대화 생성 언어 분석 "
    "파이프라인 배포 서빙 실험 평가 인프라 임베딩 벡터 랭킹 광고 콘텐츠 품질 지연 비용"
)
KO_PARTICLES = ("은", "는", "이", "가", "을", "를", "의", "에서", "으로", "와", "과", "도", "")
KO_ENDINGS = ("합니다.", "했습니다.", "입니다.", "할 수 있습니다.", "하고 있습니다.")
KO_TITLES = ("{a} {b} 개선기", "{a}{p} 위한 {b} 구축", "대규모 {a} {b} 운영 경험", "{a} {b}, 이렇게 했습니다")
JA_NOUNS = _words(
    "生成 モデル 学習 推論 検索 データ 機械学習 大規模言語モデル 推薦 システム 評価 開発 運用 基盤 "
    "分散 実験 品質 改善 高速化 精度 画像 音声 対話 パイプライン"
)
JA_PARTICLES = ("の", "を", "に", "は", "が", "で", "と", "や")
JA_ENDINGS = ("しました。", "します。", "について紹介します。", "を行いました。", "です。")
JA_TITLES = ("{a}の{b}を改善した話", "{a}と{b}の実践", "大規模な{a}{b}の運用", "{a}による{b}の高速化")

RARE_WORD = "Fortuna"  # a product name in about 25 articles
MID_WORD = "SageMaker"  # every article of the AWS feeds
KO_WORD = "추천"
JA_WORD = "機械学習"


def en_paragraph(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(60, 120)):
        words.append(rng.choice(EN_TOPICS) if rng.random() < 0.35 else rng.choice(EN_FILLER))
    return " ".join(words).capitalize() + "."


def ko_paragraph(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(5, 9)):
        words = [rng.choice(KO_NOUNS) + rng.choice(KO_PARTICLES) for _ in range(rng.randint(4, 8))]
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)), rng.choice(EN_TOPICS).upper())
        sentences.append(" ".join(words) + " " + rng.choice(KO_ENDINGS))
    return " ".join(sentences)


def ja_paragraph(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(5, 9)):
        parts = [rng.choice(JA_NOUNS) + rng.choice(JA_PARTICLES) for _ in range(rng.randint(3, 6))]
        if rng.random() < 0.3:
            parts.insert(rng.randrange(len(parts)), rng.choice(EN_TOPICS))
        sentences.append("、".join(parts) + rng.choice(JA_ENDINGS))
    return "".join(sentences)


@dataclass(frozen=True)
class FeedSpec:
    name: str
    label: str
    language: str
    section_hint: str | None


def feed_specs(n: int) -> list[FeedSpec]:
    out = []
    hints = [None, None, "research/nlp", "research/cv", "business/mlops", "business/recsys"]
    for i in range(n):
        if i < 3:
            spec = FeedSpec(f"aws-ml-{i}", "Amazon", "en", "aws" if i < 2 else "aws/mlops")
        elif i < 3 + max(1, n // 10):
            spec = FeedSpec(
                f"ko-blog-{i}", ["스캐터랩", "카카오", "네이버", "당근"][i % 4], "ko", hints[i % 6]
            )
        elif i < 3 + 2 * max(1, n // 10):
            spec = FeedSpec(
                f"ja-blog-{i}",
                ["メルカリ", "LINEヤフー", "PFN", "サイバーエージェント"][i % 4],
                "ja",
                hints[i % 6],
            )
        else:
            spec = FeedSpec(f"blog-{i:02d}", f"Company {i}", "en", hints[i % 6])
        out.append(spec)
    return out


# -- loading -------------------------------------------------------------------


@dataclass
class Loaded:
    feeds: list[FeedSpec]
    candidates: int
    load_s: float
    index_s: float


def build(engine: sa.Engine, n: int, n_feeds: int, seed: int) -> Loaded:
    rng = random.Random(seed)
    specs = feed_specs(n_feeds)
    pools = {
        "en": [en_paragraph(rng) for _ in range(3000)],
        "ko": [ko_paragraph(rng) for _ in range(1000)],
        "ja": [ja_paragraph(rng) for _ in range(1000)],
    }
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(feeds),
            [
                {
                    "id": i + 1, "name": f.name, "url": f"https://{f.name}.example.com/feed.xml",
                    "config_url": f"https://{f.name}.example.com/feed.xml", "label": f.label,
                    "language": f.language, "section_hint": f.section_hint, "interval_seconds": 3600,
                    "created_at": NOW - SPAN, "updated_at": NOW - SPAN,
                }
                for i, f in enumerate(specs)
            ],
        )  # fmt: skip
        months = sorted({(NOW - timedelta(days=30 * k)).strftime("%Y-%m") for k in range(37)})
        conn.execute(
            sa.insert(digests),
            [
                {"id": i + 1, "name": m, "status": "published", "created_at": NOW}
                for i, m in enumerate(months)
            ],
        )
    rare = set(rng.sample(range(1, n + 1), min(25, n)))
    sections = ["research/nlp", "research/cv", "business/mlops", "business/recsys", "aws/mlops"]
    cand_rows: list[dict[str, Any]] = []
    article_rows: list[dict[str, Any]] = []
    item_rows: list[dict[str, Any]] = []
    for cid in range(1, n + 1):
        feed_index = rng.randrange(len(specs))
        spec = specs[feed_index]
        published = NOW - SPAN * (rng.random() ** 1.3)  # more recent posts than old ones
        lang = spec.language
        title = _title(rng, lang)
        target = rng.randint(2000, 5000)
        paras: list[str] = []
        size = 0
        while size < target:
            p = rng.choice(pools[lang])
            paras.append(p)
            size += len(p.encode("utf-8"))
        if spec.name.startswith("aws"):
            paras.insert(1, f"Amazon {MID_WORD} makes this easy.")
        if cid in rare:
            paras.insert(rng.randrange(len(paras)), f"We open-sourced {RARE_WORD}, our library.")
        text = "\n\n".join(paras)
        roll = rng.random()
        status, snoozed_until = "new", None
        if roll < 0.05:
            status = "shortlisted"
        elif roll < 0.10:
            status = "rejected"
        elif roll < 0.12:
            status = "promoted"
            month = published.strftime("%Y-%m")
            item_rows.append(
                {
                    "digest_id": months.index(month) + 1 if month in months else 1, "candidate_id": cid,
                    "section": rng.choice(sections), "promoted_at": published, "promoted_by": "bench",
                }
            )  # fmt: skip
        elif roll < 0.15:
            status = "snoozed"  # half still asleep, half woken by now
            snoozed_until = NOW + timedelta(days=rng.choice([-10, -1, 3, 30]))
        cand_rows.append(
            {
                "id": cid, "feed_id": feed_index + 1, "entry_key": f"https://{spec.name}.example.com/p/{cid}",
                "guid": None, "url": f"https://{spec.name}.example.com/p/{cid}",
                "canonical_url": f"https://{spec.name}.example.com/p/{cid}", "title": title, "author": None,
                "summary": text[:200], "content": text if rng.random() < 0.1 else None,
                "content_type": "text/plain", "language": lang, "tags": "[]",
                "feed_published_at": published, "feed_updated_at": None, "published_at": published,
                "date_source": "published", "first_seen_at": published, "updated_at": published,
                "content_hash": f"{cid:064x}", "status": status, "group_id": cid, "notes": "[]",
                "snoozed_until": snoozed_until, "decided_at": None, "decided_by": None, "version": 0,
            }
        )  # fmt: skip
        if rng.random() < 0.9:
            article_rows.append(
                {
                    "candidate_id": cid, "status": "ok", "text_source": "page", "text": text,
                    "word_count": len(text.split()), "attempts": 1, "extracted_at": published, "links": "[]",
                }
            )  # fmt: skip
    if engine.dialect.name == "postgresql":
        _copy(engine, "candidates", cand_rows)
        _copy(engine, "articles", article_rows)
        _copy(engine, "digest_items", [{"id": i + 1, **r} for i, r in enumerate(item_rows)])
        with engine.begin() as conn:
            for table in ("candidates", "digest_items"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
    else:
        with engine.begin() as conn:
            for table, rows in ((candidates, cand_rows), (articles, article_rows), (digest_items, item_rows)):
                for i in range(0, len(rows), 5000):
                    conn.execute(sa.insert(table), [_json_values(table, r) for r in rows[i : i + 5000]])
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for i in range(1, n + 1, 2000):
        with engine.begin() as s:
            index_candidates(s, range(i, min(n, i + 1999) + 1))
    index_s = time.perf_counter() - t0
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return Loaded(specs, n, load_s, index_s)


def _title(rng: random.Random, lang: str) -> str:
    if lang == "ko":
        return rng.choice(KO_TITLES).format(a=rng.choice(KO_NOUNS), b=rng.choice(KO_NOUNS), p="을")
    if lang == "ja":
        return rng.choice(JA_TITLES).format(a=rng.choice(JA_NOUNS), b=rng.choice(JA_NOUNS))
    a, b, c = (rng.choice(EN_TOPICS) for _ in range(3))
    return rng.choice(EN_TITLES).format(a=a, A=a.capitalize(), b=b, c=c)


def _json_values(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    # SQLAlchemy's JSON type wants Python values, COPY wants JSON text.
    return {k: ([] if isinstance(table.c[k].type, sa.JSON) and v == "[]" else v) for k, v in row.items()}


def _copy(engine: sa.Engine, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()  # type: ignore[union-attr]
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        raw.commit()
    finally:
        raw.close()


# -- timing --------------------------------------------------------------------


@dataclass
class Result:
    name: str
    median_ms: float
    p95_ms: float
    rows: int
    matching: int


def queries(specs: list[FeedSpec]) -> list[tuple[str, QueueQuery, int | None]]:
    """(name, query, None to list, else count up to this many (0: all))."""
    base = QueueQuery()
    month_ago, year_ago = NOW - timedelta(days=30), NOW - timedelta(days=365)
    prom: tuple[Status, ...] = ("promoted",)
    short: tuple[Status, ...] = ("shortlisted",)
    en = [f.name for f in specs if f.language == "en" and not f.name.startswith("aws")]
    return [
        ("default (new + shortlisted, newest first)", base, None),
        ("status shortlisted", replace(base, statuses=("shortlisted",)), None),
        ("status rejected", replace(base, statuses=("rejected",)), None),
        ("status promoted", replace(base, statuses=("promoted",)), None),
        ("status snoozed (still asleep)", replace(base, statuses=("snoozed",)), None),
        ("status all", replace(base, statuses=STATUSES), None),
        ("feed (one)", replace(base, feeds=(en[0],)), None),
        ("feed (three)", replace(base, feeds=tuple(en[:3])), None),
        ("section aws (hint or promoted)", replace(base, section="aws"), None),
        ("section research/nlp", replace(base, section="research/nlp"), None),
        ("section business/recsys, promoted", replace(base, section="business/recsys", statuses=prom), None),
        ("since 30 days", replace(base, since=month_ago), None),
        ("since 30 days, status rejected", replace(base, since=month_ago, statuses=("rejected",)), None),
        ("sort by feed", replace(base, sort="feed"), None),
        ("offset 5000", replace(base, offset=5000), None),
        ("offset 5000, sort by feed", replace(base, offset=5000, sort="feed"), None),
        ("offset 5000, status all", replace(base, offset=5000, statuses=STATUSES), None),
        ("search common: model", replace(base, search="model"), None),
        ("search two common: model training", replace(base, search="model training"), None),
        (f"search mid: {MID_WORD}", replace(base, search=MID_WORD), None),
        (f"search rare: {RARE_WORD}", replace(base, search=RARE_WORD), None),
        ("search absent: zyzzyva", replace(base, search="zyzzyva"), None),
        (f"search Korean: {KO_WORD}", replace(base, search=KO_WORD), None),
        (f"search Japanese: {JA_WORD}", replace(base, search=JA_WORD), None),
        ("search Japanese one kanji: 学 (a prefix)", replace(base, search="学"), None),
        ("search common, offset 1000", replace(base, search="model", offset=1000), None),
        ("search common, sort by feed", replace(base, search="model", sort="feed"), None),
        ("status all + search rare", replace(base, statuses=STATUSES, search=RARE_WORD), None),
        ("feed + since + search common", replace(base, feeds=(en[0],), since=year_ago, search="model"), None),
        ("section aws + search mid", replace(base, section="aws", search=MID_WORD), None),
        ("status shortlisted + search Korean", replace(base, statuses=short, search=KO_WORD), None),
        ("count: default", base, 0),
        ("count: status all", replace(base, statuses=STATUSES), 0),
        ("count: status rejected", replace(base, statuses=("rejected",)), 0),
        ("count: section aws", replace(base, section="aws"), 0),
        ("count: search common", replace(base, search="model"), 0),
        (f"count: search Japanese: {JA_WORD}", replace(base, search=JA_WORD), 0),
        ("count: search rare", replace(base, search=RARE_WORD), 0),
        ("count up to 1,000: default", base, 1000),
        ("count up to 1,000: search common", replace(base, search="model"), 1000),
        (f"count up to 1,000: search Japanese: {JA_WORD}", replace(base, search=JA_WORD), 1000),
    ]  # fmt: skip


def run(engine: sa.Engine, specs: list[FeedSpec], repeat: int) -> list[Result]:
    out = []
    for name, query, count in queries(specs):
        times: list[float] = []
        rows = 0
        for i in range(repeat + 1):
            t0 = time.perf_counter()
            with engine.begin() as s:
                if count is None:
                    rows = len(list_queue(s, query, NOW))
                else:
                    rows = count_queue(s, query, NOW, at_most=count or None)
            if i:  # the first run warms the caches
                times.append((time.perf_counter() - t0) * 1000)
        with engine.begin() as s:
            matching = count_queue(s, query, NOW)
        times.sort()
        p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]
        out.append(Result(name, statistics.median(times), p95, rows, matching))
    return out


def size_of(engine: sa.Engine, sqlite_path: Path | None) -> tuple[float, float]:
    """(database MB, search index MB)."""
    if sqlite_path is not None:
        total = sum(p.stat().st_size for p in sqlite_path.parent.glob(sqlite_path.name + "*"))
        with engine.connect() as conn:
            try:
                index = conn.exec_driver_sql(
                    "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'candidate_search%'"
                ).scalar_one()
            except sa.exc.OperationalError:  # no dbstat in this SQLite build
                index = 0
        return total / 2**20, (index or 0) / 2**20
    with engine.connect() as conn:
        total = conn.exec_driver_sql(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        ).scalar_one()
        index = conn.exec_driver_sql("SELECT pg_total_relation_size('candidate_search')").scalar_one()
    return total / 2**20, index / 2**20


def report(
    backend: str, loaded: Loaded, results: list[Result], sizes: tuple[float, float], repeat: int
) -> None:
    print(
        f"\n{backend}: {loaded.candidates:,} candidates over {len(loaded.feeds)} feeds; "
        f"bulk load {loaded.load_s:.1f} s, search index built by index_candidates in {loaded.index_s:.1f} s "
        f"({loaded.candidates / loaded.index_s:,.0f} candidates/s); database {sizes[0]:,.0f} MB, "
        f"of which the search index {sizes[1]:,.0f} MB; {repeat} runs per query\n"
    )
    width = max(len(r.name) for r in results) + 2
    header = f"{'query':<{width}}{'median ms':>10}{'p95 ms':>9}{'rows':>6}{'matching':>10}"
    print(header)
    print("-" * len(header))
    for r in results:
        flag = "" if r.p95_ms < 50 else "  over 50 ms"
        print(f"{r.name:<{width}}{r.median_ms:>10.1f}{r.p95_ms:>9.1f}{r.rows:>6}{r.matching:>10,}{flag}")
    worst = max(results, key=lambda r: r.p95_ms)
    print(f"\nworst p95: {worst.p95_ms:.1f} ms ({worst.name})")


@dataclass
class Backend:
    name: str
    url: str
    sqlite_path: Path | None
    cleanup: Callable[[], None]


def backends(args: argparse.Namespace, tmp: Path) -> Iterator[Backend]:
    if not args.postgres_only:
        path = tmp / "queue.sqlite3"
        yield Backend("SQLite", f"sqlite:///{path}", path, lambda: None)
    url = args.postgres or os.environ.get("AGGREGATOR_TEST_POSTGRES_URL")
    if url:
        schema = f"bench_queue_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')

        def drop() -> None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()

        sep = "&" if "?" in url else "?"
        yield Backend("PostgreSQL", f"{url}{sep}options=-csearch_path%3D{schema}", None, drop)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query (at least 30 for a p95)")
    parser.add_argument(
        "--postgres", default=None, help="default: $AGGREGATOR_TEST_POSTGRES_URL, else SQLite only"
    )
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends(args, Path(tmp)):
            engine = db.create_engine_for(backend.url)
            try:
                db.ensure_schema(engine)
                loaded = build(engine, args.candidates, args.feeds, args.seed)
                results = run(engine, loaded.feeds, args.repeat)
                report(backend.name, loaded, results, size_of(engine, backend.sqlite_path), args.repeat)
            finally:
                engine.dispose()
                backend.cleanup()


if __name__ == "__main__":
    main()
