"""An article's main text and metadata from its page's bytes, or from the feed's own content. Pure.

    body + Content-Type ─> not HTML? ─> not_html
        ─> decode (BOM > HTTP charset > <meta> charset > detection) ─> parse (lxml)
        ─> bot wall or paywall stub? (cheap checks on the title and small pages) ─> challenge, paywall
        ─> trafilatura: main text as Markdown ─> metadata (pagemeta), links, lead image, language
        ─> teaser behind a paywall? too short? ─> paywall, too_short, else ok

    feed content (HTML or text), else the summary ─> the same text path ─> text_from_feed

Everything here runs inside worker processes (``aggregator.workers``): no I/O,
no clock (dates are bounded by the ``now`` the caller passes), and every result
is a frozen, picklable :class:`PageText`. trafilatura only ever sees a parsed
tree, never a URL it could fetch. Hard time and memory limits belong to the
worker pool; the guards here only turn away what is cheap to recognise.

The choice of trafilatura settings (Markdown output, ``include_comments=False``,
``favor_recall``) is measured by ``benchmarks/extract_quality.py``: on the pages
with a reference it scores no worse than trafilatura's best setting, and it is the
fastest of them.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import trafilatura
from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio
from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs (lxml-stubs not used)
from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]
from trafilatura.settings import Document
from trafilatura.xml import xmltotxt

from aggregator.articles.htmltree import parse_html
from aggregator.articles.language import detect_language, primary_language, word_count
from aggregator.articles.pagemeta import page_metadata
from aggregator.types import ExtractStatus
from aggregator.urls import is_http_url, resolve_url

__all__ = [
    "DEFAULT_SETTINGS",
    "ExtractSettings",
    "PageText",
    "challenge_reason",
    "decode_html",
    "detect_language",
    "extract_page",
    "text_from_feed",
    "word_count",
]


@dataclass(frozen=True, slots=True)
class PageText:
    """What one page, or a feed's content, yields: the article's text and metadata, or why not."""

    status: ExtractStatus
    reason: str | None
    """A human sentence saying why, for every status but ok."""
    text: str | None
    """The article as Markdown (headings, lists, code fences, tables); None unless status is ok."""
    title: str | None
    author: str | None
    published: datetime | None
    """Aware UTC; midnight when the page gives only a day."""
    site_name: str | None
    language: str | None
    """Primary subtag ("en", "ko", "ja") from the text's script and the page's declaration."""
    lead_image: str | None
    """Absolute http(s) URL (og:image, twitter:image, image_src)."""
    links: tuple[str, ...]
    """Absolute http(s) links in the article's body, deduplicated, in order; same-page anchors left out."""
    word_count: int
    """Words in ``text`` (or in what was extracted, for a too_short page); see :func:`word_count`."""

    @classmethod
    def flagged(cls, status: ExtractStatus, reason: str) -> PageText:
        """A result with no text and no metadata: a failed fetch, a bot wall, not HTML."""
        return cls(status, reason, None, None, None, None, None, None, None, (), 0)


@dataclass(frozen=True, slots=True)
class ExtractSettings:
    """How trafilatura is asked to extract; the defaults are the measured choice."""

    focus: Literal["balanced", "precision", "recall"] = "recall"
    include_comments: bool = False
    """trafilatura's own default keeps reader comments, which costs precision."""
    markdown: bool = True
    """Markdown (headings, lists, fenced code, tables) rather than plain text."""


DEFAULT_SETTINGS = ExtractSettings()

#: A page with more elements than this is not extracted (real articles have a few thousand).
MAX_ELEMENTS = 200_000
#: A page whose whole visible text is under this many words may be a bot wall.
CHALLENGE_MAX_WORDS = 150
#: An application shell shows fewer words than this without JavaScript.
SHELL_MAX_WORDS = 20
#: Text under this many words beside an explicit "subscribe to continue" is a paywall teaser.
PAYWALL_TEASER_WORDS = 300
#: The visible text counted for those thresholds (at least 1,500 words in any script).
VISIBLE_SAMPLE_CHARS = 10_000
#: Replacement characters beyond this share of the text mean it could not be decoded.
MAX_REPLACEMENT_SHARE = 0.01


# -- decoding ---------------------------------------------------------------------

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


# -- what the body is -------------------------------------------------------------

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


def _not_html(body: bytes, content_type: str | None) -> str | None:
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


# -- bot walls and paywalls ---------------------------------------------------------

