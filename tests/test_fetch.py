"""The fetcher against a real HTTP server on 127.0.0.1 (tests/fixture_server.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from aggregator.errors import (
    BlockedURLError,
    BodyTooLargeError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    TooManyRedirectsError,
)
from aggregator.net import fetch
from aggregator.net.fetch import ERROR_BODY_BYTES, GONE_REASON, Fetcher, FetchSettings, parse_retry_after
from aggregator.types import Fetched, Validators
from tests.fixture_server import FixtureServer, Request, Response, serve

UA = "aggregator-tests/0.1 (+https://contact.example)"
NOW = datetime(2024, 11, 5, 12, 0, tzinfo=UTC)
LOCALHOST_ONLY = (ip_network("127.0.0.1/32"),)
T = TypeVar("T")


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """An event that holds answers; always opened at the end so nothing stays blocked."""
    event = threading.Event()
    yield event
    event.set()


def settings(**overrides: Any) -> FetchSettings:
    base = FetchSettings(user_agent=UA, connect_timeout=2, read_timeout=5, deadline=10)
    return dataclasses.replace(base, **overrides)


def with_fetcher(use: Callable[[Fetcher], Awaitable[T]], **overrides: Any) -> T:
    async def run() -> T:
        async with Fetcher(settings(**overrides)) as fetcher:
            return await use(fetcher)

    return asyncio.run(run())


def feed(url: str, validators: Validators = Validators(), **overrides: Any) -> Fetched:
    return with_fetcher(lambda f: f.fetch_feed(url, validators, now=NOW), **overrides)


def page(url: str, **overrides: Any) -> Fetched:
    return with_fetcher(lambda f: f.fetch_page(url, now=NOW), **overrides)


def feed_error(url: str, **overrides: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        feed(url, **overrides)
    return caught.value


def page_error(url: str, **overrides: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        page(url, **overrides)
    return caught.value


# -- conditional GET ---------------------------------------------------------------


def test_200_with_validators_then_304(server: FixtureServer) -> None:
    lm = "Tue, 05 Nov 2024 10:00:00 GMT"
    server.add("/feed.xml", b"<rss>one</rss>", etag='"v1"', last_modified=lm)
    url = server.url("/feed.xml")

    first = feed(url)
    assert first.status == 200
    assert first.body == b"<rss>one</rss>"
    assert first.validators == Validators(etag='"v1"', last_modified=lm)
    assert first.url == first.final_url == url
    assert first.headers["content-type"] == "application/rss+xml"
    assert all(name == name.lower() for name in first.headers)
    assert first.permanent_redirect is None
    assert first.elapsed > 0
    assert not first.not_modified

    second = feed(url, first.validators)
    assert second.status == 304
    assert second.not_modified
    assert second.body is None
    assert second.validators == first.validators

    plain, conditional = server.requests_for("/feed.xml")
    assert "if-none-match" not in plain.headers
    assert conditional.headers["if-none-match"] == '"v1"'
    assert conditional.headers["if-modified-since"] == lm
    for request in (plain, conditional):
        assert request.headers["user-agent"] == UA
        assert request.headers["accept-encoding"] == "gzip, deflate"
        assert request.headers["accept"].startswith("application/rss+xml")


def test_304_keeps_old_validators_unless_new_ones_are_sent(server: FixtureServer) -> None:
    server.route("/same", Response(status=304))
    server.route("/renewed", Response(status=304, headers={"ETag": '"v2"'}))
    old = Validators(etag='"v1"', last_modified="Mon, 04 Nov 2024 10:00:00 GMT")
    assert feed(server.url("/same"), old).validators == old
    renewed = feed(server.url("/renewed"), old).validators
    assert renewed == Validators(etag='"v2"', last_modified=old.last_modified)


def test_200_without_validators(server: FixtureServer) -> None:
    server.add("/bare", b"x")
    assert feed(server.url("/bare"), Validators(etag='"old"')).validators == Validators()


def test_any_2xx_is_success(server: FixtureServer) -> None:
    server.route("/partial", Response(status=203, body=b"ok"))
    assert feed(server.url("/partial")).status == 203


# -- bodies ------------------------------------------------------------------------


def test_gzip_body_is_decompressed(server: FixtureServer) -> None:
    text = b"<rss>" + b"entry " * 5000 + b"</rss>"
    server.add("/z.xml", text, gzip=True)
    fetched = feed(server.url("/z.xml"))
    assert fetched.body == text
    assert fetched.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw-deflate"])
def test_deflate_body_is_decompressed(server: FixtureServer, wbits: int) -> None:
    text = b"deflated " * 1000
    packer = zlib.compressobj(wbits=wbits)
    packed = packer.compress(text) + packer.flush()
    server.route("/d", Response(raw_body=packed, headers={"Content-Encoding": "deflate"}))
    assert feed(server.url("/d")).body == text


def test_concatenated_gzip_members(server: FixtureServer) -> None:
    packed = gzip.compress(b"first ") + gzip.compress(b"second")
    server.route("/two", Response(raw_body=packed, headers={"Content-Encoding": "gzip"}))
    assert feed(server.url("/two")).body == b"first second"


def test_unknown_content_encoding_is_refused(server: FixtureServer) -> None:
    server.route("/br", Response(raw_body=b"\x1b\x00", headers={"Content-Encoding": "br"}))
    error = feed_error(server.url("/br"))
    assert type(error) is FetchError
    assert "unsupported Content-Encoding 'br'" in error.reason


def test_corrupt_gzip_is_a_fetch_error(server: FixtureServer) -> None:
    server.route("/bad", Response(raw_body=b"\x1f\x8bnot gzip at all", headers={"Content-Encoding": "gzip"}))
    assert "corrupt compressed body" in feed_error(server.url("/bad")).reason


def test_body_at_the_cap_passes_and_over_it_fails(server: FixtureServer) -> None:
    cap = 1024 * 1024
    server.add("/exact", b"a" * cap)
    server.add("/over", b"a" * (cap + 1))
    assert feed(server.url("/exact"), max_body_bytes=cap).body == b"a" * cap
    error = feed_error(server.url("/over"), max_body_bytes=cap)
    assert isinstance(error, BodyTooLargeError)
    assert error.reason == "body larger than 1 MiB"


def test_body_over_the_cap_without_content_length(server: FixtureServer) -> None:
    # A chunked answer declares no length: the cap is enforced while streaming.
    body = b"b" * 300_000
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:150_000], body[150_000:]))
    server.route(
        "/chunked", Response(raw_body=chunked + b"0\r\n\r\n", headers={"Transfer-Encoding": "chunked"})
    )
    assert feed(server.url("/chunked"), max_body_bytes=len(body)).body == body
    assert isinstance(feed_error(server.url("/chunked"), max_body_bytes=200_000), BodyTooLargeError)


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes gzip-compressed, built without holding them in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + packer.flush()


def test_gzip_bomb_stops_at_the_cap_with_bounded_memory(server: FixtureServer) -> None:
    bomb = gzip_bomb(50 * 1024 * 1024)
    assert len(bomb) < 100_000
    server.route("/bomb", Response(raw_body=bomb, headers={"Content-Encoding": "gzip"}))
    server.add("/small", b"warm-up")
    cap = 1024 * 1024

    async def fetch_bomb(fetcher: Fetcher) -> tuple[FetchError, int]:
        await fetcher.fetch_feed(server.url("/small"), Validators(), now=NOW)  # client, TLS context
        tracemalloc.start()
        try:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch_feed(server.url("/bomb"), Validators(), now=NOW)
            return caught.value, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    error, peak = with_fetcher(fetch_bomb, max_body_bytes=cap)
    assert isinstance(error, BodyTooLargeError)
    assert error.reason == "body larger than 1 MiB after decompression"
    # The cap plus the buffer's growth slack and a chunk or two: nowhere near the 50 MiB inside.
    assert peak < 2 * cap, f"peak {peak / 2**20:.2f} MiB"


# -- timeouts ----------------------------------------------------------------------


def test_read_timeout_when_the_server_is_slow(server: FixtureServer, gate: threading.Event) -> None:
    server.route("/slow", Response(body=b"late", gate=gate))
    error = feed_error(server.url("/slow"), read_timeout=0.2)
    assert isinstance(error, FetchTimeoutError)
    assert error.reason == "read timed out after 0.2 s"


def test_read_timeout_when_the_body_stalls(server: FixtureServer) -> None:
    server.route("/stall", Response(body=b"x" * 10_000, stall_after=1000))
    error = feed_error(server.url("/stall"), read_timeout=0.2)
    assert isinstance(error, FetchTimeoutError)
    assert "read timed out" in error.reason


def test_total_deadline(server: FixtureServer, gate: threading.Event) -> None:
    server.route("/held", Response(body=b"late", gate=gate))
    error = feed_error(server.url("/held"), read_timeout=30, deadline=0.3)
    assert isinstance(error, FetchTimeoutError)
    assert error.reason == "gave up after the 0.3 s total deadline"


def test_deadline_covers_redirect_hops(server: FixtureServer, gate: threading.Event) -> None:
    server.route("/start", Response(status=302, headers={"Location": "/held"}))
    server.route("/held", Response(body=b"late", gate=gate))
    error = feed_error(server.url("/start"), read_timeout=30, deadline=0.3)
    assert isinstance(error, FetchTimeoutError)
    assert error.url == server.url("/held")


# -- redirects ---------------------------------------------------------------------


def test_redirect_chain_with_a_temporary_hop(server: FixtureServer) -> None:
    server.route("/a", Response(status=302, headers={"Location": "/b"}))
    server.route("/b", Response(status=301, headers={"Location": server.url("/c")}))
    server.add("/c", b"final")
    fetched = feed(server.url("/a"))
    assert fetched.body == b"final"
    assert fetched.url == server.url("/a")
    assert fetched.final_url == server.url("/c")
    assert fetched.permanent_redirect is None


def test_permanent_only_chain_sets_permanent_redirect(server: FixtureServer) -> None:
    server.route("/old/feed", Response(status=301, headers={"Location": "../new/feed?x=1#frag"}))
    server.route("/new/feed", Response(status=308, headers={"Location": "final.xml"}))
    server.add("/new/final.xml", b"here")
    fetched = feed(server.url("/old/feed"))
    assert fetched.body == b"here"
    assert fetched.final_url == server.url("/new/final.xml")
    assert fetched.permanent_redirect == server.url("/new/final.xml")
    assert [r.path for r in server.requests] == ["/old/feed", "/new/feed", "/new/final.xml"]
    assert server.requests[1].query == "x=1"


def test_redirect_across_hosts(server: FixtureServer) -> None:
    with serve() as other:
        other.add("/moved.xml", b"moved")
        server.route("/feed", Response(status=307, headers={"Location": other.url("/moved.xml")}))
        fetched = feed(server.url("/feed"))
    assert fetched.body == b"moved"
    assert fetched.permanent_redirect is None


def test_redirect_loop(server: FixtureServer) -> None:
    server.route("/a", Response(status=301, headers={"Location": "/b"}))
    server.route("/b", Response(status=302, headers={"Location": "/a"}))
    error = feed_error(server.url("/a"))
    assert isinstance(error, TooManyRedirectsError)
    a, b = server.url("/a"), server.url("/b")
    assert error.reason == f"redirect loop: {a} -> {b} -> {a}"
    assert len(server.requests) == 2


def test_too_many_redirects(server: FixtureServer) -> None:
    for i in range(4):
        server.route(f"/r{i}", Response(status=302, headers={"Location": f"/r{i + 1}"}))
    server.add("/r4", b"end")
    assert feed(server.url("/r0"), max_redirects=4).body == b"end"
    error = feed_error(server.url("/r0"), max_redirects=3)
    assert isinstance(error, TooManyRedirectsError)
    assert error.reason.startswith("more than 3 redirects: ")
    assert error.reason.endswith(f"{server.url('/r3')} -> {server.url('/r4')}")


def test_redirect_without_location_is_an_error(server: FixtureServer) -> None:
    server.route("/nowhere", Response(status=302))
    error = feed_error(server.url("/nowhere"))
    assert isinstance(error, HTTPStatusError)
    assert error.status == 302
    assert "without a Location header" in error.reason


def test_feed_redirect_to_another_scheme_is_refused(server: FixtureServer) -> None:
    server.route("/ftp", Response(status=301, headers={"Location": "ftp://example.com/feed"}))
    assert "not http(s)" in feed_error(server.url("/ftp")).reason


# -- statuses ----------------------------------------------------------------------


def test_410_gone(server: FixtureServer) -> None:
    server.route("/gone", Response(status=410))
    error = feed_error(server.url("/gone"))
    assert isinstance(error, HTTPStatusError)
    assert error.status == 410
    assert error.reason == GONE_REASON
    assert error.retry_after is None


@pytest.mark.parametrize(
    ("status", "header", "expected"),
    [
        (429, "120", NOW + timedelta(seconds=120)),
        (503, "3600", NOW + timedelta(hours=1)),
        (429, "Tue, 05 Nov 2024 13:30:00 GMT", NOW + timedelta(minutes=90)),
        (503, "Tue, 05 Nov 2024 12:05:00 GMT", NOW + timedelta(minutes=5)),
        (503, "soon", None),
    ],
)
def test_retry_after_on_429_and_503(
    server: FixtureServer, status: int, header: str, expected: datetime | None
) -> None:
    server.route("/busy", Response(status=status, headers={"Retry-After": header}))
    error = feed_error(server.url("/busy"))
    assert isinstance(error, HTTPStatusError)
    assert error.status == status
    assert error.retry_after == expected
    assert error.reason.startswith(f"{status} ")


def test_500_is_an_http_status_error(server: FixtureServer) -> None:
    server.route("/broken", Response(status=500, body=b"stack trace"))
    error = feed_error(server.url("/broken"))
    assert isinstance(error, HTTPStatusError)
    assert (error.status, error.retry_after) == (500, None)
    assert error.reason == "500 Internal Server Error: the server failed"
    assert str(error) == f"{server.url('/broken')}: {error.reason}"


def test_404_is_an_http_status_error(server: FixtureServer) -> None:
    error = feed_error(server.url("/missing"))
    assert isinstance(error, HTTPStatusError)
    assert error.reason == "404 Not Found: the request was refused"


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = feed_error(f"http://127.0.0.1:{port}/feed.xml")
    assert type(error) is FetchError
    assert error.reason.startswith("connection refused")


def test_server_dropping_the_connection(server: FixtureServer) -> None:
    server.route("/cut", Response(raw_body=b"", headers={"Content-Length": "100"}, stall_after=0))

    # The stall ends when the server stops: the client sees the connection go away.
    def stop_after_the_request() -> None:
        server.wait_for_requests(1)
        server.stop()

    stopper = threading.Thread(target=stop_after_the_request)
    stopper.start()
    error = feed_error(server.url("/cut"))
    stopper.join()
    assert type(error) is FetchError
    assert "mid-response" in error.reason or "protocol" in error.reason


# -- untrusted pages ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_url", "expected"),
    [
        (lambda port: "file:///etc/passwd", "not file:"),
        (lambda port: "javascript:alert(document.cookie)", "not javascript:"),
        (lambda port: f"http://127.0.0.2:{port}/secret", "127.0.0.2 is a loopback address"),
        (lambda port: f"http://127.0.0.1:{port}/secret", "127.0.0.1 is a loopback address"),
        (lambda port: "http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        (lambda port: "http://10.0.0.1/admin", "10.0.0.1 is a private address"),
        (lambda port: f"http://[::1]:{port}/secret", "::1 is a loopback address"),
        (lambda port: f"http://[::ffff:127.0.0.1]:{port}/secret", "IPv4 127.0.0.1 inside"),
        (lambda port: f"http://user:pw@127.0.0.1:{port}/secret", "credentials"),
    ],
)
def test_fetch_page_refuses(server: FixtureServer, make_url: Callable[[int], str], expected: str) -> None:
    server.add("/secret", b"secret")
    error = page_error(make_url(server.ports[0]))
    assert isinstance(error, BlockedURLError)
    assert expected in error.reason
    assert server.requests == []


def test_fetch_page_allowed_network(server: FixtureServer) -> None:
    server.add("/article", b"<html>text</html>", content_type="text/html")
    fetched = page(server.url("/article"), allow_private_networks=LOCALHOST_ONLY)
    assert fetched.body == b"<html>text</html>"
    (request,) = server.requests
    assert request.headers["accept"].startswith("text/html")
    assert request.headers["user-agent"] == UA


def test_fetch_page_checks_every_redirect_hop(server: FixtureServer) -> None:
    target = f"http://127.0.0.2:{server.ports[0]}/secret"
    server.route("/article", Response(status=302, headers={"Location": target}))
    server.add("/secret", b"secret")
    error = page_error(server.url("/article"), allow_private_networks=LOCALHOST_ONLY)
    assert isinstance(error, BlockedURLError)
    assert error.url == target
    assert "127.0.0.2 is a loopback address" in error.reason
    assert [r.path for r in server.requests] == ["/article"]


def test_fetch_page_refuses_a_redirect_to_another_scheme(server: FixtureServer) -> None:
    server.route("/article", Response(status=301, headers={"Location": "file:///etc/passwd"}))
    error = page_error(server.url("/article"), allow_private_networks=LOCALHOST_ONLY)
    assert isinstance(error, BlockedURLError)
    assert "not file:" in error.reason


# -- an article page's error body ------------------------------------------------------


def test_a_pages_error_answer_keeps_its_body_and_content_type(server: FixtureServer) -> None:
    wall = b"<html><head><title>Just a moment...</title></head><body>Checking</body></html>"
    server.route(
        "/wall", Response(status=403, body=wall, headers={"Content-Type": "text/html; charset=UTF-8"})
    )
    error = page_error(server.url("/wall"), allow_private_networks=LOCALHOST_ONLY)
    assert isinstance(error, HTTPStatusError)
    assert (error.status, error.body, error.content_type) == (403, wall, "text/html; charset=UTF-8")
    assert error.reason == "403 Forbidden: the request was refused"


def test_a_feeds_error_answer_keeps_no_body(server: FixtureServer) -> None:
    server.route(
        "/feed", Response(status=503, body=b"<html>down</html>", headers={"Content-Type": "text/html"})
    )
    error = feed_error(server.url("/feed"))
    assert isinstance(error, HTTPStatusError)
    assert (error.status, error.body, error.content_type) == (503, None, None)


def test_an_empty_error_body_is_none(server: FixtureServer) -> None:
    server.route("/empty", Response(status=500))
    error = page_error(server.url("/empty"), allow_private_networks=LOCALHOST_ONLY)
    assert isinstance(error, HTTPStatusError)
    assert (error.status, error.body, error.content_type) == (500, None, None)


def test_an_error_body_is_cut_at_64_kib(server: FixtureServer) -> None:
    big = bytes(range(256)) * 8000  # 2 MB
    server.route("/big", Response(status=404, body=big, headers={"Content-Type": "text/html"}))
    error = page_error(server.url("/big"), allow_private_networks=LOCALHOST_ONLY)
    assert isinstance(error, HTTPStatusError)
    assert error.body == big[:ERROR_BODY_BYTES] and ERROR_BODY_BYTES == 64 * 1024


def test_an_error_body_is_never_read_past_the_cap(server: FixtureServer) -> None:
    # The server sends a little more than the cap of a 1 MB body, then nothing: a client that
    # read on would wait until the 3 s deadline. The cap ends the read instead.
    server.route("/endless", Response(status=503, body=b"y" * 1_000_000, stall_after=70_000))
    error = page_error(
        server.url("/endless"), allow_private_networks=LOCALHOST_ONLY, read_timeout=30, deadline=3
    )
    assert isinstance(error, HTTPStatusError)
    assert error.status == 503 and error.body == b"y" * ERROR_BODY_BYTES


def test_an_error_body_that_stalls_keeps_what_arrived(server: FixtureServer) -> None:
    server.route("/stall", Response(status=403, body=b"z" * 10_000, stall_after=1000))
    error = page_error(server.url("/stall"), allow_private_networks=LOCALHOST_ONLY, read_timeout=0.2)
    assert isinstance(error, HTTPStatusError)  # the status is the outcome, not the slow body
    assert error.status == 403 and error.body == b"z" * 1000


def test_a_compressed_error_body_is_inflated_under_the_cap(server: FixtureServer) -> None:
    wall = b"<html><title>Just a moment...</title>" + b"<p>wait</p>" * 100 + b"</html>"
    server.route("/gz", Response(status=403, body=wall, gzip=True, headers={"Content-Type": "text/html"}))
    bomb = gzip_bomb(50 * 1024 * 1024)
    server.route("/bomb", Response(status=503, raw_body=bomb, headers={"Content-Encoding": "gzip"}))
    error = page_error(server.url("/gz"), allow_private_networks=LOCALHOST_ONLY)
    assert isinstance(error, HTTPStatusError) and error.body == wall
    error = page_error(server.url("/bomb"), allow_private_networks=LOCALHOST_ONLY)
    assert isinstance(error, HTTPStatusError) and error.body == bytes(ERROR_BODY_BYTES)


FakeAnswers = dict[str, list[list[str]]]


def fake_resolver(answers: FakeAnswers, calls: list[str]) -> Callable[..., Awaitable[list[tuple[Any, ...]]]]:
    """A getaddrinfo that answers names from ``answers`` (one list per call) and passes IPs through.

    No query ever leaves the machine: unknown names fail like a missing domain.
    """
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def getaddrinfo(host: Any, port: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in answers:
            return await real(host, port, flags=socket.AI_NUMERICHOST, **kwargs)
        calls.append(name)
        addresses = answers[name][min(len(calls), len(answers[name])) - 1]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port))) for a in addresses]

    return getaddrinfo


def page_with_fake_dns(
    url: str,
    answers: FakeAnswers,
    calls: list[str],
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    **overrides: Any,
) -> Fetched:
    async def run() -> Fetched:
        loop = asyncio.get_running_loop()
        loop.getaddrinfo = fake_resolver(answers, calls)  # type: ignore[method-assign,assignment]
        async with Fetcher(settings(**overrides), transport_factory=transport_factory) as fetcher:
            return await fetcher.fetch_page(url, now=NOW)

    return asyncio.run(run())


def test_fetch_page_connects_to_the_checked_address(server: FixtureServer) -> None:
    """DNS rebinding: the second answer (a forbidden address) is never asked for or used."""
    server.add("/article", b"ok", content_type="text/html")
    calls: list[str] = []
    answers = {"rebind.example": [["127.0.0.1"], ["10.0.0.1"]]}
    url = f"http://rebind.example:{server.ports[0]}/article"
    fetched = page_with_fake_dns(url, answers, calls, allow_private_networks=LOCALHOST_ONLY)
    assert fetched.body == b"ok"
    assert fetched.final_url == url
    assert calls == ["rebind.example"]
    (request,) = server.requests
    assert request.headers["host"] == f"rebind.example:{server.ports[0]}"


def test_fetch_page_name_resolving_to_a_private_address(server: FixtureServer) -> None:
    calls: list[str] = []
    url = f"http://intranet.example:{server.ports[0]}/"
    with pytest.raises(
        BlockedURLError, match=r"intranet\.example resolves to 127\.0\.0\.1, which is a loopback"
    ):
        page_with_fake_dns(url, {"intranet.example": [["127.0.0.1"]]}, calls)
    assert server.requests == []


def test_fetch_page_tries_the_next_checked_address(server: FixtureServer) -> None:
    server.add("/article", b"second address")
    calls: list[str] = []
    answers = {"two.example": [["127.0.0.2", "127.0.0.1"]]}  # nothing listens on 127.0.0.2
    allow = (ip_network("127.0.0.0/8"),)
    url = f"http://two.example:{server.ports[0]}/article"
    assert page_with_fake_dns(url, answers, calls, allow_private_networks=allow).body == b"second address"


def pages_with_fake_dns(
    urls: list[str], answers: FakeAnswers, **overrides: Any
) -> list[Fetched | FetchError]:
    """Each URL fetched in turn by one Fetcher, with the fake resolver; errors are returned."""

    async def run() -> list[Fetched | FetchError]:
        loop = asyncio.get_running_loop()
        loop.getaddrinfo = fake_resolver(answers, [])  # type: ignore[method-assign,assignment]
        outcomes: list[Fetched | FetchError] = []
        async with Fetcher(settings(**overrides)) as fetcher:
            for url in urls:
                try:
                    outcomes.append(await fetcher.fetch_page(url, now=NOW))
                except FetchError as exc:
                    outcomes.append(exc)
        return outcomes

    return asyncio.run(run())


def test_fetch_page_reuses_a_connection_for_the_same_name_only(server: FixtureServer) -> None:
    server.add("/a", b"a", content_type="text/html")
    server.add("/b", b"b", content_type="text/html")
    port = server.ports[0]
    answers = {"one.example": [["127.0.0.1"]], "two.example": [["127.0.0.1"]]}
    urls = [f"http://one.example:{port}/a", f"http://one.example:{port}/b", f"http://two.example:{port}/a"]
    outcomes = pages_with_fake_dns(urls, answers, allow_private_networks=LOCALHOST_ONLY)
    assert [o.body for o in outcomes if isinstance(o, Fetched)] == [b"a", b"b", b"a"]
    # one.example's second page came over its first connection; two.example, at the same
    # address, got a connection of its own.
    assert server.connection_count == 2
    assert [r.headers["host"] for r in server.requests] == [f"one.example:{port}"] * 2 + [
        f"two.example:{port}"
    ]


def test_fetch_page_checks_the_address_again_before_reusing_a_connection(server: FixtureServer) -> None:
    server.add("/article", b"ok", content_type="text/html")
    url = f"http://rebind.example:{server.ports[0]}/article"
    answers = {"rebind.example": [["127.0.0.1"], ["10.0.0.1"]]}  # the second answer is forbidden
    first, second = pages_with_fake_dns([url, url], answers, allow_private_networks=LOCALHOST_ONLY)
    assert isinstance(first, Fetched) and first.body == b"ok"
    assert isinstance(second, BlockedURLError)  # the kept-alive connection was not used
    assert len(server.requests) == 1


def test_fetch_page_keeps_a_bounded_number_of_clients(
    server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "PAGE_CLIENTS", 2)
    server.add("/a", b"a", content_type="text/html")
    names = ["one.example", "two.example", "three.example", "one.example"]
    answers = {name: [["127.0.0.1"]] for name in names}
    urls = [f"http://{name}:{server.ports[0]}/a" for name in names]
    outcomes = pages_with_fake_dns(urls, answers, allow_private_networks=LOCALHOST_ONLY)
    assert all(isinstance(o, Fetched) for o in outcomes)
    assert server.connection_count == 4  # one.example's client was closed to make room: a new connection


def test_fetch_page_dns_failure(server: FixtureServer) -> None:
    calls: list[str] = []
    with pytest.raises(FetchError, match=r"DNS lookup failed for missing\.example"):
        page_with_fake_dns("http://missing.example/", {"missing.example": [[]]}, calls)


# -- TLS -----------------------------------------------------------------------------


@dataclasses.dataclass
class TLS:
    server: ssl.SSLContext
    client: ssl.SSLContext
    """Trusts the test certificate only."""
    server_names: list[str | None]
    """The SNI names the server was asked for."""


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate (and key) for feeds.example, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"), "-days", "2",
         "-subj", "/CN=feeds.example", "-addext", "subjectAltName=DNS:feeds.example"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return folder


@pytest.fixture
def tls(certificate: Path) -> TLS:
    names: list[str | None] = []
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
    server.sni_callback = lambda _socket, name, _context: names.append(name)
    client = ssl.create_default_context(cafile=str(certificate / "cert.pem"))
    return TLS(server, client, names)


def test_fetch_page_https_connects_to_the_checked_address_and_verifies_the_name(tls: TLS) -> None:
    with serve(tls=tls.server) as server:
        server.add("/article", b"secure", content_type="text/html")
        port = server.ports[0]
        calls: list[str] = []
        fetched = page_with_fake_dns(
            f"https://feeds.example:{port}/article",
            {"feeds.example": [["127.0.0.1"], ["10.0.0.1"]]},
            calls,
            transport_factory=lambda: httpx.AsyncHTTPTransport(verify=tls.client),
            allow_private_networks=LOCALHOST_ONLY,
        )
        assert fetched.body == b"secure"
        assert calls == ["feeds.example"]
        assert tls.server_names == ["feeds.example"]
        assert server.requests[0].headers["host"] == f"feeds.example:{port}"


def test_fetch_page_https_refuses_a_certificate_for_another_name(tls: TLS) -> None:
    with serve(tls=tls.server) as server:
        server.add("/article", b"secure")
        with pytest.raises(FetchError) as caught:
            page_with_fake_dns(
                f"https://other.example:{server.ports[0]}/article",
                {"other.example": [["127.0.0.1"]]},
                [],
                transport_factory=lambda: httpx.AsyncHTTPTransport(verify=tls.client),
                allow_private_networks=LOCALHOST_ONLY,
            )
        assert type(caught.value) is FetchError
        assert caught.value.reason.startswith("TLS certificate not accepted: Hostname mismatch")
        assert tls.server_names == ["other.example"]
        assert server.requests == []


def test_fetch_feed_https_with_an_untrusted_certificate(tls: TLS) -> None:
    with serve(tls=tls.server) as server:
        server.add("/feed.xml", b"<rss/>")
        error = feed_error(server.url("/feed.xml"))  # the system's CAs do not know our certificate
        assert type(error) is FetchError
        assert error.reason.startswith("TLS certificate not accepted: self-signed certificate")


# -- limits ------------------------------------------------------------------------


def test_per_host_and_global_limits() -> None:
    gate = threading.Event()

    async def crowd(server: FixtureServer) -> list[Fetched]:
        async with Fetcher(settings(concurrency=3, per_host=2)) as fetcher:
            urls = [server.url(f"/f{i}", i % 2) for i in range(10)]
            tasks = [asyncio.create_task(fetcher.fetch_feed(u, Validators(), now=NOW)) for u in urls]
            assert await asyncio.to_thread(server.wait_for_requests, 3)
            gate.set()
            return list(await asyncio.gather(*tasks))

    with serve(ports=2) as server:
        for i in range(10):
            server.route(f"/f{i}", Response(body=b"x", gate=gate))
        try:
            results = asyncio.run(crowd(server))
        finally:
            gate.set()
        assert [r.status for r in results] == [200] * 10
        assert server.max_in_flight == 3
        assert max(server.max_in_flight_on(0), server.max_in_flight_on(1)) == 2


def test_per_host_limit_alone(server: FixtureServer, gate: threading.Event) -> None:
    async def crowd(fetcher: Fetcher) -> list[Fetched]:
        urls = [server.url(f"/p{i}") for i in range(12)]
        tasks = [asyncio.create_task(fetcher.fetch_page(u, now=NOW)) for u in urls]
        assert await asyncio.to_thread(server.wait_for_requests, 4)
        gate.set()
        return list(await asyncio.gather(*tasks))

    for i in range(12):
        server.route(f"/p{i}", Response(body=b"p", gate=gate))
    results = with_fetcher(crowd, concurrency=64, per_host=4, allow_private_networks=LOCALHOST_ONLY)
    assert [r.body for r in results] == [b"p"] * 12
    assert server.max_in_flight == 4


def test_each_host_gets_a_small_client_whose_connections_are_reused() -> None:
    async def poll(server: FixtureServer) -> list[Fetched]:
        async with Fetcher(settings(concurrency=16, per_host=2)) as fetcher:
            urls = [server.url(f"/feed/{i}.xml", i % 20) for i in range(200)]
            results = await asyncio.gather(*(fetcher.fetch_feed(u, Validators(), now=NOW) for u in urls))
            assert len(fetcher._clients) == 20
            return list(results)

    with serve(ports=20) as server:
        for i in range(200):
            server.add(f"/feed/{i}.xml", b"<rss/>", etag=f'"{i}"')
        results = asyncio.run(poll(server))
        assert all(r.body == b"<rss/>" for r in results)
        assert server.max_in_flight <= 16
        # Keep-alive: at most per_host connections per host, however many requests.
        assert server.connection_count <= 20 * 2


@pytest.mark.parametrize(
    "overrides",
    [
        {"concurrency": 0},
        {"per_host": 0},
        {"read_timeout": 0},
        {"max_redirects": -1},
    ],
)
def test_settings_are_checked(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="FetchSettings"):
        settings(**overrides)


def test_fetcher_is_reusable_and_closes(server: FixtureServer) -> None:
    server.add("/x", b"x", etag='"1"')

    async def run() -> None:
        fetcher = Fetcher(settings())
        first = await fetcher.fetch_feed(server.url("/x"), Validators(), now=NOW)
        second = await fetcher.fetch_feed(server.url("/x"), first.validators, now=NOW)
        assert (first.status, second.status) == (200, 304)
        await fetcher.aclose()
        await fetcher.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await fetcher.fetch_feed(server.url("/x"), Validators(), now=NOW)

    asyncio.run(run())
    assert server.connection_count == 1


# -- Retry-After -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("120", NOW + timedelta(seconds=120)),
        (" 5 ", NOW + timedelta(seconds=5)),
        ("0", NOW),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("١٢", None),  # non-ASCII digits are not delta-seconds
        ("999999999999999999999", NOW + timedelta(days=7)),
        ("604801", NOW + timedelta(days=7)),
        ("Tue, 05 Nov 2024 12:30:00 GMT", NOW + timedelta(minutes=30)),
        ("Tuesday, 05-Nov-24 12:30:00 GMT", NOW + timedelta(minutes=30)),  # RFC 850
        ("Tue Nov  5 12:30:00 2024", NOW + timedelta(minutes=30)),  # asctime
        ("Tue, 05 Nov 2024 12:30:00 -0000", NOW + timedelta(minutes=30)),
        ("Tue, 05 Nov 2024 08:00:00 GMT", NOW),  # in the past: retry now
        ("Sat, 01 Jan 2050 00:00:00 GMT", NOW + timedelta(days=7)),
        ("Tue, 32 Nov 2024 12:30:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: datetime | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_request_objects_are_recorded_for_handlers(server: FixtureServer) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(body=request.headers.get("if-none-match", "-").encode())

    server.route("/echo", handler)
    assert feed(server.url("/echo"), Validators(etag='"e"')).body == b'"e"'
    assert seen[0].headers["user-agent"] == UA
