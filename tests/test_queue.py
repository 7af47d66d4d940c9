"""The queue: listing, filters, sort, pages and full-text search, on a real database (SQLite and PostgreSQL).

Candidates get there the production way: feeds served over HTTP on 127.0.0.1
and polled (``repo.save_poll`` indexes them), articles saved by
``articles.save_articles`` (which indexes them again), decisions made by
``triage.decisions.decide``. Expectations are computed from the stored rows, not
written down.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from aggregator.app import App, make_app
from aggregator.article_types import Article
from aggregator.config import Settings, load_config
from aggregator.searchtext import MAX_TEXT_CHARS, document
from aggregator.service.polling import run_poll
from aggregator.store import articles as article_store
from aggregator.store import db
from aggregator.store import queue as queue_store
from aggregator.store.queue import count_queue, list_queue
from aggregator.store.search import index_candidates
from aggregator.store.tables import candidates, feeds
from aggregator.triage import decisions as triage_decisions
from aggregator.triage_types import OPEN_STATUSES, STATUSES, Decision, QueueItem, QueueQuery
from alembic import command
from tests import feedgen
from tests.fixture_server import FixtureServer
from tests.stock import Clock

T0 = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
EVERYTHING = QueueQuery(statuses=STATUSES, limit=1000)


@dataclass(frozen=True)
class Post:
    title: str
    text: str
    days_ago: float


# name -> (label, section hint, posts)
FEEDS: dict[str, tuple[str, str | None, list[Post]]] = {
    "aws-ml": ("Amazon", "aws", [
        Post("Deploy LLMs with Amazon SageMaker", "SageMaker endpoints serve large models.", 1),
        Post("Training at scale on Trainium", "Distributed training with Neuron.", 3),
        Post("Cost-efficient MLOps pipelines", "Pipelines that retrain every night.", 5),
    ]),
    "scatterlab": ("스캐터랩", "research/nlp", [
        Post("이루다 2.0 개발기", "루다가 돌아왔습니다. 생성 모델을 학습하는 방법을 소개합니다.", 2),
        Post("추천 시스템 개선 이야기", "추천시스템을 개선한 경험을 나눕니다.", 4),
    ]),
    "mercari": ("メルカリ", None, [
        Post("生成モデルの学習基盤", "大規模な生成モデルの学習を高速化しました。", 2),
        Post("検索の改善", "吾輩は猫である。検索システムの話です。", 6),
    ]),
    "alpha": ("Alpha", "business/mlops", [
        Post("Fortuna for uncertainty", "We open-sourced **Fortuna**, a library.", 7),
        Post("Feature store lessons", "What we learned running a feature store.", 8),
        Post("Feature store lessons, part 2", "More on the feature store.", 8),  # same date: ties
    ]),
}  # fmt: skip


@dataclass
class Queue:
    app: App
    clock: Clock
    server: FixtureServer
    config_path: Path
    ids: dict[str, int]

    def list(self, query: QueueQuery = QueueQuery(), now: datetime | None = None) -> list[QueueItem]:
        with self.app.read() as s:
            return list_queue(s, query, now or self.clock())

    def count(self, query: QueueQuery = QueueQuery(), now: datetime | None = None, **kw: int) -> int:
        with self.app.read() as s:
            return count_queue(s, query, now or self.clock(), **kw)

    def titles(self, query: QueueQuery) -> list[str]:
        return [item.title for item in self.list(query)]

    def decide(self, titles: list[str], action: str, **options: object) -> None:
        with self.app.write() as s:
            triage_decisions.decide(
                s, [self.ids[t] for t in titles], Decision(action, **options),  # type: ignore[arg-type]
                curator="tester", now=self.clock(), section_ids=self.app.config.promotable_sections(),
            )  # fmt: skip

    def rows(self) -> list[sa.Row]:  # type: ignore[type-arg]
        with self.app.read() as s:
            stmt = sa.select(candidates, feeds.c.name.label("feed_name")).join(
                feeds, feeds.c.id == candidates.c.feed_id
            )
            return list(s.execute(stmt).all())


def rss(name: str, posts: list[Post], base: str) -> bytes:
    entries = [
        feedgen.Entry(
            guid=f"{base}/{name}/{i}",
            title=post.title,
            link=f"{base}/{name}/{i}",
            published=T0 - timedelta(days=post.days_ago),
            summary=post.text[:40],
            content=f"<p>{post.text}</p>",
        )
        for i, post in enumerate(posts)
    ]
    return feedgen.rss(f"{name} blog", base, entries)


def build(server: FixtureServer, tmp_path: Path, database_url: str) -> Queue:
    pairs = []
    for name, (_, _, posts) in FEEDS.items():
        server.add(f"/{name}.xml", rss(name, posts, server.base_url))
        pairs.append((name, server.url(f"/{name}.xml")))
    text = feedgen.feeds_yaml(pairs)
    for name, (label, hint, _) in FEEDS.items():
        extra = f"    section_hint: {hint}\n" if hint else ""
        text = text.replace(f"    label: {name.title()}\n", f"    label: {label}\n{extra}")
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    clock = Clock(T0)
    app = make_app(
        Settings(database_url=database_url, data_dir=tmp_path / "data"), load_config(path), config_path=path,
        clock=clock, rng=random.Random(3), parse_workers=0,
    )  # fmt: skip
    app.sync_feeds()
    run_poll(app, due_only=False)
    with app.read() as s:
        ids = {r.title: r.id for r in s.execute(sa.select(candidates.c.id, candidates.c.title))}
    assert len(ids) == sum(len(posts) for _, _, posts in FEEDS.values())
    return Queue(app, clock, server, path, ids)


@pytest.fixture
def q(server: FixtureServer, tmp_path: Path, database_url: str) -> Iterator[Queue]:
    queue = build(server, tmp_path, database_url)
    try:
        yield queue
    finally:
        queue.app.close()


@pytest.fixture(params=["walk", "ids"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a search runs: riding along the walk in order, or driven by the matches' ids."""
    if request.param == "walk":
        monkeypatch.setattr(queue_store, "MAX_DRIVING_MATCHES", 0)
    else:
        monkeypatch.setattr(queue_store, "_few_matches", lambda dialect, total, reach: 10_000)
    return str(request.param)


