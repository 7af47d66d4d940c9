"""An httpx, OS or TLS error turned into a :class:`~aggregator.errors.FetchError` whose reason says what
failed and what it means (refused, DNS, TLS certificate, timeouts with the limit that ran out).
"""

from __future__ import annotations

import socket
import ssl

import httpx

from aggregator.errors import FetchError, FetchTimeoutError
from aggregator.net.settings import FetchSettings

__all__ = ["fetch_error"]


def fetch_error(url: str, exc: Exception, settings: FetchSettings) -> FetchError:
    """A FetchError with a reason a person can act on, for an httpx, OS or TLS error."""
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchTimeoutError(url, f"connect timed out after {settings.connect_timeout:g} s")
    if isinstance(exc, httpx.ReadTimeout):
        return FetchTimeoutError(url, f"read timed out after {settings.read_timeout:g} s")
    if isinstance(exc, httpx.WriteTimeout):
        return FetchTimeoutError(url, f"write timed out after {settings.read_timeout:g} s")
    if isinstance(exc, httpx.TimeoutException):
        return FetchTimeoutError(url, f"timed out waiting for a connection ({exc})")
    if isinstance(exc, httpx.InvalidURL):
        return FetchError(url, f"not a valid URL ({exc})")
    cause = _root_cause(exc)
    if isinstance(cause, ConnectionRefusedError):
        return FetchError(url, "connection refused: nothing listens on that port")
    if isinstance(cause, socket.gaierror):
        return FetchError(url, f"DNS lookup failed: {cause}")
    if isinstance(cause, ssl.SSLCertVerificationError):
        return FetchError(url, f"TLS certificate not accepted: {cause.verify_message or cause}")
    if isinstance(cause, ssl.SSLError):
        return FetchError(url, f"TLS error: {cause.reason or cause}")
    if isinstance(exc, httpx.ConnectError):
        return FetchError(url, f"could not connect: {_message(exc, cause)}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return FetchError(url, f"the server broke the HTTP protocol: {_message(exc, cause)}")
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return FetchError(url, f"the connection failed mid-response: {_message(exc, cause)}")
    return FetchError(url, f"{type(exc).__name__}: {_message(exc, cause)}")


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception an httpx error came from.

    Followed through ``__context__`` too: httpcore re-raises OS errors with their context
    suppressed, and the OSError (refused, DNS, TLS) is what tells a person what to do.
    """
    seen = {id(exc)}
    while True:
        nxt = exc.__cause__ if exc.__cause__ is not None else exc.__context__
        if nxt is None or id(nxt) in seen:
            return exc
        exc = nxt
        seen.add(id(exc))


def _message(exc: BaseException, cause: BaseException) -> str:
    """The first non-empty text of an error or its cause (httpx errors are often blank)."""
    return str(exc) or str(cause) or type(cause).__name__
