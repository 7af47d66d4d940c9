"""The weekly email rendered: the subject, the text part and the HTML part from Jinja2 templates
(``templates/mail/``), HTML autoescaped, its CSS inlined with css-inline (no remote stylesheet loaded).

Every string the templates print is text from the world made safe before: no control or
bidi-override character (``week.clean``), links http(s) only (``week.http_url``); the HTML
template's autoescape does the rest.
"""

from __future__ import annotations

from functools import cache

import jinja2

from aggregator.mail.values import Rendered, WeekContent
from aggregator.mail.week import clean

#: Characters of the best title shown at the end of the subject.
SUBJECT_TITLE_CHARS = 60


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("aggregator", "templates/mail"),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def subject(c: WeekContent) -> str:
    """``2026-W50: 23 new candidates, 2 feeds failing · <the best title>``."""
    counted = "1 new candidate" if c.total == 1 else f"{c.total} new candidates"
    failing = "1 feed failing" if c.failing == 1 else f"{c.failing} feeds failing"
    text = f"{c.window.week}: {counted}, {failing}"
    if c.top_title:
        text += " · " + clean(c.top_title, limit=SUBJECT_TITLE_CHARS)
    return text


def render(c: WeekContent) -> Rendered:
    """The subject and both parts of ``c``'s email."""
    import css_inline

    env = _environment()
    fmt = "%Y-%m-%d %H:%M"
    title = subject(c)
    values = {
        "c": c,
        "subject": title,
        "start": c.window.start.strftime(fmt),
        "end": c.window.end.strftime(fmt),
    }
    text = env.get_template("weekly.txt.j2").render(values)
    html = env.get_template("weekly.html.j2").render(values)
    inlined = css_inline.inline(html, load_remote_stylesheets=False)
    return Rendered(title, text, inlined)
