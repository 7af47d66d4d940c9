"""HTTP fetching: conditional GET of feeds, guarded GET of article pages.

One fetch, as a pipeline::

    slots (per host, per client, global) -> [guard: check URL, resolve, check addresses]
      -> GET (no automatic redirects) -> 3xx: next hop, same steps -> 2xx: stream raw bytes,
      decompress under the cap -> Fetched          4xx/5xx, timeouts, I/O: FetchError subclasses

An article page's 4xx/5xx answer keeps the first :data:`ERROR_BODY_BYTES` of its body on the
HTTPStatusError (bot walls answer 403 or 503 with an HTML challenge); a feed's is not read.

Feed URLs come from the operator's feeds.yaml and are trusted; article links come from feed
content and go through :mod:`aggregator.net.guard` on every hop. All httpx, OS and TLS errors
leave this module as :class:`aggregator.errors.FetchError` with a readable reason.

Why a small client per host: one httpx.AsyncClient with a large pool spends milliseconds of
CPU per request scanning its pool and queue (https://github.com/encode/httpx/issues/3215).
Each (host, port) gets its own client with ``per_host`` connections, so requests never queue
inside httpcore (the per-host semaphore admits no more than the pool holds) and one host's
keep-alive connections are never evicted to make room for another's. The clients share one
SSL context, so a client costs little. Article pages get the same, per (host name, checked
address), kept across fetches (:class:`_PageClients`): a new connection per page cost the
extraction pipeline more CPU than anything else in the polling process.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
import zlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from ipaddress import IPv4Network, IPv6Address, IPv6Network

import httpx

from aggregator.errors import (
    BodyTooLargeError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    TooManyRedirectsError,
)
from aggregator.net.guard import IPAddress, check_url_syntax, resolve_and_check
from aggregator.types import Fetched, Validators

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, application/json;q=0.7, */*;q=0.5"
)
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
ACCEPT_ENCODING = "gzip, deflate"  # only what _Decoder can inflate under the cap
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
RETRY_AFTER_CAP = timedelta(days=7)
GONE_REASON = "410 Gone: the publisher removed this feed; polling stops until you re-enable it"
_DRAIN_LIMIT = 64 * 1024
#: Article-page clients kept for reuse, one per (name, checked address); the least recently used
#: idle ones are closed beyond this.
PAGE_CLIENTS = 32
#: The most of an article page's error body kept (and read: raw bytes and decompressed alike).
ERROR_BODY_BYTES = 64 * 1024
_INFLATE_STEP = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str
    """e.g. "aggregator/0.1 (+https://contact.example)", sent on every request."""
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0
    """Seconds for a whole fetch (redirects and body included), counted from its first slot."""
    max_body_bytes: int = 10 * 1024 * 1024
    """Cap on the body after decompression."""
    max_redirects: int = 5
    concurrency: int = 64
    per_host: int = 4
    """Requests at once to one (host, port)."""
    allow_private_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    """Networks article links may reach although they are not public."""

    def __post_init__(self) -> None:
        for name in ("concurrency", "per_host", "max_body_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"FetchSettings.{name} must be at least 1, not {getattr(self, name)}")
        for name in ("connect_timeout", "read_timeout", "deadline"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FetchSettings.{name} must be positive, not {getattr(self, name)}")
        if self.max_redirects < 0:
            raise ValueError(f"FetchSettings.max_redirects must be 0 or more, not {self.max_redirects}")


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


@dataclass(slots=True)
class _Hop:
    status: int
    headers: dict[str, str]
    body: bytes | None
    location: str | None


class _HostSlots:
    """A semaphore per (host, port), forgotten when nobody holds or waits for it."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._slots: dict[tuple[str, int], tuple[asyncio.Semaphore, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: tuple[str, int]) -> AsyncIterator[None]:
        semaphore, users = self._slots.setdefault(key, (asyncio.Semaphore(self._size), [0]))
        users[0] += 1
        try:
            async with semaphore:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._slots[key]


_PageKey = tuple[str, str, int, str]
"""(scheme, host name, port, the checked address connected to)."""


