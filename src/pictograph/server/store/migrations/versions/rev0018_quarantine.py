"""Bucket uploads checked off the request: an object PUT with a SHA-256 the bucket verified is
registered at once (``images.unchecked``), then read whole by a replica's background worker;
one that is not a whole image is moved to ``quarantined_images`` with why (its bytes kept there
for an operator to look at, until the dataset goes)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_quarantine"
down_revision = "0017_refusals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch copy: on SQLite a batch rebuilds ``images``, which drops
    # the insight triggers migration 0016 put on it.
    op.add_column("pending_uploads", sa.Column("declared_sha256", sa.String(64), nullable=True))
    for table in ("pending_uploads", "images"):
        op.add_column(
            table, sa.Column("unchecked", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "quarantined_images",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("dataset_id", sa.String(36), nullable=False),
        sa.Column("directory_path", sa.String(4096), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("file_size", sa.BigInteger, nullable=False),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("blob_key", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_quarantined_images_dataset_id_datasets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_quarantined_images"),
    )
    op.create_index(
        "ix_quarantined_images_dataset_id_quarantined_at",
        "quarantined_images",
        ["dataset_id", "quarantined_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_quarantined_images_dataset_id_quarantined_at", "quarantined_images")
    op.drop_table("quarantined_images")
    # DROP COLUMN in place (SQLite 3.35+ and PostgreSQL): a batch copy would drop the triggers.
    for table, column in (
        ("images", "unchecked"),
        ("pending_uploads", "unchecked"),
        ("pending_uploads", "declared_sha256"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
