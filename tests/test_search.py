"""Search documents and queries (pure): CJK runs as bigrams, other text as lowercase words."""

from __future__ import annotations

import pytest

from aggregator.searchtext import (
    MAX_TEXT_CHARS,
    Term,
    candidate_document,
    document,
    html_text,
    query_terms,
    terms,
)


def found(query: str, text: str) -> bool:
    """What the databases do with a document and a query: every term present, prefixes as prefixes."""
    indexed = document(text).split()
    wanted = query_terms(query)
    return bool(wanted) and all(
        any(t.startswith(q.text) for t in indexed) if q.prefix else q.text in indexed for q in wanted
    )


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("루다", "루다가 말했다"),
        ("루다", "스캐터랩의 이루다"),
        ("이루다", "이루다가 돌아왔다"),
        ("生成モデル", "生成モデルの学習について"),
        ("モデルの学習", "大規模な生成モデルの学習を高速化"),
        ("sagemaker", "Deploy with Amazon SageMaker"),
        ("SageMaker inference", "SAGEMAKER makes INFERENCE easy"),
        ("Fortuna", "We open-sourced **Fortuna**, our library"),
        ("fortuna", "<b>Fortuna</b>"),
        ("ＡＩ", "Generative AI at scale"),
        ("AI", "生成AIの活用"),
        ("生成AI", "生成AIの活用"),
        ("추천 시스템", "추천시스템을 개선한 이야기"),
        ("猫", "吾輩は猫である"),
        ("猫", "猫"),
        ("る", "吾輩は猫である"),
        ("gpt 4", "GPT-4 and GPT-4o"),
        ("c++", "Modern C++ for inference"),
    ],
)
def test_query_finds_text(query: str, text: str) -> None:
    assert found(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("루다 모델", "루다가 말했다"),  # every term must match
        ("생성모델", "생성 모델"),  # "성모" spans a space in the text
        ("学習モデル", "生成モデルの学習"),
        ("sage", "SageMaker"),  # whole words, no prefixes of Latin words
        ("犬", "吾輩は猫である"),
        ("model", "modelling"),
    ],
)
def test_query_does_not_find_text(query: str, text: str) -> None:
    assert not found(query, text)


def test_cjk_runs_become_bigrams_and_their_last_character() -> None:
    assert terms("이루다") == ["이루", "루다", "다"]
    assert terms("가") == ["가"]
    assert sorted(terms("生成モデル")) == sorted(["生成", "成モ", "モデ", "デル", "ル"])


def test_other_text_becomes_lowercase_words_after_nfkc() -> None:
    assert terms("Hello, World! ＡＩ_Lab café") == ["hello", "world", "ai", "lab", "café"]
    assert terms("Straße") == ["strasse"]


def test_mixed_scripts_split_at_the_script_boundary() -> None:
    assert sorted(terms("AWS의 SageMaker로")) == sorted(["aws", "sagemaker", "의", "로"])
    assert sorted(terms("GPT-4o를")) == sorted(["gpt", "4o", "를"])


def test_punctuation_separates_cjk_runs() -> None:
    assert sorted(terms("機械学習・推論")) == sorted(["機械", "械学", "学習", "習", "推論", "論"])
    assert sorted(terms("「生成」")) == sorted(["生成", "成"])


def test_document_holds_each_term_once_in_first_seen_order() -> None:
    assert document("Model model MODEL", "model training") == "model training"
    assert document("이루다 이루다") == "이루 루다 다"


def test_document_indexes_the_title_and_only_the_start_of_the_text() -> None:
    text = "lead " + "x " * MAX_TEXT_CHARS + "buried"
    doc = document("Title", text).split()
    assert "title" in doc and "lead" in doc
    assert "buried" not in doc


def test_very_long_words_are_not_indexed() -> None:
    blob = "a" * 101
    assert document(f"Title {blob} {'b' * 100}", "text").split() == ["title", "b" * 100, "text"]


def test_query_terms() -> None:
    assert query_terms("생성모델 AI") == (Term("생성"), Term("성모"), Term("모델"), Term("ai"))
    assert query_terms("猫") == (Term("猫", prefix=True),)
    assert query_terms("model Model MODEL") == (Term("model"),)


@pytest.mark.parametrize("query", ["", "   ", "!!!", "・。、", "-- ** --"])
def test_a_query_without_letters_or_digits_has_no_terms(query: str) -> None:
    assert query_terms(query) == ()


def test_html_text_drops_tags_and_decodes_entities() -> None:
    markup = "<p>Ranking &amp; retrieval</p><script>var x = 1;</script><p><b>시간</b>을 줄였다</p><!-- c -->"
    text = html_text(markup)
    assert "Ranking & retrieval" in text
    assert "시간을" in text  # inline tags do not split a word
    assert "var x" not in text and "<" not in text


def test_candidate_document_prefers_the_article_then_content_then_summary() -> None:
    common = {"content": "<p>from the feed</p>", "content_type": "text/html", "summary": "a summary"}
    assert "article" in candidate_document("T", article_text="the article", **common).split()
    doc = candidate_document("T", article_text=None, **common).split()
    assert "feed" in doc and "p" not in doc
    no_content = {**common, "content": None}
    assert "summary" in candidate_document("T", article_text=None, **no_content).split()
    assert candidate_document(
        "Only a title", article_text=None, content=None, content_type=None, summary=None
    ) == ("only a title")
