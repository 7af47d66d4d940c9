"""How well extract_page finds the article on real pages, and which trafilatura settings do best.

    python benchmarks/extract_quality.py              # every table
    python benchmarks/extract_quality.py --quick      # the chosen setting only

Reads the real pages in ../shared/corpus/pages/ in place (they belong to their
publishers and are never copied into the project). Two kinds of reference:

Our extract_page is scored under each trafilatura setting, and so is
trafilatura.extract itself called on the same bytes (the floor the issue names:
our stored text should score no worse than trafilatura's best setting).

- Mozilla Readability's expected output (``readability-expected/*.expected.html``)
  for the ``readability-*`` pages: token-level precision, recall and F1 of our
  text against the reference text, as bags of tokens (Unicode word characters,
  lowercased; every CJK character a token of its own). Micro: summed over all
  tokens of all pages; macro: the mean of the pages' F1. Scored on the text a
  reader sees: Markdown's ordered-list numbers ("1. ") and inline HTML tags
  ("<sup>") are syntax, absent from the reference's text content, and are left
  out of every setting's tokens alike. The "raw F1" column scores the output as
  it is, syntax included.
- trafilatura's evaluation snippets (``trafilatura-evaldata-subset.json``) for
  the ``trafilatura-*`` pages: the share of "with" snippets found in our text
  and of "without" snippets (boilerplate) kept out of it.

Every other page gets its status and word count. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Not this folder: a sibling script named like a stdlib module (benchmarks/queue.py) would shadow it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trafilatura  # noqa: E402
from lxml import html as lxml_html  # type: ignore[import-untyped,unused-ignore]  # noqa: E402

from aggregator.articles.extract import DEFAULT_SETTINGS, ExtractSettings, PageText, extract_page  # noqa: E402
from aggregator.articles.language import word_count  # noqa: E402

PAGES = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "pages"
FAKEHOST = "http://fakehost/test/page.html"  # Readability's test harness URL

SETTINGS: tuple[tuple[str, ExtractSettings], ...] = (
    ("trafilatura defaults (comments on, txt)", ExtractSettings("balanced", True, False)),
    ("no comments, balanced, txt", ExtractSettings("balanced", False, False)),
    ("no comments, favor_precision, txt", ExtractSettings("precision", False, False)),
    ("no comments, favor_recall, txt", ExtractSettings("recall", False, False)),
    ("no comments, balanced, markdown", ExtractSettings("balanced", False, True)),
    ("no comments, favor_precision, markdown", ExtractSettings("precision", False, True)),
    ("no comments, favor_recall, markdown [chosen]", ExtractSettings("recall", False, True)),
)

#: trafilatura.extract called directly: (name, focus, include_comments, markdown, include_links).
DIRECT: tuple[tuple[str, str, bool, bool, bool], ...] = (
    ("trafilatura.extract defaults", "balanced", True, False, False),
    *(
        (f"trafilatura.extract {focus}, {'markdown' if md else 'txt'}{', links' if links else ''}",
         focus, False, md, links)
        for links in (False, True) for md in (False, True) for focus in ("balanced", "precision", "recall")
    ),
)  # fmt: skip

_CJK = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
)
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")


_ORDINAL = re.compile(r"(?m)^([ \t]*)\d{1,3}[.)][ \t]+")
_INLINE_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")


def visible(text: str) -> str:
    """The text without Markdown's ordered-list numbers and inline HTML tags (a renderer shows neither)."""
    return _INLINE_TAG.sub("", _ORDINAL.sub(r"\1", text))


def tokens(text: str) -> Counter[str]:
    """Lowercased runs of letters and digits; each CJK character a token of its own."""
    return Counter(_TOKEN.findall(text.lower()))


@dataclass
class Page:
    file: str
    url: str
    kind: str
    reference: Counter[str] | None = None
    with_snippets: tuple[str, ...] = ()
    without_snippets: tuple[str, ...] = ()


@dataclass
class Score:
    overlap: int
    extracted: int
    reference: int

    @property
    def precision(self) -> float:
        return self.overlap / self.extracted if self.extracted else 0.0

    @property
    def recall(self) -> float:
        return self.overlap / self.reference if self.reference else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Run:
    name: str
    results: dict[str, PageText] = field(default_factory=dict)
    scores: dict[str, Score] = field(default_factory=dict)
    raw_scores: dict[str, Score] = field(default_factory=dict)
    with_found: int = 0
    with_total: int = 0
    without_kept_out: int = 0
    without_total: int = 0
    times: list[float] = field(default_factory=list)