_CHALLENGE_TITLES = (
    ("just a moment", "Cloudflare"),
    ("attention required", "Cloudflare"),
    ("checking your browser", "a bot check"),
    ("ddos-guard", "DDoS-Guard"),
    ("access denied", "Akamai or another CDN"),
    ("verify you are human", "a bot check"),
    ("verifying you are human", "a bot check"),
    ("human verification", "a bot check"),
    ("security check", "a bot check"),
    ("are you a robot", "a bot check"),
    ("robot check", "a bot check"),
    ("pardon our interruption", "Imperva"),
    ("captcha", "a CAPTCHA"),
)
_CHALLENGE_MARKUP = (
    ("/cdn-cgi/challenge-platform/", "Cloudflare"),
    ("cf-browser-verification", "Cloudflare"),
    ("cf_chl_opt", "Cloudflare"),
    ("challenges.cloudflare.com", "Cloudflare"),
    ("ddos-guard", "DDoS-Guard"),
    ("/_sec/cp_challenge/", "Akamai"),
    ("_incapsula_resource", "Imperva"),
    ("captcha-delivery.com", "DataDome"),
    ("px-captcha", "HUMAN (PerimeterX)"),
    ("you don't have permission to access", "Akamai or another CDN"),
)
_NEEDS_JS_OR_COOKIES = re.compile(
    r"(?:enable|turn on|activate|allow) (?:javascript|js|cookies)"
    r"|javascript (?:is )?(?:disabled|required|must be enabled)"
    r"|(?:requires|need) javascript"
    r"|cookies (?:are )?(?:disabled|required|must be enabled)",
    re.IGNORECASE,
)
_PAYWALL_PHRASES = re.compile(
    "|".join(
        (
            r"subscribe (?:now |today )?to (?:continue|keep) reading",
            r"subscribe to read (?:the (?:full|rest|whole)|this|more of this)",
            r"(?:this|the) (?:story|article|post|content|piece) is (?:only )?"
            r"(?:for|available to|reserved for) (?:our )?(?:paid |paying )?(?:subscribers|members)",
            r"(?:for|exclusive to|available to) (?:paid |paying )?subscribers only",
            r"subscribers?[- ]only (?:content|article|story|post)",
            r"to (?:continue|keep) reading,? (?:please )?(?:subscribe|become a (?:member|subscriber))",
            r"continue reading with (?:a|your) (?:subscription|free trial)",
            r"keep reading with a \d+-day free trial",
            r"you(?:'ve| have) reached (?:your|the) (?:limit of )?(?:free )?"
            r"(?:article|story|articles|stories)(?: limit)?",
            r"you(?:'ve| have) (?:read|used) (?:all )?(?:of )?your free (?:articles|stories)",
            r"member-only story",
            r"the rest of this (?:article|story|post) is (?:only )?(?:available|for)",
            r"有料会員限定",
            r"会員限定(?:記事|コンテンツ)",
            r"この(?:記事の)?続きを(?:読むには|お読みいただくには)",
            r"続きは(?:有料|会員)",
            r"유료\s*(?:회원|구독자)\s*전용",
            r"구독자\s*전용",
            r"전문을\s*보시려면",
        )
    ),
    re.IGNORECASE,
)
_NOT_FREE = re.compile(r"""isAccessibleForFree["']?\s*(?::|content\s*=)\s*["']?false""", re.IGNORECASE)
_PAYWALL_CLASS = re.compile(
    r"""(?:class|id)\s*=\s*["'][^"']*(?:paywall|pay-wall|regwall|subscriber-only|subscribers-only|premium-wall)""",
    re.IGNORECASE,
)
# The texts are only joined and split on whitespace, so whitespace-only nodes (most
# of a page's nodes: the indentation between tags) are dropped before the costly
# ancestor tests, and they come back as plain strings, not lxml's "smart" ones.
# normalize-space() strips only XML whitespace, which str.split() strips too.
_VISIBLE_TEXT = etree.XPath(
    "//text()[normalize-space()][not(ancestor::head or ancestor::script or ancestor::style"
    " or ancestor::noscript or ancestor::template)]",
    smart_strings=False,
)
# The same texts when the page is an <html> with only <head> and <body> (the usual
# case, checked by _visible_texts): searched from <body>, where <head> cannot be,
# and with a script's or style's text told by its parent (they hold text only).
# The costly ancestor tests are left for pages that have <noscript> or <template>.
_BODY_TEXT = etree.XPath(
    "descendant::text()[normalize-space()][not(parent::script or parent::style)]", smart_strings=False
)
_BODY_TEXT_UNHIDDEN = etree.XPath(
    "descendant::text()[normalize-space()][not(parent::script or parent::style)]"
    "[not(ancestor::noscript or ancestor::template)]",
    smart_strings=False,
)
_HAS_HIDDEN = etree.XPath("boolean(descendant::noscript | descendant::template)")
_NOSCRIPT_TEXT = etree.XPath("//noscript//text()", smart_strings=False)
#: What ``tree.iter()`` yields (elements, comments, processing instructions), counted in C.
_NODES = etree.XPath(
    "count(descendant-or-self::*) + count(descendant::comment())"
    " + count(descendant::processing-instruction())"
)


