"""Cross-post grouping: pairs that must group and pairs that must not (texts written here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.suggest.grouping import Grouper, series_parts, slug_key
from aggregator.suggest.values import Posting

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

ARTICLE = (
    "Our ranking service scores every candidate item for every member in under fifty milliseconds. "
    "This post explains how we moved feature computation from nightly batch jobs to a streaming "
    "pipeline, how we keep online and offline features consistent, and what it cost. We started by "
    "measuring where the latency went: most of it was spent joining features that were computed hours "
    "earlier and cached in three different stores. We replaced the caches with one feature store fed "
    "by change data capture, added a validation step that compares online and offline values every "
    "hour, and trained the ranking model on logged features instead of recomputed ones. Click-through "
    "rose by four percent and the training-serving skew we used to chase every quarter disappeared."
)
FOLLOW_UP = (
    "Six months ago we moved our ranking features to a streaming pipeline. This follow-up reports what "
    "broke afterwards: backfills that overloaded the change data capture connectors, a schema change "
    "that silently zeroed a feature for two days, and on-call fatigue. We describe the guardrails we "
    "added, the alerts we removed, and why we now rebuild the offline store weekly from the log."
)
SERIES_INTRO = (
    "This series describes how we built our machine learning platform from scratch over three years, "
    "from the first notebook to hundreds of models in production, and what we would do differently. "
)


def posting(key: str, url: str, title: str, text: str = "", days: float = 0) -> Posting:
    return Posting(key, url, title, text, published=T0 + timedelta(days=days))


def test_url_variants_group() -> None:
    g = Grouper()
    g.add(posting("a", "https://eng.example.com/ranking-features", "Ranking features"))
    group = g.add(
        posting("b", "http://eng.example.com/ranking-features/?utm_source=rss#top", "Ranking features")
    )
    assert group.members == ("a", "b") and group.primary == "a"
    assert group.reason == "same canonical URL"


def test_the_aws_korean_edition_groups_with_the_global_post() -> None:
    g = Grouper()
    g.add(
        posting(
            "en", "https://aws.amazon.com/blogs/machine-learning/serve-llms-on-sagemaker-with-vllm/",
            "Serve LLMs on SageMaker with vLLM", ARTICLE,
        )
    )  # fmt: skip
    group = g.add(
        posting(
            "ko", "https://aws.amazon.com/ko/blogs/machine-learning/serve-llms-on-sagemaker-with-vllm/",
            "vLLM으로 SageMaker에서 LLM 서빙하기",
            "이 글에서는 vLLM으로 대규모 언어 모델을 서빙하는 방법을 소개합니다.",
            days=9,
        )
    )  # fmt: skip
    assert set(group.members) == {"en", "ko"} and group.primary == "en"


def test_a_medium_mirror_with_reformatted_text_groups_and_the_publisher_is_primary() -> None:
    mirrored = (
        "## "
        + ARTICLE.replace(". ", ".\n\n").replace("fifty", "50").upper().replace("STREAMING", "**streaming**")
        + "\n\nOriginally published at eng.example.com."
    )  # fmt: skip
    g = Grouper()
    g.add(posting("medium", "https://medium.com/example-eng/moving-ranking-features-to-streaming-3f2a9c1b7e4d",
                  "Moving ranking features to streaming", mirrored, days=-1))  # fmt: skip
    group = g.add(posting("own", "https://eng.example.com/2024/05/moving-ranking-features-to-streaming/",
                          "Moving Ranking Features to Streaming", ARTICLE))  # fmt: skip
    assert group.members == ("own", "medium")
    assert group.primary == "own"  # the publisher's own domain, though the mirror came first


def test_near_duplicate_text_groups_across_urls_and_titles() -> None:
    edited = ARTICLE.replace("rose by four percent", "went up 4%").replace("three different", "several")
    g = Grouper()
    g.add(posting("orig", "https://eng.example.com/p/1234", "How we rank", ARTICLE))
    group = g.add(
        posting("repub", "https://news.example.org/stories/ranking", "Republished: ranking", edited, 2)
    )
    assert group.members == ("orig", "repub")
    assert group.reason.startswith("near-duplicate text (")


def test_japanese_near_duplicates_group_by_character_shingles() -> None:
    text = (
        "本記事では、大規模言語モデルの推論サーバーをGPU上で運用し、レイテンシとコストを削減した取り組みを紹介します。"
        "量子化とバッチ処理の工夫により、推論のスループットが三倍に向上しました。運用で得た知見も共有します。"
    )
    g = Grouper()
    g.add(posting("a", "https://tech.example.jp/entry/1", "LLM推論の高速化", text))
    group = g.add(
        posting(
            "b",
            "https://zenn.dev/someone/articles/abc",
            "LLM推論を速くした話",
            text + "よろしくお願いします。",
        )
    )
    assert group.members == ("a", "b") and group.primary == "a"


def test_two_posts_of_one_series_do_not_group() -> None:
    g = Grouper()
    part1 = SERIES_INTRO * 2 + "Part one covers the feature store and the data contracts between teams."
    part2 = SERIES_INTRO * 2 + "Part two covers model serving, canary releases and the GPU scheduler."
    g.add(
        posting(
            "p1",
            "https://eng.example.com/building-our-ml-platform-part-1",
            "Building our ML platform, Part 1",
            part1,
        )
    )
    group = g.add(
        posting(
            "p2", "https://eng.example.com/building-our-ml-platform-part-2",
            "Building our ML platform, Part 2", part2, 7,
        )
    )  # fmt: skip
    assert group.members == ("p2",)
    assert series_parts("Building our ML platform, Part 1") == {"1"}
    assert series_parts("ML 플랫폼 구축기 2편") == {"2"} and series_parts("第3回 推論基盤") == {"3"}


def test_a_post_and_its_follow_up_do_not_group() -> None:
    g = Grouper()
    g.add(
        posting(
            "post",
            "https://eng.example.com/moving-ranking-features-to-streaming",
            "Moving ranking features to streaming",
            ARTICLE,
        )
    )
    group = g.add(
        posting("later", "https://eng.example.com/streaming-ranking-features-six-months-later",
                "Moving ranking features to streaming: six months later", FOLLOW_UP, 180)
    )  # fmt: skip
    assert group.members == ("later",)


def test_the_same_text_outside_the_window_does_not_group_and_old_postings_are_forgotten() -> None:
    g = Grouper(window=timedelta(days=14))
    g.add(posting("old", "https://a.example.com/x", "Ranking", ARTICLE))
    assert g.add(posting("new", "https://b.example.com/y", "Ranking again", ARTICLE, 60)).members == ("new",)
    assert g.forget_before(T0 + timedelta(days=30)) == 1
    assert g.add(posting("newer", "https://c.example.com/z", "Ranking", ARTICLE, 61)).members == (
        "new",
        "newer",
    )


def test_a_batch_groups_as_one_by_one_and_removal_keeps_the_rest_grouped() -> None:
    batch = [
        posting(
            "a", "https://eng.example.com/moving-ranking-features-to-streaming", "Moving ranking", ARTICLE
        ),
        posting(
            "b",
            "https://medium.com/eng/moving-ranking-features-to-streaming-abc123def4",
            "Moving",
            ARTICLE,
            1,
        ),
        posting("c", "https://news.example.org/ranking", "Ranking", ARTICLE, 2),
        posting("d", "https://eng.example.com/other", "Something else entirely", FOLLOW_UP, 2),
    ]
    g = Grouper()
    groups = g.add_many(batch)
    assert [grp.members for grp in groups] == [("a", "c", "b")] * 3 + [("d",)]
    g.add(posting("a", "https://eng.example.com/renamed", "A new title for a", FOLLOW_UP + " Edited."))
    assert g.group_of("b").members == ("c", "b")


def test_slug_keys_need_four_words_and_drop_medium_ids() -> None:
    assert (
        slug_key("https://medium.com/x/when-a-picture-says-more-17718860dcc2")
        == "slug:when a picture says more"
    )
    assert slug_key("https://example.com/blog/introduction") is None
