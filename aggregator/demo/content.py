# ruff: noqa: E501 -- prose data: the sentences, Korean and Japanese among them, read better unbroken
"""The demo's blogs and posts, written for the project: invented companies, labs and people.

Each post is a title, one paragraph of its own, and a topic whose shared paragraphs (in the
blog's language) fill out its page; some carry code, a table or a GitHub link. Nothing here
comes from a real publisher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FeedFormat = Literal["rss", "atom", "json"]


@dataclass(frozen=True, slots=True)
class Blog:
    name: str
    title: str
    label: str
    language: str
    format: FeedFormat
    section_hint: str | None = None


@dataclass(frozen=True, slots=True)
class Post:
    blog: str
    slug: str
    title: str
    lead: str
    topic: str
    code: str | None = None
    table: tuple[tuple[str, ...], ...] = ()
    bot_wall: bool = False
    """Its page answers with a bot check instead of the article."""


BLOGS = (
    Blog("lumen-engineering", "Lumen Engineering", "Lumen", "en", "rss", "business"),
    Blog("kestrel-research", "Kestrel Research Lab", "Kestrel", "en", "atom", "research"),
    Blog("nimbus-ml", "Nimbus Cloud ML Blog", "Nimbus", "en", "rss", "aws"),
    Blog("mina-writes", "Mina Writes About Models", "Mina Park", "en", "json"),
    Blog("hanbit-tech", "한빛 기술 블로그", "Hanbit", "ko", "rss", "business"),
    Blog("seoul-ai-lab", "서울 AI 연구소", "Seoul AI Lab", "ko", "atom", "research"),
    Blog("jiwon-dev", "지원의 개발 노트", "Jiwon Kim", "ko", "json"),
    Blog("sakura-engineering", "さくらエンジニアリングブログ", "Sakura", "ja", "rss", "business"),
    Blog("tsukuba-ml-lab", "筑波機械学習研究室", "Tsukuba ML Lab", "ja", "atom", "research"),
    Blog("haruka-notes", "はるかの技術ノート", "Haruka Sato", "ja", "json"),
    Blog("mediumish-lumen", "Lumen on Mediumish", "Lumen", "en", "rss"),
    Blog("legacy-lab", "Legacy Lab (its feed is broken)", "Legacy", "en", "rss"),
)

#: The feed that answers with something that is not a feed.
BROKEN = "legacy-lab"
#: The post published on the company blog and again on the Medium-like mirror.
CROSS_POST = ("lumen-engineering", "mediumish-lumen", "how-we-cut-ranking-latency")

TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "serving": {
        "en": (
            "Our serving fleet answers every request within a strict latency budget, so each model "
            "change is measured against the p99 before it ships. We batch requests dynamically, keep "
            "the hot embeddings in memory and fall back to a smaller model when a shard is overloaded.",
            "The results held up in production for a full month: throughput rose while the error rate "
            "stayed flat, and the on-call rotation saw fewer pages. The code and the benchmark harness "
            "are public so that other teams can reproduce the numbers on their own hardware.",
        ),
        "ko": (
            "추론 서버는 모든 요청을 엄격한 지연 시간 예산 안에서 처리해야 하므로, 모델을 바꿀 때마다 배포 전에 "
            "p99 지연 시간을 측정합니다. 요청을 동적으로 묶어 처리하고 자주 쓰는 임베딩은 메모리에 올려 두며, "
            "샤드에 부하가 몰리면 더 작은 모델로 대체합니다.",
            "한 달 동안 실제 서비스에서 결과를 확인했습니다. 처리량은 늘었고 오류율은 그대로였으며 장애 대응 "
            "호출도 줄었습니다. 다른 팀이 자신의 장비에서 같은 결과를 재현할 수 있도록 코드와 벤치마크를 공개합니다.",
        ),
        "ja": (
            "推論サーバーはすべてのリクエストを厳しいレイテンシ予算の中で処理する必要があるため、モデルを変更する"
            "たびにリリース前に p99 を計測しています。リクエストを動的にまとめ、よく使う埋め込みはメモリに置き、"
            "シャードが混雑したときは小さなモデルに切り替えます。",
            "本番環境で一か月間運用した結果、スループットは向上し、エラー率は変わらず、当番への呼び出しも減りました。"
            "他のチームが自分の環境で数値を再現できるよう、コードとベンチマークを公開しています。",
        ),
    },
    "nlp": {
        "en": (
            "Large language models read our support tickets now, but only after we built an evaluation "
            "set from real conversations and labelled it twice. Retrieval over the help center grounds "
            "each answer, and a reviewer samples a hundred answers every week to catch drift early.",
            "Fine-tuning a small model on the labelled set beat prompting a large one on both cost and "
            "accuracy. We describe the dataset, the training recipe and the failure cases we still see, "
            "with the checkpoint released under an open licence for research use.",
        ),
        "ko": (
            "이제 대규모 언어 모델이 고객 문의를 읽지만, 그 전에 실제 대화로 평가 데이터셋을 만들고 두 번씩 라벨링했습니다. "
            "도움말 센터 검색으로 각 답변의 근거를 찾고, 매주 검토자가 답변 백 개를 골라 품질 저하를 일찍 발견합니다.",
            "라벨링한 데이터로 작은 모델을 미세 조정한 결과, 큰 모델에 프롬프트를 주는 방식보다 비용과 정확도 모두 "
            "좋았습니다. 데이터셋과 학습 방법, 아직 남은 실패 사례를 설명하고 연구용 체크포인트도 공개합니다.",
        ),
        "ja": (
            "大規模言語モデルが問い合わせを読むようになりましたが、その前に実際の会話から評価データセットを作り、"
            "二重にラベル付けしました。ヘルプセンターの検索で回答の根拠を示し、毎週百件の回答を抜き取って確認しています。",
            "ラベル付きデータで小さなモデルをファインチューニングした結果、大きなモデルへのプロンプトよりもコストと精度の"
            "両方で上回りました。データセット、学習手順、残っている失敗例を説明し、研究用のチェックポイントも公開します。",
        ),
    },
    "vision": {
        "en": (
            "Detecting damaged parcels from warehouse cameras needed a vision model that runs on small "
            "edge devices. We distilled a large detector into a compact student network, quantized it to "
            "eight bits and kept the accuracy within one point of the teacher on our held-out images.",
            "Labelling was the expensive part, so we used active learning to choose which frames people "
            "annotate. The write-up covers the augmentation pipeline, the evaluation protocol and the "
            "mistakes the model still makes in poor light.",
        ),
        "ko": (
            "물류 센터 카메라로 파손된 택배를 찾으려면 작은 엣지 장비에서 돌아가는 비전 모델이 필요했습니다. 큰 검출 "
            "모델을 작은 모델로 증류하고 8비트로 양자화했으며, 검증 이미지에서 정확도 손실을 1포인트 이내로 유지했습니다.",
            "비용이 가장 많이 드는 일은 라벨링이어서 능동 학습으로 사람이 주석을 달 프레임을 골랐습니다. 데이터 증강 "
            "파이프라인과 평가 방법, 어두운 환경에서 아직 남아 있는 오류를 정리했습니다.",
        ),
        "ja": (
            "倉庫のカメラで破損した荷物を見つけるには、小さなエッジ端末で動く画像モデルが必要でした。大きな検出モデルを"
            "小さな生徒モデルに蒸留し、8ビットに量子化して、検証画像での精度低下を1ポイント以内に抑えました。",
            "最も費用がかかったのはラベル付けだったため、能動学習で人が注釈を付けるフレームを選びました。データ拡張の"
            "パイプライン、評価手順、暗い場所でまだ起きる誤りについてまとめています。",
        ),
    },
    "recsys": {
        "en": (
            "The home feed ranks thousands of items for every visit, and the ranking model had grown too "
            "slow to retrain daily. We moved the candidate generation to a two-tower retrieval model and "
            "kept a lightweight ranker on top, trained on fresh interactions every night.",
            "An online experiment over two weeks showed more engagement and more diverse recommendations. "
            "We share the feature store layout, the offline metrics we trust and the ones we stopped "
            "trusting after they disagreed with the experiments.",
        ),
        "ko": (
            "홈 화면은 방문할 때마다 수천 개의 항목을 정렬하는데, 랭킹 모델이 너무 느려져 매일 재학습할 수 없었습니다. "
            "후보 생성을 투 타워 검색 모델로 옮기고 그 위에 가벼운 랭커를 두어 매일 밤 새 상호작용으로 학습합니다.",
            "2주간의 온라인 실험에서 참여도가 높아지고 추천이 더 다양해졌습니다. 피처 스토어 구조, 믿을 수 있는 오프라인 "
            "지표, 실험 결과와 어긋나서 더는 믿지 않게 된 지표를 공유합니다.",
        ),
        "ja": (
            "ホーム画面は訪問のたびに数千件のアイテムを並べますが、ランキングモデルが遅くなりすぎて毎日再学習できなく"
            "なりました。候補生成をツータワー検索モデルに移し、その上に軽いランカーを置いて毎晩新しい行動で学習します。",
            "二週間のオンライン実験で、エンゲージメントが上がり推薦の多様性も増えました。特徴量ストアの構成、信頼できる"
            "オフライン指標、実験と食い違ったため信頼しなくなった指標を共有します。",
        ),
    },
}

_LATENCY = (("stage", "before", "after"), ("retrieval", "41 ms", "12 ms"), ("ranking", "63 ms", "19 ms"))
_EVAL = (
    ("model", "accuracy", "cost / 1k"),
    ("large, prompted", "81.2%", "$4.10"),
    ("small, tuned", "86.7%", "$0.30"),
)
_CODE = (
    'from lumen import Ranker\n\nranker = Ranker.load("two-tower-v3")\nprint(ranker.score(user, items[:100]))'
)
_GITHUB = " The code is at https://github.com/{repo}."

POSTS = (
    Post("lumen-engineering", "how-we-cut-ranking-latency", "How we cut ranking latency by 70% with a two-tower model",
         "Ranking latency was the largest part of our page load, so we rebuilt the pipeline around retrieval."
         + _GITHUB.format(repo="lumen/two-tower"), "recsys", _CODE, _LATENCY),
    Post("lumen-engineering", "support-llm-in-production", "Running an LLM on support tickets: what one year taught us",
         "A year ago we put a language model in front of our support queue; this is what we learned.", "nlp",
         table=_EVAL),
    Post("lumen-engineering", "parcel-damage-detection", "Detecting damaged parcels on the edge",
         "Our warehouses now flag damaged parcels before they leave the dock.", "vision"),
    Post("kestrel-research", "sparse-attention-long-context", "Sparse attention for long-context language models",
         "We study which attention heads matter for long documents and prune the rest." + _GITHUB.format(
             repo="kestrel-lab/sparse-attn"), "nlp", "attn = SparseAttention(heads=16, keep=0.25)\nout = attn(q, k, v)"),
    Post("kestrel-research", "self-supervised-video", "Self-supervised pretraining for video understanding",
         "Masked video modelling learns motion without a single label.", "vision", table=(("dataset", "top-1"),
         ("Kinetics-400", "84.1"), ("SSv2", "73.9"))),
    Post("nimbus-ml", "serverless-inference-endpoints", "Serverless inference endpoints for bursty traffic",
         "Nimbus Cloud now scales inference endpoints to zero between bursts.", "serving",
         "endpoint = nimbus.deploy(model, min_instances=0, max_instances=8)"),
    Post("nimbus-ml", "feature-store-for-recsys", "Building a recommender on the Nimbus feature store",
         "A walkthrough of a recommender built on managed features and batch transforms.", "recsys"),
    Post("mina-writes", "quantization-notes", "Notes on 4-bit quantization for small teams",
         "I quantized three open models to four bits and measured what broke.", "serving",
         "model = load('mini-7b')\nq = quantize(model, bits=4, group_size=128)", (("bits", "perplexity"),
         ("16", "5.61"), ("8", "5.63"), ("4", "5.92"))),
    Post("mina-writes", "evaluating-rag", "Evaluating retrieval-augmented generation without fooling yourself",
         "Most RAG evaluations I read measure the retriever and call it the system.", "nlp", bot_wall=True),
    Post("hanbit-tech", "search-ranking-renewal", "검색 랭킹 모델 개편기: 투 타워 구조로 지연 시간 줄이기",
         "검색 결과 페이지의 로딩 시간을 줄이기 위해 랭킹 파이프라인을 새로 만들었습니다.", "recsys", _CODE, _LATENCY),
    Post("hanbit-tech", "chatbot-llm-finetuning", "상담 챗봇에 LLM 도입하기: 데이터셋부터 배포까지",
         "상담 챗봇에 언어 모델을 도입하면서 겪은 일을 정리했습니다.", "nlp"),
    Post("seoul-ai-lab", "korean-vision-benchmark", "한국어 문서 이미지 인식 벤치마크 공개",
         "한국어 문서 이미지를 위한 새 벤치마크와 기준 모델을 공개합니다." + _GITHUB.format(repo="seoul-ai/kodoc"),
         "vision", table=(("모델", "정확도"), ("기준 모델", "78.4"), ("증류 모델", "77.9"))),
    Post("seoul-ai-lab", "efficient-serving-study", "대규모 모델 추론 효율화 연구",
         "GPU 메모리를 덜 쓰면서 같은 처리량을 내는 방법을 연구했습니다.", "serving"),
    Post("jiwon-dev", "my-first-mlops-pipeline", "혼자 만든 MLOps 파이프라인 회고",
         "사이드 프로젝트로 학습부터 배포까지 자동화한 경험을 공유합니다.", "serving",
         "steps:\n  - train\n  - evaluate\n  - deploy"),
    Post("sakura-engineering", "recommendation-two-tower", "推薦システムをツータワーモデルで刷新しました",
         "トップページの推薦を新しい構成に置き換えた経緯を紹介します。", "recsys", table=_LATENCY),
    Post("sakura-engineering", "llm-customer-support", "カスタマーサポートへの LLM 導入と評価",
         "問い合わせ対応に言語モデルを導入し、評価の仕組みを作りました。", "nlp"),
    Post("tsukuba-ml-lab", "edge-vision-distillation", "エッジ端末向け画像認識モデルの蒸留",
         "小さな端末で動く画像認識モデルを蒸留で作る研究です。" + _GITHUB.format(repo="tsukuba-ml/edge-distill"),
         "vision", "student = distill(teacher, data, temperature=4.0)"),
    Post("tsukuba-ml-lab", "long-context-japanese", "日本語長文コンテキストの言語モデル評価",
         "日本語の長い文書を扱う言語モデルを評価しました。", "nlp"),
    Post("haruka-notes", "gpu-inference-tips", "個人開発でGPU推論を安く回すコツ",
         "個人開発でも推論サーバーを安く安定して動かす方法をまとめました。", "serving"),
    Post("mediumish-lumen", "how-we-cut-ranking-latency", "How we cut ranking latency by 70% with a two-tower model",
         "Ranking latency was the largest part of our page load, so we rebuilt the pipeline around retrieval."
         + _GITHUB.format(repo="lumen/two-tower"), "recsys", _CODE, _LATENCY),
)  # fmt: skip


def blog(name: str) -> Blog:
    return next(b for b in BLOGS if b.name == name)


def posts_of(name: str) -> tuple[Post, ...]:
    return tuple(p for p in POSTS if p.blog == name)


def paragraphs(post: Post) -> tuple[str, ...]:
    """The post's own paragraph, then one of its topic's and one of another topic's, in its blog's
    language: no two posts but a cross-post share more than one paragraph (they would group)."""
    language = blog(post.blog).language
    source = next(p for p in POSTS if p.slug == post.slug and p.blog != CROSS_POST[1])
    twins = [p for p in POSTS if p.topic == post.topic and blog(p.blog).language == language]
    part = [p.slug for p in twins].index(source.slug) % 2
    order = list(TOPICS)
    other = order[(order.index(post.topic) + 1 + part) % len(order)]
    return (post.lead, TOPICS[post.topic][language][part], TOPICS[other][language][1 - part])
