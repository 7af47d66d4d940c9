"""articles: extracted page text and metadata per candidate

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aggregator.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("candidate_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("text_source", sa.String(10)),
        sa.Column("text", sa.Text),
        sa.Column("word_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("page_url", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("published_at", UTCDateTime),
        sa.Column("site_name", sa.Text),
        sa.Column("language", sa.String(35)),
        sa.Column("lead_image", sa.Text),
        sa.Column("links", sa.JSON),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("extracted_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("candidate_id", name="pk_articles"),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name="fk_articles_candidate_id_candidates",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_articles_status", "articles", ["status"])
    op.create_index("ix_articles_next_attempt_at", "articles", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("articles")
