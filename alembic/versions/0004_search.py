"""search: full-text index of candidates (SQLite FTS5, PostgreSQL tsvector + GIN), back-filled; queue indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from aggregator.searchtext import candidate_document

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    # The queue's walks: every column it filters on, so skipping a row never reads it.
    op.create_index(
        "ix_candidates_published_at_status_feed_id", "candidates", ["published_at", "status", "feed_id"]
    )
    op.create_index(
        "ix_candidates_feed_id_published_at_status", "candidates", ["feed_id", "published_at", "status"]
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.create_table(
            "candidate_search",
            sa.Column("candidate_id", sa.Integer, nullable=False),
            sa.Column("document", TSVECTOR, nullable=False),
            sa.PrimaryKeyConstraint("candidate_id", name="pk_candidate_search"),
            sa.ForeignKeyConstraint(
                ["candidate_id"], ["candidates.id"], name="fk_candidate_search_candidate_id_candidates",
                ondelete="CASCADE",
            ),
        )  # fmt: skip
        _backfill(bind, postgres=True)
        # Built after the back-fill: one GIN build is much faster than GIN inserts.
        op.create_index(
            "ix_candidate_search_document", "candidate_search", ["document"], postgresql_using="gin"
        )
    else:
        # rowid = candidate id. The documents come tokenized (aggregator/search.py),
        # so unicode61 only has to split them at spaces: no diacritic folding
        # (PostgreSQL's 'simple' does none, and both backends must find the same
        # rows), and unassigned code points (Cn) are token characters, since
        # SQLite's Unicode tables are older than Python's and must not cut a term
        # in two. detail=none: matching needs no positions (store/search.py).
        op.execute(
            "CREATE VIRTUAL TABLE candidate_search USING fts5(document, "
            "tokenize = \"unicode61 remove_diacritics 0 categories 'L* N* Co Cn'\", detail = none)"
        )
        op.execute(
            "CREATE TRIGGER candidates_search_delete AFTER DELETE ON candidates BEGIN "
            "DELETE FROM candidate_search WHERE rowid = old.id; END"
        )
        _backfill(bind, postgres=False)


def _backfill(bind: sa.Connection, *, postgres: bool) -> None:
    """Every existing candidate's document: its title plus its article's text, else the feed's text."""
    select = sa.text(
        "SELECT c.id, c.title, c.content, c.content_type, c.summary, a.text FROM candidates c "
        "LEFT JOIN articles a ON a.candidate_id = c.id WHERE c.id > :after ORDER BY c.id LIMIT :n"
    )
    if postgres:
        insert = sa.text(
            "INSERT INTO candidate_search (candidate_id, document) "
            "VALUES (:id, strip(to_tsvector('simple', :document)))"
        )
    else:
        insert = sa.text("INSERT INTO candidate_search (rowid, document) VALUES (:id, :document)")
    after = 0
    while True:
        rows = bind.execute(select, {"after": after, "n": _BATCH}).all()
        if not rows:
            return
        bind.execute(
            insert,
            [
                {
                    "id": r.id,
                    "document": candidate_document(
                        r.title, article_text=r.text, content=r.content, content_type=r.content_type,
                        summary=r.summary,
                    ),
                }
                for r in rows
            ],
        )  # fmt: skip
        after = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_candidate_search_document", "candidate_search")
        op.drop_table("candidate_search")
    else:
        op.execute("DROP TRIGGER candidates_search_delete")
        op.execute("DROP TABLE candidate_search")
    op.drop_index("ix_candidates_feed_id_published_at_status", "candidates")
    op.drop_index("ix_candidates_published_at_status_feed_id", "candidates")
