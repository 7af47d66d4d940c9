"""feeds.yaml and the environment: the shipped file, each error with its line, durations, settings."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import pytest
from pydantic import ValidationError

from aggregator.config import (
    FeedConfig,
    FeedsFile,
    Settings,
    load_config,
    load_settings,
    parse_config,
    parse_duration,
)
from aggregator.config import cache as config_cache
from aggregator.config.cache import freeze, load_configuration
from aggregator.errors import AggregatorError, ConfigError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "feeds.yaml"
SEED_000 = ROOT.parent / "shared" / "seeds" / "000_4f8890a1120b5ccf.txt"

# Line numbers below refer to this document; each test plants its error by replacing one line.
BASE = """\
digest:
  title: Digest
sections:
  - id: research
    title: Research
    subsections:
      - id: nlp
        title: NLP
  - id: aws
    title: AWS ML Only
    hide_labels: true
    subsections:
      - id: mlops
        title: MLOps
feeds:
  - name: aws-ml
    url: https://aws.amazon.com/blogs/machine-learning/feed/
    label: Amazon
    section_hint: aws
  - name: eugene-yan
    url: https://eugeneyan.com/rss/
    label: ""
  - name: scatterlab
    url: https://tech.scatterlab.co.kr/rss
    label: 스캐터랩
    language: ko
  - name: naver-d2
    url: https://d2.naver.com/d2.atom
    label: 네이버
