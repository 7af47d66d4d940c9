"""What an HTTP answer means for us, as pure rules: redirect statuses, Retry-After (RFC 9110 10.2.3), how long
the answer stays fresh (Cache-Control max-age, Expires: RFC 9111 4.2.1), and the
:class:`~aggregator.errors.HTTPStatusError` (with a reason a person can act on) for a status we do not accept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus

from aggregator.errors import HTTPStatusError

__all__ = [
    "GONE_REASON",
    "PERMANENT",
    "REDIRECTS",
    "RETRY_AFTER_CAP",
    "freshness_lifetime",
    "parse_retry_after",
    "status_error",
]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
RETRY_AFTER_CAP = timedelta(days=7)
GONE_REASON = "410 Gone: the publisher removed this feed; polling stops until you re-enable it"


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """The time a Retry-After header asks us to wait until (RFC 9110 10.2.3), or None.

    Delta-seconds or an HTTP-date; garbage (including negative numbers) gives None. The answer
    is clamped to [now, now + 7 days]: a date in the past means "now", an absurd wait a week.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        seconds = int(value)
        return now + min(timedelta(seconds=min(seconds, 10**9)), RETRY_AFTER_CAP)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" and asctime dates: HTTP-dates are always UTC
        when = when.replace(tzinfo=UTC)
    return min(max(when, now), now + RETRY_AFTER_CAP)


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?([0-9]+)\"?\s*(?:,|$)", re.IGNORECASE)


def freshness_lifetime(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """How long the answer says it stays fresh (RFC 9111 4.2.1), or None when it does not say.

    ``Cache-Control: max-age`` wins over ``Expires``, which counts from the answer's ``Date``
    (else ``now``). ``headers`` are the answer's, names lowercased. A lifetime of zero, an
    ``Expires`` in the past or that is not a date (``0``, ``-1``), and garbage all give None.
    The lifetime is as the publisher wrote it: capping it is the scheduler's business.
    """
    control = headers.get("cache-control")
    if control is not None and (match := _MAX_AGE.search(control)):
        seconds = min(int(match[1]), 10**9)
        return timedelta(seconds=seconds) if seconds > 0 else None
    expires = _http_date(headers.get("expires"))
    if expires is None:
        return None
    lifetime = expires - (_http_date(headers.get("date")) or now)
    return lifetime if lifetime > timedelta(0) else None


def _http_date(value: str | None) -> datetime | None:
    if not value or not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def status_error(
    url: str, status: int, headers: Mapping[str, str], now: datetime, body: bytes | None = None
) -> HTTPStatusError:
    phrase = _phrase(status)
    retry_after = None
    if status == 410:
        reason = GONE_REASON
    elif status in (429, 503):
        retry_after = parse_retry_after(headers.get("retry-after"), now)
        wait = f"; the server asks to retry after {retry_after:%Y-%m-%d %H:%M:%S %Z}" if retry_after else ""
        reason = f"{status} {phrase}{wait}"
    elif status in REDIRECTS:
        reason = f"{status} {phrase} without a Location header"
    else:
        side = "the server failed" if status >= 500 else "the request was refused"
        reason = f"{status} {phrase}: {side}"
    content_type = headers.get("content-type") if body is not None else None
    return HTTPStatusError(url, status, reason, retry_after=retry_after, body=body, content_type=content_type)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "status"
