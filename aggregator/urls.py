"""URL helpers for links found in feeds. Pure: no I/O, no clock.

:func:`canonical_url` turns a published URL into a grouping key, so that the same
article reached by several routes (http and https, tracking parameters, a
locale prefix, a doubled slash) lands in one duplicate group. The key is never
shown or fetched; the display URL stays as published.

Normalisation, in order:

- scheme: http and https both become ``https``; anything else has no key (None);
- authority: userinfo dropped, host lowercased, a trailing dot dropped,
  internationalised names converted to punycode, default ports (80, 443)
  dropped; ``www.`` is kept, since ``www.example.com`` and ``example.com`` may be
  different sites;
- path: percent-escapes normalised (unreserved characters decoded, the rest
  upper-cased, raw non-ASCII characters UTF-8 encoded, so a Korean path written
  raw or escaped gives the same key), doubled slashes collapsed, ``.`` and ``..``
  segments removed, a final ``index.html``/``index.htm`` removed (static site
  generators serve ``/post/`` and ``/post/index.html`` as the same page), AWS
  locale prefixes folded (``aws.amazon.com/ko/blogs/...`` is ``/blogs/...``), and
  the trailing slash removed except for the root;
- query: well-known tracking parameters dropped (``utm_*``, ``fbclid``, ``gclid``,
  Mailchimp's ``mc_cid``/``mc_eid``, Medium's ``source=rss...``, Blogger's mobile
  switch ``m=0``/``m=1``, ...), the rest sorted by name (repeated names keep their
  order) with escapes normalised;
- fragment: dropped.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urljoin, urlsplit

__all__ = ["canonical_url", "is_http_url", "resolve_url"]

_HTTP_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# RFC 3986 section 2.3: these never need escaping, so %41 and A are the same URL.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Characters left as they are inside a path or a query name/value (sub-delims, ":", "@", "/").
_PATH_SAFE = "!$&'()*+,;=:@/%"
_QUERY_SAFE = "!$'()*+,;=:@/?%"

_DOUBLE_SLASH = re.compile(r"/{2,}")
# The WHATWG URL parser removes tabs and newlines anywhere in a URL; feeds wrap long links.
_TAB_NEWLINE = re.compile(r"[\t\r\n]")

# aws.amazon.com serves its blogs under locale prefixes too: /ko/blogs/, /jp/blogs/, /pt-br/blogs/...
_AWS_HOSTS = frozenset({"aws.amazon.com"})
_AWS_LOCALE_BLOGS = re.compile(r"^/[a-z]{2}(?:-[a-z]{2})?(?=/blogs(?:/|$))")

_INDEX_PAGES = frozenset({"index.html", "index.htm"})

# Only parameters whose sole purpose is tracking; anything else may select content.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "ref_url",
    }
)


def is_http_url(url: str) -> bool:
    """True when ``url`` is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        return parts.scheme.lower() in _HTTP_SCHEMES and bool(parts.hostname)
    except ValueError:
        return False


def resolve_url(base: str | None, link: str) -> str:
    """Resolve ``link`` against ``base`` the way a browser would.

    Surrounding whitespace and embedded tabs/newlines are removed. A
    protocol-relative link (``//host/path``) takes the base's scheme, or https
    when there is no usable base. A link that cannot be joined is returned
    cleaned but otherwise unchanged.
    """
    link = _TAB_NEWLINE.sub("", link.strip())
    if link.startswith("//") and not (base and _scheme(base)):
        return "https:" + link
    if not base:
        return link
    try:
        return urljoin(_TAB_NEWLINE.sub("", base.strip()), link)
    except ValueError:
        return link


def _scheme(url: str) -> str:
    """The lowercased scheme of ``url``, or '' when it has none or cannot be split."""
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""


def canonical_url(url: str) -> str | None:
    """The grouping key of ``url``; None for non-http(s) or unparseable URLs.

    See the module docstring for the rules.
    """
    try:
        parts = urlsplit(_TAB_NEWLINE.sub("", url.strip()))
        scheme = parts.scheme.lower()
        if scheme not in _HTTP_SCHEMES:
            return None
        host = _canonical_host(parts.hostname)
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        return None
    if host is None:
        return None
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _canonical_path(host, parts.path)
    query = _canonical_query(parts.query)
    return f"https://{netloc}{path}" + (f"?{query}" if query else "")


def _canonical_host(hostname: str | None) -> str | None:
    if not hostname:
        return None
    host = hostname.rstrip(".").lower()
    if not host:
        return None
    if ":" in host:  # an IPv6 literal; urlsplit removed the brackets
        return f"[{host}]"
    if not host.isascii():
        try:
            # The standard library's codec implements IDNA 2003 (nameprep included),
            # which agrees with IDNA 2008 for Korean and Japanese names.
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host


def _normalise_escapes(text: str, safe: str) -> str:
    """Escape what must be escaped, decode escaped unreserved characters, upper-case the rest."""
    if "%" in text:
        text = _STRAY_PERCENT.sub("%25", text)
    text = quote(text, safe=safe)  # leaves existing escapes ("%" is safe), encodes non-ASCII as UTF-8
    if "%" not in text:
        return text
    return _ESCAPE.sub(_fix_escape, text)


def _fix_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _canonical_path(host: str, path: str) -> str:
    path = _normalise_escapes(path, _PATH_SAFE)
    path = _DOUBLE_SLASH.sub("/", path)
    if "." in path:
        path = _remove_dot_segments(path)
    if not path.startswith("/"):
        path = "/" + path
    head, _, last = path.rpartition("/")
    if last in _INDEX_PAGES:
        path = head + "/"
    if host in _AWS_HOSTS:
        path = _AWS_LOCALE_BLOGS.sub("", path, count=1)
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on a path whose doubled slashes are already collapsed."""
    segments = path.split("/")
    output: list[str] = []
    for segment in segments:
        if segment == ".":
            continue
        if segment == "..":
            if len(output) > 1:
                output.pop()
            continue
        output.append(segment)
    if segments[-1] in (".", ".."):
        output.append("")  # "/a/b/.." names the directory "/a/"
    return "/".join(output)


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    kept: list[tuple[str, str]] = []
    for pair in query.split("&"):
        if not pair:
            continue
        name, sep, value = pair.partition("=")
        if _is_tracking(unquote(name).lower(), unquote(value)):
            continue
        name = _normalise_escapes(name, _QUERY_SAFE)
        kept.append((name, name + sep + _normalise_escapes(value, _QUERY_SAFE)))
    kept.sort(key=lambda item: item[0])  # stable: repeated names keep their order
    return "&".join(text for _, text in kept)


def _is_tracking(name: str, value: str) -> bool:
    if name.startswith("utm_") or name in _TRACKING_PARAMS:
        return True
    if name == "source":
        return value.startswith("rss")  # Medium: ?source=rss----7f60cf5620c9---4, ?source=rss-<user>------2
    if name == "m":
        return value in ("0", "1")  # Blogger's mobile switch
    return False