@dataclass(frozen=True, slots=True)
class _Page:
    """The parsed page and what the cheap checks need of it."""

    html: str
    tree: HtmlElement
    title: str
    visible: str
    visible_words: int


def _challenge(page: _Page, *, shells: bool = True) -> str | None:
    """Why the page is a bot wall or needs JavaScript, or None. Only small pages can be.

    ``shells=False`` leaves out the empty-application-shell rule (for error pages,
    where a few words and a script are just an error page).
    """
    if page.visible_words >= CHALLENGE_MAX_WORDS:
        return None
    title = page.title.lower()
    for marker, who in _CHALLENGE_TITLES:
        if marker in title:
            return f"a bot check ({who}): the page is titled {page.title!r}"
    html = page.html.lower()
    for marker, who in _CHALLENGE_MARKUP:
        if marker in html:
            return f"a bot check ({who}): the page has {marker!r}"
    noscript = " ".join(_NOSCRIPT_TEXT(page.tree))
    if match := _NEEDS_JS_OR_COOKIES.search(page.visible) or _NEEDS_JS_OR_COOKIES.search(noscript):
        return f"the page needs JavaScript or cookies: it says {match.group()!r}"
    if shells and page.visible_words < SHELL_MAX_WORDS and page.tree.find(".//script") is not None:
        # An application shell (<div id="root"></div> and scripts) is not a short article: its
        # content exists but needs JavaScript, so it is flagged like a bot wall.
        return f"the page is an empty application shell ({page.visible_words} words without JavaScript)"
    return None


def _paywall(page: _Page, words: int, min_words: int) -> str | None:
    """Why the page is a paywall given ``words`` of extracted text, or None.

    Conservative: an explicit "subscribe to continue reading" (or schema.org's
    ``isAccessibleForFree: false``) counts only beside a teaser shorter than
    :data:`PAYWALL_TEASER_WORDS`; a paywall class name only beside text that is
    too short anyway. A long article that mentions subscribing is an article.
    """
    if words < PAYWALL_TEASER_WORDS:
        if match := _PAYWALL_PHRASES.search(page.visible):
            return f"a paywall: the page says {match.group()!r}"
        if _NOT_FREE.search(page.html):
            return "a paywall: the page is marked isAccessibleForFree false"
    if words < min_words and (match := _PAYWALL_CLASS.search(page.html)):
        return f"a paywall: only {words} words beside {match.group()!r}"
    return None


# -- extraction ---------------------------------------------------------------------

# What lxml and trafilatura raise on pages they cannot handle: a property of the page, so a status.
_PARSER_ERRORS = (ValueError, TypeError, LookupError, RecursionError, etree.LxmlError)


def challenge_reason(body: bytes, *, content_type: str | None) -> str | None:
    """Why an error answer's body (a 403 or 503 page) is a bot wall, or None for a plain error page.

    The bot-wall checks of :func:`extract_page` (challenge titles and markup, "enable
    JavaScript"), without the empty-application-shell rule: a short error page with a
    script is an error page.
    """
    page = _inspect(body, content_type)
    return None if isinstance(page, PageText) else _challenge(page, shells=False)