def newest_first(rows: list[sa.Row]) -> list[int]:  # type: ignore[type-arg]
    return [r.id for r in sorted(rows, key=lambda r: (r.published_at, r.id), reverse=True)]


# -- listing, filters, order, pages ---------------------------------------------------


def test_default_listing_is_what_needs_a_decision_newest_first(q: Queue) -> None:
    q.decide(["Training at scale on Trainium"], "reject")
    q.decide(["추천 시스템 개선 이야기"], "shortlist")
    q.decide(["検索の改善"], "snooze", until=T0 + timedelta(days=3))
    q.decide(["Fortuna for uncertainty"], "promote", section="business/mlops", digest="2024-03")
    items = q.list()
    open_rows = [r for r in q.rows() if r.status in OPEN_STATUSES]
    assert [i.id for i in items] == newest_first(open_rows)
    assert {i.status for i in items} == {"new", "shortlisted"}
    assert q.count() == len(open_rows)
    ruda = next(i for i in items if i.title == "이루다 2.0 개발기")
    assert (ruda.feed_name, ruda.label, ruda.section_hint) == ("scatterlab", "스캐터랩", "research/nlp")
    assert ruda.word_count is None and ruda.extract_status is None and ruda.version == 0
    shortlisted = next(i for i in items if i.status == "shortlisted")
    assert shortlisted.version == 1 and shortlisted.decided_by == "tester"


