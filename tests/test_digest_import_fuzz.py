"""``digest import`` and ``digest import --dry-run`` agree, whatever the file: random mutations of real
digests through the CLI (Typer's CliRunner) on real databases, then the bugs those mutations found.

The property, for every mutated digest and starting state:

- neither run ends in a traceback: each exits 0, or 1 with ``error: ...`` on stderr;
- the dry run writes nothing (a snapshot of every table the import touches is the same after it);
- both refuse, with the same message, and the refusal writes nothing; or both succeed with the same
  counts and warnings;
- importing the same file again succeeds, reports every item unchanged and writes nothing.

The digests mutated are the project's golden files (tests/fixtures/digest/), the curators' published
seeds 000 and 002 (read from ../shared/seeds at run time; left out where missing) and one written here
over candidates polled from a feed on 127.0.0.1, so items are kept, promoted and created. Each example
starts from a fresh database: nothing there, the unmutated digest imported already, or that issue
published (imported with and without --force).
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

import aggregator.cli as cli
from aggregator.app import App, make_app
from aggregator.config import Settings, load_config
from aggregator.digest import import_apply, import_plan, issues
from aggregator.digest.read import parse_digest
from aggregator.service.polling import run_poll
from aggregator.store.tables import articles, candidates, decisions, digest_items, digests, feeds
from tests import feedgen
from tests.conftest import postgres_schema_url
from tests.fixture_server import FixtureServer
from tests.stock import Clock, feed_entries

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "fixtures" / "digest"
SEEDS = ROOT.parent / "shared" / "seeds"
T0 = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
runner = CliRunner()

#: The taxonomy the golden files were rendered with (tests/test_digest_render.py).
GOLDEN_SECTIONS: list[dict[str, Any]] = [
    {
        "id": "research",
        "title": "Research",
        "subsections": [
            {"id": "cv", "title": "CV"},
            {"id": "nlp", "title": "NLP"},
            {"id": "recsys", "title": "RecSys, etc."},
        ],
    },
    {
        "id": "business",
        "title": "Business Cases and Implementations",
        "subsections": [
            {"id": "cv", "title": "CV"},
            {"id": "mlops", "title": "Training, Inference and MLOps"},
        ],
    },
    {
        "id": "aws",
        "title": "AWS ML Only",
        "hide_labels": True,
        "subsections": [
            {"id": "nlp", "title": "NLP"},
            {"id": "mlops", "title": "Training, Inference and MLOps"},
        ],
    },
    {"id": "events", "title": "Events", "subsections": []},
]
FEEDS = {"alpha": ["Serving many models", "Tokenizers explained"], "beta": ["A feature store"]}


@dataclass(frozen=True)
class Base:
    """A digest to mutate, the feeds.yaml its headings fit, and the issue it is imported into."""

    name: str
    text: str
    config: Path
    issue: str


# -- the world: feeds on 127.0.0.1, two feeds.yaml, fresh databases ---------------------------------


@dataclass
class World:
    tmp: Path
    database_url: str
    golden_config: Path
    seeds_config: Path
    bases: list[Base] = field(default_factory=list)
    templates: dict[tuple[str, str], Path] = field(default_factory=dict)

    @property
    def sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def _app(self, url: str) -> App:
        return make_app(
            Settings(database_url=url, data_dir=self.tmp / "data"), load_config(self.golden_config),
            config_path=self.golden_config, clock=Clock(T0), parse_workers=0,
        )  # fmt: skip

    def poll(self, url: str) -> None:
        """A new database with the feeds' candidates in it."""
        app = self._app(url)
        try:
            app.sync_feeds()
            run_poll(app, due_only=False)
        finally:
            app.close()

    def prepare(self, url: str, base: Base, scenario: str) -> None:
        """Unless ``fresh``, import ``base`` as it is (and publish the issue)."""
        config = load_config(base.config)
        parsed = parse_digest(base.text, config.taxonomy())
        if scenario == "fresh" or parsed.problems:  # the notebook layout cannot be imported at all
            return
        app = self._app(url)
        try:
            with app.write() as s:
                plan = import_plan.plan_import(s, parsed, base.issue, config.taxonomy())
                import_apply.apply_import(s, plan, T0, "setup")
                if scenario.startswith("published"):
                    issues.publish(s, base.issue, T0, config.taxonomy(), force=True)
        finally:
            app.close()

    @contextmanager
    def database(self, base: Base, scenario: str) -> Iterator[str]:
        """A database in the state ``scenario`` for ``base``: a copied template (SQLite), a new schema
        built the same way (PostgreSQL)."""
        if not self.sqlite:
            schemas = postgres_schema_url()
            url = next(schemas)
            try:
                self.poll(url)
                self.prepare(url, base, scenario)
                yield url
            finally:
                next(schemas, None)
            return
        key = (base.name, scenario)
        if key not in self.templates:
            polled = self.tmp / "polled.sqlite3"
            if not polled.exists():
                self.poll(f"sqlite:///{polled}")
            template = self.tmp / f"template-{len(self.templates)}.sqlite3"
            shutil.copy(polled, template)
            self.prepare(f"sqlite:///{template}", base, scenario)
            self.templates[key] = template
        path = self.tmp / f"example-{uuid.uuid4().hex[:8]}.sqlite3"
        shutil.copy(self.templates[key], path)
        try:
            yield f"sqlite:///{path}"
        finally:
            path.unlink()