def load_pages() -> list[Page]:
    with (PAGES / "URLS.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    evaldata = json.loads((PAGES / "trafilatura-evaldata-subset.json").read_text(encoding="utf-8"))
    snippets = {f"trafilatura-{entry['file']}": entry for entry in evaldata.values()}
    pages = []
    for row in rows:
        name = row["file"]
        page = Page(name, row["url"] or FAKEHOST, row["kind"])
        expected = PAGES / "readability-expected" / f"{name.removeprefix('readability-')[:-5]}.expected.html"
        if name.startswith("readability-") and expected.exists():
            page.reference = tokens(reference_text(expected.read_bytes()))
        elif name in snippets:
            page.with_snippets = tuple(snippets[name].get("with", ()))
            page.without_snippets = tuple(snippets[name].get("without", ()))
        pages.append(page)
    return pages


def reference_text(body: bytes) -> str:
    # The expected files are UTF-8 without a charset declaration: decode first, or lxml reads Latin-1.
    tree = lxml_html.fromstring(body.decode("utf-8"))
    return " ".join(tree.itertext())


def token_line(text: str) -> str:
    """The text's tokens in order, one space apart: snippets match whatever the Markdown markup."""
    return " " + " ".join(_TOKEN.findall(text.lower())) + " "


def ours(settings: ExtractSettings) -> Callable[[bytes, str], PageText]:
    return lambda body, url: extract_page(body, url=url, content_type="text/html", settings=settings)


def direct(focus: str, comments: bool, markdown: bool, links: bool) -> Callable[[bytes, str], PageText]:
    """trafilatura.extract on the page's bytes, its output taken as the text (no checks of ours)."""

    def extract(body: bytes, url: str) -> PageText:
        text = trafilatura.extract(
            body, url=url, favor_precision=focus == "precision", favor_recall=focus == "recall",
            include_comments=comments, include_tables=True, include_formatting=markdown, include_links=links,
            output_format="markdown" if markdown else "txt",
        ) or ""  # fmt: skip
        status = "ok" if text else "too_short"
        return PageText(status, None, text or None, None, None, None, None, None, None, (), word_count(text))

    return extract


def run(name: str, extract: Callable[[bytes, str], PageText], pages: list[Page]) -> Run:
    result = Run(name)
    for page in pages:
        body = (PAGES / page.file).read_bytes()
        started = time.perf_counter()
        extracted = extract(body, page.url)
        result.times.append(time.perf_counter() - started)
        result.results[page.file] = extracted
        text = extracted.text or ""
        if page.reference is not None:
            result.scores[page.file] = score(tokens(visible(text)), page.reference)
            result.raw_scores[page.file] = score(tokens(text), page.reference)
        line = token_line(text)
        for snippet in page.with_snippets:
            result.with_total += 1
            result.with_found += token_line(snippet) in line
        for snippet in page.without_snippets:
            result.without_total += 1
            result.without_kept_out += token_line(snippet) not in line
    return result


def score(got: Counter[str], reference: Counter[str]) -> Score:
    return Score(sum((got & reference).values()), sum(got.values()), sum(reference.values()))


def micro(scores: dict[str, Score]) -> Score:
    return Score(
        sum(s.overlap for s in scores.values()),
        sum(s.extracted for s in scores.values()),
        sum(s.reference for s in scores.values()),
    )


def print_settings(runs: list[Run]) -> None:
    print("\nSettings compared: token P/R/F1 against Readability's references, trafilatura's snippets")
    print("(with: found / without: kept out), pages extracted ok, time per page")
    header = (
        f"{'setting':46} {'micro P':>7} {'micro R':>7} {'micro F1':>8} {'macro F1':>8} {'raw F1':>7}"
        f" {'with':>7} {'without':>7} {'ok':>5} {'median':>7} {'total':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        m = micro(r.scores)
        macro = statistics.mean(s.f1 for s in r.scores.values())
        ok = sum(p.status == "ok" for p in r.results.values())
        print(
            f"{r.name:46} {m.precision:7.4f} {m.recall:7.4f} {m.f1:8.4f} {macro:8.4f}"
            f" {micro(r.raw_scores).f1:7.4f}"
            f" {r.with_found:>3}/{r.with_total:<3} {r.without_kept_out:>3}/{r.without_total:<3}"
            f" {ok:>2}/{len(r.results):<2} {statistics.median(r.times) * 1000:5.0f}ms {sum(r.times):6.1f}s"
        )


def print_verdict(chosen: Run, floor: list[Run]) -> None:
    """Our stored text against trafilatura's best setting, on the Readability references."""
    print(f"\nOurs ({chosen.name}) against trafilatura.extract's best setting, micro F1:")
    for label, key in (("on the visible text", "scores"), ("raw, syntax included", "raw_scores")):
        best = max(floor, key=lambda r: micro(getattr(r, key)).f1)
        ours_f1, best_f1 = micro(getattr(chosen, key)).f1, micro(getattr(best, key)).f1
        print(f"  {label}: {ours_f1:.4f} vs {best_f1:.4f} ({best.name}), {ours_f1 - best_f1:+.4f}")


def print_worst(r: Run, count: int = 10) -> None:
    print(f"\nThe {count} worst pages with a reference ({r.name})")
    header = f"{'page':42} {'status':9} {'words':>6} {'P':>6} {'R':>6} {'F1':>6}"
    print(header)
    print("-" * len(header))
    for name, score in sorted(r.scores.items(), key=lambda item: item[1].f1)[:count]:
        page = r.results[name]
        print(
            f"{name:42} {page.status:9} {page.word_count:6} {score.precision:6.3f} {score.recall:6.3f}"
            f" {score.f1:6.3f}"
        )


def print_others(r: Run, pages: list[Page]) -> None:
    print(f"\nPages without a token reference ({r.name})")
    header = f"{'page':46} {'kind':8} {'status':9} {'words':>6} {'lang':4} {'links':>5} {'time':>6}  reason"
    print(header)
    print("-" * len(header))
    for page, elapsed in zip(pages, r.times, strict=True):
        if page.reference is not None:
            continue
        result = r.results[page.file]
        print(
            f"{page.file[:46]:46} {page.kind:8} {result.status:9} {result.word_count:6}"
            f" {result.language or '-':4} {len(result.links):5} {elapsed * 1000:4.0f}ms"
            f"  {result.reason or ''}"
        )


def print_disagreements(runs: list[Run], chosen: Run, pages: list[Page]) -> None:
    """Where the other settings' word counts differ from the chosen one's by more than 10%."""
    print(f"\nPages where a setting's word count differs from {chosen.name!r} by more than 10%")
    header = f"{'setting':46} {'page':46} {'words':>13}"
    print(header)
    print("-" * len(header))
    for r in runs:
        if r is chosen:
            continue
        for page in pages:
            ours, theirs = chosen.results[page.file].word_count, r.results[page.file].word_count
            if abs(theirs - ours) > 0.1 * max(ours, 1):
                print(f"{r.name:46} {page.file[:46]:46} {ours:>5} -> {theirs:<5}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="only the chosen setting")
    args = parser.parse_args()
    if not PAGES.is_dir():
        print(f"skipped: {PAGES} is missing")
        return 0
    pages = load_pages()
    run("warm-up", ours(DEFAULT_SETTINGS), pages)  # each process compiles dateparser's patterns once, ~2 s
    chosen_name = next(name for name, settings in SETTINGS if settings == DEFAULT_SETTINGS)
    choices = [(chosen_name, DEFAULT_SETTINGS)] if args.quick else list(SETTINGS)
    runs = [run(name, ours(settings), pages) for name, settings in choices]
    print(
        f"{len(pages)} pages: {sum(p.reference is not None for p in pages)} with a Readability reference,"
        f" {sum(bool(p.with_snippets) for p in pages)} with trafilatura snippets"
    )
    print_settings(runs)
    chosen = next(r for r in runs if r.name == chosen_name)
    if not args.quick:
        floor = [run(name, direct(*options), pages) for name, *options in DIRECT]
        print_settings(floor)
        print_verdict(chosen, floor)
    print_worst(chosen)
    if len(runs) > 1:
        print_disagreements(runs, chosen, pages)
    print_others(chosen, pages)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