def test_ties_on_the_date_are_broken_by_id_newest_first(q: Queue) -> None:
    ids = [q.ids["Feature store lessons"], q.ids["Feature store lessons, part 2"]]
    listed = [i.id for i in q.list(EVERYTHING) if i.id in ids]
    assert listed == sorted(ids, reverse=True)


def test_each_status_and_all(q: Queue) -> None:
    q.decide(["Training at scale on Trainium"], "reject")
    q.decide(["추천 시스템 개선 이야기"], "shortlist")
    q.decide(
        ["Fortuna for uncertainty"], "promote", section="business/mlops", digest="2024-03", notes=("why",)
    )
    rows = q.rows()
    for status in STATUSES:
        query = QueueQuery(statuses=(status,), limit=100)
        assert [i.id for i in q.list(query)] == newest_first([r for r in rows if r.status == status])
        assert q.count(query) == sum(r.status == status for r in rows)
    assert [i.id for i in q.list(EVERYTHING)] == newest_first(rows)
    promoted = q.list(QueueQuery(statuses=("promoted",)))
    assert [(i.digest, i.section, i.notes) for i in promoted] == [("2024-03", "business/mlops", ("why",))]
    with pytest.raises(ValueError, match="unknown status 'done'"):
        q.list(QueueQuery(statuses=("done",)))  # type: ignore[arg-type]


def test_feeds_by_name(q: Queue) -> None:
    rows = q.rows()
    query = replace(EVERYTHING, feeds=("mercari", "alpha"))
    assert [i.id for i in q.list(query)] == newest_first([r for r in rows if r.feed_name in query.feeds])
    assert q.list(replace(EVERYTHING, feeds=("no-such-feed",))) == []
    assert q.count(replace(EVERYTHING, feeds=("no-such-feed",))) == 0


def test_section_is_a_promoted_items_else_its_feeds_hint_and_ids_nest(q: Queue) -> None:
    # An AWS post promoted into a business section is no longer in "aws".
    q.decide(["Cost-efficient MLOps pipelines"], "promote", section="business/mlops", digest="2024-03")

    def section(name: str) -> set[str]:
        found = q.titles(replace(EVERYTHING, section=name))
        assert q.count(replace(EVERYTHING, section=name)) == len(found)
        return set(found)

    aws = {"Deploy LLMs with Amazon SageMaker", "Training at scale on Trainium"}
    assert section("aws") == aws
    assert section("aws/mlops") == set()  # the feeds are hinted only "aws": not listed under aws/mlops
    business = {p.title for p in FEEDS["alpha"][2]} | {"Cost-efficient MLOps pipelines"}
    assert section("business") == business
    assert section("business/mlops") == business
    assert section("business/cv") == set()
    assert section("research") == {p.title for p in FEEDS["scatterlab"][2]}
    assert section("research/cv") == set()


def test_since(q: Queue) -> None:
    since = T0 - timedelta(days=4)
    rows = [r for r in q.rows() if r.published_at >= since]
    assert [i.id for i in q.list(replace(EVERYTHING, since=since))] == newest_first(rows)


def test_sort_by_feed_is_by_feed_name_then_newest_first(q: Queue) -> None:
    rows = q.rows()
    expected = [
        r.id for r in sorted(rows, key=lambda r: (r.published_at, r.id), reverse=True)
    ]  # newest first, then a stable sort by feed name
    expected.sort(key=lambda i: next(r.feed_name for r in rows if r.id == i))
    assert [i.id for i in q.list(replace(EVERYTHING, sort="feed"))] == expected


@pytest.mark.parametrize("sort", ["date", "feed"])
def test_pages_cover_the_queue_once(q: Queue, sort: str) -> None:
    whole = [i.id for i in q.list(replace(EVERYTHING, sort=sort))]  # type: ignore[arg-type]
    pages: list[int] = []
    for offset in range(0, len(whole) + 3, 3):
        pages += [i.id for i in q.list(replace(EVERYTHING, sort=sort, limit=3, offset=offset))]  # type: ignore[arg-type]
    assert pages == whole
    assert q.list(replace(EVERYTHING, offset=len(whole))) == []
    assert q.count(EVERYTHING) == len(whole)
    assert q.count(EVERYTHING, at_most=4) == 4
    assert q.count(EVERYTHING, at_most=len(whole) + 10) == len(whole)