def _feeds_yaml(sections: list[dict[str, Any]], digest: dict[str, Any], feed_urls: dict[str, str]) -> str:
    data = {
        "fetch": {
            "user_agent_contact": "https://aggregator.invalid/contact",
            "connect_timeout": 2, "read_timeout": 2, "deadline": 5,
            "allow_private_networks": ["127.0.0.1/32"],
        },
        "digest": digest,
        "sections": sections,
        "feeds": [{"name": n, "url": u, "label": n.title()} for n, u in feed_urls.items()],
    }  # fmt: skip
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.fixture
def world(server: FixtureServer, tmp_path: Path, database_url: str) -> World:
    feed_urls = {}
    for name, titles in FEEDS.items():
        site = server.url(f"/{name}")
        entries = feed_entries(site, titles, start=T0)
        server.add(f"/{name}.xml", feedgen.rss(f"{name} blog", server.base_url, entries))
        feed_urls[name] = server.url(f"/{name}.xml")
    golden = tmp_path / "golden.yaml"
    golden.write_text(_feeds_yaml(GOLDEN_SECTIONS, {"title": "Test Digest"}, feed_urls), encoding="utf-8")
    project = yaml.safe_load((ROOT / "feeds.yaml").read_text(encoding="utf-8"))
    seeds = tmp_path / "seeds.yaml"
    seeds.write_text(_feeds_yaml(project["sections"], project["digest"], feed_urls), encoding="utf-8")
    w = World(tmp_path, database_url, golden, seeds)
    for name in ("summary-inline.md", "summary-nested.md", "unnumbered-nested.md", "notebook.md"):
        w.bases.append(Base(name, (GOLDEN / name).read_text(encoding="utf-8"), golden, "2024-03"))
    for name in ("000_4f8890a1120b5ccf.txt", "002_8eaeefd8fdeda347.txt"):
        if (SEEDS / name).is_file():
            w.bases.append(
                Base(f"seed {name[:3]}", (SEEDS / name).read_text(encoding="utf-8"), seeds, "2022-12")
            )
    alpha, beta = server.url("/alpha/p"), server.url("/beta/p")
    polled = (
        "# Test Digest\n"
        "## 1. Research\n"
        "### 1.1. CV\n"
        f"* [Serving many models (Mar 2024, Alpha)]({alpha}/0): kept as the feed has it\n"
        f"* [Tokenizers, **Explained** (Feb 2024)]({alpha.replace('http://', 'https://')}/1?utm_source=x)\n"
        "    * a title, a month and a link of its own\n"
        "### 1.2. NLP\n"
        f"* [A feature store (Mar 2024, Beta)]({beta}/0)\n"
        "* [Brand new (Mar 2024, Elsewhere)](https://elsewhere.test/post)\n"
        "![fig](./fig.png)\n"
        "## 4. Events\n"
        "* A meetup (Apr 2024) `mailto:events@lab.test`: not a web link\n"
    )
    w.bases.append(Base("polled", polled, golden, "2024-03"))
    return w


