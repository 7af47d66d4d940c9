"""The private-network guard: URL syntax, address categories, resolution."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

import pytest

from aggregator.errors import BlockedURLError
from aggregator.net.guard import check_address, check_url_syntax, resolve_and_check

NO_ALLOW: tuple[IPv4Network | IPv6Network, ...] = ()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "not file:"),
        ("javascript:alert(1)", "not javascript:"),
        ("ftp://example.com/x", "not ftp:"),
        ("data:text/html,hi", "not data:"),
        ("//example.com/x", "not a relative URL"),
        ("/just/a/path", "not a relative URL"),
        ("http:///nohost", "no host"),
        ("https://user:secret@example.com/", "credentials"),
        ("https://user@example.com/", "credentials"),
        ("http://exa\x00mple.com/", "not a valid URL"),
        ("http://example.com:x/", "not a valid URL"),
    ],
)
def test_check_url_syntax_refuses(url: str, reason: str) -> None:
    with pytest.raises(BlockedURLError) as caught:
        check_url_syntax(url)
    assert reason in caught.value.reason
    assert caught.value.url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/a?b=1",
        "https://例え.jp/記事",
        "HTTPS://EXAMPLE.COM:8443/",
        "http://[2606:4700::1111]/",
    ],
)
def test_check_url_syntax_accepts(url: str) -> None:
    check_url_syntax(url)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("100.64.0.1", "shared"),
        ("100.127.255.254", "shared"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("198.18.0.1", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd00:ec2::254", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback address (IPv4 127.0.0.1 inside)"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("::ffff:10.0.0.1", "private address (IPv4 10.0.0.1 inside)"),
        ("2002:7f00:1::", "loopback address (IPv4 127.0.0.1 inside)"),  # 6to4
        ("2002:a00:1::", "private address (IPv4 10.0.0.1 inside)"),
        ("64:ff9b::7f00:1", "loopback address (IPv4 127.0.0.1 inside)"),  # NAT64
        ("::127.0.0.1", "reserved"),  # IPv4-compatible (deprecated)
    ],
)
def test_check_address_refuses(address: str, kind: str) -> None:
    with pytest.raises(BlockedURLError) as caught:
        check_address(ip_address(address), NO_ALLOW)
    assert kind in caught.value.reason
    assert caught.value.reason.startswith(str(ip_address(address)))
    assert "allow_private_networks" in caught.value.reason


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700::1111", "2a00:1450::1"]
)
def test_check_address_accepts_public(address: str) -> None:
    check_address(ip_address(address), NO_ALLOW)


@pytest.mark.parametrize(
    ("address", "allow", "allowed"),
    [
        ("127.0.0.1", ["127.0.0.1/32"], True),
        ("127.0.0.2", ["127.0.0.1/32"], False),
        ("10.1.2.3", ["10.0.0.0/8"], True),
        ("10.1.2.3", ["192.168.0.0/16", "10.1.2.0/24"], True),
        ("::ffff:127.0.0.1", ["127.0.0.1/32"], True),  # the mapped form of an allowed address
        ("::1", ["127.0.0.1/32"], False),
        ("::1", ["::1/128"], True),
        ("169.254.169.254", ["10.0.0.0/8"], False),
    ],
)
def test_check_address_allow_list(address: str, allow: list[str], allowed: bool) -> None:
    networks = [ip_network(n) for n in allow]
    if allowed:
        check_address(ip_address(address), networks)
    else:
        with pytest.raises(BlockedURLError):
            check_address(ip_address(address), networks)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8080/x", "127.0.0.1 is a loopback address"),
        ("http://[::1]/", "::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[::ffff:7f00:1]/", "IPv4 127.0.0.1 inside"),
        ("http://localhost/", "localhost resolves to"),
        (
            "http://127.1/",
            "127.1 resolves to 127.0.0.1, which is a loopback",
        ),  # inet_aton shorthand, resolved by the OS
        ("file:///etc/passwd", "not file:"),
    ],
)
def test_resolve_and_check_refuses(url: str, expected: str) -> None:
    with pytest.raises(BlockedURLError) as caught:
        asyncio.run(resolve_and_check(url, NO_ALLOW))
    assert expected in caught.value.reason
    assert caught.value.url == url


def test_resolve_and_check_returns_checked_addresses() -> None:
    allow = [ip_network("127.0.0.0/8"), ip_network("::1/128")]
    assert asyncio.run(resolve_and_check("http://127.0.0.1:9/", allow)) == [ip_address("127.0.0.1")]
    resolved = asyncio.run(resolve_and_check("http://localhost/", allow))
    assert ip_address("127.0.0.1") in resolved or ip_address("::1") in resolved
    assert len(resolved) == len(set(resolved))


def test_resolve_and_check_blocks_when_any_address_is_private() -> None:
    """A name that resolves to a public and a private address is refused as a whole."""

    async def check() -> None:
        loop = asyncio.get_running_loop()

        async def fake_getaddrinfo(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
            assert host == "mixed.example"
            return [(2, 1, 6, "", ("93.184.216.34", port)), (2, 1, 6, "", ("10.0.0.5", port))]

        loop.getaddrinfo = fake_getaddrinfo  # type: ignore[method-assign,assignment]
        await resolve_and_check("https://mixed.example/", NO_ALLOW)

    with pytest.raises(
        BlockedURLError, match=r"mixed\.example resolves to 10\.0\.0\.5, which is a private address"
    ):
        asyncio.run(check())


def test_check_url_syntax_returns_the_parsed_url_the_fetcher_passes_on() -> None:
    parsed = check_url_syntax("https://Blog.Example.com:8443/p?q=1")
    assert (parsed.scheme, parsed.host, parsed.port, parsed.path) == ("https", "blog.example.com", 8443, "/p")
    allow = [ip_network("127.0.0.0/8")]
    checked = check_url_syntax("http://127.0.0.1:9/")
    assert asyncio.run(resolve_and_check("http://127.0.0.1:9/", allow, parsed=checked)) == [
        ip_address("127.0.0.1")
    ]
