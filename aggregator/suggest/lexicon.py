"""What the curators' words mean, in English, Korean and Japanese: the topics of the taxonomy, the
kind of post (research or business), AWS's own products, and what lies outside the digest's scope.

Pure data and two small lookups. This is domain knowledge written once (the digest's preface names
the topics: CV, NLP, recommender systems, model training and inference, MLOps), never a list of any
digest's items. The suggestion model learns on top of it; with no history at all, these cues alone
still place a candidate. Keys of :data:`TOPICS` are subsection ids as feeds.yaml names them; a
taxonomy with other ids simply gets no help from them.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

__all__ = ["AWS_PRODUCTS", "KINDS", "MIRROR_HOSTS", "OUT_OF_SCOPE", "TOPICS", "find_cues"]

# fmt: off
TOPICS: dict[str, tuple[str, ...]] = {
    "cv": (
        "computer vision", "vision", "image", "images", "picture", "pictures", "photos",
        "visual search", "video", "visual", "photo", "pixel", "camera",
        "diffusion", "stable diffusion", "text-to-image", "segmentation", "object detection", "detection",
        "ocr", "face", "3d", "point cloud", "rendering", "vit", "cnn", "convolutional", "autoencoder",
        "gan", "image generation", "multimodal", "rekognition", "lidar", "satellite",
        "이미지", "영상", "비전", "사진", "얼굴", "객체 탐지", "컴퓨터 비전", "생성 모델",
        "画像", "映像", "動画", "物体検出", "顔", "コンピュータビジョン", "画像生成",
    ),
    "nlp": (
        "language model", "language models", "llm", "llms", "nlp", "natural language", "text", "chatbot",
        "chat", "dialog", "dialogue", "conversation", "translation", "summarization", "question answering",
        "gpt", "bert", "transformer", "token", "tokenizer", "prompt", "prompting", "rlhf", "instruction",
        "speech", "asr", "sentiment", "toxicity", "named entity", "text generation", "generative", "rag",
        "human feedback", "reward model", "alignment", "agent", "agents",
        "retrieval-augmented", "embedding", "comprehend", "translate", "lex", "bedrock",
        "언어 모델", "언어모델", "자연어", "챗봇", "대화", "번역", "요약", "텍스트", "프롬프트", "생성형",
        "言語モデル", "自然言語", "チャットボット", "対話", "翻訳", "要約", "テキスト",
        "プロンプト", "生成ai",
    ),
    "recsys": (
        "recommendation", "recommendations", "recommender", "recommend", "personalization", "personalize",
        "personalized", "ranking", "search", "retrieval", "ads", "advertising", "click-through", "ctr",
        "feed ranking", "matching", "knowledge graph", "graph neural", "gnn", "collaborative filtering",
        "reinforcement learning", "bandit", "forecasting", "time series", "anomaly", "fraud", "tabular",
        "synthetic data", "causal", "a/b test", "experimentation", "game", "games", "pricing",
        "year in review", "roundup", "highlights",
        "추천", "추천 시스템", "개인화", "랭킹", "검색", "광고", "이상 탐지", "예측", "강화학습",
        "レコメンド", "推薦", "レコメンデーション", "パーソナライズ", "検索", "ランキング", "広告", "予測",
    ),
    "mlops": (
        "training", "train", "inference", "serving", "deploy", "deployment", "endpoint", "endpoints",
        "pipeline", "pipelines", "mlops", "latency", "throughput", "gpu", "gpus", "tpu", "cluster",
        "distributed", "parallel", "quantization", "compression", "distillation", "compiler", "kernel",
        "cost", "scaling", "autoscaling", "kubernetes", "kubeflow", "airflow", "feature store",
        "monitoring", "experiment tracking", "experiments", "model registry", "governance",
        "permissions", "container",
        "serverless", "batch", "workflow", "data pipeline", "infrastructure", "platform", "retrain",
        "hyperparameter", "hpo", "uncertainty", "library", "framework", "sdk", "benchmark", "vllm",
        "triton", "onnx", "tensorrt", "inferentia", "trainium", "accelerator", "warm pools",
        "shadow testing",
        "학습", "훈련", "추론", "서빙", "배포", "파이프라인", "비용", "인프라", "플랫폼", "모니터링",
        "최적화",
        "学習", "推論", "デプロイ", "パイプライン", "基盤", "高速化", "運用", "分散学習", "量子化", "コスト",
    ),
}
"""Topic cues, by subsection id."""

KINDS: dict[str, tuple[str, ...]] = {
    "research": (
        "paper", "papers", "we propose", "we present", "we introduce", "state-of-the-art", "sota", "arxiv",
        "neurips", "icml", "iclr", "cvpr", "acl", "emnlp", "theory", "theoretical", "proof", "theorem",
        "self-supervised", "novel", "research", "benchmark", "dataset", "study", "comparison",
        "scaling laws",
        "논문", "연구", "이론", "研究", "論文", "理論",
    ),
    "business": (
        "production", "customers", "customer", "case study", "at scale", "our platform", "we built",
        "how we", "lessons", "in practice", "migrating", "migration", "solution", "service", "product",
        "cost", "users", "app", "build", "building", "improve", "reduce", "saving", "engineering",
        "사례", "도입", "서비스", "운영", "개발기", "구축", "적용", "솔루션", "비용",
        "事例", "導入", "サービス", "運用", "構築", "開発",
    ),
}
"""Cues of the kind of post: research, or a business application."""

AWS_PRODUCTS: tuple[str, ...] = (
    "amazon sagemaker", "sagemaker", "amazon bedrock", "bedrock", "amazon personalize", "amazon comprehend",
    "amazon rekognition", "amazon textract", "amazon transcribe", "amazon polly", "amazon lex",
    "amazon kendra", "amazon forecast", "amazon fraud detector", "amazon q", "aws inferentia",
    "aws trainium", "aws glue", "amazon neptune", "amazon s3", "aws lambda", "amazon ec2", "aws",
    "세이지메이커", "세이지 메이커",
)
"""AWS's own machine-learning products: what the "AWS ML Only" section is about."""