# -- running the CLI and looking at the database ----------------------------------------------------


def run(base: Base, url: str, path: Path, *extra: str) -> Result:
    return runner.invoke(
        cli.app,
        ["--config", str(base.config), "digest", "import", str(path), "--digest", base.issue, *extra],
        env={"AGGREGATOR_DATABASE_URL": url, "AGGREGATOR_CURATOR": "ana", "AGGREGATOR_CONFIG": None},
    )


def no_traceback(result: Result) -> None:
    """Exit 0, or exit 1 with one ``error:`` line first; never an exception out of the command."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"the command raised {result.exception!r}:\n{result.output}"
        ) from result.exception
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    if result.exit_code:
        assert result.stderr.startswith("error: "), result.stderr


Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(url: str) -> Snapshot:
    """Every row of the tables an import may touch, and the search index."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            out = {
                t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
                for t in (feeds, candidates, articles, digests, digest_items, decisions)
            }
            if engine.dialect.name == "sqlite":
                index = "SELECT rowid, document FROM candidate_search ORDER BY rowid"
            else:
                index = "SELECT candidate_id, document::text FROM candidate_search ORDER BY candidate_id"
            out["candidate_search"] = [tuple(r) for r in conn.exec_driver_sql(index)]
            return out
    finally:
        engine.dispose()


COUNTS = re.compile(
    r"(\d+) items into (\S+): (\d+) new candidates, (\d+) promoted, (\d+) updated, (\d+) unchanged"
)


def counts(result: Result) -> tuple[int, ...]:
    found = COUNTS.search(" ".join(result.stdout.split()))
    assert found, result.output
    return (int(found[1]), *(int(found[i]) for i in range(3, 7)))


# -- mutations -------------------------------------------------------------------------------------

STRAY_LINES = [
    "[/]", "[/INST]", "* [", "](", "###", "##", "#", "* [x](", "[[[[", "))))", "\\", "\\\\\\", "```", "---",
    "    * [/]", "![", "- ", "* ", "* [ ](https://x.test/)", "* [A (Mar 2024)](https://x.test/a)",
    "* [A (Mar 2024)](javascript:x)", "* t (Mar 2024) `x`", "## 9. Nope", "### 1.9. Nope", "## Research",
    "### CV", "* [D (Mar 9999)](https://x.test/d)", "* [E (Mar 0000)](https://x.test/e)",
    "* [B (Mar 2024)](https://[::1/)", "* [C (Mar 2024)](https://x.test:99999/)", "\ufeff", "\u2028",
]  # fmt: skip
#: Pieces of Markdown, dates, URLs and characters a digest must not hold, joined at random.
PIECES = st.sampled_from(
    [
        *"[]()\\*#`!-:. \t0123456789",
        "Mar",
        "2024",
        "](",
        "https://",
        "가",
        "\x00",
        "\x1b",
        "\u202e",
        "\x85",
        "\x7f",
    ]
)
STRAY = st.one_of(
    st.sampled_from(STRAY_LINES), st.lists(PIECES, max_size=12).map("".join), st.text(max_size=16)
)
BAD_BYTES = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80", b"\xfe\xff"]
#: Bytes that are not UTF-8 at some offset, in one example of eight (a file that is not UTF-8 is refused
#: before anything else is looked at, so more would only repeat that).
BAD = st.tuples(st.integers(0, 7), st.integers(0, 100_000), st.sampled_from(BAD_BYTES)).map(
    lambda t: (t[1], t[2]) if t[0] == 7 else None
)

