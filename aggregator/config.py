"""feeds.yaml and the environment, validated at the edge.

``feeds.yaml`` holds the feeds, the digest's section taxonomy, the digest's settings, the weekly
email's schedule and the fetch limits. Secrets and the database URL come only from the environment
(:class:`Settings`), never from the file.

:func:`load_config` reads the file with PyYAML's safe loader, keeps the composed node tree (every
node knows its line), validates the data with pydantic and turns every problem into one line a
person can act on, all of them at once, in one :class:`~aggregator.errors.ConfigError`::

    feeds.yaml:42: feeds[3].url: not an absolute http(s) URL: 'example.com/feed' (write ...)

Paths use 0-based list indices, as in Python: ``feeds[0]`` is the first feed.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import types
import typing
from collections.abc import Callable
from datetime import timedelta
from email.utils import getaddresses
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from aggregator.errors import ConfigError
from aggregator.taxonomy import Section, Subsection, Taxonomy

__all__ = [
    "DigestConfig",
    "EmailConfig",
    "FeedConfig",
    "FeedsFile",
    "FetchConfig",
    "SectionConfig",
    "Settings",
    "SubsectionConfig",
    "load_config",
    "load_settings",
    "parse_config",
    "parse_duration",
]

Loc = tuple[str | int, ...]

DEFAULT_CONFIG_PATH = Path("feeds.yaml")
DEFAULT_USER_AGENT_CONTACT = "https://github.com/aimldigest/aggregator"

# -- durations ----------------------------------------------------------------

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?\s*[smhdw]\s*)+")
_DURATION_PART_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([smhdw])")
_DURATION_HINT = "write a number with a unit such as 90s, 30m, 2h, 1d or 1h30m, or whole seconds"


def parse_duration(value: str | int | timedelta) -> timedelta:
    """Read a duration: ``"90s"``, ``"30m"``, ``"2h"``, ``"1d"``, ``"1h30m"``, or an int of seconds.

    Raises ValueError (with what to write instead) for anything else, or for a negative duration.
    """
    return _duration(value)


def _duration(value: object) -> timedelta:
    problem = f"not a duration: {value!r} ({_DURATION_HINT})"
    try:
        if isinstance(value, timedelta):
            result = value
        elif isinstance(value, bool):
            raise ValueError(problem)
        elif isinstance(value, int):
            result = timedelta(seconds=value)
        elif isinstance(value, str) and _DURATION_RE.fullmatch(text := value.strip().lower()):
            parts = _DURATION_PART_RE.findall(text)
            result = timedelta(seconds=sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts))
        elif isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
            result = timedelta(seconds=int(value.strip()))
        else:
            raise ValueError(problem)
    except OverflowError:
        raise ValueError(f"the duration {value!r} is too long ({_DURATION_HINT})") from None
    if result < timedelta(0):
        raise ValueError(f"a duration cannot be negative: {value!r} ({_DURATION_HINT})")
    return result


def _at_least(minimum: timedelta, what: str) -> Callable[[timedelta], timedelta]:
    def check(value: timedelta) -> timedelta:
        if value < minimum:
            raise ValueError(
                f"{_show_duration(value)} is too short for {what} (use at least {_show_duration(minimum)})"
            )
        return value

    return check


def _show_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[timedelta, BeforeValidator(_duration)]

# -- small value checks -------------------------------------------------------

_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_SECTION_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*(?:/[a-z0-9][a-z0-9-]*)?")
_LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_ADDRESS_RE = re.compile(r"[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NAMES = {spelling: day[:3] for day in _DAY_NAMES for spelling in (day, day[:3])}


def _check_slug(value: str) -> str:
    if not _SLUG_RE.fullmatch(value):
        raise ValueError(
            f"not a valid id: {value!r} (use lowercase ASCII letters, digits and '-', "
            "starting with a letter or digit, e.g. 'eugene-yan')"
        )
    return value


def _check_http_url(value: str) -> str:
    problem = f"not an absolute http(s) URL: {value!r} (write the full address, starting with https://)"
    if not value or any(char.isspace() for char in value):
        raise ValueError(problem)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise ValueError(problem) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(problem)
    return value


def _check_language(value: str) -> str:
    if not _LANGUAGE_RE.fullmatch(value):
        raise ValueError(f"not a language tag: {value!r} (use a BCP 47 tag such as en, ko or ja)")
    return value


def _check_section_ref(value: str) -> str:
    if not _SECTION_ID_RE.fullmatch(value):
        raise ValueError(
            f"not a section id: {value!r} (write a top section id such as 'aws' "
            "or a full subsection id such as 'aws/mlops')"
        )
    return value


def _check_address(value: str) -> str:
    found = getaddresses([value])
    if len(found) != 1 or not _ADDRESS_RE.fullmatch(found[0][1]):
        raise ValueError(f"not an email address: {value!r} (write one address, e.g. curator@example.com)")
    return value


def _parse_network(value: object) -> IPv4Network | IPv6Network:
    if isinstance(value, IPv4Network | IPv6Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a network: {value!r} (write a CIDR such as 127.0.0.1/32 or 10.0.0.0/8)")
    try:
        return ip_network(value.strip(), strict=True)
    except ValueError:
        pass
    try:
        loose = ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"not a network: {value!r} (write a CIDR such as 127.0.0.1/32 or 10.0.0.0/8)"
        ) from None
    raise ValueError(f"{value!r} has host bits set (write {str(loose)!r})")


Slug = Annotated[str, AfterValidator(_check_slug)]
HttpURL = Annotated[str, AfterValidator(_check_http_url)]
Network = Annotated[IPv4Network | IPv6Network, PlainValidator(_parse_network)]
Address = Annotated[str, AfterValidator(_check_address)]


def _none_is_empty(value: object) -> object:
    """``feeds:`` with nothing after it means an empty list, not an error."""
    return [] if value is None else value


# -- the models -----------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class FeedConfig(_Strict):
    """One feed the curators follow."""

    name: Slug
    """Stable id used on the command line and in the database; unique across the file."""
    url: HttpURL
    """The feed's address (RSS, Atom, RDF or JSON Feed)."""
    label: str = ""
    """The company shown in the digest line, e.g. ``Amazon`` or ``스캐터랩``; empty for individuals."""
    language: Annotated[str, AfterValidator(_check_language)] | None = None
    section_hint: Annotated[str, AfterValidator(_check_section_ref)] | None = None
    """A section id (``aws`` or ``aws/mlops``) the suggestion starts from."""
    weight: float = Field(default=1.0, ge=0)
    interval: Annotated[Duration, AfterValidator(_at_least(timedelta(minutes=5), "a poll interval"))] = (
        timedelta(hours=1)
    )
    enabled: bool = True


