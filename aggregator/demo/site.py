"""The demo's web: feeds (RSS, Atom, JSON Feed) and article pages, served from 127.0.0.1.

:func:`invented_site` renders :mod:`aggregator.demo.content` into routes (path to answer);
:func:`corpus_site` serves the feed files :func:`aggregator.demo.corpus.scan` found in a folder
instead. :class:`Server` answers them from a thread on a free port; any other path is a 404.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aggregator.demo.content import BLOGS, BROKEN, CROSS_POST, LINK, POSTS, Blog, Post, paragraphs, posts_of
from aggregator.demo.corpus import Corpus


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class DemoFeed:
    """A feed as feeds.yaml lists it."""

    name: str
    path: str
    label: str
    language: str | None = None
    section_hint: str | None = None
    weight: float = 1.0


Routes = dict[str, Answer]
MIRROR = CROSS_POST[1]


def post_dates(start: datetime, end: datetime) -> dict[tuple[str, str], datetime]:
    """Each post's publication time, spread from ``end`` back to ``start``; a mirror's an hour later."""
    originals = [p for p in POSTS if p.blog != MIRROR]
    step = (end - start) / (len(originals) + 1)
    dates = {(p.blog, p.slug): end - step * (i + 1) for i, p in enumerate(originals)}
    for p in POSTS:
        if p.blog == MIRROR:
            source = next(d for (name, slug), d in dates.items() if slug == p.slug)
            dates[(p.blog, p.slug)] = min(source + timedelta(hours=1), end)
    return dates


def invented_site(base: str, start: datetime, end: datetime) -> tuple[list[DemoFeed], Routes]:
    """The dozen invented blogs at ``base`` (``http://127.0.0.1:PORT``): their feeds and pages."""
    dates = post_dates(start, end)
    feeds: list[DemoFeed] = []
    routes: Routes = {}
    for b in BLOGS:
        path = f"/{b.name}/feed.{ {'rss': 'xml', 'atom': 'atom', 'json': 'json'}[b.format] }"
        feeds.append(DemoFeed(b.name, path, b.label, b.language, b.section_hint, b.weight))
        if b.name == BROKEN:  # a feed cut off mid-way: not a feed the reader can use
            routes[path] = Answer(200, "application/feed+json", b'{"version": "https://jsonfeed.org/v')
            continue
        items = [(p, f"{base}/{b.name}/{p.slug}", dates[(p.blog, p.slug)]) for p in posts_of(b.name)]
        routes[path] = _feed(b, base, items)
        for post, _, when in items:
            routes[f"/{b.name}/{post.slug}"] = _bot_wall() if post.bot_wall else _page(b, post, when)
    return feeds, routes


def corpus_site(corpus: Corpus) -> tuple[list[DemoFeed], Routes]:
    """Each feed file of ``corpus`` at ``/corpus/NAME`` (named by its file, its folders when two files
    share a name); its article pages are 404s."""
    feeds: list[DemoFeed] = []
    routes: Routes = {}
    for file in corpus.files:
        name = _slug(file.path.stem)
        if f"/corpus/{name}" in routes:  # the same file name in two folders
            name = _slug(file.path.relative_to(corpus.folder).with_suffix("").as_posix())
        base, n = name, 2
        while f"/corpus/{name}" in routes:
            name, n = f"{base}-{n}", n + 1
        path = f"/corpus/{name}"
        routes[path] = Answer(200, file.content_type, file.path.read_bytes())
        label = "".join(c for c in file.path.stem if c.isprintable())[:60]
        feeds.append(DemoFeed(name, path, label or name))
    return feeds, routes


def _slug(text: str) -> str:
    """A feed name (lowercase ASCII letters, digits and '-') made of a file's name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-") or "feed"


def _feed(b: Blog, base: str, items: Sequence[tuple[Post, str, datetime]]) -> Answer:
    if b.format == "json":
        doc = {
            "version": "https://jsonfeed.org/version/1.1", "title": b.title, "language": b.language,
            "home_page_url": f"{base}/{b.name}/", "feed_url": f"{base}/{b.name}/feed.json",
            "items": [
                {"id": url, "url": url, "title": p.title, "summary": p.lead,
                 "date_published": when.isoformat()}
                for p, url, when in items
            ],
        }  # fmt: skip
        return Answer(200, "application/feed+json", json.dumps(doc, ensure_ascii=False).encode())
    if b.format == "atom":
        entries = "".join(
            f"<entry><id>{escape(url)}</id><title>{escape(p.title)}</title>"
            f'<link rel="alternate" href="{escape(url)}"/><updated>{when.isoformat()}</updated>'
            f"<published>{when.isoformat()}</published><summary>{escape(p.lead)}</summary></entry>"
            for p, url, when in items
        )
        text = (
            f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            f'xml:lang="{b.language}"><title>{escape(b.title)}</title><id>{base}/{b.name}/</id>'
            f"<updated>{max(w for _, _, w in items).isoformat()}</updated>{entries}</feed>"
        )
        return Answer(200, "application/atom+xml; charset=utf-8", text.encode())
    rss_items = "".join(
        f"<item><guid>{escape(url)}</guid><title>{escape(p.title)}</title><link>{escape(url)}</link>"
        f"<pubDate>{format_datetime(when)}</pubDate><description>{escape(p.lead)}</description></item>"
        for p, url, when in items
    )
    text = (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(b.title)}'
        f"</title><link>{base}/{b.name}/</link><description>{escape(b.disclaimer or b.title)}</description>"
        f"<language>{b.language}</language>{rss_items}</channel></rss>"
    )
    return Answer(200, "application/rss+xml; charset=utf-8", text.encode())


def _page(b: Blog, post: Post, when: datetime) -> Answer:
    """An article page as blogs make them: navigation, the article (code, a table), a footer."""
    body = "".join(f"<p>{_inline(text)}</p>" for text in paragraphs(post))
    if post.code:
        body += f"<pre><code>{escape(post.code)}</code></pre>"
    if post.table:
        head, *rows = post.table
        cells = "".join(f"<th>{escape(c)}</th>" for c in head)
        body += f"<table><thead><tr>{cells}</tr></thead><tbody>"
        body += "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
        body += "</tbody></table>"
    banner = f'<p class="disclaimer">{escape(b.disclaimer)}</p>' if b.disclaimer else ""
    nav = "".join(f'<li><a href="/{b.name}/{p.slug}">{escape(p.title)}</a></li>' for p in posts_of(b.name))
    html = (
        f'<!doctype html><html lang="{b.language}"><head><meta charset="utf-8">'
        f"<title>{escape(post.title)} | {escape(b.title)}</title></head><body>"
        f'<header><nav><a href="/{b.name}/">{escape(b.title)}</a><ul>{nav}</ul></nav>{banner}</header>'
        f"<main><article><h1>{escape(post.title)}</h1>"
        f'<time datetime="{when.isoformat()}">{when:%Y-%m-%d}</time>{body}</article></main>'
        f"<footer><p>© {when:%Y} {escape(b.label)}. Invented for the aggregator demo.</p>{banner}</footer>"
        "</body></html>"
    )
    return Answer(200, "text/html; charset=utf-8", html.encode())


def _inline(text: str) -> str:
    """A paragraph as HTML: escaped, its ``[words](URL)`` links as anchors."""
    out, at = [], 0
    for link in LINK.finditer(text):
        out += [escape(text[at : link.start()]), f'<a href="{escape(link[2])}">{escape(link[1])}</a>']
        at = link.end()
    return "".join([*out, escape(text[at:])])


def _bot_wall() -> Answer:
    html = (
        "<!doctype html><html><head><title>Just a moment...</title></head><body>"
        '<div id="cf-browser-verification">Checking your browser before accessing the site.</div>'
        '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></body></html>'
    )
    return Answer(403, "text/html; charset=utf-8", html.encode())


class Server:
    """``routes`` answered on 127.0.0.1 at a free port, from a thread, until :meth:`close`."""

    def __init__(self, routes: Routes | None = None) -> None:
        self.routes: Routes = routes or {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                answer = site.routes.get(self.path.split("?")[0], Answer(404, "text/plain", b"not found"))
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="demo-site", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def local_transport(port: int) -> Any:
    """An httpx transport that sends every request to the demo's server on ``port``: an article link of
    a captured feed (to its publisher's host) is answered there, a 404, and never fetched from the web."""
    import httpx

    class Local(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
            return await self.inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self.inner.aclose()

    return Local()
