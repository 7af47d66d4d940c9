"""A real HTTP/1.1 server on 127.0.0.1 for tests and benchmarks.

It runs an asyncio loop in a daemon thread, listens on one or more ephemeral
ports (several ports stand in for several hosts), keeps connections alive and
answers from a table of static resources and dynamic routes::

    with serve() as server:
        server.add("/feed.xml", b"<rss/>", etag='"v1"')
        fetch(server.url("/feed.xml"))
        assert server.requests_for("/feed.xml")[0].headers["user-agent"]

Everything a response can do to a client (slowness, a held answer, a stalled
body, gzip, raw bytes) is described by :class:`Response`. Handlers run on the
server's loop thread and must not block. Nothing here sleeps in the caller's
thread: wait for traffic with :meth:`FixtureServer.wait_for_requests`, hold
answers with a ``threading.Event`` gate, and check limits afterwards with
``max_in_flight`` / ``max_in_flight_on(port_index)`` (requests received whose
answer had not started yet). ``tls=`` serves https with a given SSLContext.

A gate that is never set keeps one idle daemon thread (blocked on the event)
after ``stop()``; the answers it held are cancelled and their connections closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip as gzip_module
import http
import ssl
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

__all__ = ["FixtureServer", "Request", "Response", "serve"]


@dataclass
class Response:
    """What the server answers, and how."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait (on the server loop) before answering."""
    gzip: bool = False
    """Compress ``body`` and send it with ``Content-Encoding: gzip``."""
    raw_body: bytes | None = None
    """Bytes sent as they are (e.g. a precompressed bomb), with ``headers`` as given."""
    gate: threading.Event | None = None
    """Hold the answer until this event is set; on stop the connection is closed instead."""
    stall_after: int | None = None
    """Send the headers and this many body bytes, then nothing until the client leaves."""


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    """Header names lowercased; a repeated header keeps its last value."""
    port: int
    """The local port the request came in on (which "host" it was sent to)."""
    body: bytes = b""


Handler = Callable[[Request], Response]


@dataclass
class _Static:
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    gzip: bool
    headers: dict[str, str]

    def answer(self, request: Request) -> Response:
        headers = {"Content-Type": self.content_type, **self.headers}
        if self.etag is not None:
            headers["ETag"] = self.etag
        if self.last_modified is not None:
            headers["Last-Modified"] = self.last_modified
        if self._not_modified(request):
            return Response(status=304, headers=headers)
        return Response(status=200, body=self.body, headers=headers, gzip=self.gzip)

    def _not_modified(self, request: Request) -> bool:
        # RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since when both are sent.
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None:
            if self.etag is None:
                return False
            wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in wanted or self.etag.removeprefix("W/") in wanted
        if_modified_since = request.headers.get("if-modified-since")
        if if_modified_since is None or self.last_modified is None:
            return False
        try:
            return parsedate_to_datetime(self.last_modified) <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False


class _BadRequest(Exception):
    pass


