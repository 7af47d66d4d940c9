"""What an HTTP answer means for us, as pure rules: redirect statuses, Retry-After (RFC 9110 10.2.3), and the
:class:`~aggregator.errors.HTTPStatusError` (with a reason a person can act on) for a status we do not accept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus

from aggregator.errors import HTTPStatusError

__all__ = ["GONE_REASON", "PERMANENT", "REDIRECTS", "RETRY_AFTER_CAP", "parse_retry_after", "status_error"]

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