def test_a_snooze_that_has_run_out_is_new_again(q: Queue) -> None:
    title = "検索の改善"
    until = T0 + timedelta(days=2)
    q.decide([title], "snooze", until=until)
    before, after = until - timedelta(minutes=1), until + timedelta(minutes=1)

    def statuses(now: datetime, query: QueueQuery) -> dict[str, str]:
        return {i.title: i.status for i in q.list(query, now=now)}

    assert title not in statuses(before, QueueQuery())
    snoozed = q.list(QueueQuery(statuses=("snoozed",)), now=before)
    assert [(i.title, i.snoozed_until) for i in snoozed] == [(title, until)]
    assert statuses(after, QueueQuery())[title] == "new"
    assert next(i for i in q.list(QueueQuery(), now=after) if i.title == title).snoozed_until is None
    assert q.list(QueueQuery(statuses=("snoozed",)), now=after) == []
    assert q.count(QueueQuery(statuses=("new",)), now=after) == q.count(QueueQuery(statuses=("new",))) + 1
    assert q.count(QueueQuery(statuses=("snoozed",)), now=after) == 0
    assert statuses(after, replace(EVERYTHING, statuses=("new", "snoozed")))[title] == "new"


def test_bad_limits_are_refused(q: Queue) -> None:
    with pytest.raises(ValueError, match="negative"):
        q.list(QueueQuery(offset=-1))


# -- search -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("search", "titles"),
    [
        ("sagemaker", {"Deploy LLMs with Amazon SageMaker"}),
        ("SAGEMAKER models", {"Deploy LLMs with Amazon SageMaker"}),  # "models" is in the text
        ("feature store", {"Feature store lessons", "Feature store lessons, part 2"}),
        ("Fortuna", {"Fortuna for uncertainty"}),
        ("루다", {"이루다 2.0 개발기"}),  # inside 이루다 (title) and 루다가 (text)
        ("생성 모델", {"이루다 2.0 개발기"}),
        ("추천시스템", {"추천 시스템 개선 이야기"}),  # in the text, written together
        ("生成モデル", {"生成モデルの学習基盤"}),
        ("学習を高速化", {"生成モデルの学習基盤"}),
        ("猫", {"検索の改善"}),
        ("検索", {"検索の改善"}),
        ("training", {"Training at scale on Trainium"}),
        ("training sagemaker", set()),  # every word must match
        ("zyzzyva", set()),
    ],
)
def test_search_finds_titles_and_text_in_every_language(
    q: Queue, strategy: str, search: str, titles: set[str]
) -> None:
    query = replace(EVERYTHING, search=search)
    assert set(q.titles(query)) == titles
    assert q.count(query) == len(titles)


def test_a_search_without_words_filters_nothing(q: Queue) -> None:
    assert q.titles(replace(EVERYTHING, search=" !? ")) == q.titles(EVERYTHING)


def test_search_combines_with_filters_order_and_pages(q: Queue, strategy: str) -> None:
    q.decide(["Feature store lessons"], "reject")
    query = QueueQuery(search="feature store")
    assert q.titles(query) == ["Feature store lessons, part 2"]
    assert q.titles(replace(query, statuses=("rejected",))) == ["Feature store lessons"]
    assert q.titles(replace(query, feeds=("aws-ml",))) == []
    assert q.titles(replace(EVERYTHING, search="생성")) == ["이루다 2.0 개발기"]  # Hangul, not the kanji 生成
    assert q.titles(replace(EVERYTHING, search="学習")) == ["生成モデルの学習基盤"]
    assert q.titles(replace(EVERYTHING, search="学習", section="research")) == []
    whole = q.titles(replace(EVERYTHING, search="store"))
    assert [
        t for o in range(len(whole)) for t in q.titles(replace(EVERYTHING, search="store", limit=1, offset=o))
    ] == (whole)


