"""canonical_url, is_http_url and resolve_url, table-driven."""

from __future__ import annotations

import pytest

from aggregator.urls import canonical_url, is_http_url, resolve_url

SAME = [
    # (two URLs that must share a key, why)
    ("http://example.com/a", "https://example.com/a", "http and https fold"),
    ("HTTPS://EXAMPLE.COM/a", "https://example.com/a", "scheme and host case"),
    ("https://example.com:443/a", "https://example.com/a", "default https port"),
    ("http://example.com:80/a", "https://example.com/a", "default http port"),
    ("https://user:secret@example.com/a", "https://example.com/a", "userinfo dropped"),
    ("https://example.com./a", "https://example.com/a", "trailing dot of the host"),
    ("https://example.com/a#comments", "https://example.com/a", "fragment dropped"),
    ("https://example.com/a/", "https://example.com/a", "trailing slash"),
    ("https://example.com", "https://example.com/", "empty path is the root"),
    ("https://eugeneyan.com//writing/x/", "https://eugeneyan.com/writing/x/", "doubled slash"),
    ("https://example.com///a////b", "https://example.com/a/b", "many slashes"),
    ("https://example.com/a/./b/../c", "https://example.com/a/c", "dot segments"),
    ("https://example.com/post/index.html", "https://example.com/post/", "static index page"),
    ("https://example.com/index.htm", "https://example.com/", "index at the root"),
    ("https://example.com/a?utm_source=rss&utm_medium=feed", "https://example.com/a", "utm_*"),
    ("https://example.com/a?UTM_Campaign=x", "https://example.com/a", "utm_* in any case"),
    ("https://example.com/a?fbclid=IwAR0abc", "https://example.com/a", "fbclid"),
    ("https://example.com/a?gclid=abc&b=1", "https://example.com/a?b=1", "gclid"),
    ("https://example.com/a?mc_cid=1&mc_eid=2", "https://example.com/a", "Mailchimp"),
    ("https://example.com/a?ref_src=twsrc%5Etfw", "https://example.com/a", "Twitter ref_src"),
    (
        "https://medium.com/netflix-techblog/some-post-4f1e5c2a9b7d?source=rss----2615bd06b42e---4",
        "https://medium.com/netflix-techblog/some-post-4f1e5c2a9b7d",
        "Medium publication feed",
    ),
    (
        "https://medium.com/@someone/a-post-123abc?source=rss-8a0b1c2d3e4f------2",
        "https://medium.com/@someone/a-post-123abc",
        "Medium user feed",
    ),
    (
        "https://ai.googleblog.com/2023/05/a-post.html?m=1",
        "https://ai.googleblog.com/2023/05/a-post.html",
        "Blogger mobile",
    ),
    ("https://example.blogspot.com/p.html?m=0", "https://example.blogspot.com/p.html", "Blogger desktop"),
    (
        "https://aws.amazon.com/ko/blogs/machine-learning/serving-llms/",
        "https://aws.amazon.com/blogs/machine-learning/serving-llms/",
        "AWS Korean locale",
    ),
    (
        "https://aws.amazon.com/jp/blogs/machine-learning/serving-llms/",
        "https://aws.amazon.com/blogs/machine-learning/serving-llms",
        "AWS Japanese locale",
    ),
    (
        "https://aws.amazon.com/cn/blogs/machine-learning/serving-llms/",
        "https://aws.amazon.com/de/blogs/machine-learning/serving-llms/",
        "AWS Chinese and German locales",
    ),
    (
        "https://aws.amazon.com/pt-br/blogs/aws/launch/",
        "https://aws.amazon.com/blogs/aws/launch",
        "AWS language-region locale",
    ),
    ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2", "query sorted"),
    ("https://example.com/%7Euser/", "https://example.com/~user", "escaped unreserved decoded"),
    ("https://example.com/a%2fb", "https://example.com/a%2Fb", "escapes upper-cased"),
    ("https://example.com/a b", "https://example.com/a%20b", "space escaped"),
    (
        "https://example.com/블로그/추론-최적화",
        "https://example.com/%EB%B8%94%EB%A1%9C%EA%B7%B8/%EC%B6%94%EB%A1%A0-%EC%B5%9C%EC%A0%81%ED%99%94",
        "Korean path raw and escaped",
    ),
    (
        "https://example.com/%eb%b8%94%eb%a1%9c%ea%b7%b8",
        "https://example.com/블로그",
        "lower-case escapes of Korean",
    ),
    (
        "https://example.jp/記事?タグ=機械学習",
        "https://example.jp/%E8%A8%98%E4%BA%8B?%E3%82%BF%E3%82%B0=%E6%A9%9F%E6%A2%B0%E5%AD%A6%E7%BF%92",
        "Japanese query",
    ),
    ("https://한국.example/글", "https://xn--3e0b707e.example/%EA%B8%80", "IDN host to punycode"),
    ("https://BÜCHER.example/", "https://xn--bcher-kva.example/", "IDN host case"),
    ("  https://example.com/a\n", "https://example.com/a", "surrounding whitespace"),
    ("https://example.com/a?", "https://example.com/a", "empty query"),
    ("https://example.com/a?&&b=1&", "https://example.com/a?b=1", "empty query pairs"),
]