"""


def plant(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


def problems_of(tmp_path: Path, text: str | bytes) -> tuple[Path, list[str]]:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.path == str(path)
    return path, caught.value.problems


def only_problem(tmp_path: Path, text: str | bytes) -> tuple[Path, str]:
    path, problems = problems_of(tmp_path, text)
    assert len(problems) == 1, problems
    return path, problems[0]


# -- the shipped feeds.yaml -------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> FeedsFile:
    return load_config(SHIPPED)


REQUIRED_FEEDS = {
    # name: label, as the curators' digests print it
    "aws-machine-learning": "Amazon",
    "amazon-science": "Amazon",
    "netflix-techblog": "Netflix",
    "airbnb-engineering": "Airbnb",
    "google-research": "Google",
    "meta-ai-research": "Meta",
    "deepmind": "DeepMind",
    "microsoft-research": "Microsoft",
    "openai": "OpenAI",
    "huggingface": "HuggingFace",
    "pytorch": "PyTorch",
    "linkedin-engineering": "LinkedIn",
    "pinterest-engineering": "Pinterest",
    "lyft-engineering": "Lyft",
    "dropbox-tech": "Dropbox",
    "spotify-engineering": "Spotify",
    "uber-engineering": "Uber",
    "databricks": "Databricks",
    "eugene-yan": "",
    "chip-huyen": "",
    "sebastian-ruder": "",
    "lilian-weng": "",
    "bair": "BAIR",
    "scatterlab": "스캐터랩",
    "naver-d2": "네이버",
    "naver-clova": "네이버",
    "kakao-tech": "카카오",
    "hyperconnect": "하이퍼커넥트",
    "socar-tech": "쏘카",
    "kurly-tech": "컬리",
    "coupang-engineering": "쿠팡",
    "dramancompany": "드라마앤컴퍼니",
    "liner": "라이너",
    "toss-tech": "토스",
    "woowahan-tech": "우아한형제들",
    "classmethod-developersio": "Classmethod",
    "lycorp-techblog": "LY Corporation",
    "preferred-networks": "Preferred Networks",
}


def test_shipped_feeds_yaml_has_every_required_feed_with_its_label(shipped: FeedsFile) -> None:
    labels = {feed.name: feed.label for feed in shipped.feeds}
    missing = sorted(set(REQUIRED_FEEDS) - set(labels))
    assert not missing
    assert {name: labels[name] for name in REQUIRED_FEEDS} == REQUIRED_FEEDS


def test_shipped_feeds_have_languages_and_aws_has_its_hint(shipped: FeedsFile) -> None:
    assert {feed.language for feed in shipped.feeds} == {"en", "ko", "ja"}
    assert shipped.feed("aws-machine-learning") is not None
    assert shipped.feed("aws-machine-learning").section_hint == "aws"  # type: ignore[union-attr]
    assert shipped.feed("scatterlab").language == "ko"  # type: ignore[union-attr]
    assert shipped.feed("classmethod-developersio").language == "ja"  # type: ignore[union-attr]
    assert shipped.feed("no-such-feed") is None
    assert len({feed.url for feed in shipped.feeds}) == len(shipped.feeds)


def test_shipped_taxonomy_is_three_sections_of_four(shipped: FeedsFile) -> None:
    assert [(s.id, s.title, s.hide_labels) for s in shipped.sections] == [
        ("research", "Research", False),
        ("business", "Business Cases and Implementations", False),
        ("aws", "AWS ML Only", True),
    ]
    for section in shipped.sections:
        assert [(sub.id, sub.title) for sub in section.subsections] == [
            ("cv", "CV"),
            ("nlp", "NLP"),
            ("recsys", "RecSys, etc."),
            ("mlops", "Training, Inference and MLOps"),
        ]
    taxonomy = shipped.taxonomy()  # the numbering rules live in the frozen taxonomy
    ids = taxonomy.section_ids()
    assert len(ids) == 15
    assert ids[:6] == [
        "research",
        "research/cv",
        "research/nlp",
        "research/recsys",
        "research/mlops",
        "business",
    ]
    assert shipped.sections[2].full_ids() == ["aws/cv", "aws/nlp", "aws/recsys", "aws/mlops"]
    assert taxonomy.section_number("business") == "2"
    assert taxonomy.section_number("aws/mlops") == "3.4"
    with pytest.raises(KeyError):
        taxonomy.section_number("aws/robotics")


def test_shipped_digest_settings(shipped: FeedsFile) -> None:
    assert shipped.digest.title == "Summary of Important AI & ML Blog Posts"
    assert shipped.digest.preface.startswith("* NOTE: ")
    assert len(shipped.digest.preface.splitlines()) == 5
    assert shipped.fetch.user_agent_contact.startswith("https://")
    assert shipped.email.timezone == "Asia/Seoul"


@pytest.mark.corpus
def test_shipped_preface_is_the_seed_note_verbatim(shipped: FeedsFile) -> None:
    if not SEED_000.exists():
        pytest.skip("../shared/seeds is not here")
    seed_lines = SEED_000.read_text(encoding="utf-8").splitlines(keepends=True)
    assert shipped.digest.preface == "".join(seed_lines[1:6])


# -- each kind of error names the file, the line and the field ---------------------------------


def test_base_document_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(BASE, encoding="utf-8")
    config = load_config(path)
    assert [feed.name for feed in config.feeds] == ["aws-ml", "eugene-yan", "scatterlab", "naver-d2"]
    assert config.feed("scatterlab") == FeedConfig(
        name="scatterlab", url="https://tech.scatterlab.co.kr/rss", label="스캐터랩", language="ko"
    )
    assert config.feeds[0].interval == "auto"  # the default
    assert config.email.recipients == []


def test_unknown_key(tmp_path: Path) -> None:
    path, problem = only_problem(tmp_path, plant("    language: ko\n", "    lable: Scatter\n"))
    assert problem.startswith(f"{path}:26: feeds[2].lable: unknown field (did you mean 'label'?")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path, problem = only_problem(tmp_path, plant("feeds:\n", "feed_list: []\nfeeds:\n"))
    assert problem.startswith(f"{path}:15: feed_list: unknown field")


def test_wrong_type(tmp_path: Path) -> None:
    path, problem = only_problem(tmp_path, plant('    label: ""\n', '    label: ""\n    weight: heavy\n'))
    assert problem == f"{path}:23: feeds[1].weight: expected a number, got 'heavy' (change the value)"


def test_yaml_boolean_where_text_is_expected(tmp_path: Path) -> None:
    path, problem = only_problem(tmp_path, plant("    language: ko\n", "    language: no\n"))
    assert problem.startswith(f"{path}:26: feeds[2].language: expected text, got False (quote it")


def test_duplicate_feed_name(tmp_path: Path) -> None:
    path, problem = only_problem(tmp_path, plant("  - name: naver-d2\n", "  - name: scatterlab\n"))
    assert problem.startswith(f"{path}:27: feeds[3].name: duplicate feed name 'scatterlab'")
    assert "feeds[2].name on line 23" in problem


def test_duplicate_feed_url(tmp_path: Path) -> None:
    text = plant("    url: https://d2.naver.com/d2.atom\n", "    url: https://eugeneyan.com/rss/\n")
    path, problem = only_problem(tmp_path, text)
    assert problem.startswith(f"{path}:28: feeds[3].url: duplicate feed URL")
    assert "feeds[1].url on line 21" in problem


def test_duplicate_yaml_mapping_key(tmp_path: Path) -> None:
    text = plant('    label: ""\n', '    label: ""\n    url: https://example.com/other.xml\n')
    path, problem = only_problem(tmp_path, text)
    assert problem.startswith(f"{path}:23: feeds[1].url: duplicate key (first at line 21;")


def test_bad_url(tmp_path: Path) -> None:
    text = plant("    url: https://d2.naver.com/d2.atom\n", "    url: d2.naver.com/d2.atom\n")
    path, problem = only_problem(tmp_path, text)
    assert problem == (
        f"{path}:28: feeds[3].url: not an absolute http(s) URL: 'd2.naver.com/d2.atom' "
        "(write the full address, starting with https://)"
    )


@pytest.mark.parametrize(
    "url", ["ftp://example.com/feed", "https://", "https://exa mple.com/", "https://x:99999/"]
)
def test_other_bad_urls(tmp_path: Path, url: str) -> None:
    path, problem = only_problem(
        tmp_path, plant("    url: https://d2.naver.com/d2.atom\n", f"    url: '{url}'\n")
    )
    assert problem.startswith(f"{path}:28: feeds[3].url: not an absolute http(s) URL")


def test_unknown_section_hint(tmp_path: Path) -> None:
    path, problem = only_problem(tmp_path, plant("    section_hint: aws\n", "    section_hint: aws/nlp\n"))
    assert problem.startswith(f"{path}:19: feeds[0].section_hint: unknown section 'aws/nlp'")
    assert "use one of: research, research/nlp, aws, aws/mlops" in problem


def test_missing_field_points_at_the_entry_that_lacks_it(tmp_path: Path) -> None:
    path, problem = only_problem(tmp_path, plant("    url: https://eugeneyan.com/rss/\n", ""))
    assert problem == f"{path}:20: feeds[1].url: required field is missing (add it)"


def test_missing_top_level_section(tmp_path: Path) -> None:
    path, problem = only_problem(tmp_path, plant("digest:\n  title: Digest\n", "digest: {}\n"))
    assert problem.startswith(f"{path}:1: digest.title: required field is missing")


def test_unparseable_yaml(tmp_path: Path) -> None:
    path, problem = only_problem(tmp_path, plant("    label: 네이버\n", "  label: 네이버\n"))
    assert problem.startswith(f"{path}:29: invalid YAML: ")
    assert "(fix the syntax near column" in problem


def test_unclosed_flow_sequence_names_where_it_started(tmp_path: Path) -> None:
    path, problem = only_problem(tmp_path, "digest: {title: x}\nsections: []\nfeeds: [\n  {name: a\n")
    assert problem.startswith(f"{path}:")
    assert "that starts on line" in problem


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "feeds.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [
        f"{path}: file not found (create it from the shipped feeds.yaml, or point --config or "
        "AGGREGATOR_CONFIG at the right file)"
    ]


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.problems[0].startswith(f"{tmp_path}: cannot read the file")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path, problem = only_problem(tmp_path, text)
    assert problem == f"{path}:1: the file is empty (start from the feeds.yaml shipped with aggregator)"


def test_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path, problem = only_problem(tmp_path, "- just\n- a list\n")
    assert problem.startswith(f"{path}:1: the file must be a mapping with the keys fetch, digest, sections")


def test_not_utf8(tmp_path: Path) -> None:
    path, problem = only_problem(
        tmp_path, BASE.encode("utf-8").replace("네이버".encode(), "네이버".encode("euc-kr"))
    )
    assert problem == f"{path}:29: the file is not valid UTF-8 (save it as UTF-8)"


def test_python_tags_are_refused_by_the_safe_loader(tmp_path: Path) -> None:
    text = plant('    label: ""\n', "    label: !!python/object/apply:os.system ['true']\n")
    path, problem = only_problem(tmp_path, text)
    assert problem.startswith(f"{path}:22: invalid YAML: could not determine a constructor")


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    path, problem = only_problem(tmp_path, "\n".join(levels) + "\n")
    assert problem.startswith(f"{path}:1: the document expands to more than")


def test_every_problem_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    text = plant("    section_hint: aws\n", "    section_hint: nope\n")
    text = plant("    url: https://eugeneyan.com/rss/\n", "    url: eugeneyan.com\n", text)
    text = plant("  - name: naver-d2\n", "  - name: scatterlab\n", text)
    text = plant("    language: ko\n", "    language: ko\n    colour: red\n", text)
    text = plant("  title: Digest\n", "  title: Digest\n  title: Again\n", text)
    path, problems = problems_of(tmp_path, text)
    assert [problem.split(": ", 2)[:2] for problem in problems] == [
        [f"{path}:3", "digest.title"],
        [f"{path}:20", "feeds[0].section_hint"],
        [f"{path}:22", "feeds[1].url"],
        [f"{path}:28", "feeds[2].colour"],
        [f"{path}:29", "feeds[3].name"],
    ]
    assert "duplicate key (first at line 2" in problems[0]
    assert str(ConfigError(str(path), problems)) == "\n".join(problems)


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "fragment"),
    [
        (
            "    label: Amazon\n",
            "    label: Amazon\n    interval: 1m\n",
            19,
            "feeds[0].interval",
            "1m is too short",
        ),
        (
            "    label: Amazon\n",
            "    label: Amazon\n    interval: soon\n",
            19,
            "feeds[0].interval",
            "not an interval: 'soon' (write auto, or a duration of at least 5m",
        ),
        (
            "    label: Amazon\n",
            "    label: Amazon\n    weight: -1\n",
            19,
            "feeds[0].weight",
            "greater than or equal to 0",
        ),
        ("    language: ko\n", "    language: korean\n", 26, "feeds[2].language", "not a language tag"),
        ("  - name: naver-d2\n", "  - name: Naver D2\n", 27, "feeds[3].name", "not a valid id"),
        ("      - id: nlp\n", "      - id: NLP!\n", 7, "sections[0].subsections[0].id", "not a valid id"),
        (
            "  title: Digest\n",
            "  title: Digest\n  notes: footnotes\n",
            3,
            "digest.notes",
            "'nested' or 'inline'",
        ),
        ("feeds:\n", "email: {timezone: KST}\nfeeds:\n", 15, "email.timezone", "unknown time zone: 'KST'"),
        ("feeds:\n", "email: {time: '25:00'}\nfeeds:\n", 15, "email.time", "not a time of day"),
        (
            "feeds:\n",
            "email: {recipients: [a@x.org, not-an-address]}\nfeeds:\n",
            15,
            "email.recipients[1]",
            "not an email",
        ),
        ("feeds:\n", "email: {weekday: someday}\nfeeds:\n", 15, "email.weekday", "'mon'"),
        (
            "feeds:\n",
            "fetch:\n  concurrency: many\nfeeds:\n",
            16,
            "fetch.concurrency",
            "expected a whole number",
        ),
        ("feeds:\n", "fetch:\n  backoff_cap: 10s\nfeeds:\n", 16, "fetch.backoff_cap", "too short"),
        (
            "feeds:\n",
            "fetch:\n  allow_private_networks: [10.0.0.1/8]\nfeeds:\n",
            16,
            "fetch.allow_private_networks[0]",
            "host bits set (write '10.0.0.0/8')",
        ),
        (
            "feeds:\n",
            "fetch:\n  user_agent_contact: me\nfeeds:\n",
            16,
            "fetch.user_agent_contact",
            "not an absolute",
        ),
    ],
)
def test_field_problems(tmp_path: Path, old: str, new: str, line: int, field: str, fragment: str) -> None:
    path, problem = only_problem(tmp_path, plant(old, new))
    assert problem.startswith(f"{path}:{line}: {field}: "), problem
    assert fragment in problem
    assert problem.endswith(")")  # every message says what to do, in parentheses


def test_duplicate_section_id_and_the_hint_it_orphans(tmp_path: Path) -> None:
    path, problems = problems_of(tmp_path, plant("  - id: aws\n", "  - id: research\n"))
    assert len(problems) == 2
    assert problems[0].startswith(f"{path}:9: sections[1].id: duplicate section id 'research' (already used ")
    assert problems[1].startswith(f"{path}:19: feeds[0].section_hint: unknown section 'aws'")


def test_duplicate_subsection_id(tmp_path: Path) -> None:
    text = plant(
        "      - id: mlops\n        title: MLOps\n",
        "      - id: mlops\n        title: A\n      - id: mlops\n        title: B\n",
    )
    path, problem = only_problem(tmp_path, text)
    assert problem.startswith(f"{path}:15: sections[1].subsections[1].id: duplicate subsection id 'mlops'")


def test_friendly_spellings_are_accepted(tmp_path: Path) -> None:
    text = plant(
        "feeds:\n",
        "email:\n  weekday: Monday\n  time: 8:30\n  recipients: ['Curator <curator@example.com>']\n"
        "fetch:\n  allow_private_networks: [127.0.0.1, '::1/128']\n  backoff_cap: 12h\nfeeds:\n",
    )
    config = parse_config(text, source="inline.yaml")
    assert config.email.weekday == "mon"
    assert config.email.time == "08:30"  # YAML 1.1 would have read 8:30 as the number 510
    assert config.fetch.allow_private_networks == [ip_network("127.0.0.1/32"), ip_network("::1/128")]
    assert config.fetch.backoff_cap == timedelta(hours=12)


def test_empty_lists_may_be_left_blank() -> None:
    config = parse_config("digest: {title: D}\nsections:\nemail:\n  recipients:\nfeeds:\n")
    assert (config.sections, config.feeds, config.email.recipients) == ([], [], [])


def test_config_error_is_an_aggregator_error(tmp_path: Path) -> None:
    with pytest.raises(AggregatorError):
        parse_config("", source="x.yaml")


def test_models_built_in_code_get_the_same_cross_checks() -> None:
    digest = {"title": "D"}
    feed = {"name": "a", "url": "https://a.example/feed"}
    with pytest.raises(ValidationError, match="duplicate feed name 'a'"):
        FeedsFile.model_validate(
            {"digest": digest, "sections": [], "feeds": [feed, {**feed, "url": "https://b.x/"}]}
        )
    with pytest.raises(ValidationError, match="unknown section 'aws'"):
        FeedsFile.model_validate(
            {
                "digest": digest,
                "sections": [{"id": "research", "title": "R", "subsections": []}],
                "feeds": [{**feed, "section_hint": "aws"}],
            }
        )
    with pytest.raises(ValidationError):
        FeedConfig(name="a", url="https://a.example/feed", interval="4m")  # type: ignore[arg-type]


# -- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        (" 2H ", timedelta(hours=2)),
        ("300", timedelta(seconds=300)),
        (300, timedelta(seconds=300)),
        (0, timedelta(0)),
        (timedelta(minutes=7), timedelta(minutes=7)),
    ],
)
def test_parse_duration(value: str | int | timedelta, expected: timedelta) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["", "soon", "5 minutes", "h", "1x", "-5m", -5, True, "1h-30m"])
def test_parse_duration_refuses(value: str | int) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)


def test_interval_accepts_every_duration_form() -> None:
    for value, expected in (("30m", 1800), (600, 600), ("1d", 86400), ("5m", 300)):
        feed = FeedConfig.model_validate({"name": "a", "url": "https://a.example/", "interval": value})
        assert feed.interval == timedelta(seconds=expected)


def test_interval_auto_is_the_default_and_is_written_in_any_case() -> None:
    base = {"name": "a", "url": "https://a.example/"}
    assert FeedConfig.model_validate(base).interval == "auto"
    for value in ("auto", "AUTO", " Auto "):
        assert FeedConfig.model_validate({**base, "interval": value}).interval == "auto"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("4m", "4m is too short for a poll interval"),
        (0, "0s is too short for a poll interval"),
        ("automatic", "not an interval: 'automatic'"),
        ("hourly", "not an interval: 'hourly'"),
        (True, "not an interval: True"),
        (None, "not an interval: None"),
    ],
)
def test_interval_refuses_with_what_to_write(value: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FeedConfig.model_validate({"name": "a", "url": "https://a.example/", "interval": value})
    (error,) = caught.value.errors()
    assert fragment in error["msg"]
    assert "write auto, or a duration of at least 5m" in error["msg"]


def test_frozen_feeds_say_auto_or_their_fixed_interval(tmp_path: Path) -> None:
    text = plant("    label: Amazon\n", "    label: Amazon\n    interval: 10m\n")
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    frozen = freeze(load_config(path))
    fixed, auto = frozen.feeds[0], frozen.feeds[1]
    assert (fixed.interval, fixed.interval_auto) == (timedelta(minutes=10), False)
    assert (auto.interval, auto.interval_auto) == (timedelta(hours=1), True)


def test_a_cache_from_before_interval_auto_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache key names the layout of the frozen values: a bump makes every old entry a miss."""
    monkeypatch.setenv("AGGREGATOR_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "feeds.yaml"
    path.write_text(BASE, encoding="utf-8")
    first = load_configuration(path)
    assert load_configuration(path) == first  # read back from the cache
    monkeypatch.setattr(config_cache, "FORMAT", config_cache.FORMAT - 1)
    entries = sorted((tmp_path / "cache").glob("feeds-*.pickle"))
    load_configuration(path)
    assert len(sorted((tmp_path / "cache").glob("feeds-*.pickle"))) == len(entries) + 1


# -- settings from the environment ---------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    import os

    for key in list(os.environ):
        if key.upper().startswith("AGGREGATOR_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_settings_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.data_dir == Path("data")
    assert settings.resolved_database_url() == "sqlite:///data/aggregator.sqlite3"
    assert settings.config_path() == Path("feeds.yaml")
    assert settings.smtp_port == 587
    assert settings.smtp_starttls is True
    assert settings.smtp_password is None


def test_settings_from_environment(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("AGGREGATOR_DATA_DIR", str(tmp_path / "state"))
    clean_env.setenv("AGGREGATOR_CONFIG", "/etc/aggregator/feeds.yaml")
    clean_env.setenv("AGGREGATOR_SMTP_HOST", "127.0.0.1")
    clean_env.setenv("AGGREGATOR_SMTP_PORT", "2525")
    clean_env.setenv("AGGREGATOR_SMTP_USER", "bot")
    clean_env.setenv("AGGREGATOR_SMTP_PASSWORD", "hunter2")
    clean_env.setenv("AGGREGATOR_SMTP_STARTTLS", "false")
    clean_env.setenv("AGGREGATOR_CURATOR", "minji")
    settings = Settings()
    assert (
        settings.resolved_database_url() == f"sqlite:///{(tmp_path / 'state').as_posix()}/aggregator.sqlite3"
    )
    assert settings.resolved_database_url().startswith("sqlite:////")  # an absolute path keeps its slash
    assert settings.config_path() == Path("/etc/aggregator/feeds.yaml")
    assert settings.config_path(Path("other.yaml")) == Path("other.yaml")
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_user) == ("127.0.0.1", 2525, "bot")
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings)
    assert settings.smtp_starttls is False
    assert settings.curator == "minji"


def test_database_url_from_environment_wins(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("AGGREGATOR_DATABASE_URL", "postgresql+psycopg://agg@127.0.0.1/agg")
    clean_env.setenv("AGGREGATOR_DATA_DIR", "/var/lib/aggregator")
    assert Settings().resolved_database_url() == "postgresql+psycopg://agg@127.0.0.1/agg"


def test_settings_never_read_a_dotenv_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("AGGREGATOR_SMTP_PASSWORD=from-a-file\nAGGREGATOR_CURATOR=file\n")
    settings = Settings()
    assert settings.smtp_password is None
    assert settings.curator is None


def test_bad_environment_names_the_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("AGGREGATOR_SMTP_PORT", "smtp")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.path == "environment"
    assert caught.value.problems == [
        "environment: AGGREGATOR_SMTP_PORT: expected a whole number, got 'smtp' (change the value)"
    ]