Lines = list[str]


def _pick(lines: Lines, at: int, where: Callable[[str], bool] = lambda _: True) -> int | None:
    chosen = [i for i, line in enumerate(lines) if where(line)]
    return chosen[at % len(chosen)] if chosen else None


def mutate(lines: Lines, op: tuple[str, int, int, str]) -> Lines:
    """One mutation of a digest's lines; ``at`` and ``to`` choose lines, ``stray`` is text to put in."""
    kind, at, to, stray = op
    lines = list(lines) or [""]
    i, j = at % len(lines), to % len(lines)
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    elif kind == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "move":
        lines.insert(j, lines.pop(i))
    elif kind == "insert":
        lines.insert(i, stray)
    elif kind == "into_line":  # control characters, brackets and the like inside a line
        cut = to % (len(lines[i]) + 1)
        lines[i] = lines[i][:cut] + stray + lines[i][cut:]
    elif kind == "indent":
        lines[i] = ("    ", "  ", "\t", "        ")[to % 4] + lines[i]
    elif kind == "dedent":
        lines[i] = lines[i].lstrip()
    elif kind == "heading_number":
        h = _pick(lines, at, lambda line: line.startswith("#") and any(c.isdigit() for c in line))
        if h is not None:
            lines[h] = re.sub(r"\d+", lambda m: str((int(m[0]) + to) % 13), lines[h], count=1 + to % 2)
    elif kind == "heading_title":
        h = _pick(lines, at, lambda line: line.startswith("#"))
        if h is not None:
            lines[h] = (lines[h] + stray) if to % 2 else lines[h].split(" ", 1)[0] + " " + stray
    elif kind == "break_url":
        u = _pick(lines, at, lambda line: "](" in line)
        if u is not None:
            line = lines[u]
            start = line.index("](") + 2
            end = line.find(")", start)
            if to % 3 == 0 and end >= 0:
                lines[u] = line[:end] + line[end + 1 :]  # the link's ")" lost
            elif to % 3 == 1:
                lines[u] = line[:start] + stray + line[start:]
            else:
                lines[u] = line[:start] + stray + (line[end:] if end >= 0 else "")
    elif kind == "truncate":
        text = "\n".join(lines)
        lines = text[: (at * 7919) % (len(text) + 1)].split("\n")
    return lines


KINDS = ["delete", "duplicate", "swap", "move", "insert", "into_line", "indent", "dedent", "heading_number",
         "heading_title", "break_url", "truncate"]  # fmt: skip
OPS = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 10_000), st.integers(0, 10_000), STRAY),
    min_size=1,
    max_size=4,
)
SCENARIOS = ["fresh", "imported", "published", "published --force"]


def mutated(base: Base, ops: list[tuple[str, int, int, str]], bad: tuple[int, bytes] | None) -> bytes:
    lines = base.text.split("\n")
    for op in ops:
        lines = mutate(lines, op)
    data = "\n".join(lines).encode("utf-8")
    if bad is not None:
        at = bad[0] % (len(data) + 1)
        data = data[:at] + bad[1] + data[at:]
    return data


# -- the property -----------------------------------------------------------------------------------


def check_agreement(world: World, base: Base, scenario: str, data: bytes) -> None:
    with world.database(base, scenario) as url:
        path = world.tmp / "mutated.md"
        path.write_bytes(data)
        extra = ("--force",) if scenario.endswith("--force") else ()
        before = snapshot(url)
        dry = run(base, url, path, "--dry-run", *extra)
        no_traceback(dry)
        assert snapshot(url) == before, "the dry run wrote to the database"
        real = run(base, url, path, *extra)
        no_traceback(real)
        after = snapshot(url)
        assert dry.exit_code == real.exit_code, (dry.output, real.output)
        if real.exit_code:
            assert dry.stderr == real.stderr
            assert after == before, "a refused import wrote to the database"
            return
        assert "nothing was written" in dry.stdout
        assert counts(dry) == counts(real)
        assert dry.stderr == real.stderr  # the same warnings
        again = run(base, url, path, *extra)
        no_traceback(again)
        assert again.exit_code == 0, again.output
        n = counts(real)[0]
        assert counts(again) == (n, 0, 0, 0, n)
        assert snapshot(url) == after, "importing the same file again changed the database"


