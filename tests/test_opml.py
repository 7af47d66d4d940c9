"""OPML: reading (and refusing), exporting, and importing into feeds.yaml without losing its comments."""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from aggregator.config import FeedConfig, load_config
from aggregator.config.opml_import import ImportReport, import_into_config
from aggregator.errors import ConfigError
from aggregator.feeds.opml import OpmlFeed, export_opml, read_opml, read_opml_file

ROOT = Path(__file__).resolve().parents[1]
CORPUS_OPML = ROOT.parent / "shared" / "corpus" / "opml"

CONFIG = """\
# Our feeds. Keep this comment.
digest:
  title: Digest   # the title
sections:
  - id: aws
    title: AWS ML Only
    subsections:
      - id: mlops
        title: MLOps

feeds:
  # Amazon first.
  - name: aws-ml
    url: https://aws.amazon.com/blogs/machine-learning/feed/
    label: Amazon
    section_hint: aws
  - name: eugene-yan
    url: https://eugeneyan.com/rss/
    label: ""       # individuals have no label

# A comment after the feeds, about the email.
email:
  weekday: mon
"""


def opml_document(outlines: str, head: str = "<head><title>t</title></head>") -> bytes:
    prolog = '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">'
    return f"{prolog}{head}<body>\n{outlines}\n</body></opml>\n".encode()


