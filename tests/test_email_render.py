"""The weekly email's content and rendering, pure: hostile text escaped in both parts, only http(s)
links, the size cap with 1,000 candidates, the sections' order and ranks, the week's window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from aggregator.configuration import EmailSchedule
from aggregator.mail.message import MAX_BYTES, fitted, message
from aggregator.mail.values import WeekContent
from aggregator.mail.week import build_content, excerpt, window
from aggregator.store.mail import FeedRow, WeekRow
from aggregator.taxonomy import Section, Subsection, Taxonomy

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WIN = window("2026-W50", EmailSchedule(recipients=("a@example.org",), timezone="UTC"))
SUBS = tuple(Subsection(s, s.upper()) for s in ("cv", "nlp", "mlops"))
TAXONOMY = Taxonomy(
    (Section("research", "Research", subsections=SUBS), Section("business", "Business", subsections=SUBS))
)
HOSTILE = "<script>alert(1)</script> [click](javascript:alert(1)) \x1b[31mred\x1b[0m \u202eevil"


def row(
    i: int, *, title: str = "", url: str | None = "", section: str | None = "research/nlp", **kw: object
) -> WeekRow:
    values: dict[str, object] = {
        "id": i, "title": title or f"Post {i}", "url": f"https://example.com/p/{i}" if url == "" else url,
        "feed": "alpha", "label": "Alpha", "published_at": NOW - timedelta(days=2, minutes=i),
        "first_seen_at": NOW - timedelta(days=1), "text": f"Text of post {i}. " * 20, "section": section,
        "suggested": False, "reason": None, "score": None, "group_id": None,
    }  # fmt: skip
    values.update(kw)
    return WeekRow(**values)  # type: ignore[arg-type]


def content(rows: list[WeekRow], feeds: list[FeedRow] = [], cap: int = 10) -> WeekContent:  # noqa: B006
    return build_content(
        WIN, rows, feeds, ("2026-12", "draft", [("research/nlp", 3)]), TAXONOMY, NOW, cap=cap
    )


def parts(rows: list[WeekRow], feeds: list[FeedRow] = []) -> tuple[EmailMessage, str, str, int]:  # noqa: B006
    _, rendered, size = fitted(lambda cap: content(rows, feeds, cap), sender="bot@example.org", date=NOW)
    msg = message(
        rendered, sender="bot@example.org", to="a@example.org", message_id="<x@example.org>", date=NOW
    )
    parsed = BytesParser(policy=policy.default).parsebytes(msg.as_bytes())
    assert isinstance(parsed, EmailMessage)
    text, html = (p.get_content() for p in parsed.iter_parts())
    return parsed, text, html, size


def test_a_hostile_title_label_reason_and_error_are_text_in_both_parts() -> None:
    rows = [
        row(1, title=HOSTILE, label="<b>Evil</b>\x1b[2J", reason=HOSTILE, suggested=True, score=1.0),
        row(2, title="javascript link", url="javascript:alert(2)"),
        row(3, title="data link", url="data:text/html,<script>alert(3)</script>"),
    ]
    feeds = [FeedRow("gamma", "<i>G</i>", 2, HOSTILE, None, NOW, NOW - timedelta(days=90), NOW)]
    msg, text, html, _ = parts(rows, feeds)
    for part in (text, html, str(msg["Subject"])):
        assert "\x1b" not in part and "\u202e" not in part
    assert "<script" not in html.lower() and "&lt;script&gt;" in html
    assert "<b>Evil</b>" not in html and "&lt;b&gt;Evil&lt;/b&gt;" in html and "<i>G</i>" not in html
    assert 'href="javascript' not in html.lower() and 'href="data' not in html.lower()
    hrefs = [chunk.split('"', 1)[0] for chunk in html.split('href="')[1:]]
    assert hrefs and all(h.startswith("https://") for h in hrefs)
    assert "<javascript:" not in text and "<data:" not in text
    assert "<https://example.com/p/1>" in text
    assert "[click](javascript:alert(1)) [31mred[0m evil" in text  # shown as the title's text, inert


def test_a_thousand_candidates_fit_under_the_cap_with_more_in_the_queue() -> None:
    korean = "대규모 언어 모델의 추론 비용을 줄이는 방법에 대한 긴 설명 " * 20
    sections = [None, *TAXONOMY.section_ids()]
    rows = [
        row(
            i,
            title=f"{i}: 새로운 모델 발표 — 大規模言語モデル " * 4,
            text=korean,
            section=sections[i % len(sections)],
        )
        for i in range(1000)
    ]
    msg, text, html, size = parts(rows)
    assert size <= MAX_BYTES and len(msg.as_bytes()) <= MAX_BYTES
    assert str(msg["Subject"]).startswith("2026-W50: 1000 new candidates, 0 feeds failing")
    assert text.count("more in the queue") == len(sections)
    assert "more in the queue: aggregator queue --section research/nlp" in text
    assert "새로운 모델 발표" in html


def test_sections_in_feeds_yaml_order_ranked_by_score_then_newest() -> None:
    rows = [
        row(1, section="business/cv"),
        row(2, section=None),
        row(3, section="research/nlp", score=1.0),
        row(4, section="research/nlp", score=5.0),
        row(5, section="research/nlp"),
        row(6, section="research/mlops", score=2.0),
    ]
    c = content(rows, cap=2)
    assert [b.section for b in c.blocks] == ["research/nlp", "research/mlops", "business/cv", None]
    assert [i.id for i in c.blocks[0].items] == [4, 3] and c.blocks[0].more == 1
    assert c.blocks[-1].title == "No section yet" and c.blocks[-1].items[0].promote == "aggregator promote 2"
    assert c.blocks[0].items[0].promote == "aggregator promote 4 --section research/nlp"
    assert c.top_title == "Post 4"
    assert [(d.section, d.count) for d in c.draft] == [("1.2 Research / NLP", 3)]


def test_the_window_is_the_seven_days_before_the_weeks_sending_time() -> None:
    seoul = window("2026-W50", EmailSchedule(weekday="fri", time="16:30", timezone="Asia/Seoul"))
    assert seoul.end.isoformat() == "2026-12-11T16:30:00+09:00"
    assert seoul.start.isoformat() == "2026-12-04T16:30:00+09:00"
    # across a change of daylight saving time, the wall-clock time stays
    paris = window("2026-W14", EmailSchedule(weekday="mon", time="08:00", timezone="Europe/Paris"))
    assert (paris.start.utcoffset(), paris.end.utcoffset()) == (timedelta(hours=1), timedelta(hours=2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("short  text\n\twith   spaces", "short text with spaces"),
        ("word " * 100, ("word " * 44).strip() + "…"),
        ("가" * 300, "가" * 220 + "…"),
    ],
)
def test_an_excerpt_is_about_two_lines(text: str, expected: str) -> None:
    assert excerpt(text) == expected
