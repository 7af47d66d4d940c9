"""Suggestions at poll scale: section suggestion, importance score and cross-post grouping, timed per
candidate and for a batch, plus the cost of learning (a refit) and what a cold poll would pay.

    .venv/bin/python benchmarks/suggest.py                       # 10,000 candidates, 300 one by one
    .venv/bin/python benchmarks/suggest.py --candidates 2000 --single 100 --poll-feeds 0

Candidates are generated: titles and texts (about 1,500 characters) in English, Korean and Japanese
from the topic words of feeds.yaml's taxonomy and filler words, from the project's feeds; one in ten
is a cross-post of an earlier one (a mirror with its text reformatted). The model learns from the
seeds' digests in ../shared/seeds where they are, else from 30 generated examples. "one" is one
candidate at a time (median and p95 over --single calls); "batch" is the whole batch in one call,
as a poll's write would hand it over, divided per candidate; "suggestion in batches of N" is the
suggestion in the service's batches (``service.suggest.BATCH``, 500 candidates; --batch), as a poll,
a daemon tick and ``aggregator suggest backfill`` run it. Target: under 5 ms per candidate.

The cold poll is benchmarks/poll.py's: --poll-feeds local feeds (15 entries each, served from another
process on 127.0.0.1) polled into a fresh SQLite file that holds the seeds' digests as history; then
what the poll's hook runs (``service.suggest``: read what needs suggesting, the engine's first fit,
suggest, score, group, write) is timed on its own: the cost suggestions add to that poll.
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregator.config import load_configuration  # noqa: E402
from aggregator.service.suggest import BATCH  # noqa: E402
from aggregator.suggest.evaluate import examples_from_digest  # noqa: E402
from aggregator.suggest.grouping import Grouper  # noqa: E402
from aggregator.suggest.lexicon import TOPICS  # noqa: E402
from aggregator.suggest.scoring import importance  # noqa: E402
from aggregator.suggest.section import SectionSuggester  # noqa: E402
from aggregator.suggest.values import Example, Posting, ScoreInput, SuggestItem  # noqa: E402
from tests.feedgen import WORDS  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
T0 = datetime(2024, 5, 1, tzinfo=UTC)


def _candidates(
    n: int, config_feeds: Sequence[object], rng: random.Random
) -> list[tuple[SuggestItem, Posting]]:
    out: list[tuple[SuggestItem, Posting]] = []
    for i in range(n):
        feed = rng.choice(config_feeds)
        topic = rng.choice(list(TOPICS))
        cues = [c for c in TOPICS[topic] if c.isascii() or feed.language != "en"]  # type: ignore[attr-defined]
        title = " ".join(rng.choice(cues) if k % 3 == 0 else rng.choice(WORDS) for k in range(8))
        words = [rng.choice(cues) if k % 7 == 0 else rng.choice(WORDS) for k in range(220)]
        text = " ".join(words)
        url = f"{feed.url.rsplit('/', 1)[0]}/{'-'.join(title.split()[:6])}-{i}"  # type: ignore[attr-defined]
        if i >= 10 and i % 10 == 0:  # a mirror of an earlier one, reformatted
            _, earlier = out[rng.randrange(len(out))]
            text = earlier.text.replace(" ", "  ").upper() + " originally published elsewhere"
            title, url = (
                earlier.title,
                "https://medium.com/mirror/" + earlier.url.rsplit("/", 1)[-1] + "-a1b2c3d4e5",
            )
        item = SuggestItem(
            title=title.capitalize(), url=url, feed=feed.name, label=feed.label,  # type: ignore[attr-defined]
            text=text, language=feed.language, section_hint=feed.section_hint,  # type: ignore[attr-defined]
        )  # fmt: skip
        out.append((item, Posting(str(i), url, item.title, text, feed.name, T0 + timedelta(minutes=i))))  # type: ignore[attr-defined]
    return out


def _examples(config: object, rng: random.Random, fallback: list[SuggestItem]) -> list[Example]:
    if (SEEDS / "000_4f8890a1120b5ccf.txt").is_file():
        found: list[Example] = []
        for name in ("000_4f8890a1120b5ccf.txt", "002_8eaeefd8fdeda347.txt"):
            found += examples_from_digest((name, (SEEDS / name).read_text(encoding="utf-8")), config)[0]  # type: ignore[arg-type]
        return found
    sections = config.taxonomy.promotable_sections()  # type: ignore[attr-defined]
    return [Example(item, rng.choice(sections)) for item in fallback[:30]]


def _per_call(fn: Callable[[int], object], count: int) -> tuple[float, float]:
    times = []
    for i in range(count):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def _in_batches(suggester: SectionSuggester, items: Sequence[SuggestItem], size: int) -> None:
    for start in range(0, len(items), size):
        suggester.suggest_many(items[start : start + size])


def _once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=300, help="candidates timed one at a time")
    parser.add_argument("--poll-feeds", type=int, default=1000, help="feeds of the cold poll (0: skip it)")
    parser.add_argument("--batch", type=int, default=BATCH, help="candidates per batch of the batch row")
    args = parser.parse_args()
    rng = random.Random(15)
    config = load_configuration(ROOT / "feeds.yaml")
    data = _candidates(args.candidates, [f for f in config.feeds if f.enabled], rng)
    items = [item for item, _ in data]
    suggester = SectionSuggester(config.taxonomy, _examples(config, rng, items))
    fit_ms = _once(suggester.fit)
    suggestions = suggester.suggest_many(items)
    inputs = [
        ScoreInput(item, links=("https://github.com/o/r",), suggestion=s)
        for item, s in zip(items, suggestions, strict=True)
    ]
    single = min(args.single, len(data))
    grouper = Grouper()
    one_suggestion = _per_call(lambda i: suggester.suggest(items[i]), single)
    one_score = _per_call(lambda i: importance(inputs[i]), single)
    one_group = _per_call(lambda i: grouper.add(data[i][1]), single)
    rows = [
        ("suggestion", one_suggestion, _once(lambda: suggester.suggest_many(items))),
        (
            f"suggestion in batches of {args.batch}",
            None,
            _once(lambda: _in_batches(suggester, items, args.batch)),
        ),
        ("score", one_score, _once(lambda: [importance(x) for x in inputs])),
        ("grouping", one_group, _once(lambda: Grouper().add_many(p for _, p in data))),
    ]
    n = len(data)
    print(f"{n:,} candidates ({len(suggester.examples)} training examples; fit {fit_ms:.0f} ms)\n")
    width = max(len(name) for name, _, _ in rows)
    print(f"{'step':<{width}} {'one: median ms':>15} {'p95 ms':>8}", end=" ")
    print(f"{'batch: total ms':>16} {'per candidate ms':>17}")
    total = 0.0
    for name, one, batch in rows:
        median, p95 = (f"{one[0]:.2f}", f"{one[1]:.2f}") if one else ("", "")
        if one:  # the batches of N row is the suggestion again: counted once
            total += batch
        print(f"{name:<{width}} {median:>15} {p95:>8} {batch:>16.0f} {batch / n:>17.3f}")
    print(f"{'all three':<{width}} {'':>15} {'':>8} {total:>16.0f} {total / n:>17.3f}")
    for size in (1000, 5000):
        learner = SectionSuggester(
            config.taxonomy, [Example(x, s.section) for x, s in zip(items[:size], suggestions, strict=False)]
        )
        first = _once(learner.fit)
        learner.learn(Example(items[-1], suggestions[-1].section))
        after = _once(functools.partial(learner.suggest, items[-2]))
        print(
            f"{len(learner.examples) - 1:,} examples: first fit {first:.0f} ms; a promotion, then the next "
            f"suggestion: {after:.0f} ms"
        )
    groups = {g.primary for g in Grouper().add_many(p for _, p in data)}
    print(f"groups: {len(groups):,} for {n:,} candidates (one in ten generated as a mirror)")
    print(f"a cold poll of 1,000 feeds storing {n:,} new candidates would add {total / 1000:.1f} s of CPU")
    verdict = "met" if total / n < 5 else "MISSED"
    print(f"target: under 5 ms per candidate: {verdict}")
    if args.poll_feeds:
        _cold_poll(args.poll_feeds)


def _bench_yaml(urls: Sequence[str]) -> str:
    """benchmarks/poll.py's feeds.yaml with the project's sections (the seeds' digests import into them)."""
    from tests import feedgen

    generated = feedgen.feeds_yaml([(f"feed-{i}", url) for i, url in enumerate(urls)], allow_private=False)
    generated = generated.replace("read_timeout: 2", "read_timeout: 20").replace(
        "deadline: 5", "deadline: 60"
    )
    project = (ROOT / "feeds.yaml").read_text(encoding="utf-8")
    sections = project[project.index("\nsections:") : project.index("\n", project.index("\nemail:") - 1)]
    head, rest = generated.split("\nsections:", 1)
    return head + sections + "\nfeeds:" + rest.split("\nfeeds:", 1)[1]


def _cold_poll(feeds: int, entries: int = 15) -> None:
    """A cold poll of ``feeds`` local feeds (benchmarks/poll.py's set-up), then the suggestions it adds."""
    import multiprocessing
    import tempfile

    from aggregator.app import make_app
    from aggregator.config import Settings, load_config
    from aggregator.service import Service
    from aggregator.service.polling import run_poll
    from aggregator.service.suggest import engine_for
    from benchmarks.poll import Clock, serve

    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    server = ctx.Process(target=serve, args=(there, feeds, entries, 0.0, 50))
    server.start()
    urls, _ = here.recv()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "feeds.yaml"
            path.write_text(_bench_yaml(urls), encoding="utf-8")
            app = make_app(
                Settings(database_url=f"sqlite:///{tmp}/bench.sqlite3", data_dir=Path(tmp)),
                load_config(path), config_path=path, clock=Clock(), rng=random.Random(1),
            )  # fmt: skip
            app.sync_feeds()
            service = Service(app)
            for issue, name in (
                ("2022-01", "000_4f8890a1120b5ccf.txt"),
                ("2022-02", "002_8eaeefd8fdeda347.txt"),
            ):
                if (SEEDS / name).is_file():
                    text = (SEEDS / name).read_text(encoding="utf-8")
                    service.digests.import_digest(text, issue, source=name, force=True, curator="bench")
            before = service.suggest.backfill()  # the imported items: not the poll's cost
            poll_s = _once(lambda: run_poll(app, due_only=False)) / 1000
            engine_for(app).suggester = None  # a cold process: the first fit counts
            done: list[int] = []
            added_s = _once(lambda: done.append(service.suggest.refresh())) / 1000
            learned = len(engine_for(app).suggester.examples)  # type: ignore[union-attr]
            app.close()
    finally:
        here.send("stop")
        server.join()
    stored = done[0]
    print(
        f"\ncold poll of {feeds:,} feeds ({stored:,} new candidates; history: {learned} examples, "
        f"{before} imported candidates): "
        f"poll {poll_s:.1f} s, suggestions added {added_s:.1f} s "
        f"({added_s / max(poll_s, 1e-9):.0%} of the poll; "
        f"{added_s * 1000 / max(stored, 1):.2f} ms per candidate, the engine's first fit included)"
    )


if __name__ == "__main__":
    main()
