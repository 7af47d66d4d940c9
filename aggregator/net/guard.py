"""The private-network guard for untrusted URLs (article links that came from feed content).

An untrusted URL is fetched only if it is http or https, carries no credentials, and every
address its host resolves to is public, unless the operator allowed a network. The fetcher
calls :func:`resolve_and_check` before the first request and again on every redirect hop,
then connects to an address this module checked (see ``aggregator.net.fetch``), so a DNS answer
that changes between the check and the connection cannot send it elsewhere.

Pure except for :func:`resolve_and_check`, which asks the resolver (``loop.getaddrinfo``).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

import httpx

from aggregator.errors import BlockedURLError, FetchError

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})

_SHARED = IPv4Network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT; not is_private in Python 3.11
_METADATA = IPv4Address("169.254.169.254")
_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix: the last 32 bits are IPv4
_HINT = "article links never reach private networks unless allow_private_networks lists the network"


def check_url_syntax(url: str) -> httpx.URL:
    """Refuse anything but an http(s) URL with a host and without credentials; the URL, parsed."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise BlockedURLError(url, f"not a valid URL ({exc})") from None
    scheme = parsed.scheme
    if scheme not in ALLOWED_SCHEMES:
        shown = f"{scheme}:" if scheme else "a relative URL"
        raise BlockedURLError(url, f"only http and https URLs are fetched, not {shown}")
    if not parsed.host:
        raise BlockedURLError(url, "the URL has no host")
    if parsed.userinfo:
        raise BlockedURLError(url, "the URL carries credentials (user:password@); it is never fetched")
    return parsed


def check_address(ip: IPAddress, allow: Sequence[IPNetwork]) -> None:
    """Refuse an address that is not public, unless it lies in one of the ``allow`` networks.

    IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, 6to4, Teredo,
    NAT64) are judged by the IPv4 address inside as well.
    """
    kind = refusal(ip, allow)
    if kind is not None:
        raise BlockedURLError(str(ip), f"{ip} is {kind}; {_HINT}")


def refusal(ip: IPAddress, allow: Sequence[IPNetwork]) -> str | None:
    """What forbidden kind of address ``ip`` is (e.g. "a loopback address"), or None if allowed."""
    forms = [*_embedded_ipv4(ip), ip]
    if any(form in network for form in forms for network in allow):
        return None
    for form in forms:
        kind = _kind(form)
        if kind is not None:
            return f"{kind} (IPv4 {form} inside)" if form is not ip else kind
    return None


async def resolve_and_check(
    url: str, allow: Sequence[IPNetwork], *, parsed: httpx.URL | None = None
) -> list[IPAddress]:
    """Check the URL, resolve its host and check every address; return them in resolver order.

    A literal IP address is checked without DNS. Raises BlockedURLError when the URL or any
    address is refused, FetchError when the name does not resolve. ``parsed`` is what
    :func:`check_url_syntax` returned for ``url``, when the caller has checked it already.
    """
    if parsed is None:
        parsed = check_url_syntax(url)
    host = parsed.host
    try:
        literal = ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        addresses = await _resolve(url, parsed)
    for address in addresses:
        kind = refusal(address, allow)
        if kind is not None:
            where = f"{address} is" if literal is not None else f"{host} resolves to {address}, which is"
            raise BlockedURLError(url, f"{where} {kind}; {_HINT}")
    return addresses


async def _resolve(url: str, parsed: httpx.URL) -> list[IPAddress]:
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    host = parsed.raw_host.decode("ascii")  # IDNA-encoded, as httpx will send it
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(url, f"DNS lookup failed for {parsed.host}: {exc}") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchError(url, f"DNS lookup for {parsed.host} returned no address")
    return addresses


def _kind(ip: IPAddress) -> str | None:
    """The forbidden category ``ip`` belongs to, as a phrase, or None for a public address."""
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        if ip == _METADATA:
            return "the cloud metadata endpoint (link-local)"
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, IPv4Address) and ip in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(ip: IPAddress) -> Iterator[IPv4Address]:
    if isinstance(ip, IPv4Address):
        return
    if ip.ipv4_mapped is not None:
        yield ip.ipv4_mapped
    if ip.sixtofour is not None:
        yield ip.sixtofour
    if ip.teredo is not None:
        yield ip.teredo[1]
    if ip in _NAT64:
        yield IPv4Address(int(ip) & 0xFFFFFFFF)