class FixtureServer:
    """An HTTP/1.1 server on 127.0.0.1 with keep-alive, in its own thread."""

    def __init__(self, *, latency: float = 0.0, ports: int = 1, tls: ssl.SSLContext | None = None) -> None:
        """``tls``: a server-side SSLContext to serve https instead of http."""
        if ports < 1:
            raise ValueError("ports must be at least 1")
        self.latency = latency
        self._tls = tls
        self._port_count = ports
        self._ports: list[int] = []
        self._routes: dict[str, Handler | Response | _Static] = {}
        self._requests: list[Request] = []
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[None]] = set()
        self._gate_events: dict[int, tuple[threading.Event, asyncio.Event]] = {}
        self._in_flight: dict[int, int] = {}
        self._max_in_flight = 0
        self._max_in_flight_by_port: dict[int, int] = {}
        self._connection_count = 0

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> FixtureServer:
        if self._thread is not None:
            raise RuntimeError("the fixture server is already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._listen())
            except BaseException as exc:  # reported to start() below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="fixture-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close the listeners and every connection, cancelling held answers, and end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        future.result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _listen(self) -> None:
        for _ in range(self._port_count):
            server = await asyncio.start_server(
                self._serve_connection, "127.0.0.1", 0, backlog=2048, ssl=self._tls
            )
            self._servers.append(server)
            self._ports.append(server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()

    # -- addresses ------------------------------------------------------------

    @property
    def base_urls(self) -> list[str]:
        scheme = "https" if self._tls is not None else "http"
        return [f"{scheme}://127.0.0.1:{port}" for port in self._ports]

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    @property
    def ports(self) -> list[int]:
        return list(self._ports)

    def url(self, path: str, port_index: int = 0) -> str:
        return self.base_urls[port_index] + path

    # -- content --------------------------------------------------------------

    def add(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/rss+xml",
        etag: str | None = None,
        last_modified: str | None = None,
        gzip: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Serve ``body`` at ``path`` (on every port), answering conditional GETs with 304."""
        static = _Static(body, content_type, etag, last_modified, gzip, dict(headers or {}))
        with self._cond:
            self._routes[path] = static

    def route(self, path: str, handler: Handler | Response) -> None:
        """Answer ``path`` with a fixed Response, or with what ``handler(request)`` returns."""
        with self._cond:
            self._routes[path] = handler

    # -- what was received ----------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """A snapshot of every request received so far, in arrival order."""
        with self._cond:
            return list(self._requests)

    def requests_for(self, path: str) -> list[Request]:
        with self._cond:
            return [r for r in self._requests if r.path == path]

    def wait_for_requests(self, n: int, timeout: float = 10) -> bool:
        """Block until at least ``n`` requests have arrived; False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._requests) >= n, timeout)

    @property
    def max_in_flight(self) -> int:
        """The most requests that were being answered at once (received, answer not yet sent)."""
        with self._cond:
            return self._max_in_flight

    def max_in_flight_on(self, port_index: int) -> int:
        with self._cond:
            return self._max_in_flight_by_port.get(self._ports[port_index], 0)

    @property
    def connection_count(self) -> int:
        """How many TCP connections were accepted (keep-alive keeps this low)."""
        with self._cond:
            return self._connection_count

    # -- the protocol -----------------------------------------------------------

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        port = writer.get_extra_info("sockname")[1]
        with self._cond:
            self._connection_count += 1
        try:
            while True:
                try:
                    request, keep_alive = await self._read_request(reader, port)
                except _BadRequest:
                    writer.write(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    break
                if request is None:
                    break
                if not await self._answer(request, keep_alive, reader, writer):
                    break
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            # stop(): drop the connection without answering. The cancellation is not
            # re-raised: on Python 3.11 the streams callback would log it as an error.
            writer.transport.abort()
        finally:
            self._connections.discard(task)
            writer.close()

    async def _read_request(self, reader: asyncio.StreamReader, port: int) -> tuple[Request | None, bool]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                raise _BadRequest from exc
            return None, False
        except asyncio.LimitOverrunError as exc:
            raise _BadRequest from exc
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ")
        except ValueError as exc:
            raise _BadRequest from exc
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest
            headers[name.strip().lower()] = value.strip()
        body = await self._read_body(reader, headers)
        path, _, query = target.partition("?")
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
        return Request(method, path, query, headers, port, body), keep_alive

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")  # no trailers expected
                    return b"".join(parts)
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError as exc:
            raise _BadRequest from exc
        return await reader.readexactly(length) if length else b""

    async def _answer(
        self,
        request: Request,
        keep_alive: bool,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Send one response; False when the connection cannot be reused."""
        port = request.port
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
            route = self._routes.get(request.path)
            self._in_flight[port] = self._in_flight.get(port, 0) + 1
            self._max_in_flight = max(self._max_in_flight, sum(self._in_flight.values()))
            self._max_in_flight_by_port[port] = max(
                self._max_in_flight_by_port.get(port, 0), self._in_flight[port]
            )
        released = False

        def release() -> None:
            # Called just before the first byte of the answer is written, so that a
            # client cannot see the answer (and start another request) while this one
            # still counts as in flight.
            nonlocal released
            if not released:
                released = True
                with self._cond:
                    self._in_flight[port] -= 1

        try:
            response = self._respond(route, request)
            wait = self.latency + response.delay
            if wait > 0:
                await asyncio.sleep(wait)
            if response.gate is not None:
                await self._wait_gate(response.gate)
            head, body = self._encode(response, request, keep_alive)
            release()
            if response.stall_after is None:
                writer.write(head + body)
                return True
            writer.write(head + body[: response.stall_after])
            await writer.drain()
            while await reader.read(65536):  # stall until the client gives up
                pass
            return False
        finally:
            release()

    def _respond(self, route: Handler | Response | _Static | None, request: Request) -> Response:
        if route is None:
            return Response(status=404, body=b"not found\n", headers={"Content-Type": "text/plain"})
        if isinstance(route, Response):
            return route
        if isinstance(route, _Static):
            return route.answer(request)
        try:
            return route(request)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return Response(status=500, body=b"handler failed\n", headers={"Content-Type": "text/plain"})

    @staticmethod
    def _encode(response: Response, request: Request, keep_alive: bool) -> tuple[bytes, bytes]:
        headers = dict(response.headers)
        if response.raw_body is not None:
            body = response.raw_body
        elif response.gzip and response.body:
            body = gzip_module.compress(response.body, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
        else:
            body = response.body
        names = {name.lower() for name in headers}
        framed = "content-length" in names or "transfer-encoding" in names
        if not framed and response.status != 304 and response.status >= 200:
            headers["Content-Length"] = str(len(body))
        if "connection" not in names:
            headers["Connection"] = "keep-alive" if keep_alive else "close"
        try:
            reason = http.HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {response.status} {reason}"]
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if request.method == "HEAD" or response.status == 304 or response.status < 200:
            body = b""
        return head, body

    async def _wait_gate(self, gate: threading.Event) -> None:
        if gate.is_set():
            return
        # One helper thread per gate waits on the threading.Event and wakes the loop.
        # If a gate is never set, its helper stays blocked (a daemon thread) after stop();
        # the held answers themselves are cancelled by stop().
        entry = self._gate_events.get(id(gate))
        if entry is None:
            event = asyncio.Event()
            entry = self._gate_events[id(gate)] = (gate, event)
            loop = asyncio.get_running_loop()

            def opened() -> None:
                event.set()
                # Forget it, so that a gate cleared and reused holds the next answers again.
                if self._gate_events.get(id(gate)) is entry:
                    del self._gate_events[id(gate)]

            def wake() -> None:
                gate.wait()
                with contextlib.suppress(RuntimeError):  # the loop is already closed
                    loop.call_soon_threadsafe(opened)

            threading.Thread(target=wake, name="fixture-server-gate", daemon=True).start()
        await entry[1].wait()


@contextlib.contextmanager
def serve(
    *, latency: float = 0.0, ports: int = 1, tls: ssl.SSLContext | None = None
) -> Iterator[FixtureServer]:
    """Run a FixtureServer for the duration of a ``with`` block."""
    server = FixtureServer(latency=latency, ports=ports, tls=tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()