class SubsectionConfig(_Strict):
    """A subsection; its full id is ``<section id>/<id>``."""

    id: Slug
    title: str = Field(min_length=1)


class SectionConfig(_Strict):
    """A top section of the digest with its subsections; numbering follows their order."""

    id: Slug
    title: str = Field(min_length=1)
    hide_labels: bool = False
    """Print items without the label, as the seeds' "AWS ML Only" section does."""
    subsections: Annotated[list[SubsectionConfig], BeforeValidator(_none_is_empty)]

    def full_ids(self) -> list[str]:
        """The full ids of the subsections, in order: ``["aws/cv", "aws/nlp", ...]``."""
        return [f"{self.id}/{sub.id}" for sub in self.subsections]


class DigestConfig(_Strict):
    """The digest's title, preface and how its Markdown is rendered."""

    title: str = Field(min_length=1)
    preface: str = ""
    """Markdown printed verbatim under the title."""
    template: Slug = "summary"
    notes: Literal["nested", "inline"] = "nested"


class EmailConfig(_Strict):
    """Who gets the weekly email, and when (local time in ``timezone``)."""

    recipients: Annotated[list[Address], BeforeValidator(_none_is_empty)] = []
    sender: Address | None = None
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: str = "08:00"
    """Local time of day (HH:MM) in ``timezone``."""
    timezone: str = "UTC"

    @field_validator("weekday", mode="before")
    @classmethod
    def _weekday(cls, value: object) -> object:
        if isinstance(value, str):  # "Monday" and "MON" mean "mon"
            return _WEEKDAY_NAMES.get(value.strip().lower(), value)
        return value

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        match = _TIME_RE.fullmatch(value.strip())
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(f"not a time of day: {value!r} (write HH:MM, e.g. 08:00)")
        return f"{int(match[1]):02d}:{match[2]}"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone: {value!r} (use an IANA name such as Asia/Seoul or UTC)"
            ) from None
        return value


