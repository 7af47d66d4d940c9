"""suggestions and scores on candidates; the weekly email's sends, one row per week and recipient

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aggregator.store.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # -- suggestions (issue 15): where each candidate belongs, how much it matters, and why.
    # Plain ADD COLUMN, never a batch (see 0006).
    op.add_column("candidates", sa.Column("suggested_section", sa.String(100)))
    op.add_column("candidates", sa.Column("suggestion_confidence", sa.Float))
    op.add_column("candidates", sa.Column("suggestion_reason", sa.Text))
    op.add_column("candidates", sa.Column("score", sa.Float))
    op.add_column("candidates", sa.Column("score_reasons", sa.JSON))
    op.add_column("candidates", sa.Column("suggested_at", UTCDateTime))
    op.create_index("ix_candidates_score", "candidates", ["score"])

    # -- the weekly email (issue 16): a week is sent to a recipient once the server accepted it.
    op.create_table(
        "email_sends",
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("week", "recipient", name="pk_email_sends"),
    )


def downgrade() -> None:
    op.drop_table("email_sends")
    op.drop_index("ix_candidates_score", table_name="candidates")
    for column in (
        "suggested_at", "score_reasons", "score", "suggestion_reason", "suggestion_confidence", "suggested_section"
    ):  # fmt: skip
        op.drop_column("candidates", column)
