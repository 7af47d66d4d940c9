"""Rendering digests through the four shipped templates and a curator's own copy.

The golden files under tests/fixtures/digest/ were written for the digest built below (hostile titles
and links, Korean and Japanese, a section that hides labels, an empty subsection between full ones, a
section without subsections) and checked line by line against DESIGN.md's "Digest format" and the
seeds; a change to a template or a filter shows up as a diff against them.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from aggregator.config import SectionConfig, taxonomy_of
from aggregator.digest.markdown import headline, link, md_text, md_url
from aggregator.digest.model import TEMPLATES, Digest, DigestItem, build_digest, month_name, order_items
from aggregator.digest.read import parse_digest
from aggregator.digest.render import render
from aggregator.errors import DigestError

GOLDEN = Path(__file__).parent / "fixtures" / "digest"
PACKAGE_TEMPLATES = Path(__file__).resolve().parents[1] / "aggregator" / "templates" / "digest"


TAXONOMY = taxonomy_of(
    [
        SectionConfig.model_validate(
            {
                "id": "research",
                "title": "Research",
                "subsections": [
                    {"id": "cv", "title": "CV"},
                    {"id": "nlp", "title": "NLP"},
                    {"id": "recsys", "title": "RecSys, etc."},
                ],
            }
        ),
        SectionConfig.model_validate(
            {
                "id": "business",
                "title": "Business Cases and Implementations",
                "subsections": [
                    {"id": "cv", "title": "CV"},
                    {"id": "mlops", "title": "Training, Inference and MLOps"},
                ],
            }
        ),
        SectionConfig.model_validate(
            {
                "id": "aws",
                "title": "AWS ML Only",
                "hide_labels": True,
                "subsections": [
                    {"id": "nlp", "title": "NLP"},
                    {"id": "mlops", "title": "Training, Inference and MLOps"},
                ],
            }
        ),
        SectionConfig.model_validate({"id": "events", "title": "Events", "subsections": []}),
    ]
)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


ITEMS: list[tuple[str, DigestItem]] = [
    (
        "research/cv",
        DigestItem(
            11,
            "Brackets ] and [ in a title",
            "https://example.com/posts/brackets",
            "2024-03",
            "Example Corp",
            notes=("first note, as the curator wrote it", "second note with a [link](https://example.com/x)"),
            images=("![diagram](./images/brackets.png)",),
            published_at=at("2024-03-05T09:00:00"),
        ),
    ),
    (
        "research/cv",
        DigestItem(
            12,
            "*Data2vec 3.0*: emphasis (kept) and **bold**",
            "https://example.org//writing/post/",
            date(2024, 2, 29),
            "",
            published_at=at("2024-02-29T23:00:00"),
            article_title="Data2vec 3.0: emphasis kept and bold",
        ),
    ),
    (
        "research/recsys",
        DigestItem(
            13,
            "Broken\n  over\tlines   and a `backtick",
            "https://example.com/wiki/Transformer_(deep learning)",
            "2024-03",
            "Lab (Seoul)",
            notes=("a note\nwith a second line",),
            published_at=at("2024-03-02T00:00:00"),
            position=1,
        ),
    ),
    (
        "research/recsys",
        DigestItem(
            14,
            "Not http <script> link",
            "javascript:alert(1)",
            "2024-03",
            "Evil",
            notes=("lint reports this one",),
            published_at=at("2024-03-01T00:00:00"),
            position=0,
        ),
    ),
    (
        "research/recsys",
        DigestItem(
            15,
            "새 추천 모델: 한국어 제목",
            "https://tech.example.kr/새-추천-모델/",
            "2024-03",
            "스캐터랩",
            notes=("① 첫 번째 메모 ② 두 번째 ",),
            published_at=at("2024-03-30T00:00:00"),
        ),
    ),
    (
        "business/mlops",
        DigestItem(
            21,
            "日本語のタイトル【速報】MLOps 入門",
            "https://tech.example.jp/entry/2024/03/01/mlops",
            "2024-03",
            "メルカリ",
            notes=("推論サーバーの話", "二つ目のメモ"),
            published_at=at("2024-03-01T03:00:00"),
        ),
    ),
    (
        "business/mlops",
        DigestItem(
            22,
            "Serving Many Small Models on One Box",
            "https://aws.amazon.com/blogs/machine-learning/many-models/",
            "2024-02",
            "Amazon",
            published_at=at("2024-03-03T00:00:00"),
        ),
    ),
    (
        "aws/mlops",
        DigestItem(
            31,
            "Serving With **SageMaker** Endpoints",
            "https://aws.amazon.com/blogs/machine-learning/endpoints/",
            "2024-03",
            "Amazon",
            images=("![arch](https://example.com/arch.png)",),
            published_at=at("2024-03-04T00:00:00"),
        ),
    ),
    (
        "events",
        DigestItem(
            41,
            "Meetup: [Seoul] ML night",
            "https://example.com/meetup?id=1&x=2",
            "2024-04",
            "",
            notes=("bring a laptop",),
            published_at=at("2024-03-10T00:00:00"),
        ),
    ),
]


def hostile() -> Digest:
    return build_digest(
        name="2024-03",
        title="Test Digest",
        preface="* NOTE: a preface, printed verbatim.\n  * with a nested bullet and a trailing space \n",
        taxonomy=TAXONOMY,
        items=ITEMS,
    )


CASES = [
    ("summary", "nested", "summary-nested.md"),
    ("summary", "inline", "summary-inline.md"),
    ("unnumbered", "nested", "unnumbered-nested.md"),
    ("trend-post", "nested", "trend-post.md"),
    ("notebook", "nested", "notebook.md"),
]


@pytest.mark.parametrize(("template", "notes", "golden"), CASES, ids=[c[2] for c in CASES])
def test_each_template_renders_the_golden_file(template: str, notes: str, golden: str) -> None:
    assert render(hostile(), template, notes=notes) == (GOLDEN / golden).read_text(encoding="utf-8")  # type: ignore[arg-type]


def _inline_text(token: object) -> str:
    children = getattr(token, "children", None) or []
    return "".join(c.content for c in children if c.type in ("text", "code_inline"))


def _links(markdown: str) -> list[tuple[str, str]]:
    """(href, visible text) of every link in list items, as a CommonMark parser reads the Markdown."""
    out: list[tuple[str, str]] = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type != "inline" or not token.children:
            continue
        children = token.children
        for i, child in enumerate(children):
            if child.type != "link_open":
                continue
            depth, j, text = 1, i + 1, []
            while depth:
                if children[j].type == "link_open":
                    depth += 1
                elif children[j].type == "link_close":
                    depth -= 1
                elif children[j].type in ("text", "code_inline"):
                    text.append(children[j].content)
                j += 1
            out.append((str(child.attrs["href"]), "".join(text)))
    return out


def test_every_item_link_stays_a_link_for_a_commonmark_parser() -> None:
    from urllib.parse import unquote

    links = dict((text, unquote(href)) for href, text in _links(render(hostile(), "summary")))
    assert (
        links["Brackets ] and [ in a title (Mar 2024, Example Corp)"] == "https://example.com/posts/brackets"
    )
    assert links["Data2vec 3.0: emphasis (kept) and bold (Feb 2024)"] == "https://example.org//writing/post/"
    assert (
        links["Broken over lines and a `backtick (Mar 2024, Lab (Seoul))"]
        == "https://example.com/wiki/Transformer_(deep learning)"
    )
    assert links["새 추천 모델: 한국어 제목 (Mar 2024, 스캐터랩)"] == "https://tech.example.kr/새-추천-모델/"
    assert links["日本語のタイトル【速報】MLOps 入門 (Mar 2024, メルカリ)"].startswith(
        "https://tech.example.jp/"
    )
    assert links["Serving With SageMaker Endpoints (Mar 2024)"].endswith("/endpoints/")
    assert links["Meetup: [Seoul] ML night (Apr 2024)"] == "https://example.com/meetup?id=1&x=2"
    assert not any(href.startswith("javascript") for href in links.values())
    # The notes' own links and nothing else.
    assert len(links) == 9


def test_a_link_that_is_not_http_is_plain_text() -> None:
    assert link("Title", "javascript:alert(1)") == "Title `javascript:alert(1)`"
    tricky = link("Title", "ftp://x/`a`")
    code = [c for t in MarkdownIt("commonmark").parse(tricky) if t.children for c in t.children]
    assert [c.content for c in code if c.type == "code_inline"] == ["ftp://x/`a`"]
    assert link("Title", None) == "Title"
    assert link("Title", "https://x.test/a b") == "[Title](https://x.test/a%20b)"
    assert not _links("* " + link("Title", "data:text/html,<b>x</b>"))


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("A ] in [ it", r"A \] in \[ it"),
        (r"already \[escaped\]", r"already \[escaped\]"),
        ("tabs\tand\n\nnewlines   folded ", "tabs and newlines folded"),
        ("*Model* and **Product** kept", "*Model* and **Product** kept"),
        ("List<String> but 1 < 2", r"List\<String> but 1 < 2"),
        ("one ` tick", r"one \` tick"),
        ("a `code` span", "a `code` span"),
        ("ends with a backslash\\", "ends with a backslash\\\\"),
    ],
)
def test_md_text(title: str, expected: str) -> None:
    assert md_text(title) == expected


def test_md_url_encodes_what_would_end_the_link() -> None:
    assert md_url(" https://x.test/a (b)\\c\n") == "https://x.test/a%20%28b%29%5Cc"
    assert md_url("https://x.test/%c2%b5?q=1&r=(2)") == "https://x.test/%c2%b5?q=1&r=%282%29"


def test_headline_leaves_out_an_empty_or_hidden_label() -> None:
    item = DigestItem(1, "T", "https://x.test/", "2022-12", "Amazon")
    assert headline(item) == "T (Dec 2022, Amazon)"
    assert headline(item, True) == "T (Dec 2022)"
    assert headline(DigestItem(1, "T", "https://x.test/", date(2022, 12, 31), "")) == "T (Dec 2022)"
    assert month_name("2024-01") == "Jan 2024"
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_name("2024-13")


def test_order_puts_the_curators_positions_first_then_newest_first() -> None:
    def item(i: int, day: str, position: int | None = None) -> DigestItem:
        return DigestItem(i, f"t{i}", None, "2024-03", published_at=at(day), position=position)

    items = [item(1, "2024-03-01"), item(2, "2024-03-09"), item(3, "2024-03-05", 1), item(4, "2024-03-02", 0)]
    assert [i.id for i in order_items(items)] == [4, 3, 2, 1]
    nobody = [item(1, "2024-03-01"), item(2, "2024-03-09"), item(5, "2024-03-09")]
    assert [i.id for i in order_items(nobody)] == [5, 2, 1]  # same date: the higher id first


def test_numbers_are_fixed_by_the_taxonomy_and_empty_parts_left_out() -> None:
    d = hostile()
    assert [(s.number, [sub.number for sub in s.subsections]) for s in d.sections] == [
        ("1", ["1.1", "1.3"]),
        ("2", ["2.2"]),
        ("3", ["3.2"]),
        ("4", ["4"]),
    ]
    assert build_digest(name="2024-03", title="T", preface="", taxonomy=TAXONOMY, items=[]).sections == ()
    text = render(build_digest(name="2024-03", title="T", preface="", taxonomy=TAXONOMY, items=[]))
    assert text == "# T\n"


def test_items_in_a_section_the_taxonomy_lost_are_kept_aside() -> None:
    gone = DigestItem(99, "Orphan", "https://x.test/o", "2024-03")
    d = build_digest(name="2024-03", title="T", preface="", taxonomy=TAXONOMY, items=[("old/thing", gone)])
    assert d.sections == () and d.unplaced == (("old/thing", gone),)
    assert "Orphan" not in render(d)


@pytest.mark.parametrize("notes", ["nested", "inline"])
def test_what_summary_prints_reads_back_the_same(notes: str) -> None:
    """The parser reads the renderer's output back: same sections, order, titles, links, notes, images.

    Two things cannot come back by design: a hidden label (the AWS section prints none) and a URL's
    percent-encoded spaces and parentheses (the same link, written safely).
    """
    d = hostile()
    parsed = parse_digest(render(d, "summary", notes=notes), TAXONOMY)  # type: ignore[arg-type]
    assert parsed.problems == ()
    expected = []
    for section in d.sections:
        for sub in section.subsections:
            for item in sub.items:
                url = item.url if item.is_link else item.url.strip()  # type: ignore[union-attr]
                expected.append(
                    (
                        sub.id,
                        " ".join(item.title.split()),
                        md_url(url) if item.is_link else url,
                        item.month_name,
                        None if section.hide_labels or not item.label else item.label,
                        item.notes,
                        item.images,
                    )
                )
    got = [
        (p.section, p.title, p.url, month_name(p.month or ""), p.label, p.notes, p.images)
        for p in parsed.items
    ]
    assert got == expected


def test_a_curators_copy_of_a_template_is_used_by_path(tmp_path: Path) -> None:
    mine = tmp_path / "mine.md.j2"
    text = (PACKAGE_TEMPLATES / "summary.md.j2").read_text(encoding="utf-8")
    mine.write_text(
        text.replace("* {{ link(", "- {{ link(").replace(
            "# {{ digest.title }}", "# {{ digest.title }} ({{ digest.name }})"
        ),
        encoding="utf-8",
    )
    out = render(hostile(), mine)
    assert out.startswith("# Test Digest (2024-03)\n")
    assert (
        "- [Brackets \\] and \\[ in a title (Mar 2024, Example Corp)](https://example.com/posts/brackets)\n"
        in out
    )
    assert render(hostile(), str(mine)) == out
    # A copy may include a shipped template by name.
    (tmp_path / "wrap.md.j2").write_text("<!-- ours -->\n{% include 'notebook.md.j2' %}", encoding="utf-8")
    assert render(hostile(), tmp_path / "wrap.md.j2") == "<!-- ours -->\n" + render(hostile(), "notebook")


def test_template_mistakes_are_reported_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.md.j2"
    broken.write_text("# {{ digest.title }}\n{% for x in digest.sections %}\n", encoding="utf-8")
    with pytest.raises(DigestError, match=r"broken\.md\.j2:\d+: .*fix the template"):
        render(hostile(), broken)
    typo = tmp_path / "typo.md.j2"
    typo.write_text("# {{ digest.titel }}\n", encoding="utf-8")
    with pytest.raises(DigestError, match="titel"):
        render(hostile(), typo)
    with pytest.raises(DigestError, match="summary, unnumbered, trend-post, notebook"):
        render(hostile(), "weekly")
    with pytest.raises(DigestError, match="notes style"):
        render(hostile(), "summary", notes="sideways")  # type: ignore[arg-type]


def test_every_shipped_template_documents_its_variables() -> None:
    for name in TEMPLATES:
        head = (PACKAGE_TEMPLATES / f"{name}.md.j2").read_text(encoding="utf-8").split("-#}", 1)[0]
        for word in (
            "Variables:",
            "digest",
            ".subsections",
            ".notes",
            ".images",
            "notes",
            "headline",
            "link(",
        ):
            assert word in head, (name, word)
        assert "--template" in head


def test_a_published_issue_dates_its_trend_post_by_publication() -> None:
    d = build_digest(
        name="2024-03", title="T", preface="", taxonomy=TAXONOMY, items=ITEMS[:1],
        status="published", published_at=at("2024-04-02T10:30:00"),
    )  # fmt: skip
    assert "date: 2024-04-02 10:30:00 +0000\n" in render(d, "trend-post")


def test_golden_files_exist_for_every_template() -> None:
    assert {t for t, _, _ in CASES} == set(TEMPLATES)
    assert sorted(p.name for p in GOLDEN.glob("*.md")) == sorted(g for _, _, g in CASES)


def test_copying_the_templates_folder_keeps_it_working(tmp_path: Path) -> None:
    target = tmp_path / "templates"
    shutil.copytree(PACKAGE_TEMPLATES, target)
    for template, notes, golden in CASES:
        out = render(hostile(), target / f"{template}.md.j2", notes=notes)  # type: ignore[arg-type]
        assert out == (GOLDEN / golden).read_text(encoding="utf-8")