class FetchConfig(_Strict):
    """Limits for every HTTP fetch (seconds for timeouts)."""

    user_agent_contact: HttpURL = DEFAULT_USER_AGENT_CONTACT
    """A URL put in the User-Agent so a publisher can find who polls them."""
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=20.0, gt=0)
    deadline: float = Field(default=60.0, gt=0)
    """Total seconds for one fetch, redirects included."""
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Cap on a body after decompression."""
    max_redirects: int = Field(default=5, ge=0)
    concurrency: int = Field(default=64, ge=1)
    per_host: int = Field(default=4, ge=1)
    adopt_redirect_after: int = Field(default=3, ge=1)
    """Consecutive polls that must see the same permanent redirect before the URL is replaced."""
    backoff_cap: Annotated[Duration, AfterValidator(_at_least(timedelta(minutes=1), "backoff_cap"))] = (
        timedelta(days=1)
    )
    allow_private_networks: Annotated[list[Network], BeforeValidator(_none_is_empty)] = []
    """CIDRs that untrusted URLs (article links) may reach; empty means none."""


_SKIP_CROSS_CHECK = "aggregator.config.skip_cross_check"


class FeedsFile(_Strict):
    """The whole of feeds.yaml."""

    fetch: FetchConfig = FetchConfig()
    digest: DigestConfig
    sections: Annotated[list[SectionConfig], BeforeValidator(_none_is_empty)]
    email: EmailConfig = EmailConfig()
    feeds: Annotated[list[FeedConfig], BeforeValidator(_none_is_empty)]

    @model_validator(mode="after")
    def _check_references(self, info: ValidationInfo) -> FeedsFile:
        if info.context and info.context.get(_SKIP_CROSS_CHECK):
            return self  # load_config runs the same checks and places them on lines
        problems = _cross_problems(self.sections, self.feeds, lambda loc: None)
        if problems:
            raise ValueError("; ".join(f"{_format_loc(loc)}: {message}" for loc, message in problems))
        return self

    def feed(self, name: str) -> FeedConfig | None:
        """The feed called ``name``, or None."""
        return next((feed for feed in self.feeds if feed.name == name), None)

    def section_ids(self) -> list[str]:
        """Every section id in order: each top id followed by its full subsection ids."""
        ids: list[str] = []
        for section in self.sections:
            ids.append(section.id)
            ids.extend(section.full_ids())
        return ids

    def promotable_sections(self) -> list[str]:
        """The ids an item can be promoted into: every subsection, and top sections without any."""
        ids: list[str] = []
        for section in self.sections:
            ids.extend(section.full_ids() or [section.id])
        return ids

    def taxonomy(self) -> Taxonomy:
        """The sections as frozen values, for everything below the edge."""
        return Taxonomy(
            tuple(
                Section(s.id, s.title, s.hide_labels, tuple(Subsection(b.id, b.title) for b in s.subsections))
                for s in self.sections
            )
        )

    def section_number(self, section_id: str) -> str:
        """The printed number of a section: ``"2"`` for ``business``, ``"2.4"`` for ``business/mlops``.

        Numbers come from the order in the file, not from which sections have items.
        Raises KeyError for an unknown id.
        """
        top, _, sub = section_id.partition("/")
        for i, section in enumerate(self.sections, start=1):
            if section.id != top:
                continue
            if not sub:
                return str(i)
            for j, subsection in enumerate(section.subsections, start=1):
                if subsection.id == sub:
                    return f"{i}.{j}"
        raise KeyError(section_id)


# -- checks across entries ------------------------------------------------------


def _get(obj: object, key: str) -> object:
    """A field of a raw mapping or of a validated model; None when absent."""
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _items(obj: object) -> list[object]:
    return list(obj) if isinstance(obj, list) else []


def _cross_problems(
    sections: object, feeds: object, line_of: Callable[[Loc], int | None]
) -> list[tuple[Loc, str]]:
    """Problems no single field can see: unique ids, names and URLs, and section hints that exist.

    Works on the raw parsed YAML as well as on models, so it runs even when some fields are invalid.
    """
    problems: list[tuple[Loc, str]] = []

    def unique(seen: dict[str, Loc], value: object, loc: Loc, what: str, advice: str) -> bool:
        """Remember ``value`` at ``loc``; on a repeat, record a problem and return False."""
        if not isinstance(value, str):
            return False
        if value in seen:
            line = line_of(seen[value])
            first = _format_loc(seen[value]) + (f" on line {line}" if line else "")
            problems.append((loc, f"duplicate {what} {value!r} (already used by {first}; {advice})"))
            return False
        seen[value] = loc
        return True

    known: list[str] = []
    section_ids: dict[str, Loc] = {}
    for i, section in enumerate(_items(sections)):
        top = _get(section, "id")
        if not unique(section_ids, top, ("sections", i, "id"), "section id", "give each section its own id"):
            continue
        known.append(str(top))
        sub_ids: dict[str, Loc] = {}
        for j, sub in enumerate(_items(_get(section, "subsections"))):
            sub_id = _get(sub, "id")
            loc: Loc = ("sections", i, "subsections", j, "id")
            if unique(sub_ids, sub_id, loc, "subsection id", "give each subsection its own id"):
                known.append(f"{top}/{sub_id}")

    names: dict[str, Loc] = {}
    urls: dict[str, Loc] = {}
    for i, feed in enumerate(_items(feeds)):
        unique(names, _get(feed, "name"), ("feeds", i, "name"), "feed name", "rename one of them")
        unique(urls, _get(feed, "url"), ("feeds", i, "url"), "feed URL", "keep one of the two feeds")
        hint = _get(feed, "section_hint")
        if isinstance(hint, str) and known and hint not in known and _SECTION_ID_RE.fullmatch(hint):
            close = difflib.get_close_matches(hint, known, n=1)
            advice = (f"did you mean {close[0]!r}? " if close else "") + f"use one of: {', '.join(known)}"
            problems.append((("feeds", i, "section_hint"), f"unknown section {hint!r} ({advice})"))
    return problems


# -- YAML with positions ------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """The safe loader, minus YAML 1.1's base-60 numbers (``time: 8:30`` stays the text "8:30")."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)