def _inspect(body: bytes, content_type: str | None) -> _Page | PageText:
    """The decoded, parsed page and its visible text; or why it is not a page we can read."""
    if reason := _not_html(body, content_type):
        return PageText.flagged("not_html", reason)
    html, _ = decode_html(body, content_type)
    if not html.strip():
        return PageText.flagged("too_short", "the page is empty")
    try:
        tree = parse_html(html)
    except _PARSER_ERRORS as exc:
        return PageText.flagged("error", f"the page could not be parsed as HTML: {type(exc).__name__}: {exc}")
    if tree is None:
        return PageText.flagged("error", "the page could not be parsed as HTML")
    elements = int(_NODES(tree))
    if elements > MAX_ELEMENTS:
        return PageText.flagged("error", f"the page has {elements:,} elements, more than {MAX_ELEMENTS:,}")
    visible = " ".join(" ".join(_visible_texts(tree)).split())
    # Only small counts matter (the checks' thresholds are a few hundred words): count a prefix.
    return _Page(html, tree, _title(tree), visible, word_count(visible[:VISIBLE_SAMPLE_CHARS]))


def _visible_texts(tree: HtmlElement) -> list[str]:
    """What :data:`_VISIBLE_TEXT` finds, for 60% of the cost on a page made of <head> and <body> alone."""
    if tree.tag == "html" and not (tree.text or "").strip():
        body = None
        for child in tree:
            if (child.tail or "").strip() or child.tag not in ("head", "body"):
                break  # text, a comment or an element beside <head> and <body>
            if child.tag == "body":
                if body is not None:
                    break
                body = child
        else:
            if body is not None:
                return list((_BODY_TEXT_UNHIDDEN if _HAS_HIDDEN(body) else _BODY_TEXT)(body))
    return list(_VISIBLE_TEXT(tree))


def extract_page(
    body: bytes,
    *,
    url: str,
    content_type: str | None,
    min_words: int = 80,
    now: datetime | None = None,
    language: str | None = None,
    settings: ExtractSettings = DEFAULT_SETTINGS,
) -> PageText:
    """The article on the page ``body`` fetched from ``url``, or why there is none.

    ``now`` bounds the publication date (a page date after it is not believed);
    ``language`` (the feed's) is used when the page declares none. Never raises
    for a bad page: problems are statuses.
    """
    page = _inspect(body, content_type)
    if isinstance(page, PageText):
        return page
    html, tree = page.html, page.tree
    if reason := _challenge(page):
        return PageText.flagged("challenge", reason)
    if page.visible_words < PAYWALL_TEASER_WORDS and (
        reason := _paywall(page, page.visible_words, min_words)
    ):
        return PageText.flagged("paywall", reason)
    if html.count("\ufffd") > MAX_REPLACEMENT_SHARE * max(len(page.visible), 1):
        return PageText.flagged("error", "the page's bytes are not text in any encoding we could find")

    base = _base_url(tree, url)
    _prepare_anchors(tree, base)
    _fold_whitespace(tree)
    try:
        # Not given the URL: every link is already absolute (_prepare_anchors), and
        # trafilatura resolving them all again changed nothing. No metadata: page_metadata,
        # below, finds the fields we keep and skips the categories, tags and licence
        # (trafilatura works on a copy of ``tree``, so it reads the page as it was).
        document = trafilatura.bare_extraction(
            tree,
            url=None,
            favor_precision=settings.focus == "precision",
            favor_recall=settings.focus == "recall",
            include_comments=settings.include_comments,
            output_format="txt",  # the body is rendered below, once links are harvested
            include_tables=True,
            include_images=False,
            include_formatting=settings.markdown,
            include_links=True,
            with_metadata=False,
        )
        if isinstance(document, Document):
            metadata = page_metadata(tree, url, _date_params(now))
    except _PARSER_ERRORS as exc:
        return PageText.flagged("error", f"trafilatura failed on the page: {type(exc).__name__}: {exc}")
    if not isinstance(document, Document):
        return PageText.flagged("too_short", "no main text found on the page")
    links = _body_links(document.body, url)
    _respace_links(document.body, tree)
    text = _render(document.body, settings.markdown)
    if settings.include_comments and document.commentsbody is not None and len(document.commentsbody):
        text = f"{text}\n\n{_render(document.commentsbody, settings.markdown)}".strip()
    words = word_count(text)
    declared = _declared_language(tree) or language
    result = PageText(
        status="ok",
        reason=None,
        text=text,
        title=_clean(metadata.title) or _clean(page.title),
        author=_clean(metadata.author),
        published=_published(metadata.date),
        site_name=_clean(metadata.sitename),
        language=detect_language(text or page.title, declared=declared),
        lead_image=_lead_image(tree, base) or _http_url(metadata.image, base),
        links=links,
        word_count=words,
    )
    if reason := _paywall(page, words, min_words):
        return _without_text(result, "paywall", reason)
    if words < min_words:
        return _without_text(result, "too_short", f"the main text has {words} words, fewer than {min_words}")
    return result


