"""Build the sample weekly email in this folder from invented candidates (English, Korean, Japanese).

Run from the repository's root, then take the PNG of its HTML part with headless Chromium:

    .venv/bin/python docs/weekly_email_sample.py
    chromium --headless --no-sandbox --hide-scrollbars --window-size=760,1640 \
        --screenshot=docs/weekly-email.png docs/weekly-email.html

Every title, label, address and link here is made up for the sample; the sections are those of the
repository's feeds.yaml. The message goes through the same code as ``aggregator email weekly``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.config import load_configuration
from aggregator.mail.message import fitted, message
from aggregator.mail.week import build_content, window
from aggregator.store.mail import FeedRow, WeekRow

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
SENDER = "digest-bot@example.org"

#: (title, label, feed, section, suggested?, reason, score, text)
INVENTED = [
    (
        "Speculative decoding halves the cost of serving our 70B model",
        "Lumen Labs",
        "lumen",
        "research/mlops",
        True,
        "cues: speculative decoding, serving, latency",
        8.5,
        "We describe how a small draft model proposes tokens that the large model verifies in one pass, "
        "cutting the cost per request in half without changing the output distribution.",
    ),
    (
        "한국어 대화 모델의 안전성 평가: 새로운 벤치마크 공개",
        "한빛 AI 연구소",
        "hanbit",
        "research/nlp",
        True,
        "cues: 벤치마크, 대화 모델 (label: research lab)",
        7.9,
        "한국어 대화 모델이 위험한 요청에 어떻게 답하는지 측정하는 3만 개의 문항을 공개합니다. "
        "평가 방법과 주요 모델의 결과를 함께 소개합니다.",
    ),
    (
        "大規模言語モデルの日本語評価セットを公開しました",
        "さくらML",
        "sakura-ml",
        "research/nlp",
        True,
        "cues: 評価, 言語モデル",
        7.1,
        "日本語の読解と推論を測る新しい評価セットを公開しました。作成の手順と、公開モデルでの結果を紹介します。",
    ),
    (
        "How a grocery chain forecasts demand for 40,000 products",
        "Northwind Retail",
        "northwind",
        "business/recsys",
        True,
        "cues: forecasting, retail (feed hint: business)",
        6.4,
        "A walk through the features, the model and the monitoring behind daily forecasts for every store, "
        "and what changed when the pandemic broke every seasonal pattern.",
    ),
    (
        "추천 시스템 A/B 테스트, 우리가 틀렸던 다섯 가지",
        "오렌지 커머스",
        "orange",
        "business/recsys",
        True,
        "cues: 추천, A/B 테스트",
        5.2,
        "추천 모델을 바꿀 때마다 실험을 했지만 결과를 잘못 읽은 경우가 많았습니다. "
        "그 다섯 가지 사례와 고친 방법을 정리했습니다.",
    ),
    (
        "Fine-tuning vision models on a single GPU: a practical guide",
        "Pixel Forge",
        "pixelforge",
        "research/cv",
        False,
        None,
        None,
        "Low-rank adapters, mixed precision and gradient checkpointing let a 1B-parameter vision model "
        "train on one consumer GPU; here are the settings that worked for us.",
    ),
    (
        "Our notes from the re:Invent keynote",
        "Cloud Notes",
        "cloudnotes",
        None,
        False,
        None,
        None,
        "Everything announced for machine learning this year, with links to the sessions worth watching.",
    ),
]


def rows() -> list[WeekRow]:
    out = []
    for i, (title, label, feed, section, suggested, reason, score, text) in enumerate(INVENTED, start=101):
        out.append(
            WeekRow(
                id=i,
                title=title,
                url=f"https://{feed}.example.com/posts/{i}",
                feed=feed,
                label=label,
                published_at=NOW - timedelta(days=1 + i % 5, hours=i % 7),
                first_seen_at=NOW - timedelta(days=1),
                text=text,
                section=section,
                suggested=suggested,
                reason=reason,
                score=score,
                group_id=101 if i in (101, 108) else None,
            )
        )
    # the same post, cross-posted to a second feed: shown once, with its other route
    out.append(
        WeekRow(
            id=108,
            title=INVENTED[0][0],
            url="https://medium.example.com/lumen/speculative",
            feed="lumen-medium",
            label="Lumen Labs",
            published_at=NOW - timedelta(days=2),
            first_seen_at=NOW - timedelta(hours=20),
            text=INVENTED[0][7],
            section="research/mlops",
            suggested=True,
            reason=None,
            score=8.0,
            group_id=101,
        )
    )
    return out


def feeds() -> list[FeedRow]:
    return [
        FeedRow("oldblog", "Quiet Corp", 0, None, None, NOW - timedelta(days=60), NOW - timedelta(days=400),
                NOW - timedelta(days=45)),
        FeedRow("flaky", "Flaky AI", 4, "HTTP 503 Service Unavailable (retry after 1 hour)", None, None,
                NOW - timedelta(days=100), NOW - timedelta(days=3)),
    ]  # fmt: skip


def main() -> None:
    config = load_configuration(Path("feeds.yaml"))
    win = window("2026-W50", config.email)
    draft = ("2026-12", "draft", [("research/nlp", 4), ("business/recsys", 2), ("research/mlops", 1)])

    def content_for(cap: int):  # type: ignore[no-untyped-def]
        return build_content(win, rows(), feeds(), draft, config.taxonomy, NOW, cap=cap)

    _, rendered, _ = fitted(content_for, sender=SENDER, date=NOW)
    msg = message(
        rendered,
        sender=SENDER,
        to="curators@example.org",
        message_id="<2026W50.sample@example.org>",
        date=NOW,
    )
    (HERE / "weekly-email.eml").write_bytes(msg.as_bytes())
    (HERE / "weekly-email.html").write_text(rendered.html, encoding="utf-8")
    print(rendered.subject)


if __name__ == "__main__":
    main()
