"""Section suggestion in batches gives exactly what it gives one candidate at a time.

A batch vectorises its texts once and reads the reasons' words from that matrix
(``TextModel.read`` and ``evidence_many``); one candidate is a batch of one, and
``TextModel.evidence`` still reads a single document through scikit-learn, the way the reasons were
first computed. Both are compared here on generated candidates in English, Korean and Japanese (the
texts below are made up for this test), through the suggester and through the service on a real
store: same section, confidence, reason, alternatives and score.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from aggregator.config import load_configuration
from aggregator.configuration import Configuration
from aggregator.service import Service
from aggregator.store.tables import candidates
from aggregator.suggest.features import content
from aggregator.suggest.scoring import importance
from aggregator.suggest.section import SectionSuggester
from aggregator.suggest.text_model import TextModel, _best
from aggregator.suggest.values import Example, ScoreInput, SuggestItem
from tests.fixture_server import FixtureServer
from tests.stock import Stock, stock

ROOT = Path(__file__).resolve().parents[1]

# Made-up topic words and filler, per language.
TOPIC_WORDS = {
    "en": {
        "cv": ["image", "segmentation", "camera", "pixel", "detection", "video frames", "diffusion"],
        "nlp": ["language model", "tokenizer", "prompt", "translation", "chatbot", "summaries"],
        "recsys": ["recommendation", "ranking", "click-through", "personalization", "search results"],
        "mlops": ["inference", "deployment", "gpu cluster", "pipeline", "latency", "monitoring"],
    },
    "ko": {
        "cv": ["이미지", "영상", "얼굴", "사진", "객체 탐지"],
        "nlp": ["언어 모델", "번역", "요약", "챗봇", "프롬프트"],
        "recsys": ["추천", "개인화", "랭킹", "검색", "광고"],
        "mlops": ["추론", "배포", "파이프라인", "서빙", "모니터링"],
    },
    "ja": {
        "cv": ["画像", "動画", "物体検出", "顔", "画像生成"],
        "nlp": ["言語モデル", "翻訳", "要約", "対話", "プロンプト"],
        "recsys": ["推薦", "検索", "ランキング", "広告", "パーソナライズ"],
        "mlops": ["推論", "学習", "デプロイ", "パイプライン", "量子化"],
    },
}
FILLER_TEXT = {
    "en": "we our team built a new way to measure how the system behaves when traffic grows and then "
    "looked at what customers saw after the change in production over several weeks of careful study "
    "the paper describes results on a public benchmark with a novel method",
    "ko": "우리 팀은 새로운 방법으로 시스템을 개선했고 사용자 경험이 좋아졌습니다 이번 글에서는 그 과정과 "
    "결과를 정리합니다 서비스 운영 중에 얻은 교훈도 함께 나눕니다 연구 논문의 내용을 소개합니다",
    "ja": "私たちのチームは 新しい 仕組みを 作り 利用者の 体験が 良くなりました 本記事では その 過程と "
    "結果を まとめます サービス 運用で 得た 知見も 紹介します 研究 論文の 内容も 説明します",
}
FILLER = {language: text.split() for language, text in FILLER_TEXT.items()}
FEEDS = [  # name, label, language, section hint, host
    ("lens-lab", "", "en", None, "lens-lab.example.org"),
    ("shopfront-eng", "Shopfront", "en", "business", "eng.shopfront.example.com"),
    ("cloud-ml", "Amazon", "en", "aws", "aws.amazon.com"),
    ("hangul-tech", "한빛", "ko", "business", "tech.hanbit.example.kr"),
    ("sakura-dev", "サクラ", "ja", None, "dev.sakura.example.jp"),
    ("mlops-notes", "", "en", "research/mlops", "notes.example.net"),
]


def generated(n: int, seed: int) -> list[tuple[SuggestItem, str]]:
    """``n`` candidates, each with the subsection its words are about (a fair label to learn from)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        feed, label, language, hint, host = FEEDS[i % len(FEEDS)]
        topic = rng.choice(sorted(TOPIC_WORDS[language]))
        cues, filler = TOPIC_WORDS[language][topic], FILLER[language]
        title = " ".join(rng.choice(cues) if k % 3 == 0 else rng.choice(filler) for k in range(7))
        words = [
            rng.choice(cues) if rng.random() < 0.15 else rng.choice(filler)
            for _ in range(rng.randrange(0, 160))
        ]
        slug = "-".join(w for w in title.split() if w.isascii())[:60] or f"post-{i}"
        item = SuggestItem(
            title=title, url=f"https://{host}/blog/{slug}-{i}", feed=feed if i % 11 else "",
            label=label, text=" ".join(words), language=language, section_hint=hint,
        )  # fmt: skip
        top = hint.split("/")[0] if hint else ("research" if not label else "business")
        out.append((item, f"{top}/{topic}"))
    return out


@pytest.fixture(scope="module")
def config() -> Configuration:
    return load_configuration(ROOT / "feeds.yaml")


@pytest.fixture(scope="module")
def suggester(config: Configuration) -> SectionSuggester:
    known = set(config.taxonomy.promotable_sections())
    examples = [Example(item, section) for item, section in generated(90, seed=1) if section in known]
    trained = SectionSuggester(config.taxonomy, examples)
    trained.fit()
    return trained


@pytest.fixture(scope="module")
def items() -> list[SuggestItem]:
    found = [item for item, _ in generated(200, seed=2)]
    return [*found, SuggestItem(title="x"), SuggestItem(title="", text="", url="not a url")]