def test_import_and_its_dry_run_agree_on_mutated_digests(world: World) -> None:
    """The property above: 40 examples on SQLite, 8 on PostgreSQL (about 18 s and 9 s; an example runs
    the CLI three times, a third of which is Typer building its commands)."""

    @settings(
        max_examples=30 if world.sqlite else 8,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        base=st.sampled_from(world.bases),
        scenario=st.sampled_from(SCENARIOS),
        ops=OPS,
        bad=BAD,
    )
    def agree(base: Base, scenario: str, ops: list[tuple[str, int, int, str]], bad: Any) -> None:
        check_agreement(world, base, scenario, mutated(base, ops, bad))

    agree()


# -- what the mutations found, one test each ---------------------------------------------------------


def base_named(world: World, name: str) -> Base:
    return next(b for b in world.bases if b.name == name)


def test_a_dry_run_of_a_published_issue_refuses_like_the_import(world: World) -> None:
    """The dry run planned in a read transaction and never asked whether the issue was frozen: it
    said "would be imported" where the import refused."""
    base = base_named(world, "polled")
    with world.database(base, "published") as url:
        path = world.tmp / "same.md"
        path.write_text(base.text, encoding="utf-8")
        before = snapshot(url)
        dry, real = run(base, url, path, "--dry-run"), run(base, url, path)
        assert (dry.exit_code, real.exit_code) == (1, 1)
        assert dry.stderr == real.stderr
        assert " ".join(real.stderr.split()) == (
            "error: digest 2024-03 is published and frozen; add --force to change it anyway "
            "(or `aggregator digest render` to see it as published)"
        )
        assert snapshot(url) == before
        forced = run(base, url, path, "--dry-run", "--force")
        assert forced.exit_code == 0 and counts(forced) == (5, 0, 0, 0, 5)


