"""The search index: one document per candidate, kept current by the writes that change its text.

The documents are made by :mod:`aggregator.searchtext` (title plus the start of the
article's text, CJK runs as bigrams), so each backend's own tokenizer only has
to split at spaces:

- SQLite: the FTS5 virtual table ``candidate_search`` (rowid = candidate id),
  tokenizer ``unicode61`` over the prepared document, ``detail=none`` (a query
  needs which documents hold a term, never where or how often, so the index
  keeps no positions: smaller, and a common term's list of 70,000 documents is
  counted in 2-3 ms). A trigger drops a deleted candidate's row. Migration 0004
  says why the tokenizer has the options it has.
- PostgreSQL: the table ``candidate_search`` (candidate id, ``tsvector``) with a
  GIN index, ``to_tsvector('simple', document)`` stripped of positions.

Writers call :func:`index_candidates` for every candidate whose title or text
they change (``polls.save_poll``, ``articles.save_articles``); queries use
:func:`matches` in a WHERE over ``candidates``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.searchtext import Term, candidate_document, query_terms
from aggregator.store.tables import articles, candidate_search, candidates

#: Candidates per statement.
CHUNK = 500

_fts = sa.table("candidate_search", sa.column("rowid", sa.Integer), sa.column("document", sa.Text))
_SIMPLE: sa.ColumnElement[str] = sa.literal_column("'simple'")


def index_candidates(s: Connection, ids: Iterable[int]) -> int:
    """Recompute the search documents of these candidates from their titles and texts; returns how many."""
    dialect = s.dialect.name
    ids = sorted(set(ids))
    done = 0
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        rows = s.execute(
            sa.select(
                candidates.c.id,
                candidates.c.title,
                candidates.c.content,
                candidates.c.content_type,
                candidates.c.summary,
                articles.c.text,
            )
            .outerjoin(articles, articles.c.candidate_id == candidates.c.id)
            .where(candidates.c.id.in_(chunk))
        ).all()
        docs = [
            {
                "b_id": r.id,
                "b_document": candidate_document(
                    r.title, article_text=r.text, content=r.content, content_type=r.content_type,
                    summary=r.summary,
                ),
            }
            for r in rows
        ]  # fmt: skip
        _write(s, dialect, chunk, docs)
        done += len(docs)
    return done


def _write(s: Connection, dialect: str, chunk: Sequence[int], docs: list[dict[str, Any]]) -> None:
    if dialect == "postgresql":
        if not docs:
            return
        from sqlalchemy.dialects import postgresql  # loaded only where it is used

        stmt = postgresql.insert(candidate_search).values(
            candidate_id=sa.bindparam("b_id"),
            document=sa.func.strip(sa.func.to_tsvector(_SIMPLE, sa.bindparam("b_document", type_=sa.Text))),
        )
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=["candidate_id"], set_={"document": stmt.excluded.document}
            ),
            docs,
        )
        return
    # FTS5 has no upsert: drop the old rows (and any of candidates gone), then insert.
    s.execute(sa.delete(_fts).where(_fts.c.rowid.in_(chunk)))
    if docs:
        s.execute(
            sa.insert(_fts).values(rowid=sa.bindparam("b_id"), document=sa.bindparam("b_document")), docs
        )


def matches(query: str, dialect: str, *, per_row: bool = False) -> sa.ColumnElement[bool] | None:
    """A condition over ``candidates``: the candidate's document has every term of ``query``.

    None when the query has no terms (no letters or digits): nothing to filter on.
    By default the set of matching ids, which the database can also drive a
    query from. ``per_row`` asks for a test of each candidate instead, for a
    walk over candidates in date order that stops after a page (PostgreSQL
    would otherwise collect every match first; SQLite's set is as cheap).
    """
    terms = query_terms(query)
    if not terms:
        return None
    if dialect != "postgresql":
        fts = sa.literal_column("candidate_search").op("MATCH")(sa.literal(sqlite_query(terms), sa.Text))
        return candidates.c.id.in_(sa.select(_fts.c.rowid).where(fts))
    cs = candidate_search.c
    ts = cs.document.op("@@")(sa.func.to_tsquery(_SIMPLE, sa.literal(postgres_query(terms), sa.Text)))
    if not per_row:
        return candidates.c.id.in_(sa.select(cs.candidate_id).where(ts))
    # OFFSET 0 keeps the planner from turning the test into a join that
    # collects every match before the first row comes out.
    return sa.exists(sa.select(sa.literal(1)).where(cs.candidate_id == candidates.c.id, ts).offset(0))


def count_matches(s: Connection, query: str, at_most: int) -> int:
    """How many candidates' documents have every term of ``query``, counting up to ``at_most``."""
    terms = query_terms(query)
    if not terms:
        return 0
    if s.dialect.name == "postgresql":
        cs = candidate_search.c
        ts = sa.func.to_tsquery(_SIMPLE, sa.literal(postgres_query(terms), sa.Text))
        found: Any = sa.select(cs.candidate_id).where(cs.document.op("@@")(ts))
    else:
        fts = sa.literal_column("candidate_search").op("MATCH")(sa.literal(sqlite_query(terms), sa.Text))
        found = sa.select(_fts.c.rowid).where(fts)
    limited = found.limit(at_most).subquery()
    return int(s.execute(sa.select(sa.func.count()).select_from(limited)).scalar_one())


def sqlite_query(terms: Sequence[Term]) -> str:
    """An FTS5 query that needs every term: ``"생성" "모델" "猫" *`` (quoted, so no word is an operator)."""
    return " ".join('"{}"{}'.format(t.text.replace('"', '""'), " *" if t.prefix else "") for t in terms)


def postgres_query(terms: Sequence[Term]) -> str:
    """A to_tsquery text that needs every term: ``'생성' & '모델' & '猫':*``."""
    return " & ".join(
        "'{}'{}".format(t.text.replace("\\", "\\\\").replace("'", "''"), ":*" if t.prefix else "")
        for t in terms
    )
