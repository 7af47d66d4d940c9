"""``aggregator digest`` through Typer's CliRunner: feeds served on 127.0.0.1, polled into a real database,
promoted with ``aggregator promote``, then listed, shown, rendered, linted, reordered, published, imported.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.main import get_command
from typer.testing import CliRunner, Result

import aggregator.cli as cli
from aggregator.app import make_app
from aggregator.config import Settings, load_config
from aggregator.digest import issues
from aggregator.digest.render import render
from aggregator.service.polling import run_poll
from aggregator.store import digest_import
from aggregator.store.tables import candidates, digest_items, digests, feeds
from tests import feedgen
from tests.fixture_server import FixtureServer

runner = CliRunner()
T0 = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
TITLES = {
    "alpha": ["Serving many models", "Tokenizers explained", "GPU scheduling"],
    "beta": ["A feature store", "Ranking at scale"],
}


ROOT = cli.app


def invoke(*args: str) -> Result:
    return runner.invoke(ROOT, list(args), catch_exceptions=False)


@pytest.fixture
def project(
    server: FixtureServer, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, int]]:
    """feeds.yaml with two feeds (one entry has no date), polled once; returns candidate ids by title."""
    pairs = []
    for name, titles in TITLES.items():
        site = server.url(f"/{name}")
        entries = [
            feedgen.Entry(f"{site}/p/{i}", t, f"{site}/p/{i}", T0 - timedelta(days=i + 1), "s", "<p>c</p>")
            for i, t in enumerate(titles)
        ]
        extra = ""
        if name == "alpha":
            extra = f"<item><title>Undated post</title><link>{site}/undated</link></item>\n"
        server.add(
            f"/{name}.xml", feedgen.rss(f"{name} blog", server.base_url, entries, extra_item_xml=extra)
        )
        pairs.append((name, server.url(f"/{name}.xml")))
    text = feedgen.feeds_yaml(pairs).replace(
        "    title: AWS ML Only\n", "    title: AWS ML Only\n    hide_labels: true\n"
    )
    (tmp_path / "feeds.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("AGGREGATOR_CURATOR", "ana")
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    app = make_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data"), load_config(tmp_path / "feeds.yaml"),
        config_path=tmp_path / "feeds.yaml", clock=lambda: T0, rng=random.Random(3), parse_workers=0,
    )  # fmt: skip
    try:
        app.sync_feeds()
        run_poll(app, due_only=False)
        with app.read() as s:
            ids = {r.title: r.id for r in s.execute(sa.select(candidates.c.id, candidates.c.title))}
    finally:
        app.close()
    yield ids


def promote(ids: list[int], section: str, *extra: str, digest: str = "2024-03") -> None:
    result = invoke("promote", *map(str, ids), "--section", section, "--digest", digest, *extra)
    assert result.exit_code == 0, result.output


def show(name: str = "2024-03") -> dict[str, Any]:
    result = invoke("digest", "show", name, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def item(name: str, cid: int) -> dict[str, Any]:
    return next(
        i for s in show(name)["sections"] for sub in s["subsections"] for i in sub["items"] if i["id"] == cid
    )


def order(name: str, section: str) -> list[int]:
    for top in show(name)["sections"]:
        for sub in top["subsections"]:
            if sub["id"] == section:
                return [item["id"] for item in sub["items"]]
    return []


def counts() -> dict[str, int]:
    engine = sa.create_engine(_url())
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (feeds, candidates, digests, digest_items)
            }
    finally:
        engine.dispose()


def _url() -> str:
    import os

    return os.environ["AGGREGATOR_DATABASE_URL"]


def digest_commands() -> list[str]:
    group: Any = get_command(ROOT)
    return sorted(group.commands["digest"].commands)


def test_the_digest_commands() -> None:
    assert digest_commands() == ["import", "lint", "list", "move", "publish", "render", "show"]


@pytest.mark.parametrize("name", digest_commands())
def test_every_digest_command_has_help_with_an_example(name: str) -> None:
    result = invoke("digest", name, "--help")
    assert result.exit_code == 0
    assert "Example: aggregator digest " + name in " ".join(result.output.split())


def test_list_show_and_render_to_a_file(project: dict[str, int], tmp_path: Path) -> None:
    assert "No digest issues yet" in invoke("digest", "list").output
    serving, tokenizers, store_ = (
        project["Serving many models"],
        project["Tokenizers explained"],
        project["A feature store"],
    )
    promote(
        [serving, tokenizers],
        "research/nlp",
        "--note",
        "first note",
        "--note",
        "second [note](https://x.test/)",
    )
    promote([store_], "aws/mlops", "--title", "A *feature* store ] with a bracket")

    listed = json.loads(invoke("digest", "list", "--json").output)
    assert [(i["name"], i["status"], i["items"], i["sections"]) for i in listed] == [
        ("2024-03", "draft", 3, {"aws/mlops": 1, "research/nlp": 2})
    ]
    table = invoke("digest", "list").output
    assert "2024-03" in table and "aws 1, research 2" in table

    shown = show()
    assert [(s["number"], [sub["number"] for sub in s["subsections"]]) for s in shown["sections"]] == [
        ("1", ["1.2"]),
        ("3", ["3.4"]),
    ]
    assert order("2024-03", "research/nlp") == [serving, tokenizers]  # newest first: day 1 before day 2
    text_view = invoke("digest", "show", "2024-03").output
    assert str(serving) in text_view and "1.2. Research / NLP" in text_view

    out = tmp_path / "out" / "2024-03.md"
    out.parent.mkdir()
    result = invoke("digest", "render", "2024-03", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    serving_url = next(i["url"] for s in shown["sections"] for sub in s["subsections"] for i in sub["items"]
                       if i["id"] == serving)  # fmt: skip
    assert text == (
        "# Test Digest\n"
        "\n"
        "## 1. Research\n"
        "### 1.2. NLP\n"
        f"* [Serving many models (Mar 2024, Alpha)]({serving_url})\n"
        "    * first note\n"
        "    * second [note](https://x.test/)\n"
        f"* [Tokenizers explained (Mar 2024, Alpha)]({serving_url.replace('/p/0', '/p/1')})\n"
        "    * first note\n"
        "    * second [note](https://x.test/)\n"
        "\n"
        "## 3. AWS ML Only\n"
        "### 3.4. Training, Inference and MLOps\n"
        "* [A *feature* store \\] with a bracket (Mar 2024)]"
        f"({serving_url.replace('alpha/p/0', 'beta/p/0')})\n"
    )
    inline = invoke("digest", "render", "2024-03", "--template", "unnumbered", "--notes", "inline").output
    assert "## Research\n### NLP\n" in inline and "/p/0): first note\n    * second [note]" in inline
    mine = tmp_path / "mine.md.j2"
    mine.write_text(
        "{% for item in digest.items %}{{ item.id }} {{ item.title }}\n{% endfor %}", encoding="utf-8"
    )
    assert invoke("digest", "render", "2024-03", "--template", str(mine)).output == (
        f"{serving} Serving many models\n{tokenizers} Tokenizers explained\n"
        f"{store_} A *feature* store ] with a bracket\n"
    )
    missing = runner.invoke(ROOT, ["digest", "render", "2024-03", "--template", "weekly"])
    assert missing.exit_code == 1 and "no digest template 'weekly'" in missing.output
    nothing = runner.invoke(ROOT, ["digest", "show", "2023-01"])
    assert nothing.exit_code == 1 and "there is no digest issue 2023-01" in nothing.output


def test_move_reorders_within_a_subsection_only(project: dict[str, int]) -> None:
    a, b, c = (project[t] for t in ("Serving many models", "Tokenizers explained", "GPU scheduling"))
    other = project["A feature store"]
    promote([a, b, c], "business/mlops")
    promote([other], "business/nlp")
    assert order("2024-03", "business/mlops") == [a, b, c]

    assert invoke("digest", "move", str(c), "--top").exit_code == 0
    assert order("2024-03", "business/mlops") == [c, a, b]
    assert invoke("digest", "move", str(c), "--after", str(b)).exit_code == 0
    assert order("2024-03", "business/mlops") == [a, b, c]
    result = invoke("digest", "move", str(b), "--before", str(a))
    assert result.exit_code == 0 and f"is now {b}, {a}, {c}" in result.output
    assert invoke("digest", "move", str(b), "--bottom").exit_code == 0
    assert order("2024-03", "business/mlops") == [a, c, b]
    # A move is logged like a decision: undo puts the order before it back, then the one before that.
    undone = invoke("undo")
    assert undone.exit_code == 0, undone.output
    assert order("2024-03", "business/mlops") == [b, a, c]
    assert invoke("digest", "move", str(b), "--bottom").exit_code == 0
    log = json.loads(invoke("log", str(b), "--json").output)
    assert [(d["action"], d["curator"], d["section"]) for d in log[:2]] == [
        ("move", "ana", "business/mlops"), ("move", "ana", "business/mlops"),
    ]  # fmt: skip
    # Every item got a position, so a later promotion goes after the curator's order.
    assert [i["position"] for s in show()["sections"] for sub in s["subsections"] for i in sub["items"]
            if sub["id"] == "business/mlops"] == [0, 1, 2]  # fmt: skip
    late = project["Ranking at scale"]
    promote([late], "business/mlops")
    assert order("2024-03", "business/mlops") == [a, c, b, late]

    across = runner.invoke(ROOT, ["digest", "move", str(a), "--before", str(other)])
    assert across.exit_code == 1
    assert "is in 2024-03 business/mlops but" in across.output and "within one subsection" in across.output
    assert order("2024-03", "business/mlops") == [a, c, b, late]
    loose = runner.invoke(ROOT, ["digest", "move", str(project["Undated post"]), "--top"])
    assert loose.exit_code == 1 and "is in no digest issue" in loose.output
    both = runner.invoke(ROOT, ["digest", "move", str(a), "--top", "--bottom"])
    assert both.exit_code == 2 and "exactly one of" in both.output


def test_publish_freezes_the_issue(project: dict[str, int]) -> None:
    a, b = project["Serving many models"], project["Tokenizers explained"]
    empty = runner.invoke(ROOT, ["digest", "publish", "2024-03"])
    assert empty.exit_code == 1 and "there is no digest issue 2024-03" in empty.output
    promote([a, b], "research/cv")
    result = invoke("digest", "publish", "2024-03")
    assert result.exit_code == 0 and "published 2024-03" in result.output
    assert json.loads(invoke("digest", "list", "--json").output)[0]["status"] == "published"

    refused = runner.invoke(ROOT, ["digest", "move", str(b), "--top"])
    assert refused.exit_code == 1 and "digest 2024-03 is published and frozen; add --force" in refused.output
    assert order("2024-03", "research/cv") == [a, b]
    assert invoke("digest", "move", str(b), "--top", "--force").exit_code == 0
    assert order("2024-03", "research/cv") == [b, a]

    again = runner.invoke(ROOT, ["digest", "publish", "2024-03"])
    assert again.exit_code == 1 and "published on" in again.output and "--force" in again.output
    path = _file("## Research\n### CV\n* [Late addition (Mar 2024)](https://lab.test/late)\n")
    frozen_import = runner.invoke(ROOT, ["digest", "import", str(path), "-d", "2024-03"])
    assert frozen_import.exit_code == 1 and "published and frozen" in frozen_import.output


def _file(text: str) -> Path:
    path = Path("import.md")
    path.write_text(text, encoding="utf-8")
    return path


def test_lint_finds_duplicates_other_issues_undated_items_and_links_that_are_not_http(
    project: dict[str, int],
) -> None:
    a, undated = project["Serving many models"], project["Undated post"]
    promote([a, undated], "research/nlp")
    clean = invoke("digest", "lint", "2024-03")
    assert clean.exit_code == 1  # the undated post
    feature = project["A feature store"]
    promote([feature], "research/cv", digest="2024-02")
    url_a, feature_url = item("2024-03", a)["url"], item("2024-02", feature)["url"]
    # The file lists the promoted post (it stays where it is), the same article again by another route
    # (a second candidate), an article of 2024-02 and a link that is not http(s).
    imported = invoke(
        "digest", "import",
        str(_file(
            "## Research\n### NLP\n"
            f"* [Serving many models (Mar 2024, Alpha)]({url_a})\n"
            f"* [Serving again (Mar 2024)]({url_a.replace('http://', 'https://')}?utm_medium=x)\n"
            "### RecSys, etc.\n"
            f"* [The feature store (Feb 2024)]({feature_url})\n"
            "* [A local file (Mar 2024)](file:///etc/passwd)\n"
        )),
        "--digest", "2024-03",
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    result = runner.invoke(ROOT, ["digest", "lint", "2024-03", "--json"])
    assert result.exit_code == 1
    findings = json.loads(result.output)
    kinds = sorted(f["kind"] for f in findings)
    assert kinds == ["duplicate", "no_date", "not_http", "other_issue"]
    by_kind = {f["kind"]: f for f in findings}
    assert a in by_kind["duplicate"]["ids"] and len(by_kind["duplicate"]["ids"]) == 2
    assert by_kind["no_date"]["ids"] == [undated]
    assert "file:///etc/passwd" in by_kind["not_http"]["message"]
    assert "is also in 2024-02" in by_kind["other_issue"]["message"]
    text = runner.invoke(ROOT, ["digest", "lint", "2024-03"]).output
    assert "duplicate:" in text and "no_date:" in text
    refused = runner.invoke(ROOT, ["digest", "publish", "2024-03"])
    assert refused.exit_code == 1 and "4 problems" in refused.output
    assert "`file:///etc/passwd`" in invoke("digest", "render", "2024-03").output


def test_import_refuses_an_unmappable_heading_and_writes_nothing(project: dict[str, int]) -> None:
    before = counts()
    path = _file(
        "# Old issue\n"
        "## Research\n"
        "### CV\n"
        "* [Kept (Jan 2024, Lab)](https://lab.test/kept)\n"
        "## Robotics\n"
        "### Arms\n"
        "* [Lost (Jan 2024)](https://lab.test/lost)\n"
    )
    result = runner.invoke(ROOT, ["digest", "import", str(path), "--digest", "2024-01"])
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert "1 problem, so nothing was imported" in out
    assert "import.md:5: '## Robotics': no section of feeds.yaml has this title" in out
    assert "its 1 item (line 7) cannot be placed" in out
    assert counts() == before
    assert "No digest issues yet" in invoke("digest", "list").output


def test_import_dry_run_then_import_then_again(project: dict[str, int]) -> None:
    path = _file(
        "# Old issue\n"
        "## 1. Research\n"
        "### 1.1. CV\n"
        "* [Second look (Jan 2024, Lab)](https://lab.test/2): a note\n"
        "    * another\n"
        "* [First look (Jan 2024)](https://lab.test/1)\n"
        "![fig](./fig.png)\n"
    )
    before = counts()
    dry = invoke("digest", "import", str(path), "--digest", "2024-01", "--dry-run")
    assert dry.exit_code == 0 and "nothing was written" in dry.output and "create" in dry.output
    assert counts() == before
    first = invoke("digest", "import", str(path), "--digest", "2024-01")
    assert first.exit_code == 0 and "2 new candidates" in first.output
    again = invoke("digest", "import", str(path), "--digest", "2024-01")
    assert "0 new candidates, 0 promoted, 0 updated, 2 unchanged" in " ".join(again.output.split())
    assert invoke("digest", "render", "2024-01", "--notes", "inline").output == (
        "# Test Digest\n"
        "\n"
        "## 1. Research\n"
        "### 1.1. CV\n"
        "* [Second look (Jan 2024, Lab)](https://lab.test/2): a note\n"
        "    * another\n"
        "* [First look (Jan 2024)](https://lab.test/1)\n"
        "![fig](./fig.png)\n"
    )
    engine = sa.create_engine(_url())
    try:
        with engine.connect() as conn:
            who = conn.execute(sa.select(digest_items.c.promoted_by).distinct()).scalars().all()
    finally:
        engine.dispose()
    assert who == ["ana"]


def test_the_import_feed_stays_out_of_feeds_status_and_poll(project: dict[str, int]) -> None:
    invoke("digest", "import", str(_file("## Research\n### CV\n* [X (Jan 2024)](https://lab.test/x)\n")),
           "--digest", "2024-01")  # fmt: skip
    status = json.loads(invoke("feeds", "status", "--json").output)
    assert {f["name"] for f in status} == {"alpha", "beta"}
    poll = runner.invoke(ROOT, ["poll", "--feed", digest_import.IMPORT_FEED])
    assert poll.exit_code == 2 and "no feed named _import" in poll.output
    listed = json.loads(invoke("candidates", "list", "--feed", digest_import.IMPORT_FEED, "--json").output)
    assert [(c["title"], c["status"], c["date_source"]) for c in listed] == [("X", "promoted", "digest")]


def test_render_matches_the_pure_renderer(project: dict[str, int], tmp_path: Path) -> None:
    promote([project["GPU scheduling"]], "aws/cv")
    app = make_app(Settings(), load_config(Path("feeds.yaml")), config_path=Path("feeds.yaml"))
    try:
        with app.read() as s:
            expected = render(
                issues.load_issue(
                    s,
                    "2024-03",
                    app.taxonomy,
                    title=app.config.digest.title,
                    preface=app.config.digest.preface,
                ),
                "trend-post",
            )
    finally:
        app.close()
    assert invoke("digest", "render", "2024-03", "-t", "trend-post").output == expected
    assert "### GPU scheduling [^ref1]\n" in expected


def test_lint_flags_items_published_long_before_the_issue_s_month(project: dict[str, int]) -> None:
    a, undated, ranking = project["Serving many models"], project["Undated post"], project["Ranking at scale"]
    promote([ranking], "research/cv", digest="2024-06")  # 2024-03-18: within 90 days of 2024-06-01
    assert invoke("digest", "lint", "2024-06").exit_code == 0
    promote([a, undated], "research/nlp", digest="2026-12")
    imported = invoke(
        "digest", "import",
        str(_file("## Research\n### NLP\n* [An old classic (Jan 2009)](https://example.org/classic)\n")),
        "--digest", "2026-12",
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    result = runner.invoke(ROOT, ["digest", "lint", "2026-12", "--json"])
    assert result.exit_code == 1
    findings = json.loads(result.output)
    # The undated post's date is the day it was first seen, the classic's the import's: neither is flagged.
    assert sorted((f["kind"], f["ids"]) for f in findings) == [("long_before", [a]), ("no_date", [undated])]
    [old] = [f for f in findings if f["kind"] == "long_before"]
    assert old["message"] == (
        f"item {a} (Serving many models) was published 2024-03-19, long before 2026-12 "
        "(check it belongs here, or move it)"
    )