def test_a_batch_suggests_what_one_at_a_time_suggests(
    suggester: SectionSuggester, items: list[SuggestItem]
) -> None:
    batch = suggester.suggest_many(items)
    one = [suggester.suggest(item) for item in items]
    assert batch == one  # section, confidence, reason and alternatives, each exactly
    scores = [
        importance(ScoreInput(i, links=("https://github.com/o/r",), suggestion=s))
        for i, s in zip(items, batch, strict=True)
    ]
    assert scores == [
        importance(ScoreInput(i, links=("https://github.com/o/r",), suggestion=s))
        for i, s in zip(items, one, strict=True)
    ]
    assert suggester.suggest_many([]) == []
    # Not a vacuous comparison: the model's words make most reasons, in all three languages.
    quoted = [s for s in batch if "its words" not in s.reason]
    assert len(quoted) > len(items) // 2
    assert len({s.section for s in batch}) >= 4
    for script in ("추", "画", "image"):
        assert any(script in s.reason for s in batch), script


@pytest.mark.parametrize("limit", [1, 3, 12])
def test_the_batch_evidence_is_the_one_document_evidence_for_every_label(
    suggester: SectionSuggester, items: list[SuggestItem], limit: int
) -> None:
    model = suggester._topic
    texts = [content(item) for item in items]
    _, words = model.read(texts)
    labels = [*suggester.topics, "no-such-topic"]
    found = 0
    for label in labels:
        batch = model.evidence_many(words, [label] * len(texts), limit=limit)
        assert batch == [model.evidence(text, label, limit=limit) for text in texts], label
        found += sum(1 for words_of in batch if words_of)
    assert found > len(texts)
    mixed = [labels[i % len(labels)] for i in range(len(texts))]
    assert model.evidence_many(words, mixed, limit=limit) == [
        model.evidence(t, label, limit=limit) for t, label in zip(texts, mixed, strict=True)
    ]


def test_a_two_class_topic_model_gives_the_same_evidence_either_way() -> None:
    model = TextModel(["cv", "nlp"])
    topics = [(item, section.split("/")[1]) for item, section in generated(120, seed=3)]
    data = [(content(item), topic) for item, topic in topics if topic in {"cv", "nlp"}]
    model.fit([t for t, _ in data], [topic for _, topic in data], extra=([], []))
    assert model.model is not None and model.model.coef_.shape[0] == 1
    texts = [content(item) for item, _ in generated(60, seed=4)]
    proba, words = model.read(texts)
    assert np.array_equal(proba, model.log_proba(texts))
    for label in ("cv", "nlp"):
        assert model.evidence_many(words, [label] * len(texts)) == [model.evidence(t, label) for t in texts]


def test_an_unfitted_topic_model_has_no_evidence() -> None:
    model = TextModel(["cv", "nlp"])
    proba, words = model.read(["a text", "another"])
    assert words is None and proba.shape == (2, 2)
    assert model.evidence_many(words, ["cv", "nlp"]) == [[], []]
    assert model.evidence("a text", "cv") == []


def test_ties_on_the_score_are_broken_by_the_word_as_a_sort_of_pairs_does() -> None:
    rng = random.Random(5)
    names = [f"w{k:02d}" for k in range(40)]
    for _ in range(300):
        size = rng.randrange(0, 12)
        columns = np.asarray(rng.sample(range(40), size), dtype=np.int32)
        score = np.asarray([rng.choice([0.5, 0.25, 1.0, 0.125]) for _ in range(size)])
        order = np.argsort(-score, kind="stable")  # as evidence_many hands a row over: best score first
        expected = [
            n for _, n in sorted(((s, names[c]) for c, s in zip(columns, score, strict=True)), reverse=True)
        ]
        for limit in (0, 1, 3, 5):
            assert _best(columns[order], score[order], names, limit) == expected[:limit]


# -- through the service, on a real store --------------------------------------------------------

TITLES = {
    name: [item.title for item, _ in generated(60, seed=6)[k::3]] for k, name in enumerate(("en", "ko", "ja"))
}


@pytest.fixture
def st(server: FixtureServer, tmp_path: Path, database_url: str) -> Iterator[Stock]:
    result = stock(
        server, tmp_path, database_url, {f"{lang}-blog": titles for lang, titles in TITLES.items()}
    )
    yield result
    result.app.close()


def stored(st: Stock) -> dict[int, tuple[object, ...]]:
    c = candidates.c
    with st.app.read() as s:
        rows = s.execute(
            sa.select(c.id, c.suggested_section, c.suggestion_confidence, c.suggestion_reason, c.score,
                      c.score_reasons)
        ).all()  # fmt: skip
    return {row.id: tuple(row[1:]) for row in rows}


def test_the_services_batch_stores_what_one_candidate_at_a_time_stores(st: Stock) -> None:
    service = Service(st.app)
    picks = {"research/cv": 0, "business/nlp": 1, "business/recsys": 2, "research/mlops": 3}
    ids = sorted(st.ids.values())
    for section, k in picks.items():  # promotions the engine learns from before the next batch
        service.triage.promote(ids[k::12][:2], section=section, curator="ana")
    assert service.suggest.backfill(everything=True) == len(ids)  # the batch path
    batch = stored(st)
    for cid in ids:
        assert service.suggest.refresh([cid]) == 1  # a batch of one
    assert stored(st) == batch
    reasons = [row[2] for row in batch.values()]
    assert sum("its words" not in str(r) for r in reasons) > len(ids) // 2
