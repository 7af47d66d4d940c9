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
SSL context (one per process), so a client costs little. Article pages get the same, per (host
name, checked address), kept across fetches (:class:`PageClients`): a new connection per page cost the
extraction pipeline more CPU than anything else in the polling process.

The parts beside this module: ``settings`` (FetchSettings), ``clients`` (the slots and the
kept page clients), ``bodies`` (reading under the cap), ``answers`` (statuses, Retry-After)
and ``failures`` (errors a person can act on); this module runs the hops.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from ipaddress import IPv6Address

import httpx

from aggregator.errors import FetchError, FetchTimeoutError, TooManyRedirectsError
from aggregator.net.answers import GONE_REASON, PERMANENT, REDIRECTS, parse_retry_after, status_error
from aggregator.net.bodies import ACCEPT_ENCODING, ERROR_BODY_BYTES, drain, read_body, read_error_body
from aggregator.net.clients import HostSlots, PageClients
from aggregator.net.failures import fetch_error
from aggregator.net.guard import IPAddress, check_url_syntax, resolve_and_check
from aggregator.net.settings import FetchSettings
from aggregator.types import Fetched, Validators

__all__ = [
    "ERROR_BODY_BYTES",
    "FEED_ACCEPT",
    "GONE_REASON",
    "PAGE_ACCEPT",
    "PAGE_CLIENTS",
    "FetchSettings",
    "Fetcher",
    "parse_retry_after",
]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, application/json;q=0.7, */*;q=0.5"
)
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
#: Article-page clients kept for reuse, one per (name, checked address); the least recently used
#: idle ones are closed beyond this.
PAGE_CLIENTS = 32


@dataclass(slots=True)
class _Hop:
    status: int
    headers: dict[str, str]
    body: bytes | None
    location: str | None


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
        self._hosts = HostSlots(settings.per_host)
        self._timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.deadline,
        )
        self._ssl_context: ssl.SSLContext | None = None
        self._pages = PageClients(lambda: self._new_client(settings.per_host), PAGE_CLIENTS)
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
        its own (:class:`PageClients`): a connection opened for one name is never reused
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
                raise fetch_error(url, exc, self._settings) from exc

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
                body = await read_body(response, url, self._settings.max_body_bytes)
                return _Hop(status, response_headers, body, None)
            if error_body and status >= 400:
                return _Hop(status, response_headers, await read_error_body(response, url), None)
            await drain(response)
            location = response_headers.get("location") if status in REDIRECTS else None
            return _Hop(status, response_headers, None, location)
        finally:
            await response.aclose()

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
            raise status_error(final_url, status, headers, now, hop.body)
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
                self._ssl_context = _default_ssl_context()
            limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
            transport = httpx.AsyncHTTPTransport(verify=self._ssl_context, limits=limits)
        return httpx.AsyncClient(
            transport=transport,
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,  # no proxy or netrc from the environment: the guard pins addresses
            headers={"User-Agent": self._settings.user_agent},
        )


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """One verifying SSL context per process, shared by every Fetcher and its clients.

    Loading the system's CA certificates costs 10-40 ms of CPU: a daemon that opened a
    Fetcher per 30-second tick paid it every tick. A context is safe to share between
    clients and threads once configured, and nothing here configures it after.
    """
    return httpx.create_ssl_context()


def _url_host(address: IPAddress) -> str:
    # httpx brackets an IPv6 host itself; a scope id (fe80::1%eth0) never passes the guard.
    return str(address) if not isinstance(address, IPv6Address) else address.compressed


def _describe(chain: list[str]) -> str:
    return " -> ".join(chain)