def test_saved_articles_and_changed_entries_are_searchable_at_once(q: Queue) -> None:
    cid = q.ids["Training at scale on Trainium"]
    assert q.titles(replace(EVERYTHING, search="トレーニング")) == []
    with q.app.write() as s:
        article_store.save_articles(s, [Article(
            candidate_id=cid, status="ok", reason=None, text_source="page",
            text="Trainium 2 でトレーニングを高速化。 Checkpoints are on the hub.", word_count=9,
            extracted_at=T0,
        )])  # fmt: skip
    query = replace(EVERYTHING, search="トレーニング checkpoints")
    assert q.titles(query) == ["Training at scale on Trainium"]
    item = q.list(query)[0]
    assert (item.word_count, item.extract_status) == (9, "ok")
    # The article replaced the feed's text in the index.
    assert q.titles(replace(EVERYTHING, search="Neuron")) == []

    # The feed edits a post's title: the next poll re-indexes it.
    posts = [
        replace(p, title="Deploy LLMs with Bedrock") if "SageMaker" in p.title else p
        for p in FEEDS["aws-ml"][2]
    ]
    q.server.add("/aws-ml.xml", rss("aws-ml", posts, q.server.base_url))
    q.clock.now += timedelta(hours=3)
    run_poll(q.app, due_only=False)
    assert q.titles(replace(EVERYTHING, search="bedrock")) == ["Deploy LLMs with Bedrock"]
    assert q.titles(replace(EVERYTHING, search="sagemaker endpoints")) == ["Deploy LLMs with Bedrock"]  # text
    assert q.titles(replace(EVERYTHING, search="amazon")) == []


def test_only_the_start_of_a_long_article_is_indexed(q: Queue) -> None:
    cid = q.ids["Feature store lessons"]
    text = "Opening words. " + "filler " * MAX_TEXT_CHARS + "buriedword"
    with q.app.write() as s:
        article_store.save_articles(s, [Article(
            candidate_id=cid, status="ok", reason=None, text_source="page", text=text, word_count=9,
            extracted_at=T0,
        )])  # fmt: skip
    assert q.titles(replace(EVERYTHING, search="opening")) == ["Feature store lessons"]
    assert q.titles(replace(EVERYTHING, search="buriedword")) == []


def test_index_candidates_repairs_a_document(q: Queue) -> None:
    cid = q.ids["Fortuna for uncertainty"]
    with q.app.write() as s:
        s.execute(sa.update(candidates).where(candidates.c.id == cid).values(title="Renamed behind our back"))
        assert q.titles(replace(EVERYTHING, search="renamed")) == []
    with q.app.write() as s:
        assert index_candidates(s, [cid, 10**9]) == 1  # a missing id is no error
    assert q.titles(replace(EVERYTHING, search="renamed")) == ["Renamed behind our back"]


MIXED = "Ωmega café naïve Москва हिन्दी ｶﾀｶﾅ ㄱㄴ 𠮷野家 人々 ラーメン 한글ᄀ ñ Straße İstanbul x² ½ ５Ｇ"


def test_every_term_of_a_document_finds_it_on_its_own(q: Queue) -> None:
    """The database's tokenizer splits a prepared document exactly where aggregator.searchtext did."""
    cid = q.ids["Fortuna for uncertainty"]
    with q.app.write() as s:
        s.execute(sa.update(candidates).where(candidates.c.id == cid).values(title=MIXED))
        index_candidates(s, [cid])
    for term in document(MIXED).split():
        assert cid in {i.id for i in q.list(replace(EVERYTHING, search=term))}, term
    assert [i.id for i in q.list(replace(EVERYTHING, search=MIXED))] == [cid]


