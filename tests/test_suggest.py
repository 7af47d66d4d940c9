"""Section suggestion, importance score and ``aggregator suggest eval``.

The models learn from the curators' published digests in ../shared/seeds, read at test time (tests
that need them are skipped where the folder is missing); the candidates below are written here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import aggregator.cli as cli
from aggregator.config import load_configuration
from aggregator.configuration import Configuration
from aggregator.suggest.evaluate import examples_from_digest
from aggregator.suggest.scoring import code_links, importance
from aggregator.suggest.section import SectionSuggester
from aggregator.suggest.values import Example, ScoreInput, SuggestItem

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
SEED_000 = SEEDS / "000_4f8890a1120b5ccf.txt"
SEED_002 = SEEDS / "002_8eaeefd8fdeda347.txt"
needs_seeds = pytest.mark.skipif(not SEED_000.is_file(), reason="../shared/seeds is not here")

AWS_POST = SuggestItem(
    title="Deploy a fine-tuned model to an Amazon SageMaker real-time inference endpoint",
    url="https://aws.amazon.com/blogs/machine-learning/deploy-a-fine-tuned-model-to-a-sagemaker-endpoint/",
    feed="aws-machine-learning", label="Amazon", language="en", section_hint="aws",
    text="In this post we show customers how to deploy a model to a SageMaker endpoint in production, "
    "with autoscaling and monitoring. The code is on GitHub.",
)  # fmt: skip
THEORY_POST = SuggestItem(
    title="A theorem on the implicit bias of gradient descent",
    url="https://example-lab.org/blog/implicit-bias-theorem",
    feed="", label="", language="en",
    text="We prove a theorem about the implicit bias of gradient descent in overparameterised linear "
    "models. The proof relies on a novel potential argument; the paper has the details.",
)  # fmt: skip
KOREAN_RECSYS = SuggestItem(
    title="실시간 사용자 행동으로 개인화 추천 시스템 고도화하기",
    url="https://tech.kakao.com/posts/712",
    feed="kakao-tech", label="카카오", language="ko",
    text="이 글에서는 추천 시스템의 후보 생성과 랭킹 모델을 실시간 사용자 행동 로그로 "
    "개선한 경험을 공유합니다. 개인화 추천 품질과 클릭률이 함께 올랐습니다.",
)  # fmt: skip
JAPANESE_INFERENCE = SuggestItem(
    title="大規模言語モデルの推論を高速化する：GPUサービング基盤の構築",
    url="https://elyza-inc.hatenablog.com/entry/2024/05/10/llm-inference",
    feed="elyza", label="ELYZA", language="ja",
    text="本記事では、LLMの推論サーバーをGPU上で運用し、レイテンシとコストを削減した取り組みを紹介します。"
    "量子化とバッチ処理で推論のスループットが向上しました。",
)  # fmt: skip


@pytest.fixture(scope="module")
def config() -> Configuration:
    return load_configuration(ROOT / "feeds.yaml")


@pytest.fixture(scope="module")
def seeds_examples(config: Configuration) -> list[Example]:
    if not SEED_000.is_file():
        pytest.skip("../shared/seeds is not here")
    found: list[Example] = []
    for path in (SEED_000, SEED_002):
        found.extend(examples_from_digest((path.name, path.read_text(encoding="utf-8")), config)[0])
    return found


@pytest.fixture
def suggester(config: Configuration, seeds_examples: list[Example]) -> SectionSuggester:
    return SectionSuggester(config.taxonomy, seeds_examples)


@needs_seeds
def test_a_korean_recommender_post_lands_in_recsys(suggester: SectionSuggester) -> None:
    suggestion = suggester.suggest(KOREAN_RECSYS)
    assert suggestion.section == "business/recsys"
    assert "추천" in suggestion.reason and "RecSys" in suggestion.reason
    assert "\n" not in suggestion.reason


@needs_seeds
def test_a_japanese_llm_inference_post_lands_in_training_inference_and_mlops(
    suggester: SectionSuggester,
) -> None:
    suggestion = suggester.suggest(JAPANESE_INFERENCE)
    assert suggestion.section.endswith("/mlops"), suggestion
    assert "Training, Inference and MLOps" in suggestion.reason


@needs_seeds
def test_an_aws_sagemaker_post_is_aws_only_with_a_reason_a_curator_can_check(
    suggester: SectionSuggester,
) -> None:
    suggestion = suggester.suggest(AWS_POST)
    assert suggestion.section == "aws/mlops"
    assert suggestion.reason.startswith("Amazon → AWS ML Only")
    assert 0.0 < suggestion.confidence <= 1.0
    assert all(alt != suggestion.section for alt, _ in suggestion.alternatives)


def test_with_no_history_the_hint_and_the_cues_still_place_a_candidate(config: Configuration) -> None:
    empty = SectionSuggester(config.taxonomy)
    assert empty.suggest(AWS_POST).section == "aws/mlops"
    assert empty.suggest(KOREAN_RECSYS).section.endswith("/recsys")


def test_a_promotion_changes_the_next_suggestion_without_a_restart(config: Configuration) -> None:
    item = SuggestItem(
        title="Notes from our platform team", url="https://blog.example.net/notes-42", feed="x"
    )
    suggester = SectionSuggester(config.taxonomy)
    before = suggester.suggest(item).section
    target = "research/cv" if before != "research/cv" else "business/nlp"
    for n in range(4):
        title = f"Notes from our platform team, week {n}"
        suggester.learn(
            Example(SuggestItem(title=title, url=f"https://blog.example.net/n-{n}", feed="x"), target)
        )
    assert suggester.suggest(item).section == target


def test_an_unknown_section_in_the_history_is_not_learned(config: Configuration) -> None:
    suggester = SectionSuggester(config.taxonomy)
    suggester.learn(Example(KOREAN_RECSYS, "gone/section"))
    assert suggester.examples == []


# -- the importance score --------------------------------------------------------------------------


def test_an_aws_post_with_code_and_a_deployment_beats_a_theory_post(config: Configuration) -> None:
    suggester = SectionSuggester(config.taxonomy)
    aws = importance(
        ScoreInput(
            AWS_POST,
            links=("https://github.com/aws-samples/sagemaker-endpoint-demo", "https://github.com/about"),
            suggestion=suggester.suggest(AWS_POST),
        )
    )
    theory = importance(ScoreInput(THEORY_POST, suggestion=suggester.suggest(THEORY_POST)))
    assert aws.value > theory.value
    phrases = " | ".join(r.phrase for r in aws.reasons)
    assert "public code (GitHub aws-samples/sagemaker-endpoint-demo)" in phrases
    assert "in scope: mlops" in phrases
    assert any("research" in r.phrase and r.points < 0 for r in theory.reasons)
    assert aws.value == pytest.approx(sum(r.points for r in aws.reasons))


def test_the_score_weighs_checkpoints_record_weight_and_scope_deterministically() -> None:
    item = SuggestItem(title="Releasing our vision model checkpoints", text="image segmentation model")
    plain = importance(ScoreInput(item))
    with_model = importance(ScoreInput(item, links=("https://huggingface.co/acme/seg-base",)))
    good_record = importance(ScoreInput(item, promoted=8, decided=10))
    bad_record = importance(ScoreInput(item, promoted=0, decided=10))
    halved = importance(ScoreInput(item, weight=0.5))
    hiring = importance(ScoreInput(SuggestItem(title="We're hiring: join our frontend team")))
    assert with_model.value > plain.value
    assert good_record.value > plain.value > bad_record.value
    assert halved.value == pytest.approx(plain.value / 2, abs=0.1)
    assert hiring.value < plain.value and any(r.phrase.startswith("out of scope") for r in hiring.reasons)
    assert importance(ScoreInput(item)) == plain
    assert "+" in plain.explain()


def test_code_links_are_repositories_and_models_not_other_pages() -> None:
    repos, models = code_links(
        (
            "https://github.com/org/repo/tree/main/x", "https://github.com/features/actions",
            "https://github.com/org/repo", "https://huggingface.co/blog/rlhf",
            "https://huggingface.co/org/model-7b", "https://example.com/org/repo",
        )
    )  # fmt: skip
    assert repos == ["org/repo"] and models == ["org/model-7b"]


# -- aggregator suggest eval -----------------------------------------------------------------------

runner = CliRunner()


def test_eval_has_help_with_an_example() -> None:
    result = runner.invoke(cli.app, ["suggest", "eval", "--help"])
    assert result.exit_code == 0
    assert "Example: aggregator suggest eval" in " ".join(result.output.split())


@needs_seeds
@pytest.mark.parametrize(("train", "test"), [(SEED_000, SEED_002), (SEED_002, SEED_000)])
def test_eval_on_the_seeds_prints_json_accuracies(train: Path, test: Path) -> None:
    args = [
        "--config",
        str(ROOT / "feeds.yaml"),
        "suggest",
        "eval",
        "--train",
        str(train),
        "--test",
        str(test),
    ]
    result = runner.invoke(cli.app, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["items"] == (24 if test == SEED_000 else 10)
    for key in ("section_accuracy", "subsection_accuracy"):
        assert 0.0 <= report[key] <= 1.0
    assert report["subsection_accuracy"] <= report["section_accuracy"]
    assert sum(sum(row.values()) for row in report["confusion"].values()) == report["items"]
    assert len(report["misses"]) == round(report["items"] * (1 - report["subsection_accuracy"]))
    table = runner.invoke(cli.app, args, catch_exceptions=False)
    assert "subsection" in table.stdout and "expected" in table.stdout


def test_eval_refuses_a_file_that_is_not_a_digest_in_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\n## Things\n* [A link (Dec 2022)](https://example.com/a)\n", encoding="utf-8")
    args = [
        "--config",
        str(ROOT / "feeds.yaml"),
        "suggest",
        "eval",
        "--train",
        str(notes),
        "--test",
        str(notes),
    ]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 1
    assert "notes.md: no item could be placed" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_the_benchmark_runs_and_prints_its_table(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "AGGREGATOR_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "suggest.py"), "--candidates", "60", "--single", "10",
         "--poll-feeds", "20"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    for step in ("suggestion", "score", "grouping", "target: under 5 ms per candidate"):
        assert step in done.stdout
    assert "a promotion, then the next suggestion:" in done.stdout
    assert "cold poll of 20 feeds (300 new candidates" in done.stdout and "suggestions added" in done.stdout
