"""Rendering a 500-item digest: loaded from SQLite and rendered, and rendered alone, per template.

    .venv/bin/python benchmarks/render.py                 # 500 items, 30 runs per measurement
    .venv/bin/python benchmarks/render.py --items 2000 --runs 50

The issue is stored the way curators fill one: a generated digest in the seed-000 format (titles in
English, Korean and Japanese, one to three notes per item, an image line on every seventh, spread over
every subsection of the project's feeds.yaml) is imported with `digest import`'s code into a fresh
SQLite database. "load + render" opens a read transaction, loads the issue (one query) and renders
it; "render" renders the already loaded issue. Target: under 200 ms for 500 items.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregator.app import make_app  # noqa: E402
from aggregator.config import FeedsFile, Settings, load_config  # noqa: E402
from aggregator.digest import import_apply, import_plan, issues  # noqa: E402
from aggregator.digest.markdown import md_text  # noqa: E402
from aggregator.digest.model import TEMPLATES  # noqa: E402
from aggregator.digest.read import parse_digest  # noqa: E402
from aggregator.digest.render import render  # noqa: E402
from tests.feedgen import WORDS  # noqa: E402

KOREAN = ["추천", "모델", "서빙", "비용", "학습", "추론", "검색", "데이터", "파이프라인", "임베딩"]
JAPANESE = ["推論", "モデル", "検索", "学習", "データ", "基盤", "運用", "改善", "導入", "事例"]
LABELS = ["Amazon", "Google", "Meta", "Netflix", "스캐터랩", "네이버", "メルカリ", ""]
MONTHS = ["Jan", "Feb", "Mar"]


def digest_markdown(config: FeedsFile, n: int, rng: random.Random) -> str:
    """A digest in the seed-000 format with ``n`` items spread over every subsection."""
    subsections = [
        (i, j, section.title, sub.title)
        for i, section in enumerate(config.sections, start=1)
        for j, sub in enumerate(section.subsections, start=1)
    ]
    per = [n // len(subsections) + (1 if k < n % len(subsections) else 0) for k in range(len(subsections))]
    lines = [f"# {config.digest.title}", config.digest.preface.rstrip("\n"), ""]
    count = 0
    last_section = 0
    for (i, j, section_title, sub_title), size in zip(subsections, per, strict=True):
        if i != last_section:
            lines.append(f"## {i}. {section_title}")
            last_section = i
        lines.append(f"### {i}.{j}. {sub_title}")
        for _ in range(size):
            count += 1
            words = rng.choice([WORDS, KOREAN, JAPANESE])
            title = " ".join(rng.choice(words) for _ in range(rng.randint(4, 10))).capitalize()
            if count % 11 == 0:
                title = f"**{title}** with [brackets]"
            label = rng.choice(LABELS)
            suffix = f"{rng.choice(MONTHS)} 2024" + (f", {label}" if label else "")
            url = f"https://blog{count % 40}.example.com/posts/{count}-{rng.randrange(10**6)}"
            notes = [
                " ".join(rng.choice(WORDS + KOREAN) for _ in range(rng.randint(8, 30)))
                for _ in range(rng.randint(1, 3))
            ]
            lines.append(f"* [{md_text(title)} ({suffix})]({url}): {notes[0]}")
            lines += [f"    * {note}" for note in notes[1:]]
            if count % 7 == 0:
                lines.append(f"![figure {count}](./images/{count}.png)")
        lines.append("")
    return "\n".join(lines)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and 95th percentile of ``runs`` calls, in ms (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    config = load_config(ROOT / "feeds.yaml")
    text = digest_markdown(config, args.items, random.Random(42))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        app = make_app(
            Settings(database_url=url, data_dir=Path(tmp)), config, config_path=ROOT / "feeds.yaml",
            clock=lambda: datetime(2024, 4, 1, tzinfo=UTC), parse_workers=0,
        )  # fmt: skip
        try:
            app.sync_feeds()
            start = time.perf_counter()
            parsed = parse_digest(text, app.taxonomy)
            assert not parsed.problems, parsed.problems[:3]
            with app.write() as s:
                plan = import_plan.plan_import(s, parsed, "2024-03", app.taxonomy)
                import_apply.apply_import(s, plan, app.clock(), "bench")
            imported_ms = (time.perf_counter() - start) * 1000
            with app.read() as s:
                issue = issues.load_issue(
                    s, "2024-03", app.taxonomy, title=config.digest.title, preface=config.digest.preface
                )
            items = len(issue.items)
            assert items == args.items, items
            notes = sum(len(i.notes) for i in issue.items)
            images = sum(len(i.images) for i in issue.items)
            subsections = sum(len(section.subsections) for section in issue.sections)

            def load() -> object:
                with app.read() as s:
                    return issues.load_issue(
                        s, "2024-03", app.taxonomy, title=config.digest.title, preface=config.digest.preface
                    )

            rows = []
            load_median, load_p95 = timed(load, args.runs)
            for template in TEMPLATES:
                style = "inline" if template == "summary" else "nested"

                def both(template: str = template, style: str = style) -> str:
                    with app.read() as s:
                        loaded = issues.load_issue(
                            s,
                            "2024-03",
                            app.taxonomy,
                            title=config.digest.title,
                            preface=config.digest.preface,
                        )
                    return render(loaded, template, notes=style)  # type: ignore[arg-type]

                def alone(template: str = template, style: str = style) -> str:
                    return render(issue, template, notes=style)  # type: ignore[arg-type]

                size = len(alone())
                rows.append((template, *timed(both, args.runs), *timed(alone, args.runs), size))
        finally:
            app.close()

    print(
        f"{items} items in {subsections} subsections, {notes} notes, {images} image lines; "
        f"imported in {imported_ms:.0f} ms; {args.runs} runs each (SQLite)"
    )
    print(f"load alone: median {load_median:.1f} ms, p95 {load_p95:.1f} ms\n")
    header = ("template", "load+render median", "load+render p95", "render median", "render p95", "output")
    print(f"{header[0]:<12} {header[1]:>18} {header[2]:>16} {header[3]:>14} {header[4]:>11} {header[5]:>10}")
    for template, lm, lp, rm, rp, size in rows:
        timings = f"{lm:>15.1f} ms {lp:>13.1f} ms {rm:>11.1f} ms {rp:>8.1f} ms"
        print(f"{template:<12} {timings} {size / 1024:>7.0f} KB")
    worst = max(lp for _, _, lp, _, _, _ in rows)
    verdict = "met" if worst < 200 else "MISSED"
    print(f"\ntarget: under 200 ms for load + render: {verdict} (worst p95 {worst:.1f} ms)")


if __name__ == "__main__":
    main()
