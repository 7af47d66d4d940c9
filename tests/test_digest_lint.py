"""The pure lint analysis: an item published long before its issue's month."""

from __future__ import annotations

from datetime import date

import pytest

from aggregator.digest.lint import LintItem, lint_findings


def item(published: date | None) -> LintItem:
    return LintItem(
        id=7, issue="2026-12", section="research/nlp", title="A post", url="https://example.org/p",
        canonical_url="https://example.org/p", group_id=7, dated=True, published=published,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("published", "flagged"),
    [
        (date(2009, 5, 1), True),
        (date(2018, 11, 30), True),
        (date(2026, 9, 1), True),  # 91 days before 2026-12-01
        (date(2026, 9, 2), False),  # 90 days before: the limit itself passes
        (date(2026, 11, 30), False),
        (date(2026, 12, 31), False),
        (None, False),  # a date from the digest import or first sight
    ],
)
def test_long_before_the_issue_s_month(published: date | None, flagged: bool) -> None:
    findings = lint_findings("2026-12", [item(published)], [], ["research/nlp"])
    assert [f.kind for f in findings] == (["long_before"] if flagged else [])
    if flagged:
        assert findings[0].message == (
            f"item 7 (A post) was published {published}, long before 2026-12 "
            "(check it belongs here, or move it)"
        )