def test_a_dry_run_reports_the_counts_the_import_then_has(world: World) -> None:
    """The dry run printed only how many items the file had; it now runs the import and rolls it back."""
    base = base_named(world, "polled")
    with world.database(base, "imported") as url:
        changed = (
            base.text.replace("kept as the feed has it", "a note changed")
            .replace("![fig](./fig.png)\n", "![fig](./fig.png)\n* [Newer (Mar 2024)](https://lab.test/newer)\n")
        )  # fmt: skip
        # The NLP items swap places: both are updated (their positions change).
        nlp_start = changed.index("* [A feature store")
        nlp_end = changed.index("## 4. Events")
        first, rest = changed[nlp_start:nlp_end].split("* [Brand new", 1)
        changed = changed[:nlp_start] + "* [Brand new" + rest + first + changed[nlp_end:]
        path = world.tmp / "changed.md"
        path.write_text(changed, encoding="utf-8")
        before = snapshot(url)
        dry = run(base, url, path, "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert snapshot(url) == before
        assert counts(dry) == (6, 1, 0, 3, 2)  # a note and two positions changed
        for outcome in ("create", "update", "unchanged"):
            assert re.search(rf"\s{outcome}\s", dry.stdout), dry.stdout
        real = run(base, url, path)
        assert real.exit_code == 0 and counts(real) == counts(dry)
        assert counts(run(base, url, path)) == (6, 0, 0, 0, 6)


def test_a_stray_markup_line_is_imported_and_its_warning_printed_as_written(world: World) -> None:
    """A `[/]` line committed the import, then the warning about it raised MarkupError: exit 1 and a
    traceback after the items were written. Titles with [INST] ... [/INST] are data too."""
    base = base_named(world, "summary-inline.md")
    inst = "* [Prompt \\[INST\\] formats \\[/INST\\] (Mar 2024)](https://lab.test/inst)"
    text = base.text.replace("\n## 2. Business", f"\n[/]\n\n{inst}\n\n## 2. Business")
    with world.database(base, "fresh") as url:
        path = world.tmp / "stray.md"
        path.write_text(text, encoding="utf-8")
        dry = run(base, url, path, "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert "Prompt [INST] formats [/INST]" in " ".join(dry.stdout.split())
        real = run(base, url, path)
        assert real.exit_code == 0, real.output
        assert counts(real) == (10, 10, 0, 0, 0)
        assert "text outside any item is not imported: '[/]'" in " ".join(real.stderr.split())
        assert real.stderr == dry.stderr


def test_refusals_and_dry_runs_leave_no_trace_of_the_feed_sync(world: World) -> None:
    """The import synced feeds.yaml in a transaction of its own before planning: a dry run and a
    refused import wrote the feeds table. The sync is now part of the import's transaction."""
    base = base_named(world, "summary-nested.md")
    config = world.tmp / "more-feeds.yaml"
    data = yaml.safe_load(world.golden_config.read_text(encoding="utf-8"))
    data["feeds"].append({"name": "gamma", "url": "http://127.0.0.1:9/gamma.xml", "label": "Gamma"})
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    more = Base(base.name, base.text, config, base.issue)
    with world.database(base, "fresh") as url:
        good, bad = world.tmp / "good.md", world.tmp / "bad.md"
        good.write_text(base.text, encoding="utf-8")
        bad.write_text(base.text.replace("## 4. Events", "## 4. Robotics"), encoding="utf-8")
        before = snapshot(url)
        refused = run(more, url, bad)
        assert refused.exit_code == 1 and "'## 4. Robotics'" in refused.stderr
        assert run(more, url, good, "--dry-run").exit_code == 0
        assert snapshot(url) == before
        assert run(more, url, good).exit_code == 0
        names = [r[1] for r in snapshot(url)["feeds"]]
        assert "gamma" in names and "_import" in names


def test_what_cannot_be_read_says_where_in_one_line(world: World) -> None:
    """Bytes that are not UTF-8, a file that cannot be a digest (/dev/zero was read without end), a
    NUL in a link (PostgreSQL's DataError after the dry run had said yes), an issue name that is not a
    month: one line each, nothing written, exit 1 (2 for the option)."""
    base = base_named(world, "summary-nested.md")
    with world.database(base, "fresh") as url:
        before = snapshot(url)
        latin = world.tmp / "latin.md"
        latin.write_bytes(
            "## Research\n### CV\n* [Caf\u00e9 (Mar 2024)](https://a.test/)\n".encode("latin-1")
        )
        result = run(base, url, latin)
        assert (result.exit_code, result.stderr) == (
            1,
            f"error: {latin}:3:7: byte 0xe9 is not UTF-8 (save the file as UTF-8)\n",
        )
        huge = world.tmp / "huge.md"
        huge.write_bytes(b"x" * ((1 << 20) + 1))
        result = run(base, url, huge)
        assert result.exit_code == 1 and "larger than 1 MiB, which no digest is" in result.stderr
        if Path("/dev/zero").exists():
            zero = run(base, url, Path("/dev/zero"))
            assert zero.exit_code == 1 and "larger than 1 MiB" in zero.stderr
        nul = world.tmp / "nul.md"
        nul.write_text(base.text.replace("](https://example.com/posts", "](\x00https://example.com/posts"))
        for extra in (("--dry-run",), ()):
            result = run(base, url, nul, *extra)
            assert result.exit_code == 1 and f"{nul}:7: control character U+0000 in the line" in result.stderr
        assert snapshot(url) == before
        for name in ("0000-03", "2024-13", "March"):
            result = runner.invoke(
                cli.app,
                ["--config", str(base.config), "digest", "import", str(latin), "--digest", name],
                env={"AGGREGATOR_DATABASE_URL": url},
            )
            assert result.exit_code == 2 and "--digest" in result.output and "YYYY-MM" in result.output
