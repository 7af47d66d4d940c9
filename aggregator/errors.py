"""The one exception root and its tree.

Every error names the resource it is about (a file and line, a feed URL, a
database) and says what to do, so a person can act on the message::

    AggregatorError
    ├── ConfigError            feeds.yaml or the environment is invalid (path, line, field)
    ├── FetchError             an HTTP fetch failed (url)
    │   ├── BlockedURLError        an untrusted URL points somewhere we never go
    │   ├── FetchTimeoutError      connect/read timeout or the total deadline passed
    │   ├── BodyTooLargeError      the body (after decompression) passed the cap
    │   ├── TooManyRedirectsError  a redirect chain too long, or a loop
    │   └── HTTPStatusError        a non-success status (status, retry_after; a page's error body)
    ├── ParseError             a feed body could not be read as a feed (url)
    ├── TriageError            a triage decision was refused (ids and why); nothing was changed
    │   └── ConflictError          another curator changed the candidate since it was loaded
    ├── DigestError            a digest issue cannot be changed, rendered or imported as asked
    ├── BadValueError          a value a curator typed (a date, a feed's name) cannot be used (option)
    └── StorageError           the database failed or is unusable
        └── SchemaError            the schema is newer than this code, or broken

Third-party errors (httpx, SQLAlchemy, feedparser, PyYAML) are wrapped at the
boundary of the module that calls them. An article page that cannot be
extracted is no error but a result: its status and reason (``articles.pages``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class AggregatorError(Exception):
    """The root of every error aggregator raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (a parse error raised in a worker
        # process). The default pickling calls cls(*self.args), which does not
        # fit the subclasses' signatures; rebuild from the instance's state.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[AggregatorError], args: tuple[Any, ...], state: dict[str, Any]) -> AggregatorError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigError(AggregatorError):
    """feeds.yaml (or the environment) is invalid.

    ``problems`` holds one line per problem, each already naming file, line and field.
    """

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems) if problems else f"{path}: invalid configuration")


class FetchError(AggregatorError):
    """Fetching ``url`` failed; ``reason`` is a short human sentence."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class BlockedURLError(FetchError):
    """An untrusted URL uses a scheme or an address we never fetch."""


class FetchTimeoutError(FetchError):
    """A connect or read timeout, or the total deadline, passed."""


class BodyTooLargeError(FetchError):
    """The response body, after decompression, passed the configured cap."""


class TooManyRedirectsError(FetchError):
    """The redirect chain was longer than allowed, or looped."""


class HTTPStatusError(FetchError):
    """The server answered with a status we treat as a failure.

    ``retry_after`` is the absolute time the server asked us to wait until
    (429/503 with a Retry-After header), else None. ``body`` is the start of a
    4xx/5xx answer's body (at most ``fetch.ERROR_BODY_BYTES``, decompressed) with
    its ``content_type``, kept for article pages only, so that a bot wall served
    as a 403 or 503 can be told from a plain error; None for feeds and empty bodies.
    """

    def __init__(
        self,
        url: str,
        status: int,
        reason: str,
        *,
        retry_after: datetime | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.body = body
        self.content_type = content_type
        super().__init__(url, reason)


class ParseError(AggregatorError):
    """The body at ``url`` is not a feed we can read."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class StorageError(AggregatorError):
    """The database failed, is busy past its timeout, or cannot be used."""


class SchemaError(StorageError):
    """The database schema is newer than this code, or not an aggregator schema."""


class TriageError(AggregatorError):
    """A triage decision was refused as a whole; nothing was changed.

    ``problems`` holds one line per refused candidate, each naming its id, what
    it is now and what to do instead.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class ConflictError(TriageError):
    """Another curator decided on a candidate after this view of it was loaded."""


class DigestError(AggregatorError):
    """A digest issue cannot be changed, rendered or imported as asked (issue, section, line)."""


class BadValueError(AggregatorError):
    """A value a curator typed (a date, a feed's name) cannot be used; ``option`` names where it was given.

    Front ends show it as a usage error of that option (the CLI as ``typer.BadParameter``).
    """

    def __init__(self, message: str, option: str) -> None:
        self.message = message
        self.option = option
        super().__init__(message)