class _PageClients:
    """Clients for article pages, each bound to one host name at one checked address, kept for reuse.

    A client only ever connects to the address in its key and sends its host's name (Host
    header and TLS server name), so a kept-alive connection is reused only for the same name,
    and only after the guard has checked that address again for the fetch at hand. Beyond
    ``size`` clients, the least recently used idle ones are closed.
    """

    def __init__(self, new_client: Callable[[], httpx.AsyncClient], size: int) -> None:
        self._new_client = new_client
        self._size = size
        self._clients: OrderedDict[_PageKey, tuple[httpx.AsyncClient, list[int]]] = OrderedDict()

    @contextlib.asynccontextmanager
    async def hold(self, key: _PageKey) -> AsyncIterator[httpx.AsyncClient]:
        entry = self._clients.get(key)
        if entry is None:
            await self._make_room()
            entry = self._clients[key] = (self._new_client(), [0])
        self._clients.move_to_end(key)
        client, users = entry
        users[0] += 1
        try:
            yield client
        finally:
            users[0] -= 1

    async def _make_room(self) -> None:
        idle = [key for key, (_, users) in self._clients.items() if users[0] == 0]
        for key in idle[: max(0, len(self._clients) + 1 - self._size)]:
            client, _ = self._clients.pop(key)
            await client.aclose()

    async def aclose(self) -> None:
        clients = [client for client, _ in self._clients.values()]
        self._clients.clear()
        for client in clients:
            await client.aclose()


