"""Errors keep their details across process boundaries (parse workers raise them)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from aggregator import errors


@pytest.mark.parametrize(
    "error",
    [
        errors.ConfigError("feeds.yaml", ["feeds.yaml:3: feeds[0].url: bad"]),
        errors.FetchError("http://x.test/", "connection refused"),
        errors.BlockedURLError("file:///etc/passwd", "not http(s)"),
        errors.FetchTimeoutError("http://x.test/", "read timed out after 20 s"),
        errors.BodyTooLargeError("http://x.test/", "body larger than 10 MiB"),
        errors.TooManyRedirectsError("http://x.test/", "loop"),
        errors.HTTPStatusError("http://x.test/", 429, "429", retry_after=datetime(2024, 1, 1, tzinfo=UTC)),
        errors.HTTPStatusError(
            "http://x.test/",
            403,
            "403 Forbidden",
            body=b"<title>Just a moment...</title>",
            content_type="text/html",
        ),
        errors.ParseError("http://x.test/", "not a feed"),
        errors.StorageError("database is locked"),
        errors.SchemaError("too new"),
        errors.BadValueError("'soon' is not a date", "--until"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_survive_pickling(error: errors.AggregatorError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__


def test_an_http_status_errors_body_survives_pickling() -> None:
    error = errors.HTTPStatusError(
        "http://x.test/", 503, "503", body=b"\x00\xff" * 10, content_type="text/html"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.status, copy.body, copy.content_type) == (503, b"\x00\xff" * 10, "text/html")
