"""Triage decisions against a real database: the state machine, the log, undo, conflicts, frozen issues."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator.errors import ConflictError, DigestError, TriageError
from aggregator.store import triage as store
from aggregator.store.tables import candidates, decisions, digest_items, digests
from aggregator.triage import decisions as triage_decisions
from aggregator.triage import states as triage
from aggregator.triage_types import Decision
from tests.fixture_server import FixtureServer
from tests.stock import T0, Stock, stock

SECTIONS = ["research/nlp", "business/mlops", "aws/mlops"]
TITLES = ["Serving many models", "Tokenizers explained", "A feature store", "GPU scheduling"]


@pytest.fixture
def st(server: FixtureServer, tmp_path: Path, database_url: str) -> Iterator[Stock]:
    result = stock(server, tmp_path, database_url, {"alpha": TITLES[:2], "beta": TITLES[2:]})
    yield result
    result.app.close()


def decide(st: Stock, ids: list[int], decision: Decision, curator: str = "ana", **kw: object) -> object:
    with st.app.write() as s:
        return triage_decisions.decide(
            s,
            ids,
            decision,
            curator=curator,
            now=st.clock(),
            section_ids=SECTIONS,
            **kw,  # type: ignore[arg-type]
        )


def undo(st: Stock, curator: str = "ana", **kw: object) -> object:
    with st.app.write() as s:
        return triage_decisions.undo(s, curator=curator, now=st.clock(), **kw)  # type: ignore[arg-type]


def state(st: Stock, cid: int) -> tuple[str, list[str], str | None, str | None]:
    """(status, notes, digest, section) of a candidate."""
    with st.app.read() as s:
        row = s.execute(
            sa.select(candidates.c.status, candidates.c.notes, digests.c.name, digest_items.c.section)
            .select_from(candidates)
            .outerjoin(digest_items, digest_items.c.candidate_id == candidates.c.id)
            .outerjoin(digests, digests.c.id == digest_items.c.digest_id)
            .where(candidates.c.id == cid)
        ).one()
    return row[0], list(row[1]), row[2], row[3]


def test_plan_follows_the_state_machine() -> None:
    assert triage.plan("shortlist", 1, "new") == "shortlisted"
    assert triage.plan("promote", 1, "shortlisted") == "promoted"
    assert triage.plan("unpromote", 1, "promoted") == "shortlisted"
    assert triage.plan("restore", 1, "rejected") == "new"
    assert triage.plan("note", 1, "rejected") == "rejected"
    assert isinstance(triage.plan("shortlist", 1, "shortlisted"), triage.NoChange)
    refusal = triage.plan("reject", 7, "promoted")
    assert isinstance(refusal, triage.Refusal)
    assert "aggregator unpromote 7" in refusal.reason
    assert isinstance(triage.plan("unpromote", 1, "new"), triage.Refusal)


def test_shortlist_promote_unpromote_restore_and_every_step_is_logged(st: Stock) -> None:
    cid = st.id("Serving many models")
    decide(st, [cid], Decision("shortlist"))
    report = decide(
        st,
        [cid],
        Decision("promote", section="business/mlops", digest="2024-03", notes=("first", "second")),
        curator="bo",
    )
    assert state(st, cid) == ("promoted", ["first", "second"], "2024-03", "business/mlops")
    assert report.changes[0].from_status == "shortlisted"  # type: ignore[attr-defined]
    decide(st, [cid], Decision("unpromote"))
    assert state(st, cid) == ("shortlisted", ["first", "second"], None, None)
    decide(st, [cid], Decision("restore"))
    assert state(st, cid)[0] == "new"

    with st.app.read() as s:
        log = store.history(s, candidate_ids=[cid])
    assert [(d.action, d.from_status, d.to_status, d.curator) for d in reversed(log)] == [
        ("shortlist", "new", "shortlisted", "ana"),
        ("promote", "shortlisted", "promoted", "bo"),
        ("unpromote", "promoted", "shortlisted", "ana"),
        ("restore", "shortlisted", "new", "ana"),
    ]
    promote = log[2]
    assert (promote.digest, promote.section, promote.note) == ("2024-03", "business/mlops", "first\nsecond")
    assert promote.at == T0


def test_a_command_applies_to_all_its_candidates_or_to_none(st: Stock) -> None:
    a, b = st.id("Serving many models"), st.id("A feature store")
    decide(st, [b], Decision("promote", section="aws/mlops", digest="2024-03"))
    with pytest.raises(TriageError) as caught:
        decide(st, [a, b, 999_999], Decision("reject", reason="off topic"))
    message = str(caught.value)
    assert f"candidate {b} is promoted" in message and f"aggregator unpromote {b}" in message
    assert "no candidate 999999" in message
    assert state(st, a)[0] == "new"  # the valid one was not rejected either
    assert state(st, b)[0] == "promoted"


def test_a_decision_that_changes_nothing_is_reported_not_refused(st: Stock) -> None:
    a, b = st.id("Serving many models"), st.id("Tokenizers explained")
    decide(st, [a], Decision("shortlist"))
    report = decide(st, [a, b], Decision("shortlist"))
    assert [c.candidate_id for c in report.changes] == [b]  # type: ignore[attr-defined]
    assert report.unchanged == ((a, "already shortlisted"),)  # type: ignore[attr-defined]


def test_promote_checks_the_section_and_the_issue_name(st: Stock) -> None:
    cid = st.id("Serving many models")
    with pytest.raises(TriageError, match=r"unknown section 'business/ops'.*business/mlops"):
        decide(st, [cid], Decision("promote", section="business/ops"))
    with pytest.raises(TriageError, match="YYYY-MM"):
        decide(st, [cid], Decision("promote", section="business/mlops", digest="2024-13"))
    report = decide(st, [cid], Decision("promote", section="business/mlops"))
    assert report.changes[0].digest == "2024-03"  # type: ignore[attr-defined]  # the month of now


def test_promoting_again_moves_the_item_and_keeps_overrides(st: Stock) -> None:
    cid = st.id("Serving many models")
    decide(st, [cid], Decision("promote", section="business/mlops", digest="2024-03", title="**Serving**"))
    decide(st, [cid], Decision("promote", section="aws/mlops", digest="2024-04"))
    assert state(st, cid)[2:] == ("2024-04", "aws/mlops")
    with st.app.read() as s:
        assert s.execute(sa.select(digest_items.c.title)).scalar_one() == "**Serving**"
        assert s.execute(sa.select(sa.func.count()).select_from(digest_items)).scalar_one() == 1


def test_snoozed_candidates_come_back_as_new_when_their_date_passes(st: Stock) -> None:
    cid = st.id("GPU scheduling")
    with pytest.raises(TriageError, match="has passed"):
        decide(st, [cid], Decision("snooze", until=T0 - timedelta(hours=1)))
    decide(st, [cid], Decision("snooze", until=T0 + timedelta(days=3)))
    assert state(st, cid)[0] == "snoozed"
    with pytest.raises(TriageError, match="is snoozed"):
        decide(st, [cid], Decision("unpromote"))
    st.clock.advance(timedelta(days=3, seconds=1))
    report = decide(st, [cid], Decision("shortlist"))
    assert report.changes[0].from_status == "new"  # type: ignore[attr-defined]
    with st.app.read() as s:
        assert s.execute(sa.select(candidates.c.snoozed_until).where(candidates.c.id == cid)).scalar() is None


def test_notes_are_added_in_order_or_replaced(st: Stock) -> None:
    cid = st.id("Tokenizers explained")
    decide(st, [cid], Decision("note", notes=("one",)))
    decide(st, [cid], Decision("note", notes=("two",)))
    assert state(st, cid)[1] == ["one", "two"]
    decide(st, [cid], Decision("note", notes=("only",), replace_notes=True))
    assert state(st, cid)[1] == ["only"]
    with pytest.raises(TriageError, match="empty"):
        decide(st, [cid], Decision("note", notes=("  ",)))


def test_undo_reverts_a_whole_command_then_the_one_before(st: Stock) -> None:
    a, b = st.id("Serving many models"), st.id("A feature store")
    decide(st, [a], Decision("note", notes=("kept",)))
    decide(st, [a, b], Decision("promote", section="business/mlops", digest="2024-03", notes=("n",)))
    report = undo(st)
    assert {c.candidate_id for c in report.changes} == {a, b}  # type: ignore[attr-defined]
    assert state(st, a) == ("new", ["kept"], None, None)
    assert state(st, b) == ("new", [], None, None)
    undo(st)
    assert state(st, a)[1] == []
    with pytest.raises(TriageError, match="no decision left to undo"):
        undo(st)
    with st.app.read() as s:
        assert s.execute(sa.select(sa.func.count()).where(decisions.c.undone_at.is_(None))).scalar_one() == 0


def test_undo_brings_back_an_unpromoted_item_with_its_place(st: Stock) -> None:
    cid = st.id("Serving many models")
    promote = Decision("promote", section="aws/mlops", digest="2024-03", label="AWS", month="2024-02")
    decide(st, [cid], promote)
    with st.app.write() as s:
        s.execute(sa.update(digest_items).values(position=3, images=["![x](./x.png)"]))
    decide(st, [cid], Decision("unpromote"))
    undo(st)
    with st.app.read() as s:
        item = s.execute(sa.select(digest_items)).one()
    assert (item.section, item.position, item.label, item.month, item.images) == (
        "aws/mlops", 3, "AWS", "2024-02", ["![x](./x.png)"],
    )  # fmt: skip


def test_undo_never_reverts_someone_elses_later_decision(st: Stock) -> None:
    cid = st.id("Serving many models")
    decide(st, [cid], Decision("shortlist"), curator="ana")
    decide(st, [cid], Decision("reject", reason="dup"), curator="bo")
    with pytest.raises(ConflictError, match="changed again by bo"):
        undo(st, curator="ana")
    assert state(st, cid)[0] == "rejected"
    undo(st, curator="bo")
    assert state(st, cid)[0] == "shortlisted"
    undo(st, curator="ana")  # now ana's decision is the latest again
    assert state(st, cid)[0] == "new"


def test_a_decision_on_a_stale_view_is_refused_with_who_changed_it(st: Stock) -> None:
    cid = st.id("Tokenizers explained")
    with st.app.read() as s:
        seen = s.execute(sa.select(candidates.c.version).where(candidates.c.id == cid)).scalar_one()
    decide(st, [cid], Decision("reject"), curator="bo")  # bo, at the same time
    with pytest.raises(ConflictError) as caught:
        decide(st, [cid], Decision("promote", section="research/nlp"), expected_versions={cid: seen})
    assert "changed by bo at 2024-03-20 12:00 UTC" in str(caught.value)
    assert "it is rejected now" in str(caught.value)
    assert state(st, cid)[0] == "rejected"
    fresh = seen + 1
    decide(st, [cid], Decision("restore"), expected_versions={cid: fresh})
    assert state(st, cid)[0] == "new"


def test_a_published_issue_is_frozen_unless_forced(st: Stock) -> None:
    a, b = st.id("Serving many models"), st.id("A feature store")
    decide(st, [a], Decision("promote", section="business/mlops", digest="2024-02"))
    with st.app.write() as s:
        s.execute(sa.update(digests).values(status="published", published_at=T0))
    with pytest.raises(DigestError, match=r"2024-02 is published.*--force"):
        decide(st, [b], Decision("promote", section="business/mlops", digest="2024-02"))
    with pytest.raises(TriageError, match="published; add --force"):
        decide(st, [a], Decision("unpromote"))
    with pytest.raises(TriageError, match="published; add --force"):
        decide(st, [a], Decision("promote", section="aws/mlops", digest="2024-03"))
    assert state(st, a)[2:] == ("2024-02", "business/mlops")
    decide(st, [b], Decision("promote", section="business/mlops", digest="2024-02", force=True))
    assert state(st, b)[2] == "2024-02"
    with pytest.raises(ConflictError, match="would change a published digest"):
        undo(st)
    undo(st, force=True)
    assert state(st, b)[0] == "new"
