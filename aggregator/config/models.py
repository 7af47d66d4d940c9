"""The pydantic models of feeds.yaml: each field's type, default, bounds and what to write instead.

``feeds.yaml`` holds the feeds, the digest's section taxonomy, the digest's settings, the weekly
email's schedule and the fetch limits. Secrets and the database URL come only from the environment
(:mod:`aggregator.config.settings`), never from the file. These models stay at the edge: the
application turns them into the frozen values of :mod:`aggregator.configuration`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from email.utils import getaddresses
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    field_validator,
    model_validator,
)

from aggregator.config.checks import SECTION_ID_RE, cross_problems
from aggregator.config.messages import format_loc
from aggregator.taxonomy import Section, Subsection, Taxonomy

__all__ = [
    "DigestConfig",
    "EmailConfig",
    "FeedConfig",
    "FeedsFile",
    "FetchConfig",
    "SectionConfig",
    "SubsectionConfig",
    "parse_duration",
]

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

#: The shortest fixed interval a feed may be polled at.
MIN_POLL_INTERVAL = timedelta(minutes=5)
_INTERVAL_HINT = "write auto, or a duration of at least 5m such as 30m, 2h or 1d"


def _interval(value: object) -> timedelta | Literal["auto"]:
    """A feed's ``interval``: ``auto`` (any case), or a duration of at least :data:`MIN_POLL_INTERVAL`."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        result = _duration(value)
    except ValueError:
        raise ValueError(f"not an interval: {value!r} ({_INTERVAL_HINT})") from None
    if result < MIN_POLL_INTERVAL:
        raise ValueError(f"{_show_duration(result)} is too short for a poll interval ({_INTERVAL_HINT})")
    return result


Interval = Annotated[timedelta | Literal["auto"], PlainValidator(_interval)]

# -- small value checks -------------------------------------------------------

_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
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
    if not SECTION_ID_RE.fullmatch(value):
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
    interval: Interval = "auto"
    """``auto`` (the default: adapted to how often the feed publishes) or a fixed duration of at least 5m."""
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


class TrendPostConfig(_Strict):
    """``digest.trend_post``: the front matter and words of a ``trend-post`` (seed 003's shape)."""

    author: str = ""
    categories: Annotated[list[str], BeforeValidator(_none_is_empty)] = ["AI Trend"]
    tags: Annotated[list[str], BeforeValidator(_none_is_empty)] = ["ai-trend"]
    math: bool = True
    toc: bool = True
    pin: bool = False
    img_path: str = ""
    image: str = ""
    image_alt: str = ""
    description: str = ""
    intro: str = ""
    """The intro blockquote; ``{month}`` is replaced by the issue's month (``Oct 2023``)."""
    headings: dict[Annotated[str, AfterValidator(_check_section_ref)], str] = {}
    """A section's heading, by section id: ``news: "💡 **News**"``."""


class NotebookConfig(_Strict):
    """``digest.notebook``: a ``notebook`` page (seed 004's shape)."""

    title: str = ""
    links: bool = True


class DigestConfig(_Strict):
    """The digest's title, preface and how its Markdown is rendered."""

    title: str = Field(min_length=1)
    preface: str = ""
    """Markdown printed verbatim under the title."""
    template: Slug = "summary"
    notes: Literal["nested", "inline"] = "nested"
    trend_post: TrendPostConfig = TrendPostConfig()
    notebook: NotebookConfig = NotebookConfig()


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


SKIP_CROSS_CHECK = "aggregator.config.skip_cross_check"


class FeedsFile(_Strict):
    """The whole of feeds.yaml."""

    fetch: FetchConfig = FetchConfig()
    digest: DigestConfig
    sections: Annotated[list[SectionConfig], BeforeValidator(_none_is_empty)]
    email: EmailConfig = EmailConfig()
    feeds: Annotated[list[FeedConfig], BeforeValidator(_none_is_empty)]

    @model_validator(mode="after")
    def _check_references(self, info: ValidationInfo) -> FeedsFile:
        if info.context and info.context.get(SKIP_CROSS_CHECK):
            return self  # load_config runs the same checks and places them on lines
        problems = cross_problems(self.sections, self.feeds, lambda loc: None)
        if problems:
            raise ValueError("; ".join(f"{format_loc(loc)}: {message}" for loc, message in problems))
        return self

    def feed(self, name: str) -> FeedConfig | None:
        """The feed called ``name``, or None."""
        return next((feed for feed in self.feeds if feed.name == name), None)

    def taxonomy(self) -> Taxonomy:
        """The sections as frozen values, for everything below the edge."""
        return taxonomy_of(self.sections)


def taxonomy_of(sections: Iterable[SectionConfig]) -> Taxonomy:
    """Validated sections as the frozen :class:`~aggregator.taxonomy.Taxonomy` the layers below read."""
    return Taxonomy(
        tuple(
            Section(s.id, s.title, s.hide_labels, tuple(Subsection(b.id, b.title) for b in s.subsections))
            for s in sections
        )
    )