_MAX_NODES = 100_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _TooManyNodes(Exception):
    pass


def _duplicate_keys(root: yaml.Node) -> list[tuple[Loc, int, int]]:
    """(path, line, first line) of every key repeated in its mapping; aliases are followed, with a budget."""
    found: list[tuple[Loc, int, int]] = []
    budget = _MAX_NODES

    def walk(node: yaml.Node, path: Loc) -> None:
        nonlocal budget
        budget -= 1
        if budget < 0:
            raise _TooManyNodes
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE_TAG:
                    ident = (key.tag, key.value)
                    line = key.start_mark.line + 1
                    if ident in seen:
                        found.append(((*path, key.value), line, seen[ident]))
                    else:
                        seen[ident] = line
                    walk(value, (*path, key.value))
                else:
                    walk(value, path)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, index))

    walk(root, ())
    return found


def _line_of(root: yaml.Node, loc: Loc) -> int:
    """The line of the deepest node on ``loc`` that exists (a missing field: the mapping that lacks it)."""
    node = root
    line = root.start_mark.line + 1
    for step in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            match = None
            for key, value in node.value:  # the last one wins, as in the constructed data
                if isinstance(key, yaml.ScalarNode) and key.value == step:
                    match = (key, value)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _format_loc(loc: Loc) -> str:
    out = ""
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        elif "[" in step:
            continue  # a pydantic validator name, not a key of the file
        elif re.fullmatch(r"[A-Za-z0-9_-]+", step):
            out += f".{step}" if out else step
        else:
            out += f"[{step!r}]"
    return out


# -- pydantic errors in words -------------------------------------------------------------

_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list (lines starting with '- ')",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
}


