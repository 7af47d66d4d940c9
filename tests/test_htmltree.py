"""parse_html: trafilatura.load_html's tree, built with lxml's element classes chosen in C."""

from __future__ import annotations

from pathlib import Path

import pytest
import trafilatura
from lxml import etree
from lxml.html import HtmlComment, HtmlElement

from aggregator.articles import extract, feedtext, walls
from aggregator.articles.extract import decode_html, extract_page, text_from_feed
from aggregator.articles.htmltree import parse_html

PAGES = Path(__file__).parent / "fixtures" / "pages"


def same_tree(a: HtmlElement | None, b: HtmlElement | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(etree.tostring(a, encoding="unicode") == etree.tostring(b, encoding="unicode"))


@pytest.mark.parametrize(
    "markup",
    [
        "<!DOCTYPE html><html><head><title>T</title></head><body><p>x</p></body></html>",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>declares an encoding</p></body></html>",
        '<html lang="en"/>\n<body><p>self-closing html</p></body>',
        "<html></html>",
        "<div>no html tag</div><div>two children</div>",
        "<p>no html tag, one child</p>",
        "<!-- only a comment -->",
        "\x00\x01<html><body><p>control characters</p></body></html>",
        "  <p>leading blanks</p>",
    ],
)
def test_the_tree_is_trafilaturas(markup: str) -> None:
    assert same_tree(parse_html(markup), trafilatura.load_html(markup))


def test_element_classes_come_from_lxmls_c_lookup() -> None:
    tree = parse_html("<html><body><form><input name=q><select></select></form><p>x</p></body></html>")
    assert tree is not None
    # lxml.html's Python lookup would give FormElement, InputElement, SelectElement.
    assert {type(element) for element in tree.iter(tag=etree.Element)} == {HtmlElement}
    assert tree.text_content() == "x"  # lxml.html's methods are there all the same


def test_comments_are_dropped_as_trafilatura_drops_them() -> None:
    tree = parse_html("<html><body><!-- note --><p>x</p></body></html>")
    assert tree is not None
    assert not [node for node in tree.iter() if isinstance(node, HtmlComment)]


def test_every_fixture_page_extracts_as_with_trafilaturas_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = sorted(PAGES.glob("*.html"))
    assert paths

    def extract_all() -> list[extract.PageText]:
        return [
            extract_page(path.read_bytes(), url="https://example.com/post/", content_type="text/html")
            for path in paths
        ]

    ours = extract_all()
    for path in paths:  # and the trees themselves
        decoded = decode_html(path.read_bytes(), "text/html")[0]
        assert same_tree(parse_html(decoded), trafilatura.load_html(decoded)), path.name
    item = "<p>A <b>feed</b> item.</p>" * 40
    feed = text_from_feed(item, "text/html", None, url="https://example.com/")
    monkeypatch.setattr(walls, "parse_html", trafilatura.load_html)
    monkeypatch.setattr(feedtext, "parse_html", trafilatura.load_html)
    assert extract_all() == ours
    assert text_from_feed(item, "text/html", None, url="https://example.com/") == feed