DIFFERENT = [
    # (two URLs that must keep different keys, why)
    ("https://www.example.com/a", "https://example.com/a", "www. is kept: it may be another site"),
    ("https://example.com/a", "https://example.com/A", "path case matters"),
    ("https://example.com/a?id=1", "https://example.com/a?id=2", "content-selecting parameters"),
    ("https://example.com/a?source=twitter", "https://example.com/a", "non-Medium source values"),
    ("https://example.com/a?m=2", "https://example.com/a", "m is Blogger's only as 0/1"),
    ("https://example.com:8443/a", "https://example.com/a", "non-default port"),
    ("https://example.com/a%2Fb", "https://example.com/a/b", "an escaped slash is not a slash"),
    (
        "https://example.com/ko/blogs/x",
        "https://example.com/blogs/x",
        "locale folding only on aws.amazon.com",
    ),
    ("https://aws.amazon.com/ko/products/", "https://aws.amazon.com/products/", "AWS non-blog pages"),
    ("https://example.com/page/index.php", "https://example.com/page", "index.php may be dynamic"),
    ("https://example.com/a?x=1&x=2", "https://example.com/a?x=2&x=1", "repeated names keep order"),
]

NO_KEY = [
    "mailto:someone@example.com",
    "javascript:alert(1)",
    "ftp://example.com/file",
    "feed://example.com/rss",
    "/relative/path",
    "//example.com/protocol-relative",
    "https://",
    "https://example.com:99999/",
    "https://example.com:port/",
    "http://[::1/broken",
    "",
]


@pytest.mark.parametrize(("one", "other", "why"), SAME, ids=[case[2] for case in SAME])
def test_same_article_same_key(one: str, other: str, why: str) -> None:
    assert canonical_url(one) is not None
    assert canonical_url(one) == canonical_url(other), why


@pytest.mark.parametrize(("one", "other", "why"), DIFFERENT, ids=[case[2] for case in DIFFERENT])
def test_different_pages_different_keys(one: str, other: str, why: str) -> None:
    assert canonical_url(one) != canonical_url(other), why


@pytest.mark.parametrize("url", NO_KEY)
def test_no_key_for_non_http_or_unparseable(url: str) -> None:
    assert canonical_url(url) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTP://User@Example.COM:80//a//b/index.html?utm_source=x&b=2&a=1#top",
            "https://example.com/a/b?a=1&b=2",
        ),
        ("https://example.com/", "https://example.com/"),
        ("https://127.0.0.2/admin", "https://127.0.0.2/admin"),
        ("http://[2001:DB8::1]:8080/a/", "https://[2001:db8::1]:8080/a"),
        ("https://example.com/a?q=a+b&x=%7e", "https://example.com/a?q=a+b&x=~"),
        ("https://example.com/100%", "https://example.com/100%25"),
        ("https://example.com/a?token=abc==", "https://example.com/a?token=abc=="),
        ("https://example.com/a/b/..", "https://example.com/a"),
        ("https://example.com/../../a", "https://example.com/a"),
    ],
)
def test_exact_keys(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_key_is_idempotent() -> None:
    for one, other, _ in SAME:
        key = canonical_url(one)
        assert key is not None
        assert canonical_url(key) == key, one
        assert canonical_url(other) == key


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", True),
        ("http://example.com", True),
        ("HTTPS://EXAMPLE.COM/", True),
        ("  https://example.com/a  ", True),
        ("https://", False),
        ("ftp://example.com/", False),
        ("mailto:a@example.com", False),
        ("/a/b", False),
        ("//example.com/a", False),
        ("http://[::1", False),
        ("", False),
    ],
)
def test_is_http_url(url: str, expected: bool) -> None:
    assert is_http_url(url) is expected


@pytest.mark.parametrize(
    ("base", "link", "expected"),
    [
        ("https://example.com/blog/feed.xml", "/posts/a", "https://example.com/posts/a"),
        ("https://example.com/blog/feed.xml", "post.html", "https://example.com/blog/post.html"),
        ("https://example.com/blog/feed.xml", "../about", "https://example.com/about"),
        ("https://example.com/blog/feed.xml", "?page=2", "https://example.com/blog/feed.xml?page=2"),
        ("https://example.com/blog/", "#top", "https://example.com/blog/#top"),
        ("https://example.com/feed", "//cdn.example.org/x", "https://cdn.example.org/x"),
        ("http://example.com/feed", "//cdn.example.org/x", "http://cdn.example.org/x"),
        (None, "//cdn.example.org/x", "https://cdn.example.org/x"),
        ("", "//cdn.example.org/x", "https://cdn.example.org/x"),
        ("/relative/base/", "//cdn.example.org/x", "https://cdn.example.org/x"),
        ("https://example.com/feed", "https://other.example/a", "https://other.example/a"),
        ("https://example.com/feed", "  https://other.example/a\n ", "https://other.example/a"),
        (
            "https://example.com/feed",
            "https://other.example/long-\n\tlink",
            "https://other.example/long-link",
        ),
        (None, "/just/a/path", "/just/a/path"),
        ("https://example.com/feed", "mailto:a@example.com", "mailto:a@example.com"),
        ("https://example.com/feed", "http://[::1", "http://[::1"),
    ],
)
def test_resolve_url(base: str | None, link: str, expected: str) -> None:
    assert resolve_url(base, link) == expected
