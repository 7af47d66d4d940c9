"""Rendering an issue as Markdown through Jinja2 templates (the only module that imports Jinja2).

Autoescaping is off (the output is Markdown, not HTML); the Markdown escaping is done by the filters
of :mod:`aggregator.digest.markdown`, so every link stays a link, and whatever a curator's template
prints raw loses its control and bidi-override characters at the end; ``digest lint`` reports the
items whose title, label or notes hold any (``control_characters``).

The shipped templates are ``summary`` (seed 000), ``unnumbered`` (seed 002), ``trend-post`` (seed 003)
and ``notebook`` (seed 004), in ``aggregator/templates/digest/``; a curator's copy is used with
``--template PATH`` (it may include the shipped ones by name).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from aggregator.configuration import DigestOptions, Notebook, TrendPost
from aggregator.controls import strip_controls
from aggregator.digest.markdown import block, headline, link, md_text, md_url, note, yaml_str
from aggregator.digest.model import TEMPLATES, Digest, NotesStyle, month_name
from aggregator.errors import DigestError

__all__ = ["TEMPLATES", "render"]


def _configure(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.update(
        md_text=md_text,
        md_url=md_url,
        month_name=month_name,
        headline=headline,
        note=note,
        block=block,
        yaml_str=yaml_str,
        yaml_bool=lambda value: "true" if value else "false",
    )
    env.globals.update(link=link)
    return env


def _new_environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    return _configure(
        jinja2.Environment(
            loader=loader,
            autoescape=False,  # Markdown, not HTML: the filters above do the escaping
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
    )


@cache
def _package_environment() -> jinja2.Environment:
    return _new_environment(jinja2.PackageLoader("aggregator", "templates/digest"))


def _template(template: str | Path) -> jinja2.Template:
    if isinstance(template, str) and template in TEMPLATES:
        return _package_environment().get_template(f"{template}.md.j2")
    path = Path(template)
    if not path.is_file():
        raise DigestError(
            f"no digest template {str(template)!r}: use one of {', '.join(TEMPLATES)}, "
            "or the path of a .j2 file (start from a copy of aggregator/templates/digest/summary.md.j2)"
        )
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(str(path.resolve().parent)),
            jinja2.PackageLoader("aggregator", "templates/digest"),
        ]
    )
    return _new_environment(loader).get_template(path.name)


def render(
    digest: Digest,
    template: str | Path = "summary",
    *,
    notes: NotesStyle = "nested",
    options: DigestOptions | None = None,
) -> str:
    """The issue as Markdown through a shipped template (by name) or a curator's (by path).

    A template gets ``digest``, ``notes`` (``nested`` or ``inline``), ``numbers`` (item id to its
    1-based number in printed order), and feeds.yaml's ``trend_post`` and ``notebook`` settings
    (``post``, ``headings``: section id to heading, ``notebook``); see the header comment of each
    shipped template.
    """
    post = options.trend_post if options is not None else TrendPost()
    book = options.notebook if options is not None else Notebook()
    if notes not in ("nested", "inline"):
        raise DigestError(f"unknown notes style {notes!r} (use nested or inline)")
    try:
        compiled = _template(template)
        # The filters clean what they print; this catches what a template prints raw
        # (``{{ item.title }}`` in a curator's copy, an image line, a section title from feeds.yaml).
        page = compiled.render(
            digest=digest, notes=notes, numbers=digest.numbers(), post=post, headings=dict(post.headings),
            notebook=book,
        )  # fmt: skip
        return strip_controls(page)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or str(template)
        raise DigestError(f"{where}:{exc.lineno}: {exc.message} (fix the template)") from None
    except jinja2.TemplateError as exc:
        raise DigestError(
            f"template {str(template)!r}: {exc} (the variables a template gets are listed at the top "
            "of the shipped templates)"
        ) from None