def write_config(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(text.encode("utf-8"))
    return path


def only_additions(before: str, after: str) -> list[str]:
    """The lines added between two texts; fails if any line was removed or changed."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    assert not [line for line in diff if line.startswith("- ")], "a line of the original was lost"
    return [line[2:] for line in diff if line.startswith("+ ")]


# -- reading ------------------------------------------------------------------------------------


def test_read_nested_outlines_with_categories() -> None:
    data = opml_document(
        """
        <outline text="AI">
          <outline text="Labs">
            <outline type="rss" text="DeepMind" xmlUrl="https://deepmind.google/blog/rss.xml" htmlUrl="https://deepmind.google/blog/"/>
          </outline>
          <outline type="rss" title="Only a title" xmlUrl=" https://huggingface.co/blog/feed.xml "/>
        </outline>
        <outline type="rss" text="스캐터랩 기술 블로그" xmlURL="https://tech.scatterlab.co.kr/rss"
                 category="/korea/ai,/other"/>
        <outline text="A folder with nothing in it"/>
        <outline type="rss" text="No URL" xmlUrl=""/>
        <outline type="rss" xmlUrl="https://example.com/untitled.xml"/>
        """
    )
    assert read_opml(data) == [
        OpmlFeed(
            "DeepMind", "https://deepmind.google/blog/rss.xml", "https://deepmind.google/blog/", "AI/Labs"
        ),
        OpmlFeed("Only a title", "https://huggingface.co/blog/feed.xml", None, "AI"),
        OpmlFeed("스캐터랩 기술 블로그", "https://tech.scatterlab.co.kr/rss", None, "korea/ai"),
        OpmlFeed("https://example.com/untitled.xml", "https://example.com/untitled.xml"),
    ]


def test_read_utf16_document() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><opml version="1.0"><body><outline text="네이버" xmlUrl="https://d2.naver.com/d2.atom"/></body></opml>'
    assert read_opml(text.encode("utf-16")) == [OpmlFeed("네이버", "https://d2.naver.com/d2.atom")]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE opml [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<opml version="2.0"><body><outline text="&lol3;" xmlUrl="https://example.com/feed"/></body></opml>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE opml [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<opml version="2.0"><body><outline text="&secret;" xmlUrl="https://example.com/feed"/></body></opml>
"""


@pytest.mark.parametrize(
    ("data", "line", "what"),
    [
        (BILLION_LAUGHS, 2, "DOCTYPE"),
        (EXTERNAL_ENTITY, 2, "DOCTYPE"),
        (b'<?xml version="1.0"?>\n<opml><body/></opml>\n<!ENTITY x "y">', 3, "ENTITY"),
        (BILLION_LAUGHS.decode().encode("utf-16"), 2, "DOCTYPE"),
    ],
)
def test_dtds_and_entities_are_refused(data: bytes, line: int, what: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read_opml(data, source="list.opml")
    assert caught.value.path == "list.opml"
    assert caught.value.problems == [
        f"list.opml:{line}: refused: the document declares <!{what}, which OPML never needs and which can "
        "expand entities or read local files (remove the declaration)"
    ]


def test_an_export_that_is_not_well_formed_xml_is_read_as_readers_read_it(tmp_path: Path) -> None:
    path = tmp_path / "broken.opml"
    path.write_bytes(
        b'<opml version="2.0">\n<body>\n<outline text="a & b" xmlUrl="https://x.example/"/>\n'
        b'<outline text="Unclosed folder"><outline text="c" xmlUrl="https://c.example/"></body></opml>'
    )
    assert read_opml_file(path) == [
        OpmlFeed("a & b", "https://x.example/"),
        OpmlFeed("c", "https://c.example/", category="Unclosed folder"),
    ]


def test_other_documents_are_not_opml() -> None:
    with pytest.raises(ConfigError, match=r"not an OPML document: the root element is <rss>"):
        read_opml(b"<rss version='2.0'><channel/></rss>", source="feed.xml")
    with pytest.raises(ConfigError, match=r"has no <body>"):
        read_opml(b"<opml version='2.0'><head/></opml>")
    with pytest.raises(ConfigError, match=r"cannot read the file"):
        read_opml_file(Path("/nonexistent/list.opml"))


@pytest.mark.corpus
def test_every_corpus_opml_reads_or_is_refused_clearly() -> None:
    files = sorted(CORPUS_OPML.glob("*.opml")) if CORPUS_OPML.is_dir() else []
    if not files:
        pytest.skip("../shared/corpus/opml is not here")
    read = 0
    for path in files:
        try:
            feeds = read_opml_file(path)
        except ConfigError as exc:  # some real-world lists are broken; the message must say where
            assert exc.problems[0].startswith(f"{path}:")
            continue
        read += 1
        assert all(feed.xml_url and feed.title for feed in feeds)
    assert read >= len(files) - 2


@pytest.mark.corpus
def test_importing_a_corpus_list_into_the_shipped_file_keeps_it_valid(tmp_path: Path) -> None:
    source = CORPUS_OPML / "target-ai-ml-engineering-blogs.derived.opml"
    if not source.exists():
        pytest.skip("../shared/corpus/opml is not here")
    config = tmp_path / "feeds.yaml"
    shutil.copyfile(ROOT / "feeds.yaml", config)
    before = config.read_text(encoding="utf-8")
    report = import_into_config(config, read_opml_file(source))
    assert report.written
    assert (
        "https://aws.amazon.com/blogs/machine-learning/feed/",
        "already in feeds.yaml as 'aws-machine-learning'",
    ) in (report.skipped)
    only_additions(before, config.read_text(encoding="utf-8"))
    loaded = load_config(config)
    assert {name for name, _ in report.added} <= {feed.name for feed in loaded.feeds}


# -- exporting ----------------------------------------------------------------------------------


FEEDS = [
    FeedConfig(
        name="aws-ml",
        url="https://aws.amazon.com/blogs/machine-learning/feed/",
        label="Amazon",
        language="en",
        section_hint="aws",
    ),
    FeedConfig(name="scatterlab", url="https://tech.scatterlab.co.kr/rss", label="스캐터랩", language="ko"),
    FeedConfig(name="eugene-yan", url="https://eugeneyan.com/rss/"),
    FeedConfig(
        name="odd",
        url='https://example.com/feed?a=1&b="2"&c=<3>',
        label='R&D <Lab> "Q"\x01',
        section_hint="aws/mlops",
    ),
]


def test_export_then_read_gives_the_same_feeds() -> None:
    data = export_opml(FEEDS, "Feeds & <friends>")
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<opml version=\"2.0\">")
    assert b"<title>Feeds &amp; &lt;friends&gt;</title>" in data
    back = read_opml(data)
    assert [(f.title, f.xml_url, f.label, f.language, f.category) for f in back] == [
        ("Amazon", "https://aws.amazon.com/blogs/machine-learning/feed/", "Amazon", "en", "aws"),
        ("스캐터랩", "https://tech.scatterlab.co.kr/rss", "스캐터랩", "ko", None),
        ("eugene-yan", "https://eugeneyan.com/rss/", None, None, None),
        ('R&D <Lab> "Q"', 'https://example.com/feed?a=1&b="2"&c=<3>', 'R&D <Lab> "Q"', None, "aws/mlops"),
    ]
    assert [(f.name, f.section_hint) for f in back] == [
        ("aws-ml", "aws"), ("scatterlab", None), ("eugene-yan", None), ("odd", "aws/mlops"),
    ]  # fmt: skip


def test_export_of_the_shipped_file_round_trips() -> None:
    shipped = load_config(ROOT / "feeds.yaml")
    back = read_opml(export_opml(shipped.feeds, shipped.digest.title))
    assert [(f.title, f.name, f.xml_url, f.label or "", f.language, f.section_hint) for f in back] == [
        (f.label or f.name, f.name, f.url, f.label, f.language, f.section_hint) for f in shipped.feeds
    ]


def test_export_and_import_into_an_empty_config_gives_the_same_feeds(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, "digest: {title: D}\nsections:\n  - {id: aws, title: AWS, subsections: []}\nfeeds: []\n"
    )
    report = import_into_config(config, read_opml(export_opml(FEEDS[:3], "x")))
    assert report.added == tuple((f.name, f.url) for f in FEEDS[:3])
    loaded = load_config(config)
    assert [(f.name, f.url, f.label, f.language, f.section_hint) for f in loaded.feeds] == [
        (f.name, f.url, f.label, f.language, f.section_hint) for f in FEEDS[:3]
    ]


# -- importing into feeds.yaml ---------------------------------------------------------------------


def test_import_keeps_comments_and_layout_and_skips_known_urls(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    feeds = [
        OpmlFeed("AWS ML (http, no slash)", "http://AWS.amazon.com/blogs/machine-learning/feed"),
        OpmlFeed("Hugging Face Blog", "https://huggingface.co/blog/feed.xml"),
        OpmlFeed("Hugging Face again", "https://huggingface.co/blog/feed.xml/"),
        OpmlFeed("Not a feed URL", "javascript:alert(1)"),
        OpmlFeed("Lil'Log (Lilian Weng)", "https://lilianweng.github.io/index.xml"),
    ]
    report = import_into_config(config, feeds)
    assert report == ImportReport(
        added=(
            ("hugging-face-blog", "https://huggingface.co/blog/feed.xml"),
            ("lil-log-lilian-weng", "https://lilianweng.github.io/index.xml"),
        ),
        skipped=(
            ("http://AWS.amazon.com/blogs/machine-learning/feed", "already in feeds.yaml as 'aws-ml'"),
            ("https://huggingface.co/blog/feed.xml/", "listed twice in the OPML"),
            ("javascript:alert(1)", "not an absolute http(s) URL"),
        ),
        written=True,
    )
    after = config.read_text(encoding="utf-8")
    assert only_additions(CONFIG, after) == [
        "  # Imported from OPML: check each label, language and section_hint.",
        "  # Hugging Face Blog",
        "  - name: hugging-face-blog",
        "    url: https://huggingface.co/blog/feed.xml",
        "    label: Hugging Face Blog",
        "  # Lil'Log (Lilian Weng)",
        "  - name: lil-log-lilian-weng",
        "    url: https://lilianweng.github.io/index.xml",
        "    label: Lil'Log (Lilian Weng)",
    ]
    # the new entries follow the last feed, before the comment that belongs to the email section
    assert after.index("lil-log-lilian-weng") < after.index("# A comment after the feeds")
    assert after.index("individuals have no label") < after.index("Imported from OPML")
    assert [f.label for f in load_config(config).feeds] == [
        "Amazon",
        "",
        "Hugging Face Blog",
        "Lil'Log (Lilian Weng)",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["feeds.yaml"]  # no temporary file left behind


def test_import_names_collide_safely(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    feeds = [
        OpmlFeed("Eugene Yan", "https://eugeneyan.com/other-feed.xml"),
        OpmlFeed("Eugene Yan", "https://mirror.example/eugene.xml"),
        OpmlFeed("eugene-yan-2", "https://third.example/feed"),
        OpmlFeed("AWS ML", "https://aws-ml.example/feed"),
        OpmlFeed("!!!", "https://www.example.org/blog/feed/"),
    ]
    report = import_into_config(config, feeds)
    assert [name for name, _ in report.added] == [
        "eugene-yan-2",
        "eugene-yan-3",
        "eugene-yan-2-2",
        "aws-ml-2",
        "example-org-blog",
    ]
    assert len({f.name for f in load_config(config).feeds}) == 7


def test_import_korean_and_japanese_titles_take_their_name_from_the_url(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    feeds = [
        OpmlFeed("스캐터랩 기술 블로그", "https://tech.scatterlab.co.kr/rss"),
        OpmlFeed("우아한형제들", "https://techblog.woowahan.com/feed/"),
        OpmlFeed("쿠팡", "https://medium.com/feed/coupang-engineering"),
        OpmlFeed("네이버 플레이스", "https://medium.com/feed/naver-place-dev"),
        OpmlFeed("LINEヤフー", "https://techblog.lycorp.co.jp/ja/feed/index.xml", language="ja"),
        OpmlFeed("Café Olé", "https://cafe.example/atom.xml", language="not a language"),
    ]
    report = import_into_config(config, feeds)
    assert [name for name, _ in report.added] == [
        "tech-scatterlab-co-kr",
        "techblog-woowahan-com",
        "medium-com-coupang-engineering",
        "medium-com-naver-place-dev",
        "techblog-lycorp-co-jp-ja",
        "cafe-ole",
    ]
    text = config.read_text(encoding="utf-8")
    assert "  # 스캐터랩 기술 블로그\n  - name: tech-scatterlab-co-kr\n" in text
    loaded = load_config(config)
    assert loaded.feed("techblog-lycorp-co-jp-ja").language == "ja"  # type: ignore[union-attr]
    assert loaded.feed("cafe-ole").language is None  # type: ignore[union-attr]


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    stat_before = config.stat()
    report = import_into_config(
        config, [OpmlFeed("Hugging Face", "https://huggingface.co/blog/feed.xml")], dry_run=True
    )
    assert report.added == (("hugging-face", "https://huggingface.co/blog/feed.xml"),)
    assert report.written is False
    assert config.read_bytes() == CONFIG.encode("utf-8")
    assert config.stat().st_mtime_ns == stat_before.st_mtime_ns
    assert [p.name for p in tmp_path.iterdir()] == ["feeds.yaml"]


def test_nothing_new_writes_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    report = import_into_config(config, [OpmlFeed("Eugene", "https://eugeneyan.com/rss")])
    assert report == ImportReport(
        added=(),
        skipped=(("https://eugeneyan.com/rss", "already in feeds.yaml as 'eugene-yan'"),),
        written=False,
    )
    assert config.read_bytes() == CONFIG.encode("utf-8")


@pytest.mark.parametrize(
    ("layout", "expected_entry"),
    [
        (  # a sequence not indented under its key
            "feeds:\n- name: a\n  url: https://a.example/feed\n",
            "- name: new-feed\n  url: https://new.example/feed\n",
        ),
        (  # four spaces and a gap after the dash
            "feeds:\n    -   name: a\n        url: https://a.example/feed\n",
            "    -   name: new-feed\n        url: https://new.example/feed\n",
        ),
        (  # no newline at the end of the file
            "feeds:\n  - name: a\n    url: https://a.example/feed",
            "\n  # Imported from OPML",
        ),
        (  # an empty flow sequence with a comment after it
            "feeds: []   # none yet\nemail: {weekday: fri}\n",
            "feeds:    # none yet\n  # Imported from OPML: check each label, language and section_hint.\n"
            "  # New Feed\n  - name: new-feed\n",
        ),
        (  # nothing at all after the key
            "feeds:\nemail: {weekday: fri}\n",
            "feeds:\n  # Imported from OPML: check each label, language and section_hint.\n",
        ),
        (  # an explicit null
            "feeds: ~  # none yet\n",
            "feeds:   # none yet\n  # Imported from OPML",
        ),
        (  # a flow sequence
            "feeds: [{name: a, url: 'https://a.example/feed'}]\n",
            "feeds: [{name: a, url: 'https://a.example/feed'}, "
            "{name: new-feed, url: https://new.example/feed, label: New Feed}]\n",
        ),
        (  # the last value is a block scalar
            "feeds:\n  - name: a\n    url: https://a.example/feed\n    label: |\n      Multi\n\n# end\n",
            "      Multi\n  # Imported from OPML",
        ),
    ],
)
def test_import_follows_the_file_layout(tmp_path: Path, layout: str, expected_entry: str) -> None:
    text = "digest: {title: D}\nsections: []\n" + layout
    config = write_config(tmp_path, text)
    report = import_into_config(config, [OpmlFeed("New Feed", "https://new.example/feed")])
    assert report.added == (("new-feed", "https://new.example/feed"),)
    after = config.read_text(encoding="utf-8")
    assert expected_entry in after
    assert load_config(config).feed("new-feed") is not None


def test_import_keeps_crlf_line_endings(tmp_path: Path) -> None:
    config = write_config(tmp_path, CONFIG.replace("\n", "\r\n"))
    import_into_config(config, [OpmlFeed("New", "https://new.example/feed")])
    data = config.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert b"  - name: new\r\n    url: https://new.example/feed\r\n" in data


def test_import_quotes_what_yaml_would_misread(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    feeds = [OpmlFeed("null", "https://n.example/feed"), OpmlFeed("yes", "https://y.example/a b#c")]
    report = import_into_config(config, feeds)
    assert report.added == (("null", "https://n.example/feed"),)
    assert report.skipped == (("https://y.example/a b#c", "not an absolute http(s) URL"),)
    assert '  - name: "null"\n' in config.read_text(encoding="utf-8")
    assert load_config(config).feed("null") is not None


def test_import_refuses_an_invalid_file_and_leaves_it_alone(tmp_path: Path) -> None:
    broken = CONFIG.replace("    label: Amazon\n", "    label: Amazon\n    colour: red\n")
    config = write_config(tmp_path, broken)
    with pytest.raises(ConfigError) as caught:
        import_into_config(config, [OpmlFeed("New", "https://new.example/feed")])
    assert caught.value.problems[0].startswith(f"{config}:16: feeds[0].colour: unknown field")
    assert config.read_text(encoding="utf-8") == broken


def test_import_into_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        import_into_config(tmp_path / "feeds.yaml", [OpmlFeed("New", "https://new.example/feed")])


def test_import_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = write_config(tmp_path)
    os.chmod(real, 0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    import_into_config(link, [OpmlFeed("New", "https://new.example/feed")])
    assert link.is_symlink()
    assert "name: new" in real.read_text(encoding="utf-8")
    assert real.stat().st_mode & 0o777 == 0o640


# -- a reader's real-shaped export, through the command line --------------------------------------

READER_EXPORT = ROOT / "tests" / "fixtures" / "opml" / "reader-export.opml"


def test_a_reader_s_export_imports_with_labels_and_languages(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from aggregator.cli import app

    config = write_config(tmp_path)
    result = CliRunner().invoke(app, ["--config", str(config), "feeds", "import-opml", str(READER_EXPORT)])
    assert result.exit_code == 0, result.output
    added = {f.url: f for f in load_config(config).feeds[2:]}
    assert [(f.name, f.label, f.language) for f in added.values()] == [
        ("example-lab-research", "Example Lab Research", "en"),
        ("models-methods", "Models & Methods", None),
        ("notes-from-the-edge", "Notes from <the> edge", None),
        ("tech-example-co-kr", "예시 기술 블로그", "ko"),
        ("dev-example-jp", "サンプル開発者ブログ", "ja-JP"),
        ("uncategorised-post-feed", "Uncategorised post feed", None),
    ]
    assert "https://models.example.net/feed.xml?format=rss&lang=en" in added


def test_export_then_import_keeps_names_labels_and_section_hints(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from aggregator.cli import app

    runner = CliRunner()
    source = write_config(tmp_path)
    exported = runner.invoke(app, ["--config", str(source), "feeds", "export-opml"])
    assert exported.exit_code == 0, exported.output
    assert 'text="Amazon" title="Amazon"' in exported.output  # the label, not the slug
    assert 'name="aws-ml"' in exported.output and 'section_hint="aws"' in exported.output
    (tmp_path / "list.opml").write_text(exported.output, encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    target = write_config(empty, CONFIG.split("feeds:")[0] + "feeds: []\n")
    imported = runner.invoke(
        app, ["--config", str(target), "feeds", "import-opml", str(tmp_path / "list.opml")]
    )
    assert imported.exit_code == 0, imported.output
    assert [(f.name, f.url, f.label, f.language, f.section_hint) for f in load_config(target).feeds] == [
        (f.name, f.url, f.label, f.language, f.section_hint) for f in load_config(source).feeds
    ]
