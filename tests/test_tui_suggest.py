"""The triage screen with suggestions: most important first, the picker on the suggested section, the
suggestion and score in the article view, a promotion re-suggesting the rows on screen. Pilot-driven."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from aggregator.service import Service
from aggregator.service.suggest import engine_for
from aggregator.store.tables import candidates
from aggregator.triage.sections import default_section
from aggregator.tui import TriageApp
from aggregator.tui.article import ArticleScreen
from aggregator.tui.dialogs import SectionPicker
from tests.fixture_server import FixtureServer
from tests.stock import Stock, stock
from tests.test_tui import FEEDS, _item, current, goto, press, run, titles


@pytest.fixture
def st(server: FixtureServer, tmp_path: Path, database_url: str) -> Iterator[Stock]:
    result = stock(server, tmp_path, database_url, FEEDS, hints={"alpha": "aws", "beta": "business/mlops"})
    Service(result.app).suggest.backfill()
    yield result
    result.app.close()


def suggested(st: Stock, title: str) -> str:
    with st.app.read() as s:
        value = s.execute(
            sa.select(candidates.c.suggested_section).where(candidates.c.id == st.id(title))
        ).scalar_one()
    assert isinstance(value, str)
    return value


def test_the_picker_prefers_the_promoted_section_then_the_suggestion_then_the_hint(st: Stock) -> None:
    taxonomy = st.app.taxonomy
    assert default_section(taxonomy, _item(section_hint="aws"), None, "business/nlp") == "business/nlp"
    assert default_section(taxonomy, _item(section="research/cv"), None, "business/nlp") == "research/cv"
    assert default_section(taxonomy, _item(section_hint="aws"), None, "gone/section") == "aws/cv"


def test_the_screen_lists_by_score_and_the_picker_starts_on_the_suggestion(st: Stock) -> None:
    with st.app.read() as s:
        by_score = [
            r.title
            for r in s.execute(
                sa.select(candidates.c.title).order_by(
                    candidates.c.score.desc(), candidates.c.published_at.desc(), candidates.c.id.desc()
                )
            )
        ]
    expected = suggested(st, "Tokenizers explained")

    async def scenario(pilot: Any, app: TriageApp) -> None:
        assert titles(app) == by_score  # most important first
        await goto(pilot, "Tokenizers explained")
        await press(pilot, "enter")
        assert isinstance(app.screen, ArticleScreen)
        shown = app.screen.text
        assert "suggested    " in shown and "why          " in shown and "score        " in shown
        assert "+40 base" in shown
        await press(pilot, "q")
        await press(pilot, "p")
        assert isinstance(app.screen, SectionPicker)
        assert app.screen.highlighted == expected  # the suggestion, over alpha's hint
        await press(pilot, "escape")

    run(st, scenario)


def test_a_promotion_on_the_screen_re_suggests_the_rows_it_shows(st: Stock) -> None:
    engine = engine_for(st.app)
    before = st.clock()
    st.clock.advance(timedelta(hours=1))

    async def scenario(pilot: Any, app: TriageApp) -> None:
        await goto(pilot, "Vector search in production")
        await press(pilot, "p", "enter", "enter")
        assert current(app).title != "Vector search in production"

    run(st, scenario)
    assert engine.suggester is not None and engine.suggester.history["beta"]
    with st.app.read() as s:
        stamps = dict(s.execute(sa.select(candidates.c.title, candidates.c.suggested_at)).tuples().all())
    assert stamps.pop("Vector search in production") == before  # promoted: not suggested again
    assert set(stamps.values()) == {st.clock()}  # every other row on screen: with the new example
