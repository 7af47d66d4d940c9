"""Feeds written for the tests and benchmarks: invented blogs with realistic sizes.

Nothing here comes from a real publisher; titles and text are generated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

WORDS = [
    "model",
    "training",
    "inference",
    "latency",
    "embedding",
    "retrieval",
    "ranking",
    "serving",
    "pipeline",
    "feature",
    "store",
    "transformer",
    "attention",
    "quantization",
    "distillation",
    "evaluation",
    "dataset",
    "labeling",
    "drift",
    "monitoring",
    "recommendation",
    "search",
    "vision",
    "language",
    "speech",
    "cluster",
    "gpu",
    "batch",
    "stream",
    "cache",
    "index",
    "vector",
]


@dataclass(frozen=True)
class Entry:
    guid: str
    title: str
    link: str
    published: datetime
    summary: str
    content: str


def entries(
    site: str, n: int, *, seed: int = 0, start: datetime | None = None, words: int = 300
) -> list[Entry]:
    """``n`` entries of a blog at ``site`` (an http URL), newest first, deterministic for ``seed``."""
    rng = random.Random(seed)
    start = start or datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))).capitalize()
        slug = f"post-{seed}-{i}"
        paras = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90))).capitalize() + "."
            for _ in range(max(1, words // 60))
        ]
        content = "".join(f"<p>{p}</p>" for p in paras) + f'<pre><code>print("{slug}")</code></pre>'
        out.append(
            Entry(
                guid=f"{site}/p/{slug}",
                title=title,
                link=f"{site}/blog/{slug}",
                published=start - timedelta(hours=7 * i),
                summary=paras[0][:200],
                content=content,
            )
        )
    return out


def rss(title: str, site: str, items: list[Entry], *, extra_item_xml: str = "") -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>\n'
        f"<title>{escape(title)}</title>\n<link>{escape(site)}/</link>\n"
        "<description>An invented engineering blog</description>\n<language>en</language>\n"
    ]
    for e in items:
        parts.append(
            "<item>\n"
            f"<title>{escape(e.title)}</title>\n<link>{escape(e.link)}</link>\n"
            f'<guid isPermaLink="false">{escape(e.guid)}</guid>\n'
            f"<pubDate>{format_datetime(e.published)}</pubDate>\n"
            f"<description>{escape(e.summary)}</description>\n"
            f"<content:encoded><![CDATA[{e.content}]]></content:encoded>\n"
            "</item>\n"
        )
    parts.append(extra_item_xml)
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


def atom(title: str, site: str, items: list[Entry]) -> bytes:
    updated = items[0].published if items else datetime(2024, 1, 1, tzinfo=UTC)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"<title>{escape(title)}</title>\n<id>{escape(site)}/</id>\n"
        f'<link href="{escape(site)}/"/>\n<updated>{updated.isoformat()}</updated>\n'
    ]
    for e in items:
        parts.append(
            "<entry>\n"
            f"<title>{escape(e.title)}</title>\n<id>{escape(e.guid)}</id>\n"
            f'<link rel="alternate" href="{escape(e.link)}"/>\n'
            f"<published>{e.published.isoformat()}</published>\n"
            f"<updated>{e.published.isoformat()}</updated>\n"
            f"<summary>{escape(e.summary)}</summary>\n"
            f'<content type="html">{escape(e.content)}</content>\n'
            "</entry>\n"
        )
    parts.append("</feed>\n")
    return "".join(parts).encode("utf-8")


def feeds_yaml(
    feeds: list[tuple[str, str]], *, extra: str = "", allow_private: bool = True, interval: str | None = "1h"
) -> str:
    """A minimal valid feeds.yaml for (name, url) pairs, with the seed-000 taxonomy.

    Each feed gets ``interval`` (a fixed 1h by default, so tests step a known clock; None: feeds.yaml's
    default, ``auto``)."""
    lines = [
        "fetch:",
        "  user_agent_contact: https://aggregator.invalid/contact",
        "  connect_timeout: 2",
        "  read_timeout: 2",
        "  deadline: 5",
    ]
    if allow_private:
        lines += ["  allow_private_networks: [127.0.0.1/32]"]
    lines += [
        "digest:",
        "  title: Test Digest",
        "sections:",
    ]
    for top, title in (("research", "Research"), ("business", "Business Cases"), ("aws", "AWS ML Only")):
        lines += [f"  - id: {top}", f"    title: {title}", "    subsections:"]
        for sub, sub_title in (("cv", "CV"), ("nlp", "NLP"), ("recsys", "RecSys, etc."),
                               ("mlops", "Training, Inference and MLOps")):  # fmt: skip
            lines += [f"      - id: {sub}", f'        title: "{sub_title}"']
    lines.append("feeds:")
    for name, url in feeds:
        lines += [f"  - name: {name}", f"    url: {url}", f"    label: {name.title()}"]
        lines += [f"    interval: {interval}"] if interval else []
    return "\n".join(lines) + "\n" + extra