def _without_text(result: PageText, status: ExtractStatus, reason: str) -> PageText:
    """A flagged result that keeps the page's metadata (a teaser's title is the article's), not its text."""
    return PageText(
        status, reason, None, result.title, result.author, result.published, result.site_name,
        result.language, result.lead_image, result.links, result.word_count,
    )  # fmt: skip


def _render(body: etree._Element, markdown: bool) -> str:
    """trafilatura's body as Markdown (or plain) text, link targets left out (they are in ``links``)."""
    etree.strip_tags(body, "ref")
    text = unicodedata.normalize("NFC", xmltotxt(body, markdown))
    return _BLANK_LINES.sub("\n\n", text).strip()


_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def _title(tree: HtmlElement) -> str:
    title = tree.find("head/title")
    if title is None:
        title = tree.find(".//title")
    return " ".join((title.text_content() if title is not None else "").split())


def _clean(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else ""
    return value or None


def _base_url(tree: HtmlElement, url: str) -> str:
    """The document's base URL: ``<base href>`` resolved against ``url``, else ``url``."""
    base = tree.find(".//base[@href]")
    if base is not None:
        resolved = resolve_url(url, base.get("href"))
        if is_http_url(resolved):
            return resolved
    return url


def _prepare_anchors(tree: HtmlElement, base: str) -> None:
    """Drop heading permalinks; resolve every other ``<a href>`` against the base.

    A permalink is a same-page link whose text is a mark ("#", "¶", "§", "🔗"),
    shown beside a heading on hover: left in, trafilatura prints it as part of the
    heading ("## Self-Reflection#"). The links are resolved because trafilatura
    resolves relative links against the site's root, not the page, so "#section"
    and "../post" would point elsewhere.
    """
    for anchor in list(tree.iter("a")):
        href = (anchor.get("href") or "").strip()
        if href.startswith("#") and _PERMALINK_MARK.fullmatch(anchor.text_content().strip()):
            anchor.drop_tree()  # keeps the text after it
        elif href and not href.startswith(("https://", "http://")):
            anchor.set("href", resolve_url(base, href))


def _respace_links(body: etree._Element, tree: HtmlElement) -> None:
    """Give back the space after a link that trafilatura dropped.

    On some pages (text loose in a ``<div>`` beside headings) trafilatura's link
    mode moves a link into a paragraph of its own and trims the space after it,
    gluing words ("the blog at workso I figured"). A link in ``body`` followed
    straight by a letter gets a space back when the same link on the page
    (``tree``, which trafilatura leaves as it was) had one after it.
    """
    glued = [ref for ref in body.iter("ref") if ref.tail and ref.tail[0].isalnum()]
    if not glued:
        return
    spaced = {
        ((anchor.get("href") or "").strip(), "".join(anchor.text_content().split()))
        for anchor in tree.iter("a")
        if anchor.tail and anchor.tail[0] in _HTML_WHITESPACE
    }
    for ref in glued:
        if ((ref.get("target") or "").strip(), "".join("".join(ref.itertext()).split())) in spaced:
            ref.tail = f" {ref.tail}"


#: What a permalink shows: one to three marks, no letter or digit ("#", "¶", "§", "🔗", "⚓︎").
_PERMALINK_MARK = re.compile(r"[^\w\s]{1,3}")


_PRESERVED = ("pre", "code", "textarea", "script", "style", "listing", "xmp", "plaintext")
_CJK_LINE_BREAK = re.compile(
    "(?<=[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff9f])"
    "[ \t\r\f]*\n[ \t\r\n\f]*"
    "(?=[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff9f])"
)
_HTML_WHITESPACE = " \t\r\n\f"
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")


def _fold_whitespace(tree: HtmlElement) -> None:
    """Fold whitespace in text the way a browser shows it, before trafilatura renders it.

    A line break between two Japanese or Chinese characters disappears (CSS Text's
    segment-break rule) instead of becoming a space; other runs of HTML whitespace
    become one space. ``<pre>``, ``<code>`` and the like keep theirs.
    """
    # One pass over every node of the page, so the cheap tests come first: most
    # texts have nothing to fold, and most pages have nothing preserved.
    preserved = {node for element in tree.iter(*_PRESERVED) for node in element.iter()}
    for element in tree.iter():
        text = element.text
        if text and _foldable(text) and element not in preserved:
            element.text = _fold_some(text)
        tail = element.tail
        if tail and _foldable(tail) and (not preserved or element.getparent() not in preserved):
            element.tail = _fold_some(tail)


def _fold(text: str) -> str:
    # Most text nodes have nothing to fold: skip the regexes for them (a
    # measurable share of extraction time on large pages).
    return _fold_some(text) if _foldable(text) else text


def _foldable(text: str) -> bool:
    """Whether ``text`` has whitespace to fold: a tab, CR, LF or FF, or two spaces in a row."""
    # Substring tests: half the cost of a regular expression's search on this many texts.
    return "\n" in text or "  " in text or "\t" in text or "\r" in text or "\f" in text


def _fold_some(text: str) -> str:
    """``text``, which has whitespace to fold, folded."""
    if not text.strip(_HTML_WHITESPACE):
        return " "  # the commonest case: the indentation between two tags
    if "\n" in text:
        text = _CJK_LINE_BREAK.sub("", text)
    return _HTML_SPACE.sub(" ", text)


def _body_links(body: etree._Element, url: str) -> tuple[str, ...]:
    page = url.split("#", 1)[0]
    links: dict[str, None] = {}
    for ref in body.iter("ref"):
        target = (ref.get("target") or "").strip()
        if target and is_http_url(target) and target.split("#", 1)[0] != page:
            links.setdefault(target)
    return tuple(links)


_IMAGE_META = etree.XPath(
    "//meta[@property='og:image' or @property='og:image:url' or @property='og:image:secure_url'"
    " or @name='og:image' or @name='twitter:image' or @name='twitter:image:src'"
    " or @property='twitter:image']/@content | //link[@rel='image_src']/@href"
)


def _lead_image(tree: HtmlElement, base: str) -> str | None:
    for value in _IMAGE_META(tree):
        if image := _http_url(str(value), base):
            return image
    return None


def _http_url(value: str | None, base: str) -> str | None:
    if not value or not value.strip():
        return None
    resolved = resolve_url(base, value)
    return resolved if is_http_url(resolved) else None


_LANGUAGE_META = etree.XPath(
    "//meta[translate(@http-equiv, 'CONTENT-LAGU', 'content-lagu')='content-language']/@content"
    " | //meta[@property='og:locale']/@content"
)


def _declared_language(tree: HtmlElement) -> str | None:
    """The page's own language declaration: ``<html lang>``, Content-Language, og:locale."""
    for value in (tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")):
        if language := primary_language(value):
            return language
    for meta in _LANGUAGE_META(tree):  # a search of the whole page: only when <html> says nothing
        if language := primary_language(str(meta)):
            return language
    return None


def _date_params(now: datetime | None) -> dict[str, object]:
    # htmldate reads the clock for its upper bound unless it is given one.
    latest = (now or datetime(9999, 12, 30, tzinfo=UTC)) + timedelta(days=1)
    return {
        "original_date": True,
        "extensive_search": True,
        "max_date": latest.strftime("%Y-%m-%d"),
        "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    }


def _published(value: str | None) -> datetime | None:
    """htmldate's date as aware UTC (a date without a zone is taken as UTC).

    htmldate's last resort is the page's copyright year, given as January 1st:
    a zoneless midnight on January 1st is that guess, not a publication date.
    """
    if not value:
        return None
    try:
        published = datetime.fromisoformat(value)
    except ValueError:
        return None
    if published.tzinfo is None:
        if (published.month, published.day, published.time()) == (1, 1, datetime.min.time()):
            return None
        return published.replace(tzinfo=UTC)
    return published.astimezone(UTC)


# -- the feed's own text ------------------------------------------------------------

#: What makes feed text HTML when its type is not given: a tag, a comment or an entity.
_LOOKS_LIKE_MARKUP = re.compile(
    r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>|<!--|&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
)
_TEXT_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+[^\s<>\"'()\[\]{}.,;:!?]")


def text_from_feed(
    content: str | None,
    content_type: str | None,
    summary: str | None,
    *,
    url: str,
    min_words: int = 80,
    language: str | None = None,
) -> tuple[Literal["feed", "summary"], PageText] | None:
    """The article's text from the feed: its content, else its summary; None when neither has text.

    The content wins when it has ``min_words`` words or more, or more words than
    the summary. The page's length threshold does not flag feed text: it is the
    publisher's own words and the last resort, so any text is ok and
    ``word_count`` says how much there is. ``language`` is the feed's.
    """
    feed = _fragment(content, content_type, url=url, language=language) if content else None
    if feed is not None and feed.word_count >= min_words:
        return "feed", feed
    brief = _fragment(summary, None, url=url, language=language) if summary else None
    if brief is not None and (feed is None or brief.word_count > feed.word_count):
        return "summary", brief
    return ("feed", feed) if feed is not None else None


def _fragment(fragment: str, content_type: str | None, *, url: str, language: str | None) -> PageText | None:
    """A feed's HTML (or plain text) fragment as text; None when it has none."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    is_html = "html" in media_type if media_type else bool(_LOOKS_LIKE_MARKUP.search(fragment))
    if is_html:
        text, links = _fragment_html(fragment, url)
    else:
        text = fragment.strip()
        links = tuple(dict.fromkeys(m.group() for m in _TEXT_URL.finditer(text)))
    text = unicodedata.normalize("NFC", _BLANK_LINES.sub("\n\n", text)).strip()
    if not text:
        return None
    return PageText(
        status="ok",
        reason=None,
        text=text,
        title=None,
        author=None,
        published=None,
        site_name=None,
        language=detect_language(text, declared=language),
        lead_image=None,
        links=links,
        word_count=word_count(text),
    )


def _fragment_html(fragment: str, url: str) -> tuple[str, tuple[str, ...]]:
    """Text and links of feed HTML: trafilatura's rendering when it keeps the text, else lxml's."""
    try:
        tree = parse_html(f"<html><body><article>{fragment}</article></body></html>")
    except _PARSER_ERRORS:
        tree = None
    if tree is None:
        return "", ()
    _prepare_anchors(tree, url)
    links: dict[str, None] = {}
    for anchor in tree.iter("a"):
        href = anchor.get("href")
        if href and is_http_url(href) and href.split("#", 1)[0] != url.split("#", 1)[0]:
            links.setdefault(href)
    plain = _plain_text(tree)
    _fold_whitespace(tree)
    try:
        document = trafilatura.bare_extraction(
            tree,
            url=url or None,
            favor_recall=True,
            include_comments=False,
            output_format="txt",
            include_tables=True,
            include_formatting=True,
            include_links=False,
            with_metadata=False,
        )
    except _PARSER_ERRORS:
        document = None
    if isinstance(document, Document):
        text = _render(document.body, True)
        # The feed's content is the article: trafilatura may only drop what is not text.
        if word_count(text) >= FEED_TEXT_KEPT * word_count(plain):
            return text, tuple(links)
    return plain, tuple(links)


#: trafilatura's rendering of feed HTML is used when it keeps this share of the words.
FEED_TEXT_KEPT = 0.9

_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt", "figcaption"),
        *("figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main"),
        *("nav", "ol", "p", "section", "summary", "table", "tr", "ul"),
    }
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SKIP = frozenset({"script", "style", "noscript", "template", "head"})
_VERBATIM = re.compile(r"\x00(\d+)\x00")


def _plain_text(tree: HtmlElement) -> str:
    """All text of ``tree``: block elements on their own lines, list items as "- ", ``<pre>`` fenced.

    Whitespace in text is folded as a browser folds it; only ``<pre>`` keeps its own.
    """
    parts: list[str] = []
    verbatim: list[str] = []

    def walk(element: etree._Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == "pre":
            verbatim.append(element.text_content().strip("\n"))
            parts.append(f"\n\n\x00{len(verbatim) - 1}\x00\n\n")
        elif tag not in _SKIP:
            block = tag in _BLOCKS
            if tag == "li":
                parts.append("\n- ")
            elif tag == "tr":
                parts.append("\n")
            elif tag in _HEADINGS:
                parts.append(f"\n\n{'#' * int(tag[1])} ")
            elif block:
                parts.append("\n\n")
            elif tag == "br":
                parts.append("\n")
            elif tag in ("td", "th"):
                parts.append(" | ")
            parts.append(_fold(element.text or ""))
            for child in element:
                walk(child)
            if block and tag not in ("li", "tr"):
                parts.append("\n\n")
        parts.append(_fold(element.tail or ""))

    walk(tree)
    text = "\n".join(line.strip() for line in "".join(parts).split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    return _VERBATIM.sub(lambda match: f"```\n{verbatim[int(match.group(1))]}\n```", text)