OUT_OF_SCOPE: tuple[str, ...] = (
    "hiring", "we're hiring", "job opening", "careers", "internship", "culture", "diversity", "award",
    "conference recap", "meetup", "webinar", "event", "podcast", "newsletter", "frontend", "front-end",
    "css", "javascript", "react native", "ios", "android", "swift", "kotlin", "design system",
    "accessibility", "blockchain", "crypto", "nft", "security", "incident", "postmortem", "outage",
    "채용", "행사", "컨퍼런스", "후기", "프론트엔드", "회고", "採用", "イベント", "登壇", "フロントエンド",
)
"""Cues of posts outside the digest's scope."""
# fmt: on

# fmt: off
MIRROR_HOSTS: frozenset[str] = frozenset(
    {"medium.com", "dev.to", "hackernoon.com", "hashnode.com", "linkedin.com", "www.linkedin.com",
     "substack.com", "qiita.com", "zenn.dev", "velog.io", "brunch.co.kr", "note.com",
     "towardsdatascience.com"}
)
"""Hosts that republish other publishers' posts: never a group's primary while the publisher's own
domain is in the group."""
# fmt: on


_SEPARATORS = re.compile(r"[^\w]+")
MAX_CUE_WORDS = 3


def _words(text: str) -> list[str]:
    return [w for w in _SEPARATORS.split(text.casefold()) if w]


@cache
def _index(cues: tuple[str, ...]) -> tuple[dict[str, str], tuple[str, ...]]:
    """Latin cues by their words joined with spaces (to the cue as written), and the CJK cues."""
    latin: dict[str, str] = {}
    cjk: list[str] = []
    for cue in cues:
        if cue.isascii():
            latin.setdefault(" ".join(_words(cue)), cue)
        else:
            cjk.append(cue.casefold())
    return latin, tuple(cjk)


@lru_cache(maxsize=16)
def _ngrams(text: str) -> tuple[frozenset[str], str]:
    """The text's word 1- to 3-grams, and the text casefolded (a candidate's text is read by several
    cue families in a row: computed once)."""
    words = _words(text)
    grams = {
        " ".join(words[i : i + n]) for n in range(1, MAX_CUE_WORDS + 1) for i in range(len(words) - n + 1)
    }
    return frozenset(grams), text.casefold()


def find_cues(text: str, cues: tuple[str, ...]) -> list[str]:
    """The cues found in ``text``, each once, in the order of ``cues``: Latin cues as whole words
    (word n-grams looked up in a set), CJK cues anywhere (substring search)."""
    latin, cjk = _index(cues)
    grams, folded = _ngrams(text)
    found = {latin[g] for g in grams & latin.keys()}
    if cjk and not folded.isascii():
        found.update(c for c in cjk if c in folded)
    return [c for c in cues if c in found or c.casefold() in found]
