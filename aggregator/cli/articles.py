"""``aggregator extract`` and ``aggregator show``: candidates' article text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from aggregator.articles.reading import reading_minutes, reading_time
from aggregator.cli.candidates import candidate_dict
from aggregator.cli.context import ID_MAX, console, iso, open_service, print_error, require_candidates, when
from aggregator.cli.paging import page
from aggregator.cli.progress import Progress
from aggregator.cli.voice import ExitCode, no_candidate
from aggregator.controls import json_dumps

if TYPE_CHECKING:
    from aggregator.article_types import Article
    from aggregator.suggest.values import StoredSuggestion
    from aggregator.triage_types import TriageState
    from aggregator.types import Candidate


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)
    app.command("show")(show)


def extract(
    ctx: typer.Context,
    ids: list[int] = typer.Option(
        [], "--id", help="Extract this candidate (by id), whatever its state; repeatable.", min=1, max=ID_MAX
    ),
    retry_failed: bool = typer.Option(
        False, "--retry-failed", help="Also try again every page that failed or was flagged before."
    ),
) -> None:
    """Fetch and extract the article pages of candidates that need it.

    By default: candidates never tried, and transient failures whose retry time
    has come. Polls do this on their own; this command is for catching up or
    trying again by hand.

    Example: aggregator extract --retry-failed
    """
    with open_service(ctx, sync=False) as service:
        require_candidates(service, ids)
        expected = (
            len(set(ids)) if ids else None if retry_failed else service.ops.gauges().pending_extractions
        )
        with Progress("extract", pages=expected) as shown:
            report = service.polling.extract(
                ids=ids or None, retry_failed=retry_failed, on_article=shown.page
            )
    out = console()
    if not report.articles:
        out.print("No candidate needs extracting.")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("status", "pages", "text from page", "from feed", "from summary", "no text"):
        table.add_column(name, justify="left" if name == "status" else "right")
    by_status: dict[str, list[Article]] = {}
    for article in report.articles:
        by_status.setdefault(article.status, []).append(article)
    for status, items in sorted(by_status.items()):
        sources = [a.text_source for a in items]
        table.add_row(
            status, str(len(items)), str(sources.count("page")), str(sources.count("feed")),
            str(sources.count("summary")), str(sources.count(None)),
        )  # fmt: skip
    out.print(table)
    out.print(f"{len(report.articles)} candidates in {report.elapsed:.1f} s")


def show(
    ctx: typer.Context,
    candidate_id: int = typer.Argument(
        ..., metavar="ID", help="The candidate's id (see `candidates list`).", min=1, max=ID_MAX
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object, for scripts."),
) -> None:
    """Show a candidate: its metadata, feed, extraction status, text source, reading time and text.

    In a terminal the text is paged.

    Example: aggregator show 42
    """
    with open_service(ctx, sync=False) as service:
        view = service.articles.show(candidate_id, decisions=5)
        suggested = service.suggest.of(candidate_id)
    candidate, article, triage, decisions = view.candidate, view.article, view.triage, view.decisions
    if candidate is None:
        print_error(no_candidate(candidate_id))
        raise typer.Exit(ExitCode.FAILED)
    if as_json:
        typer.echo(json_dumps(_show_dict(candidate, article, triage) | suggestion_dict(suggested), indent=2))
        return
    header = Table.grid(padding=(0, 1))
    header.add_column(style="bold", no_wrap=True)
    header.add_column(overflow="fold")
    rows = [
        ("title", candidate.title),
        ("feed", f"{candidate.feed_name}" + (f" ({candidate.label})" if candidate.label else "")),
        ("url", candidate.url or "-"),
        ("published", f"{when(candidate.published_at)} ({candidate.date_source})"),
        ("status", _status_line(triage) if triage else candidate.status),
        ("language", (article.language if article else None) or candidate.language or "-"),
    ]
    if article is None:
        rows.append(("article", "not extracted yet (run `aggregator extract`)"))
    else:
        rows += [
            ("extraction", article.status + (f": {article.reason}" if article.reason else "")),
            ("text from", article.text_source or "nowhere: no text"),
            ("reading time", reading_time(article.word_count)),
        ]
        if article.author:
            rows.append(("author", article.author))
        if article.lead_image:
            rows.append(("image", article.lead_image))
        if article.links:
            rows.append(("links", f"{len(article.links)} in the text"))
    rows += suggestion_rows(suggested)
    if triage is not None:
        rows += [("note", note) for note in triage.notes]
    rows += [
        ("decided", f"{when(d.at)} {d.curator}: {d.action} {d.from_status} → {d.to_status}"
         + (" (undone)" if d.undone_at else ""))
        for d in decisions
    ]  # fmt: skip
    for key, value in rows:
        header.add_row(key, value)
    text = (article.text if article else None) or view.feed_text or ""

    def render(out: Console) -> None:
        out.print(header)
        out.print()
        out.print(text, markup=False, highlight=False)

    page(render)


def _show_dict(c: Candidate, a: Article | None, triage: TriageState | None) -> dict[str, object]:
    data = _as_dict(c, a)
    if triage is not None:
        data.update(
            status=triage.status,
            version=triage.version,
            notes=list(triage.notes),
            snoozed_until=iso(triage.snoozed_until),
            digest=triage.digest,
            section=triage.section,
            decided_by=triage.decided_by,
            decided_at=iso(triage.decided_at),
        )
    return data


def suggestion_rows(s: StoredSuggestion | None) -> list[tuple[str, str]]:
    """What `show` (and the triage screen) print of a candidate's suggestion, score and group."""
    if s is None or s.section is None:
        return [("suggested", "not yet (run `aggregator suggest backfill`)")]
    rows = [
        ("suggested", f"{s.section} ({(s.confidence or 0):.0%}): {s.reason or ''}"),
        ("score", f"{(s.score or 0):.0f}: {s.explain()}"),
    ]
    if s.routes:
        rows.append(
            ("also via", "; ".join(f"{name} #{cid} {url or ''}".rstrip() for cid, name, url in s.routes))
        )
    return rows


def suggestion_dict(s: StoredSuggestion | None) -> dict[str, object]:
    """The suggestion, score and group as `show --json` gives them."""
    if s is None:
        return {}
    return {
        "suggested_section": s.section,
        "suggestion_confidence": s.confidence,
        "suggestion_reason": s.reason,
        "score": s.score,
        "score_reasons": [{"phrase": r.phrase, "points": r.points} for r in s.score_reasons],
        "routes": [{"id": cid, "feed": name, "url": url} for cid, name, url in s.routes],
    }


def _status_line(t: TriageState) -> str:
    if t.status == "promoted" and t.digest:
        return f"promoted into {t.digest} {t.section}"
    if t.status == "snoozed" and t.snoozed_until:
        return f"snoozed until {when(t.snoozed_until)}"
    return t.status


def _as_dict(c: Candidate, a: Article | None) -> dict[str, object]:
    data = candidate_dict(c)
    data["language"] = (a.language if a else None) or c.language
    data["summary"] = c.summary
    data["article"] = None
    if a is not None:
        data["article"] = {
            "status": a.status,
            "reason": a.reason,
            "text_source": a.text_source,
            "word_count": a.word_count,
            "reading_minutes": reading_minutes(a.word_count),
            "page_url": a.page_url,
            "title": a.title,
            "author": a.author,
            "published_at": iso(a.published_at),
            "site_name": a.site_name,
            "lead_image": a.lead_image,
            "links": list(a.links),
            "attempts": a.attempts,
            "next_attempt_at": iso(a.next_attempt_at),
            "extracted_at": iso(a.extracted_at),
            "text": a.text,
        }
    return data
