"""The fixture server answers like a real HTTP/1.1 server: checked with a real client."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fixture_server import FixtureServer, Request, Response, serve


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def test_static_resource_with_validators(server: FixtureServer, client: httpx.Client) -> None:
    lm = "Tue, 05 Nov 2024 10:00:00 GMT"
    server.add("/feed.xml", b"<rss/>", etag='"v1"', last_modified=lm)

    first = client.get(server.url("/feed.xml"))
    assert first.status_code == 200
    assert first.content == b"<rss/>"
    assert first.headers["etag"] == '"v1"'
    assert first.headers["last-modified"] == lm
    assert first.headers["content-type"] == "application/rss+xml"

    assert client.get(server.url("/feed.xml"), headers={"If-None-Match": '"v1"'}).status_code == 304
    assert client.get(server.url("/feed.xml"), headers={"If-None-Match": 'W/"v1"'}).status_code == 304
    assert client.get(server.url("/feed.xml"), headers={"If-None-Match": '"v0"'}).status_code == 200
    assert client.get(server.url("/feed.xml"), headers={"If-Modified-Since": lm}).status_code == 304
    later = "Wed, 06 Nov 2024 10:00:00 GMT"
    assert client.get(server.url("/feed.xml"), headers={"If-Modified-Since": later}).status_code == 304
    earlier = "Mon, 04 Nov 2024 10:00:00 GMT"
    assert client.get(server.url("/feed.xml"), headers={"If-Modified-Since": earlier}).status_code == 200
    # If-None-Match decides when both are sent (RFC 9110 13.2.2).
    both = {"If-None-Match": '"v0"', "If-Modified-Since": lm}
    assert client.get(server.url("/feed.xml"), headers=both).status_code == 200


def test_replacing_a_resource(server: FixtureServer, client: httpx.Client) -> None:
    server.add("/a", b"one", etag='"1"')
    server.add("/a", b"two", etag='"2"', content_type="text/html", headers={"X-Extra": "yes"})
    response = client.get(server.url("/a"), headers={"If-None-Match": '"1"'})
    assert response.status_code == 200
    assert response.content == b"two"
    assert response.headers["content-type"] == "text/html"
    assert response.headers["x-extra"] == "yes"


def test_unknown_path_is_404(server: FixtureServer, client: httpx.Client) -> None:
    assert client.get(server.url("/nowhere")).status_code == 404


def test_gzip_static_and_route(server: FixtureServer, client: httpx.Client) -> None:
    server.add("/z", b"hello " * 100, gzip=True)
    server.route("/r", Response(body=b"routed", gzip=True))
    for path, expected in (("/z", b"hello " * 100), ("/r", b"routed")):
        response = client.get(server.url(path))
        assert response.headers["content-encoding"] == "gzip"
        assert response.content == expected
        assert int(response.headers["content-length"]) < len(expected) or path == "/r"


def test_raw_body_is_sent_as_is(server: FixtureServer, client: httpx.Client) -> None:
    packed = gzip.compress(b"x" * 1000)
    server.route("/raw", Response(raw_body=packed, headers={"Content-Encoding": "gzip"}))
    with client.stream("GET", server.url("/raw")) as response:
        raw = b"".join(response.iter_raw())
    assert raw == packed
    assert response.headers["content-length"] == str(len(packed))


def test_handler_sees_the_request(server: FixtureServer, client: httpx.Client) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(status=201, body=request.query.encode(), headers={"X-Method": request.method})

    server.route("/h", handler)
    response = client.post(server.url("/h?a=1&b=2"), content=b"payload", headers={"X-Token": "abc"})
    assert response.status_code == 201
    assert response.content == b"a=1&b=2"
    assert response.headers["x-method"] == "POST"
    (request,) = seen
    assert request.path == "/h"
    assert request.headers["x-token"] == "abc"
    assert request.body == b"payload"
    assert request.port == server.ports[0]
    assert server.requests == [request]
    assert server.requests_for("/h") == [request]
    assert server.requests_for("/other") == []


def test_handler_failure_is_500(server: FixtureServer, client: httpx.Client) -> None:
    def broken(request: Request) -> Response:
        raise RuntimeError("boom (expected in this test)")

    server.route("/broken", broken)
    assert client.get(server.url("/broken")).status_code == 500


def test_keep_alive_reuses_one_connection(server: FixtureServer, client: httpx.Client) -> None:
    server.add("/k", b"k")
    for _ in range(20):
        assert client.get(server.url("/k")).status_code == 200
    assert server.connection_count == 1


def test_connection_close_is_honoured(server: FixtureServer, client: httpx.Client) -> None:
    server.add("/c", b"c")
    for _ in range(3):
        response = client.get(server.url("/c"), headers={"Connection": "close"})
        assert response.headers["connection"] == "close"
    assert server.connection_count == 3


def test_several_ports_act_as_several_hosts(client: httpx.Client) -> None:
    with serve(ports=3) as server:
        server.add("/p", b"p")
        assert len(set(server.base_urls)) == 3
        assert server.base_url == server.base_urls[0]
        for index in range(3):
            assert client.get(server.url("/p", index)).status_code == 200
        assert [r.port for r in server.requests] == server.ports


def test_delay_and_latency_slow_the_answer(client: httpx.Client) -> None:
    with serve(latency=0.05) as server:
        server.route("/slow", Response(body=b"s", delay=0.1))
        started = time.perf_counter()
        assert client.get(server.url("/slow")).content == b"s"
        assert time.perf_counter() - started >= 0.15


def test_gate_holds_the_answer_until_set(server: FixtureServer, client: httpx.Client) -> None:
    gate = threading.Event()
    server.route("/held", Response(body=b"released", gate=gate))
    answered = threading.Event()
    result: list[bytes] = []

    def fetch() -> None:
        result.append(client.get(server.url("/held")).content)
        answered.set()

    worker = threading.Thread(target=fetch)
    worker.start()
    assert server.wait_for_requests(1)
    assert not answered.is_set()
    gate.set()
    worker.join(timeout=5)
    assert result == [b"released"]
    # A gate once set lets the next answers through at once.
    assert client.get(server.url("/held")).content == b"released"


def test_gate_reused_after_clear_holds_again(server: FixtureServer, client: httpx.Client) -> None:
    gate = threading.Event()
    server.route("/held", Response(body=b"ok", gate=gate))
    gate.set()
    assert client.get(server.url("/held")).content == b"ok"
    gate.clear()
    answered = threading.Event()

    def fetch() -> None:
        client.get(server.url("/held"))
        answered.set()

    worker = threading.Thread(target=fetch)
    worker.start()
    assert server.wait_for_requests(2)
    assert not answered.is_set()
    gate.set()
    worker.join(timeout=5)
    assert answered.is_set()


def test_stall_after_sends_part_of_the_body(server: FixtureServer) -> None:
    server.route("/stall", Response(body=b"a" * 100, stall_after=10))
    received = b""
    with (
        httpx.Client(timeout=httpx.Timeout(5, read=0.2)) as client,
        client.stream("GET", server.url("/stall")) as response,
    ):
        assert response.headers["content-length"] == "100"
        with pytest.raises(httpx.ReadTimeout):
            for chunk in response.iter_raw():
                received += chunk
    assert received == b"a" * 10


def test_wait_for_requests_times_out(server: FixtureServer) -> None:
    assert server.wait_for_requests(0)
    assert not server.wait_for_requests(1, timeout=0.01)


def test_stop_cancels_held_answers_and_closes_connections() -> None:
    gate = threading.Event()  # never set
    server = FixtureServer().start()
    server.route("/held", Response(body=b"never", gate=gate))
    server.route("/stall", Response(body=b"b" * 10, stall_after=1))
    errors: list[BaseException] = []

    def fetch(path: str) -> None:
        try:
            with httpx.Client(timeout=30) as client:
                client.get(server.url(path))
        except httpx.HTTPError as exc:
            errors.append(exc)

    workers = [threading.Thread(target=fetch, args=(p,)) for p in ("/held", "/stall", "/held")]
    for worker in workers:
        worker.start()
    assert server.wait_for_requests(3)
    server.stop()
    for worker in workers:
        worker.join(timeout=5)
        assert not worker.is_alive()
    assert len(errors) == 3
    with pytest.raises(httpx.ConnectError), httpx.Client() as client:
        client.get(server.url("/held"))
    server.stop()  # a second stop is harmless


async def raw_get(port: int, path: str) -> int:
    """One GET over a fresh connection with asyncio streams (cheaper than httpx for a crowd)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: fixture\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        return status
    finally:
        writer.close()
        await writer.wait_closed()