def _show(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fields_at(loc: Loc) -> list[str]:
    """The field names of the model that ``loc`` points into, or [] when unknown."""
    current: Any = FeedsFile
    for step in loc:
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(step, str):
            field = current.model_fields.get(step)
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) is list and isinstance(step, int):
            current = typing.get_args(current)[0]
        else:
            return []
        while typing.get_origin(current) in (typing.Union, types.UnionType, Annotated):
            args = [arg for arg in typing.get_args(current) if arg is not type(None)]
            current = args[0]
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _describe(error: ErrorDetails) -> str:
    """One pydantic error as '<what is wrong> (<what to do>)'."""
    kind = error["type"]
    loc = tuple(error["loc"])
    value = error.get("input")
    if kind == "missing":
        return "required field is missing (add it)"
    if kind == "extra_forbidden":
        known = _fields_at(loc[:-1])
        if not known:
            return "unknown field (remove it or check the spelling)"
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        advice = f"did you mean {close[0]!r}?" if close else "remove it or check the spelling;"
        return f"unknown field ({advice} known fields: {', '.join(known)})"
    if kind == "value_error":
        message = error["msg"].removeprefix("Value error, ")
        return message if message.endswith(")") else f"{message} (fix the value)"
    if kind in ("model_type", "model_attributes_type", "dict_type") and not loc:
        keys = ", ".join(FeedsFile.model_fields)
        return (
            f"the file must be a mapping with the keys {keys}, got {_show(value)} "
            "(start from the feeds.yaml shipped with aggregator)"
        )
    if kind in _EXPECTED:
        advice = "write a value" if value is None else "change the value"
        if kind == "string_type" and isinstance(value, bool):
            advice = "quote it: YAML reads yes/no/on/off as true/false"
        elif kind == "string_type" and isinstance(value, int | float):
            advice = "quote it"
        return f"expected {_EXPECTED[kind]}, got {_show(value)} ({advice})"
    if kind == "string_too_short":
        return "must not be empty (write a value)"
    message = error["msg"]
    message = message[0].lower() + message[1:] if message else kind
    message = message.removeprefix("input ")
    return f"{message}, got {_show(value)} (change the value)"


# -- loading -----------------------------------------------------------------------------


#: The largest feeds.yaml read (the shipped file of 41 feeds is 11 KB; 4 MiB holds over 10,000 feeds).
MAX_CONFIG_BYTES = 4 * 1024 * 1024


def load_config(path: Path) -> FeedsFile:
    """Read and validate feeds.yaml; raise ConfigError listing every problem, each naming file and line.

    Only a regular file or a pipe (``--config <(...)``) is read, and at most
    :data:`MAX_CONFIG_BYTES` of it: ``--config /dev/zero`` is refused at once.
    """
    source = str(path)
    try:
        with path.open("rb") as file:
            kind = os.fstat(file.fileno()).st_mode
            if not (stat.S_ISREG(kind) or stat.S_ISFIFO(kind)):
                raise ConfigError(
                    source,
                    [f"{source}: not a regular file (point --config or AGGREGATOR_CONFIG at feeds.yaml)"],
                )
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            source,
            [
                f"{source}: file not found (create it from the shipped feeds.yaml, or point --config "
                "or AGGREGATOR_CONFIG at the right file)"
            ],
        ) from None
    except OSError as exc:
        raise ConfigError(
            source,
            [f"{source}: cannot read the file: {exc.strerror or exc} (check the path and its permissions)"],
        ) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            source,
            [
                f"{source}: larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB, which no feeds.yaml needs "
                "(check that --config or AGGREGATOR_CONFIG names the right file)"
            ],
        )
    return parse_config(data, source=source)


