"""A feed's bytes before parsing: the Content-Type's parts, a gzip body inflated within a cap, a peek at its
kind, and its text (BOM, then valid UTF-8, then the declared charsets, then windows-1252). Pure.
"""

from __future__ import annotations

import codecs
import re
import zlib

from aggregator.errors import ParseError

__all__ = ["MAX_GUNZIPPED_BYTES", "decode", "gunzip", "peek", "split_content_type", "xml_declared_encoding"]

MAX_GUNZIPPED_BYTES = 10 * 1024 * 1024
"""A body that is itself gzip-compressed (a .xml.gz served as is) may expand to this much unless the
caller gives its own cap (the poll gives ``fetch.max_body_bytes``, the cap on every body)."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels whose documents are really written in a superset (as browsers decode them, WHATWG Encoding).
_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ksc5601": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
# A server's ISO-8859-1 is usually its default, not a statement about the document.
_WEAK_CHARSETS = frozenset({"cp1252"})
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


def decode(body: bytes, http_charset: str | None, declared: str | None) -> str:
    """The document's text: BOM, then valid UTF-8, then the declared charsets, then windows-1252."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, "replace")
    if body[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return body.decode("utf-16-le" if body[0] == 0x3C else "utf-16-be", "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lenient = body.decode("utf-8", "replace")
    bad = lenient.count("\ufffd")
    non_ascii = len(lenient) - len(lenient.encode("ascii", "ignore"))
    if non_ascii - bad > 10 * bad:  # UTF-8 with a few stray bytes, whatever was declared
        return lenient
    candidates = [_codec(name) for name in (http_charset, declared)]
    ordered = [name for name in candidates if name and name not in _WEAK_CHARSETS]
    ordered += [name for name in candidates if name and name in _WEAK_CHARSETS]
    for encoding in dict.fromkeys(ordered):
        if encoding == "utf-8":
            continue
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    fallback = next((name for name in ordered if name != "utf-8"), "cp1252")
    try:
        return body.decode(fallback)
    except UnicodeDecodeError:
        return body.decode(fallback if fallback != "cp1252" else "latin-1", "replace")


def _codec(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
        "a".encode(name)  # "base64", "rot13" and friends are codecs, but not text encodings
    except (LookupError, UnicodeError):
        return None
    if name in ("utf-16", "utf-32"):
        return None  # without a BOM these are guesses; the BOM check came first
    if name in ("idna", "punycode", "unicode-escape", "raw-unicode-escape"):
        return None  # text codecs, but no document is written in them
    if name in ("iso8859-1", "ascii"):
        return "cp1252"
    return name


def xml_declared_encoding(body: bytes) -> str | None:
    match = _XML_ENCODING.match(body[:512].lstrip(b"\xef\xbb\xbf \t\r\n"))
    return match.group(1).decode("ascii") if match else None


def split_content_type(value: str | None) -> tuple[str, str | None]:
    if not value:
        return "", None
    mime, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, param_value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = param_value.strip().strip("\"'") or None
    return mime.strip().lower(), charset


def peek(body: bytes) -> str:
    """The start of the document, BOM and leading whitespace removed, enough to sniff its kind."""
    head = body[:1024]
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, "ignore").lstrip()
    if head[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return "<"
    return head.decode("latin-1").lstrip()


def gunzip(body: bytes, url: str, max_bytes: int = MAX_GUNZIPPED_BYTES) -> bytes:
    """The first gzip member of ``body``, refused when it inflates past ``max_bytes``."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(body, max_bytes)
    except zlib.error as exc:
        raise ParseError(url, f"not a feed: a damaged gzip body ({exc})") from None
    if not data and not decompressor.eof:
        raise ParseError(url, "not a feed: a damaged gzip body (it ends before any data)")
    if decompressor.unconsumed_tail or (not decompressor.eof and decompressor.decompress(b"", 1)):
        raise ParseError(url, f"not a feed: the gzip-compressed body expands past {_size(max_bytes)}")
    return data


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 and n % (1024 * 1024) == 0 else f"{n:,} bytes"
