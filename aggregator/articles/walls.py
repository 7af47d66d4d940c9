"""The cheap checks before extraction: the page decoded, parsed and its visible text counted; bot walls
(challenges, JavaScript-only shells) and paywall stubs recognised from the title, markup and phrases. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs (lxml-stubs not used)
from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]

from aggregator.articles.decode import decode_html, not_html
from aggregator.articles.htmltree import PARSER_ERRORS, parse_html
from aggregator.articles.language import word_count
from aggregator.articles.pagetext import PageText

__all__ = ["Page", "challenge", "challenge_reason", "inspect_page", "paywall"]

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
class Page:
    """The parsed page and what the cheap checks need of it."""

    html: str
    tree: HtmlElement
    title: str
    visible: str
    visible_words: int


def challenge(page: Page, *, shells: bool = True) -> str | None:
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


def paywall(page: Page, words: int, min_words: int) -> str | None:
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


def challenge_reason(body: bytes, *, content_type: str | None) -> str | None:
    """Why an error answer's body (a 403 or 503 page) is a bot wall, or None for a plain error page.

    The bot-wall checks of :func:`extract_page` (challenge titles and markup, "enable
    JavaScript"), without the empty-application-shell rule: a short error page with a
    script is an error page.
    """
    page = inspect_page(body, content_type)
    return None if isinstance(page, PageText) else challenge(page, shells=False)


def inspect_page(body: bytes, content_type: str | None) -> Page | PageText:
    """The decoded, parsed page and its visible text; or why it is not a page we can read."""
    if reason := not_html(body, content_type):
        return PageText.flagged("not_html", reason)
    html, _ = decode_html(body, content_type)
    if not html.strip():
        return PageText.flagged("too_short", "the page is empty")
    try:
        tree = parse_html(html)
    except PARSER_ERRORS as exc:
        return PageText.flagged("error", f"the page could not be parsed as HTML: {type(exc).__name__}: {exc}")
    if tree is None:
        return PageText.flagged("error", "the page could not be parsed as HTML")
    elements = int(_NODES(tree))
    if elements > MAX_ELEMENTS:
        return PageText.flagged("error", f"the page has {elements:,} elements, more than {MAX_ELEMENTS:,}")
    visible = " ".join(" ".join(_visible_texts(tree)).split())
    # Only small counts matter (the checks' thresholds are a few hundred words): count a prefix.
    return Page(html, tree, _title(tree), visible, word_count(visible[:VISIBLE_SAMPLE_CHARS]))


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


def _title(tree: HtmlElement) -> str:
    title = tree.find("head/title")
    if title is None:
        title = tree.find(".//title")
    return " ".join((title.text_content() if title is not None else "").split())
