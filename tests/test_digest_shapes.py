"""trend-post and notebook reproduce their seeds' shapes (003, 004), with feeds.yaml's settings.

The texts rendered here are written for these tests; the seeds are read from ../shared/seeds at test
time and compared by shape (front matter keys, the intro blockquote, spacers and rules, headings,
nesting), never copied.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aggregator.config.cache import freeze
from aggregator.config.yamlfile import parse_config
from aggregator.digest.render import render
from tests.test_digest_render import hostile

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

FEEDS_YAML = """\
digest:
  title: Monthly AI Trends
  preface: "Generative AI and MLOps led the month."
  template: trend-post
  trend_post:
    author: curator-a
    categories: [AI Trend]
    tags: [ai-trend]
    img_path: /assets/img/posts/
    image: 2024-03-cover.jpg
    description: AI trends, AI news, papers
    intro: "What happened in AI in {month}: news, papers and cases."
    headings:
      research: "💡 **Research**"
      business: "⚙️ **Business**"
  notebook:
    title: Idea book
    links: false
sections:
  - id: research
    title: Research
    subsections: [{id: cv, title: CV}, {id: nlp, title: NLP}, {id: recsys, title: "RecSys, etc."}]
  - {id: business, title: Business, subsections: [{id: cv, title: CV}, {id: mlops, title: MLOps}]}
  - {id: aws, title: AWS ML Only, subsections: [{id: nlp, title: NLP}, {id: mlops, title: MLOps}]}
  - {id: events, title: Events, subsections: []}
feeds: []
"""

OPTIONS = freeze(parse_config(FEEDS_YAML, source="feeds.yaml")).digest

TREND_POST = """\
---
title: "Test Digest (Mar 2024)"
date: 2024-03-01 00:00:00 +0000
categories: ["AI Trend"]
tags: ["ai-trend"]
math: true
toc: true
author: "curator-a"
img_path: "/assets/img/posts/"
pin: false
image:
  path: "2024-03-cover.jpg"
  alt: ""
description: "AI trends, AI news, papers"
---

> What happened in AI in Mar 2024: news, papers and cases.
{: .prompt-info }

"""


def _seed(prefix: str) -> str:
    found = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not found:
        pytest.skip(f"../shared/seeds/{prefix}_*.txt is not here")
    return found[0].read_text(encoding="utf-8")


def _front_matter_keys(text: str) -> list[str]:
    block = text.split("---\n", 2)[1]
    return [line.split(":", 1)[0] for line in block.splitlines() if re.match(r"^[a-z_]+:", line)]


def test_trend_post_golden_start() -> None:
    out = render(hostile(), "trend-post", options=OPTIONS)
    assert out.startswith(TREND_POST), out[:800]
    assert "\n## 💡 **Research**\n### Brackets" in out
    assert "\n## ⚙️ **Business**\n" in out
    assert "\n## **AWS ML Only**\n" in out  # a section without a heading setting: its title in bold


def test_trend_post_has_seed_003_s_shape() -> None:
    seed, out = _seed("003"), render(hostile(), "trend-post", options=OPTIONS)
    assert _front_matter_keys(out) == _front_matter_keys(seed)
    for text in (seed, out):
        intro = text.split("---\n", 2)[2].lstrip("\n").splitlines()
        assert intro[0].startswith("> ") and intro[1] == "{: .prompt-info }"
        # spacers, then a rule before every section but the first, and before the references
        assert re.search(r"(?m)^&nbsp;\n&nbsp;\n&nbsp;\n\n-{3,}\n\n## ", text)
        assert re.search(r"(?m)^&nbsp;\n&nbsp;\n&nbsp;\n\n-{3,}\n## References\n\[\^ref1\]: \[", text)
        headings = re.findall(r"(?m)^## (.+)$", text)
        assert all(re.fullmatch(r"(\S+ )?\*\*.+\*\*", h) for h in headings[:-1]), headings
        assert re.search(r"(?m)^### .+ \[\^ref\d+\]$", text)


def test_notebook_has_seed_004_s_shape() -> None:
    seed, out = _seed("004"), render(hostile(), "notebook", options=OPTIONS)
    assert out.startswith(
        "# Idea book\n\n## Research\n\n- CV\n  - Brackets \\] and \\[ in a title\n    - first note"
    )
    assert not [line for line in out.splitlines() if re.match(r"^ {0,2}- \[", line)]  # links: false
    for text in (seed, out):
        assert re.match(r"# .+\n\n## .+\n\n- ", text)
        assert re.search(r"(?m)^- [^\[].*\n  - [^\[]", text)  # a link-less topic with items nested under it
        assert re.search(r"(?m)^    - ", text)  # deeper nesting: a note under an item under a topic
        assert re.search(r"(?m)^  - .+\n\n- ", text)  # a blank line between topic groups


def test_the_shipped_feeds_yaml_renders_the_old_trend_post_defaults() -> None:
    out = render(hostile(), "trend-post")
    assert _front_matter_keys(out) == ["title", "date", "categories", "tags", "math", "toc", "pin"]
    assert "{: .prompt-info }" not in out