class Fetcher:
    """Fetches feeds (trusted) and article pages (untrusted); use as ``async with Fetcher(s) as f``.

    A Fetcher belongs to one event loop (its clients and semaphores bind to it); clients are
    created on first use and closed by :meth:`aclose`.
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self._settings = settings
        self._transport_factory = transport_factory
        self._clients: dict[tuple[str, int], httpx.AsyncClient] = {}
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts = _HostSlots(settings.per_host)
        self._timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.deadline,
        )
        self._ssl_context: ssl.SSLContext | None = None
        self._pages = _PageClients(lambda: self._new_client(settings.per_host), PAGE_CLIENTS)
        self._closed = False

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        clients = list(self._clients.values())
        self._clients = {}
        for client in clients:
            await client.aclose()
        await self._pages.aclose()

    # -- the two kinds of fetch --------------------------------------------------

    async def fetch_feed(self, url: str, validators: Validators, *, now: datetime) -> Fetched:
        """A conditional GET of a feed URL from feeds.yaml (trusted: no address checks)."""
        headers = {"Accept": FEED_ACCEPT}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        return await self._fetch(url, headers, validators, now, untrusted=False)

    async def fetch_page(self, url: str, *, now: datetime, accept: str = PAGE_ACCEPT) -> Fetched:
        """A GET of an untrusted URL (an article link), checked by the guard on every hop.

        Each hop connects to the address the guard checked: the request goes to the IP, with
        the real name in the Host header and as TLS server name (the ``sni_hostname``
        extension, which httpcore also uses to verify the certificate), so a DNS answer that
        changes after the check cannot redirect the connection. Because httpx pools
        connections by IP for such requests, each (name, checked address) gets a client of
        its own (:class:`_PageClients`): a connection opened for one name is never reused
        for another, and a kept-alive one only for an address the guard has just checked.
        """
        return await self._fetch(url, {"Accept": accept}, Validators(), now, untrusted=True)

    # -- one fetch: hops under a deadline ------------------------------------------

    async def _fetch(
        self,
        url: str,
        headers: dict[str, str],
        validators: Validators,
        now: datetime,
        *,
        untrusted: bool,
    ) -> Fetched:
        if self._closed:
            raise RuntimeError("this Fetcher is closed")
        settings = self._settings
        headers = {**headers, "User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING}
        # The deadline starts when the first hop gets its slots: queueing behind our own
        # concurrency limits is not the publisher's slowness.
        scope = asyncio.timeout(None)
        started: list[float] = []
        chain = [url]
        permanent = True
        current = url
        try:
            async with scope:
                while True:
                    hop = await self._hop(current, headers, scope, started, untrusted)
                    if hop.status not in REDIRECTS or hop.location is None:
                        break
                    current, permanent = self._next_hop(chain, hop, permanent, untrusted)
        except TimeoutError:
            if scope.expired():
                reason = f"gave up after the {settings.deadline:g} s total deadline"
                raise FetchTimeoutError(current, reason) from None
            raise
        elapsed = time.perf_counter() - started[0] if started else 0.0
        redirected = permanent and len(chain) > 1
        return self._outcome(url, current, hop, validators, now, elapsed, redirected)

    def _next_hop(self, chain: list[str], hop: _Hop, permanent: bool, untrusted: bool) -> tuple[str, bool]:
        assert hop.location is not None
        current = chain[-1]
        try:
            target = httpx.URL(current).join(hop.location).copy_with(fragment=None)
        except httpx.InvalidURL:
            raise FetchError(current, f"{hop.status} redirect to an invalid URL: {hop.location!r}") from None
        nxt = str(target)
        if nxt in chain:
            raise TooManyRedirectsError(chain[0], f"redirect loop: {_describe([*chain, nxt])}")
        if len(chain) > self._settings.max_redirects:
            limit = self._settings.max_redirects
            raise TooManyRedirectsError(chain[0], f"more than {limit} redirects: {_describe([*chain, nxt])}")
        if not untrusted and target.scheme not in ("http", "https"):
            raise FetchError(current, f"{hop.status} redirect to a URL that is not http(s): {nxt}")
        chain.append(nxt)
        return nxt, permanent and hop.status in PERMANENT

    async def _hop(
        self,
        url: str,
        headers: dict[str, str],
        scope: asyncio.Timeout,
        started: list[float],
        untrusted: bool,
    ) -> _Hop:
        try:
            # An untrusted URL is parsed once, by the guard's check, and passed on.
            target = check_url_syntax(url) if untrusted else httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"not a valid URL ({exc})") from None
        if target.scheme not in ("http", "https") or not target.host:
            raise FetchError(url, "only http and https URLs with a host can be fetched")
        port = target.port or (443 if target.scheme == "https" else 80)
        async with self._hosts.hold((target.host, port)), self._global:
            if scope.when() is None:
                scope.reschedule(asyncio.get_running_loop().time() + self._settings.deadline)
            if not started:
                started.append(time.perf_counter())
            try:
                if not untrusted:
                    client = self._client((target.host, port))
                    return await self._send(client, target, headers, {}, url, error_body=False)
                return await self._send_pinned(target, port, headers, url)
            except (httpx.HTTPError, httpx.InvalidURL, OSError, ssl.SSLError) as exc:
                raise self._wrap(url, exc) from exc

    async def _send_pinned(self, target: httpx.URL, port: int, headers: dict[str, str], url: str) -> _Hop:
        addresses = await resolve_and_check(url, self._settings.allow_private_networks, parsed=target)
        pinned_headers = {**headers, "Host": target.netloc.decode("ascii")}
        extensions = {"sni_hostname": target.raw_host.decode("ascii")} if target.scheme == "https" else {}
        for attempt, address in enumerate(addresses, start=1):
            wire = target.copy_with(host=_url_host(address))
            try:
                async with self._pages.hold((target.scheme, target.host, port, str(address))) as client:
                    return await self._send(client, wire, pinned_headers, extensions, url, error_body=True)
            except httpx.ConnectError:
                if attempt == len(addresses):
                    raise
        raise AssertionError("resolve_and_check returned no address")

    async def _send(
        self,
        client: httpx.AsyncClient,
        target: httpx.URL,
        headers: Mapping[str, str],
        extensions: dict[str, str],
        url: str,
        *,
        error_body: bool,
    ) -> _Hop:
        request = client.build_request("GET", target, headers=headers, extensions=extensions)
        response = await client.send(request, stream=True)
        try:
            status = response.status_code
            response_headers = {name.lower(): value for name, value in response.headers.items()}
            if 200 <= status < 300:
                body = await self._read_body(response, url)
                return _Hop(status, response_headers, body, None)
            if error_body and status >= 400:
                return _Hop(status, response_headers, await _read_error_body(response, url), None)
            await _drain(response)
            location = response_headers.get("location") if status in REDIRECTS else None
            return _Hop(status, response_headers, None, location)
        finally:
            await response.aclose()

    async def _read_body(self, response: httpx.Response, url: str) -> bytes:
        cap = self._settings.max_body_bytes
        decoder = _Decoder.for_encoding(response.headers.get("content-encoding", ""), url)
        if decoder is None:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise BodyTooLargeError(url, f"body larger than {_size(cap)}")
        body = bytearray()
        async for chunk in response.aiter_raw():
            if decoder is None:
                body += chunk
            else:
                decoder.feed(chunk, body, cap)
            if len(body) > cap:
                raise BodyTooLargeError(url, _too_large(cap, decoder))
        if decoder is not None:
            decoder.finish(body, cap)
            if len(body) > cap:
                raise BodyTooLargeError(url, _too_large(cap, decoder))
        return bytes(body)

    # -- outcomes --------------------------------------------------------------------

    def _outcome(
        self,
        url: str,
        final_url: str,
        hop: _Hop,
        validators: Validators,
        now: datetime,
        elapsed: float,
        permanent: bool,
    ) -> Fetched:
        status, headers = hop.status, hop.headers
        if 200 <= status < 300:
            fresh = Validators(etag=headers.get("etag"), last_modified=headers.get("last-modified"))
            body: bytes | None = hop.body
        elif status == 304:
            fresh = Validators(
                etag=headers.get("etag", validators.etag),
                last_modified=headers.get("last-modified", validators.last_modified),
            )
            body = None
        else:
            raise _status_error(final_url, status, headers, now, hop.body)
        return Fetched(
            url=url,
            final_url=final_url,
            status=status,
            headers=headers,
            body=body,
            validators=fresh,
            permanent_redirect=final_url if permanent else None,
            elapsed=elapsed,
        )

    def _wrap(self, url: str, exc: Exception) -> FetchError:
        """A FetchError with a reason a person can act on, for an httpx, OS or TLS error."""
        settings = self._settings
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

    # -- clients -----------------------------------------------------------------------

    def _client(self, host: tuple[str, int]) -> httpx.AsyncClient:
        client = self._clients.get(host)
        if client is None:
            client = self._clients[host] = self._new_client(self._settings.per_host)
        return client

    def _new_client(self, max_connections: int) -> httpx.AsyncClient:
        if self._transport_factory is not None:
            transport = self._transport_factory()
        else:
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context()  # loading CAs costs ~10 ms: once
            limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
            transport = httpx.AsyncHTTPTransport(verify=self._ssl_context, limits=limits)
        return httpx.AsyncClient(
            transport=transport,
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,  # no proxy or netrc from the environment: the guard pins addresses
            headers={"User-Agent": self._settings.user_agent},
        )


class _Decoder:
    """Streaming gzip/deflate inflation that never produces more than it is asked for."""

    def __init__(self, wbits: int, url: str) -> None:
        self._wbits = wbits
        self._url = url
        self._inflater = zlib.decompressobj(wbits)
        self._pending = b""

    @classmethod
    def for_encoding(cls, header: str, url: str) -> _Decoder | None:
        codings = [c.strip().lower() for c in header.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if not codings:
            return None
        if len(codings) > 1:
            raise FetchError(url, f"unsupported Content-Encoding {header!r} (stacked encodings)")
        if codings[0] in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS, url)
        if codings[0] == "deflate":
            # RFC 9110 says zlib format; some servers send raw deflate. Auto-detect below.
            return cls(0, url)
        raise FetchError(url, f"unsupported Content-Encoding {codings[0]!r} (we asked for gzip or deflate)")

    def feed(self, chunk: bytes, sink: bytearray, limit: int) -> None:
        """Inflate ``chunk`` into ``sink``, stopping as soon as ``sink`` holds more than ``limit`` bytes.

        Each zlib call may produce at most ``_INFLATE_STEP`` bytes, so a bomb costs the
        cap plus one step of memory, never its inflated size.
        """
        data = self._pending + chunk
        self._pending = b""
        if self._wbits == 0:
            # Decide between zlib and raw deflate from the zlib header's check bits.
            if len(data) < 2:
                self._pending = data
                return
            zlib_header = (data[0] & 0x0F) == 8 and (data[0] * 256 + data[1]) % 31 == 0
            self._wbits = zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS
            self._inflater = zlib.decompressobj(self._wbits)
        while data and len(sink) <= limit:
            step = min(_INFLATE_STEP, limit + 1 - len(sink))
            try:
                sink += self._inflater.decompress(data, step)
            except zlib.error as exc:
                raise FetchError(self._url, f"corrupt compressed body ({exc})") from None
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                data = self._inflater.unused_data
                if not data.startswith(b"\x1f\x8b") or self._wbits != 16 + zlib.MAX_WBITS:
                    return  # trailing garbage after the stream is ignored, as browsers do
                self._inflater = zlib.decompressobj(self._wbits)  # the next gzip member
        self._pending = data

    def finish(self, sink: bytearray, limit: int) -> None:
        """Inflate what is left; a truncated stream yields what it holds, as browsers do."""
        if self._pending:
            self.feed(b"", sink, limit)
        if len(sink) > limit or self._wbits == 0:
            return
        try:
            sink += self._inflater.flush()[: limit + 1 - len(sink)]
        except zlib.error as exc:
            raise FetchError(self._url, f"corrupt compressed body ({exc})") from None


async def _read_error_body(response: httpx.Response, url: str) -> bytes | None:
    """The first :data:`ERROR_BODY_BYTES` of an error answer's body (decompressed), or None if empty.

    Never reads more than that many raw bytes either: a huge or endless error body costs one
    cap, and the connection is closed rather than drained. The status is the outcome, so a
    body that stalls, breaks off or cannot be decompressed yields what arrived before that.
    """
    limit = ERROR_BODY_BYTES
    body = bytearray()
    try:
        decoder = _Decoder.for_encoding(response.headers.get("content-encoding", ""), url)
    except FetchError:
        return None  # an encoding we cannot read: the status alone has to do
    raw = 0
    try:
        async for chunk in response.aiter_raw():  # the caller's response.aclose() ends the stream
            chunk = chunk[: limit - raw]
            raw += len(chunk)
            if decoder is None:
                body += chunk
            else:
                decoder.feed(chunk, body, limit)
            if raw >= limit or len(body) >= limit:
                break
        if decoder is not None and len(body) < limit:
            decoder.finish(body, limit)
    except (httpx.HTTPError, FetchError):
        pass  # a read timeout, a cut connection or corrupt compression: keep what arrived
    return bytes(body[:limit]) or None


async def _drain(response: httpx.Response) -> None:
    """Read an unwanted small body so that the connection goes back to the pool.

    httpcore closes a connection whose response was not read to its end, even a 304's empty
    one; a poll of conditional GETs would otherwise open a connection per feed.
    """
    declared = response.headers.get("content-length")
    empty = response.status_code in (204, 304) or declared == "0"
    if not empty and not (declared is not None and declared.isdigit() and int(declared) <= _DRAIN_LIMIT):
        return  # unknown or large: closing the connection is cheaper than reading it
    with contextlib.suppress(httpx.HTTPError):
        async for _ in response.aiter_raw():
            pass


def _status_error(
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


def _url_host(address: IPAddress) -> str:
    # httpx brackets an IPv6 host itself; a scope id (fe80::1%eth0) never passes the guard.
    return str(address) if not isinstance(address, IPv6Address) else address.compressed


def _describe(chain: list[str]) -> str:
    return " -> ".join(chain)


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def _too_large(cap: int, decoder: _Decoder | None) -> str:
    return f"body larger than {_size(cap)}" + (" after decompression" if decoder is not None else "")