# -- the migration back-fills ---------------------------------------------------------


def test_upgrading_to_0004_indexes_existing_candidates(tmp_path: Path, database_url: str) -> None:
    engine = db.create_engine_for(database_url)
    try:
        cfg = db.alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")
        with engine.begin() as conn:
            feed_id = conn.execute(
                sa.insert(feeds).values(
                    name="old", url="http://x.test/", config_url="http://x.test/", interval_seconds=3600,
                    created_at=T0, updated_at=T0,
                ).returning(feeds.c.id)
            ).scalar_one()  # fmt: skip
            for i, (title, content) in enumerate(
                [("Old SageMaker post", None), ("오래된 글", "<p>이루다가</p>")]
            ):
                conn.execute(
                    sa.insert(candidates).values(
                        feed_id=feed_id, entry_key=str(i), title=title, content=content,
                        content_type="text/html", published_at=T0, date_source="published", first_seen_at=T0,
                        updated_at=T0, content_hash="h",
                    )
                )  # fmt: skip
        db.ensure_schema(engine)
        with engine.connect() as s:
            found = {i.title for i in list_queue(s, QueueQuery(search="루다"), T0)}
            assert found == {"오래된 글"}
            assert [i.title for i in list_queue(s, QueueQuery(search="sagemaker"), T0)] == [
                "Old SageMaker post"
            ]
    finally:
        engine.dispose()


# -- the command ----------------------------------------------------------------------


def cli_app() -> typer.Typer:
    """``aggregator`` itself once ``queue`` is wired into it; else a Typer app with just the command."""
    from aggregator.cli import app as root

    if any(getattr(c, "name", None) == "queue" for c in root.registered_commands):
        return root
    from aggregator.cli import queue as queue_cli

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    queue_cli.register(app)
    return app


def test_queue_command_prints_json_and_a_table(q: Queue, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGGREGATOR_CONFIG", str(q.config_path))
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", str(q.app.engine.url.render_as_string(hide_password=False)))
    q.decide(["추천 시스템 개선 이야기"], "shortlist")
    runner = CliRunner()
    app = cli_app()

    result = runner.invoke(
        app, ["queue", "--json", "--search", "추천", "--status", "all"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.output)
    assert item["title"] == "추천 시스템 개선 이야기" and item["status"] == "shortlisted"
    assert item["label"] == "스캐터랩" and item["notes"] == []
    assert datetime.fromisoformat(item["published_at"]) == T0 - timedelta(days=4)
    flat = {"feed_name", "extract_status", "word_count"}  # as `feed` and a nested `article`
    assert set(item) == set(QueueItem.__dataclass_fields__) - flat | {"feed", "article"}

    result = runner.invoke(app, ["queue", "--json", "--feed", "alpha", "--sort", "feed", "--limit", "2"])
    assert [i["feed"] for i in json.loads(result.output)] == ["alpha", "alpha"]

    result = runner.invoke(app, ["queue", "--since", "2024-03-17", "--status", "new,shortlisted"])
    assert result.exit_code == 0, result.output
    since = T0.replace(hour=0) - timedelta(days=3)
    expected = newest_first([r for r in q.rows() if r.published_at >= since and r.status == "new"])
    listed = [
        int(line.split()[0])
        for line in result.output.splitlines()
        if line.split()[:1] != [] and line.split()[0].isdigit()
    ]
    assert listed == expected
    assert f"1-{len(expected)} of {len(expected)}" in result.output

    for args, message in (
        (["--status", "done"], "unknown status 'done'"),
        (["--since", "last tuesday"], "is not a date"),
        (["--section", "nowhere"], "unknown section"),
        (["--feed", "nope"], "no feed called 'nope'"),
        (["--sort", "importance"], "is not a sort"),
    ):
        result = runner.invoke(app, ["queue", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, result.output