def test_many_concurrent_connections_and_in_flight_count() -> None:
    gate = threading.Event()

    async def crowd(server: FixtureServer, n: int) -> list[int]:
        tasks = [asyncio.create_task(raw_get(server.ports[i % 2], f"/f/{i % 7}")) for i in range(n)]
        assert await asyncio.to_thread(server.wait_for_requests, n)
        gate.set()
        return list(await asyncio.gather(*tasks))

    with serve(ports=2) as server:
        for i in range(7):
            server.route(f"/f/{i}", Response(body=b"x", gate=gate))
        assert asyncio.run(crowd(server, 500)) == [200] * 500
        assert server.max_in_flight == 500
        assert server.max_in_flight_on(0) == server.max_in_flight_on(1) == 250
        assert server.connection_count == 500


def test_keep_alive_under_load() -> None:
    """Four hundred conditional GETs over 8 kept-alive connections (a smoke test, not a timing)."""

    async def run(server: FixtureServer) -> list[int]:
        # A semaphore in front of the pool: httpx's pool gets slow with many queued requests.
        semaphore = asyncio.Semaphore(8)
        limits = httpx.Limits(max_connections=8)
        headers = {"If-None-Match": '"e"'}
        async with httpx.AsyncClient(limits=limits, timeout=10, headers=headers) as client:

            async def one(i: int) -> int:
                async with semaphore:
                    return (await client.get(server.url(f"/t/{i % 10}"))).status_code

            return list(await asyncio.gather(*(one(i) for i in range(400))))

    with serve() as server:
        for i in range(10):
            server.add(f"/t/{i}", b"x" * 2000, etag='"e"')
        assert asyncio.run(run(server)) == [304] * 400
        assert server.connection_count <= 8
        assert len(server.requests) == 400
