"""A page's bytes to text, and whether they are an HTML page at all. Pure.

``decode_html`` picks the codec (BOM > HTTP charset > ``<meta>`` charset > detection,
as browsers read them); ``not_html`` says why a body is not a page we can read.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

__all__ = ["decode_html", "not_html"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)
#: Where the <meta> charset is looked for (browsers look in the first 1,024 bytes; some pages are later).
META_PRESCAN_BYTES = 8192

# Labels Python does not know, and encodings read as the superset browsers use
# (WHATWG Encoding Standard): Latin-1 is windows-1252, EUC-KR is cp949 (UHC),
# Shift_JIS is cp932 (Windows-31J), GB2312 and GBK are GB18030.
_LABELS = {
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "x-euc-jp": "euc_jp",
    "unicode-1-1-utf-8": "utf-8",
    "x-gbk": "gb18030",
    "x-euc-kr": "cp949",
    "windows-949": "cp949",
}
_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
}
_UTF16 = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_LETTERS_BEFORE = re.compile(r"[A-Za-z]{0,12}$")
_LETTERS_AFTER = re.compile(r"[A-Za-z]{0,12}")
#: charset-normalizer's own threshold for "this decoding is a mess" (0 is clean text).
MESS_LIMIT = 0.2
MESS_SAMPLE_CHARS = 4000


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """The page's text and the codec used to read it.

    The rule: a byte-order mark decides. Otherwise the HTTP charset, then the
    ``<meta>`` charset (or the XML declaration), each used only when it reads
    the bytes cleanly: a declaration whose strict decoding fails, that reads
    valid UTF-8 (with non-ASCII in it) as something else, or whose result
    charset-normalizer rates as a mess (mojibake) is passed over. Without a
    usable declaration: UTF-8 when the bytes are valid UTF-8, else windows-1252
    when it reads them cleanly (as browsers do), else charset-normalizer's
    detection, else UTF-8 with replacement characters.
    Legacy encodings are read as the supersets browsers use (EUC-KR as cp949,
    Shift_JIS as cp932, GB2312 as GB18030, Latin-1 as windows-1252), and a
    ``<meta>`` claiming UTF-16 on ASCII-compatible bytes means UTF-8.
    """
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_codec, "replace"), bom_codec
    utf8 = _utf8(body)
    declared = (
        _codec(_http_charset(content_type), from_meta=False),
        _codec(_meta_charset(body), from_meta=True),
    )
    for codec in declared:
        if codec is not None and (text := _decode_declared(body, codec, utf8)) is not None:
            return text, codec
    if utf8 is not None:
        return utf8, "utf-8"
    # What browsers fall back to for most of the world (the HTML standard's
    # default for pages that declare nothing usable), when it reads the bytes
    # cleanly: a detector guessing among the single-byte Latin codepages from a
    # few accented letters reads "naïve" as windows-1250's "naďve".
    if (text := _decode_declared(body, "cp1252", None)) is not None:
        return text, "cp1252"
    best = from_bytes(body).best()
    detected = _codec(best.encoding, from_meta=False) if best is not None else None
    if detected is not None:
        return body.decode(detected, "replace"), detected
    return body.decode("utf-8", "replace"), "utf-8"


def _utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _http_charset(content_type: str | None) -> str | None:
    match = _HTTP_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _meta_charset(body: bytes) -> str | None:
    head = body[:META_PRESCAN_BYTES]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def _codec(label: str | None, *, from_meta: bool) -> str | None:
    """Python's codec for an encoding label, mapped to its browser superset; None when unknown."""
    if not label:
        return None
    label = label.strip().lower()
    try:
        info = codecs.lookup(_LABELS.get(label, label))
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or "escape" in info.name or info.name == "idna":
        return None  # base64, rot13, unicode_escape...: not a page encoding
    if info.name in _UTF16 and from_meta:
        return "utf-8"  # the <meta> was readable as ASCII, so the page is not UTF-16
    return _SUPERSETS.get(info.name, info.name)


def _decode_declared(body: bytes, codec: str, utf8: str | None) -> str | None:
    """``body`` read as the declared ``codec``, or None when the declaration is evidently wrong."""
    if codec == "utf-8":
        return utf8
    if utf8 is not None and not body.isascii() and codec not in _UTF16:
        return None  # valid UTF-8 beyond ASCII is never accidental: the declaration is wrong
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    return None if _is_mess(text) else text


def _is_mess(text: str) -> bool:
    """True when the non-ASCII words of ``text`` read like mojibake."""
    if text.isascii():
        return False
    sample: list[str] = []
    size = 0
    for match in _NON_ASCII.finditer(text):
        start, end = match.span()
        before = _LETTERS_BEFORE.search(text, max(0, start - 12), start)
        after = _LETTERS_AFTER.match(text, end, end + 12)
        sample.append(f"{before.group() if before else ''}{match.group()}{after.group() if after else ''}")
        size += len(sample[-1]) + 1
        if size >= MESS_SAMPLE_CHARS:
            break
    return mess_ratio(" ".join(sample), MESS_LIMIT) >= MESS_LIMIT


_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_UNTYPED = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
)
_LOOKS_LIKE_HTML = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|meta|title|p|div|article)\b", re.IGNORECASE
)


def not_html(body: bytes, content_type: str | None) -> str | None:
    """Why ``body`` is not an HTML page, or None when it is one."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in _HTML_TYPES and media_type not in _UNTYPED:
        return f"the page is {media_type}, not HTML"
    head = body[:1024]
    for magic, what in _MAGIC:
        if head.lstrip().startswith(magic):
            label = f"labelled {media_type}" if media_type else "without a Content-Type"
            return f"the page is {what} ({label}), not HTML"
    if not any(body.startswith(bom) for bom, _ in _BOMS[1:]) and b"\x00" in head:
        return "the page is binary data, not HTML"
    if media_type in _UNTYPED and not _LOOKS_LIKE_HTML.search(head):
        return "the page has no HTML Content-Type and does not look like HTML"
    return None
