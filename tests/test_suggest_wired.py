"""Suggestions wired in: stored after polls, learned from promotions, backfilled, cross-posts grouped.

Real feeds over HTTP on 127.0.0.1, a real poll, real SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator.service import Service
from aggregator.service.suggest import engine_for
from aggregator.store.tables import candidates
from aggregator.triage_types import QueueQuery
from tests import feedgen
from tests.fixture_server import FixtureServer
from tests.stock import T0, Stock, stock

BODY = (
    "We deployed the ranking model behind a SageMaker endpoint for real-time inference, cut latency "
    "by half with batching, and moved the feature pipeline to a managed store so that training and "
    "serving read the same values. The recommender now serves forty million users every day. "
)


@pytest.fixture
def st(server: FixtureServer, tmp_path: Path, database_url: str) -> Iterator[Stock]:
    result = stock(
        server,
        tmp_path,
        database_url,
        {
            "alpha": ["Serving a recommender with SageMaker", "Tokenizers explained"],
            "beta": ["A feature store"],
        },
        hints={"alpha": "business"},
    )
    yield result
    result.app.close()


def columns(st: Stock, cid: int) -> sa.Row[tuple[object, ...]]:
    c = candidates.c
    with st.app.read() as s:
        return s.execute(
            sa.select(c.suggested_section, c.suggestion_confidence, c.suggestion_reason, c.score,
                      c.score_reasons, c.suggested_at, c.group_id).where(c.id == cid)
        ).one()  # fmt: skip


def serve(server: FixtureServer, name: str, entries: list[feedgen.Entry]) -> None:
    server.add(f"/{name}.xml", feedgen.rss(f"{name} blog", server.base_url, entries))


def entry(
    server: FixtureServer, site: str, n: int, title: str, *, days: int, body: str = BODY
) -> feedgen.Entry:
    link = server.url(f"/{site}/p/{n}")
    return feedgen.Entry(
        guid=link, title=title, link=link, published=T0 - timedelta(days=days),
        summary=title, content=f"<p>{body * 3}</p>",
    )  # fmt: skip


def test_a_backfill_suggests_and_scores_every_candidate_stored_before_once(st: Stock) -> None:
    service = Service(st.app)
    cid = st.id("Serving a recommender with SageMaker")
    assert columns(st, cid).suggested_at is None  # polled before suggestions were wired
    assert service.suggest.backfill() == 3
    row = columns(st, cid)
    known = {full for section in st.app.taxonomy for full in section.full_ids()}
    assert row.suggested_section in known and row.suggested_section.startswith("business/")
    assert 0 < row.suggestion_confidence <= 1 and "→" in row.suggestion_reason
    assert 0 <= row.score <= 100 and row.suggested_at == st.clock()
    assert any("base" in r["phrase"] for r in row.score_reasons)
    assert service.suggest.backfill() == 0  # nothing left to do
    assert service.suggest.backfill(everything=True) == 3


def test_a_poll_stores_suggestions_for_its_new_candidates(st: Stock, server: FixtureServer) -> None:
    service = Service(st.app)
    serve(server, "beta", [entry(server, "beta", 9, "Recommender systems at scale", days=0)])
    st.clock.advance(timedelta(hours=2))
    service.polling.poll(due_only=False, extract=False)
    with st.app.read() as s:
        new = s.execute(
            sa.select(candidates.c.id).where(candidates.c.title == "Recommender systems at scale")
        ).scalar_one()
    row = columns(st, new)
    assert row.suggested_section is not None and row.score is not None
    assert row.suggested_at == st.clock()
    stored = service.suggest.of(new)
    assert stored is not None and stored.section == row.suggested_section
    assert stored.explain().startswith("+40 base")


def test_a_promotion_reaches_the_next_suggestion_of_a_running_process(
    st: Stock, server: FixtureServer
) -> None:
    service = Service(st.app)
    service.suggest.backfill()
    engine = engine_for(st.app)
    assert engine.suggester is not None and not engine.suggester.history.get("beta")
    service.triage.promote([st.id("A feature store")], section="research/nlp", curator="ana")
    serve(
        server, "beta", [entry(server, "beta", 7, "Another store of features", days=0, body="Words. " * 30)]
    )
    st.clock.advance(timedelta(hours=2))
    service.polling.poll(due_only=False, extract=False)
    assert engine.suggester.history["beta"]["research/nlp"] == 1  # learned from the store, no restart
    with st.app.read() as s:
        new = s.execute(
            sa.select(candidates.c.id).where(candidates.c.title == "Another store of features")
        ).scalar_one()
    stored = service.suggest.of(new)
    assert stored is not None and stored.section is not None


def test_an_unpromotion_or_a_new_section_reaches_a_running_process_too(st: Stock) -> None:
    """What the engine learned is read again when a digest item it learned is taken out or moved."""
    service = Service(st.app)
    engine = engine_for(st.app)
    store_id = st.id("A feature store")
    service.triage.promote([store_id], section="research/nlp", curator="ana")
    service.suggest.refresh([st.id("Tokenizers explained")])
    assert engine.suggester is not None and engine.suggester.history["beta"] == {"research/nlp": 1}
    service.triage.promote([store_id], section="business/recsys", curator="ana")  # moved, same item
    service.suggest.refresh([st.id("Tokenizers explained")])
    assert engine.suggester.history["beta"] == {"business/recsys": 1}
    service.triage.unpromote([store_id], curator="ana")
    service.suggest.refresh([st.id("Tokenizers explained")])
    assert not engine.suggester.history.get("beta")  # forgotten without a restart
    assert len(engine.suggester.examples) == 0


def test_cross_posts_group_under_the_earliest_and_are_listed_as_routes(
    st: Stock, server: FixtureServer
) -> None:
    service = Service(st.app)
    title = "How we serve forty million recommendations a day with SageMaker"
    serve(server, "alpha", [entry(server, "alpha", 5, title, days=3)])
    serve(server, "beta", [entry(server, "beta", 6, title + " (mirror)", days=1)])
    st.clock.advance(timedelta(hours=2))
    service.polling.poll(due_only=False, extract=False)
    with st.app.read() as s:
        rows = dict(
            s.execute(
                sa.select(candidates.c.title, candidates.c.id).where(candidates.c.title.like("How we serve%"))
            )
            .tuples()
            .all()
        )
    first, mirror = rows[title], rows[title + " (mirror)"]
    assert columns(st, first).group_id == first and columns(st, mirror).group_id == first
    stored = service.suggest.of(mirror)
    assert stored is not None and stored.routes[0][:2] == (first, "alpha")
    assert [r[:2] for r in service.suggest.of(first).routes] == [(mirror, "beta")]  # type: ignore[union-attr]
    listed = {item.id: item for item in service.queue.items(QueueQuery(limit=100))}
    assert first in listed and mirror not in listed  # the article once, its other route named
    assert listed[first].routes == ("beta",)
    service.triage.shortlist([mirror], curator="ana")  # a route decided on is listed as well
    assert mirror in {item.id for item in service.queue.items(QueueQuery(statuses=("shortlisted",)))}


def test_digest_lint_shows_a_cross_post_group_once_naming_its_primary(
    st: Stock, server: FixtureServer
) -> None:
    service = Service(st.app)
    title = "How we serve forty million recommendations a day with SageMaker"
    serve(server, "alpha", [entry(server, "alpha", 5, title, days=3)])
    serve(server, "beta", [entry(server, "beta", 6, "Forty million recommendations a day, reposted", days=1)])
    st.clock.advance(timedelta(hours=2))
    service.polling.poll(due_only=False, extract=False)
    with st.app.read() as s:
        ids = dict(s.execute(sa.select(candidates.c.title, candidates.c.id)).tuples().all())
    first, repost = ids[title], ids["Forty million recommendations a day, reposted"]
    assert columns(st, repost).group_id == first  # near-duplicate text, across feeds
    service.triage.promote([repost], section="business/recsys", digest="2024-03", curator="ana")
    service.triage.promote([first], section="business/mlops", digest="2024-03", curator="ana")
    (duplicate,) = [f for f in service.digests.lint("2024-03") if f.kind == "duplicate"]
    assert duplicate.ids == (first, repost)  # once, the primary first
    assert f"{first} (business/mlops, primary)" in duplicate.message
    assert f"keep the primary, {first}" in duplicate.message


def test_stored_texts_are_found_by_the_url_as_published_or_its_canonical_form(st: Stock) -> None:
    service = Service(st.app)
    with st.app.read() as s:
        url = s.execute(
            sa.select(candidates.c.url).where(candidates.c.id == st.id("A feature store"))
        ).scalar_one()
    variant = url.replace("http://", "https://") + "?utm_source=digest"
    texts = service.suggest.stored_texts([url, variant, "https://elsewhere.example/post"])
    assert set(texts) == {url, variant}
    assert texts[url].startswith("A feature store. Body text of the post.")


def test_a_database_failure_in_the_suggestions_after_a_poll_is_one_log_line(
    st: Stock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from aggregator.errors import StorageError
    from aggregator.service import suggest

    class Busy:
        def refresh(self, *args: object, **kwargs: object) -> int:
            raise StorageError("the database x.sqlite3 is busy (another process holds its write lock)")

    monkeypatch.setattr(suggest, "engine_for", lambda app: Busy())
    caplog.set_level("WARNING", logger="aggregator.service.suggest")
    assert Service(st.app).suggest.refresh(quietly=True) == 0
    [record] = [r for r in caplog.records if r.name == "aggregator.service.suggest"]
    assert record.levelname == "WARNING" and record.exc_info is None
    assert record.getMessage() == (
        "suggestions not updated: the database x.sqlite3 is busy (another process holds its write lock)"
    )
    with pytest.raises(StorageError):  # a command that asked for suggestions hears of it
        Service(st.app).suggest.refresh()
