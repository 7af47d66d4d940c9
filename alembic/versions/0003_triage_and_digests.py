"""triage and digests: decisions, notes, snoozes, versions; digest issues and items

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aggregator.store.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("notes", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("snoozed_until", UTCDateTime))
        batch.add_column(sa.Column("decided_at", UTCDateTime))
        batch.add_column(sa.Column("decided_by", sa.String(200)))
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_candidates_snoozed_until", "candidates", ["snoozed_until"])
    op.create_index("ix_candidates_status_published_at", "candidates", ["status", "published_at"])
    op.create_index("ix_candidates_feed_id_published_at", "candidates", ["feed_id", "published_at"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("batch", sa.String(36), nullable=False),
        sa.Column("candidate_id", sa.Integer, nullable=False),
        sa.Column("curator", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=False),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("digest", sa.String(7)),
        sa.Column("section", sa.String(100)),
        sa.Column("note", sa.Text),
        sa.Column("before", sa.JSON, nullable=False),
        sa.Column("after_version", sa.Integer, nullable=False),
        sa.Column("undone_at", UTCDateTime),
        sa.Column("undone_by", sa.String(200)),
        sa.Column("undo_version", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.id"], name="fk_decisions_candidate_id_candidates", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_decisions_batch", "decisions", ["batch"])
    op.create_index("ix_decisions_candidate_id", "decisions", ["candidate_id"])

    op.create_table(
        "digests",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(7), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="draft"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("published_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_digests"),
        sa.UniqueConstraint("name", name="uq_digests_name"),
    )

    op.create_table(
        "digest_items",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("digest_id", sa.Integer, nullable=False),
        sa.Column("candidate_id", sa.Integer, nullable=False),
        sa.Column("section", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer),
        sa.Column("title", sa.Text),
        sa.Column("label", sa.Text),
        sa.Column("month", sa.String(7)),
        sa.Column("images", sa.JSON, nullable=False, server_default="[]"),
        sa.Column("promoted_at", UTCDateTime, nullable=False),
        sa.Column("promoted_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_digest_items"),
        sa.ForeignKeyConstraint(
            ["digest_id"], ["digests.id"], name="fk_digest_items_digest_id_digests", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.id"], name="fk_digest_items_candidate_id_candidates", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("candidate_id", name="uq_digest_items_candidate_id"),
    )
    op.create_index("ix_digest_items_digest_id_section", "digest_items", ["digest_id", "section"])


def downgrade() -> None:
    op.drop_table("digest_items")
    op.drop_table("digests")
    op.drop_table("decisions")
    op.drop_index("ix_candidates_feed_id_published_at", "candidates")
    op.drop_index("ix_candidates_status_published_at", "candidates")
    op.drop_index("ix_candidates_snoozed_until", "candidates")
    with op.batch_alter_table("candidates") as batch:
        for column in ("version", "decided_by", "decided_at", "snoozed_until", "notes"):
            batch.drop_column(column)
