"""Exports as jobs, key roles and limits, organisation details and invites, review notes,
image descriptors for similarity search."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004_labels"
down_revision = "0003_hostile"
branch_labels = None
depends_on = None


def _stamp(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("description", sa.Text, nullable=True))
        batch.add_column(sa.Column("is_public", sa.Boolean, nullable=True))
        batch.add_column(_stamp("updated_at", nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="owner"))
        batch.add_column(sa.Column("rate_limit", sa.Integer, nullable=True))
        batch.add_column(_stamp("expires_at", nullable=True))
    op.add_column("images", sa.Column("review_note", sa.Text, nullable=True))
    op.create_table(
        "exports",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("dataset_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("include_images", sa.Boolean, nullable=False),
        sa.Column("class_filter", sa.JSON, nullable=True),
        sa.Column("status_filter", sa.String(16), nullable=True),
        sa.Column("organize_by_split", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("file_size", sa.BigInteger, nullable=True),
        sa.Column("image_count", sa.Integer, nullable=True),
        sa.Column("annotation_count", sa.Integer, nullable=True),
        sa.Column("blob_key", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _stamp("heartbeat_at", nullable=True),
        _stamp("created_at"),
        _stamp("completed_at", nullable=True),
        _stamp("expires_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_exports_dataset_id_datasets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_exports"),
        sa.UniqueConstraint("dataset_id", "name", name="uq_exports_dataset_id_name"),
    )
    op.create_index("ix_exports_status", "exports", ["status"])
    op.create_index(
        "ix_exports_organization_id_created_at", "exports", ["organization_id", "created_at"]
    )
    op.create_table(
        "organization_invites",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("invited_by", sa.String(36), nullable=True),
        _stamp("expires_at"),
        _stamp("created_at"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_organization_invites_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_organization_invites"),
    )
    op.create_index(
        "ix_organization_invites_organization_id_email",
        "organization_invites",
        ["organization_id", "email"],
    )
    op.create_table(
        "image_descriptors",
        sa.Column("image_id", sa.String(36), nullable=False),
        sa.Column("descriptor", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name="fk_image_descriptors_image_id_images",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", name="pk_image_descriptors"),
    )


def downgrade() -> None:
    op.drop_table("image_descriptors")
    op.drop_table("organization_invites")
    op.drop_table("exports")
    op.drop_column("images", "review_note")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("rate_limit")
        batch.drop_column("role")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("is_public")
        batch.drop_column("description")