def parse_config(data: bytes | str, *, source: str = "feeds.yaml") -> FeedsFile:
    """Validate feeds.yaml given as bytes or text; ``source`` names it in the messages."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ConfigError(
                source, [f"{source}:{line}: the file is not valid UTF-8 (save it as UTF-8)"]
            ) from None
    else:
        text = data
    return _validate(text, source)


def _compose(text: str, source: str) -> tuple[yaml.Node, object, list[tuple[int, str]]]:
    """The node tree, the constructed data and the YAML-level problems (duplicate keys)."""

    def fail(line: int, message: str) -> ConfigError:
        return ConfigError(source, [f"{source}:{line}: {message}"])

    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
        if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == "tag:yaml.org,2002:null"):
            raise fail(1, "the file is empty (start from the feeds.yaml shipped with aggregator)")
        duplicates = _duplicate_keys(root)
        data = loader.construct_document(root)
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise fail(
            line, f"invalid YAML: {exc.problem} (remove the tag; feeds.yaml takes plain values)"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or "syntax error"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            what += f", {exc.context} that starts on line {exc.context_mark.line + 1}"
        elif exc.context:
            what += f", {exc.context}"
        column = f" near column {mark.column + 1}" if mark else ""
        advice = f"fix the syntax{column}: check the indentation, and quote values containing ': ' or ' #'"
        raise fail(line, f"invalid YAML: {what} ({advice})") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise fail(
            line, f"invalid YAML: the control character U+{code:04X} is not allowed (remove it)"
        ) from None
    except yaml.YAMLError as exc:
        raise fail(1, f"invalid YAML: {exc} (fix the syntax)") from None
    except _TooManyNodes:
        raise fail(1, f"the document expands to more than {_MAX_NODES} nodes (use fewer aliases)") from None
    except RecursionError:
        raise fail(1, "the document is nested too deeply (flatten it)") from None
    finally:
        if loader is not None:
            loader.dispose()
    problems = [
        (
            line,
            f"{source}:{line}: {_format_loc(path)}: duplicate key (first at line {first}; YAML would keep "
            "only the last one, remove the other)",
        )
        for path, line, first in duplicates
    ]
    return root, data, problems


def _validate(text: str, source: str) -> FeedsFile:
    root, data, found = _compose(text, source)

    def place(loc: Loc, message: str) -> None:
        line = _line_of(root, loc)
        path = _format_loc(loc)
        found.append((line, f"{source}:{line}: {path}: {message}" if path else f"{source}:{line}: {message}"))

    model: FeedsFile | None = None
    try:
        model = FeedsFile.model_validate(data, context={_SKIP_CROSS_CHECK: True})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            place(tuple(error["loc"]), _describe(error))
    if isinstance(data, dict):
        for loc, message in _cross_problems(
            data.get("sections"), data.get("feeds"), lambda loc: _line_of(root, loc)
        ):
            place(loc, message)
    if found or model is None:
        found.sort(key=lambda item: item[0])
        raise ConfigError(source, [message for _, message in found])
    return model


# -- the environment -------------------------------------------------------------------


class Settings(BaseSettings):
    """Settings from the environment (``AGGREGATOR_*``); never read from a file."""

    model_config = SettingsConfigDict(env_prefix="AGGREGATOR_", extra="ignore", frozen=True)

    config: Path | None = None
    """AGGREGATOR_CONFIG: the feeds.yaml to use (--config wins)."""
    data_dir: Path = Path("data")
    """AGGREGATOR_DATA_DIR: where the SQLite database and other local state live."""
    database_url: str | None = None
    """AGGREGATOR_DATABASE_URL; None means SQLite under data_dir."""
    database_busy_timeout: float = Field(default=30.0, gt=0, le=86400)
    """AGGREGATOR_DATABASE_BUSY_TIMEOUT: seconds to wait for a lock another process holds (and to connect)."""
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    curator: str | None = None
    """AGGREGATOR_CURATOR: the name recorded with triage decisions."""

    def resolved_database_url(self) -> str:
        """The database URL: AGGREGATOR_DATABASE_URL, else ``sqlite:///<data_dir>/aggregator.sqlite3``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aggregator.sqlite3').as_posix()}"

    def config_path(self, override: Path | None = None) -> Path:
        """The feeds.yaml to read: ``override`` (--config), else AGGREGATOR_CONFIG, else ./feeds.yaml."""
        if override is not None:
            return override
        if self.config is not None:
            return self.config
        return DEFAULT_CONFIG_PATH


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; raise ConfigError naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            name = "AGGREGATOR_" + "_".join(str(step) for step in error["loc"]).upper()
            problems.append(f"environment: {name}: {_describe(error)}")
        raise ConfigError("environment", problems) from None
