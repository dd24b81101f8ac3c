"""Refused uploads: why the bytes PUT to a three-step upload URL were refused, kept for the
register that follows (the official SDK never reads a refused PUT's body, but prints the error
of register), so its report says why instead of only "HTTP 422". No bytes are kept: no blob."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_refusals"
down_revision = "0016_duplicates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refused_uploads",
        sa.Column("dataset_id", sa.String(36), nullable=False),
        sa.Column("directory_path", sa.String(4096), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_refused_uploads_dataset_id_datasets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "dataset_id", "directory_path", "filename", name="pk_refused_uploads"
        ),
    )


def downgrade() -> None:
    op.drop_table("refused_uploads")
