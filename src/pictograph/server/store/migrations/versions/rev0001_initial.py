"""Initial schema: organisations, keys, datasets, folders, images, pending uploads, secrets."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def _id(name: str = "id", nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organization_id"],
        ["organizations.id"],
        name=f"fk_{table}_organization_id_organizations",
        ondelete="CASCADE",
    )


def _dataset_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["dataset_id"], ["datasets.id"], name=f"fk_{table}_dataset_id_datasets", ondelete="CASCADE"
    )


def _accounts() -> None:
    op.create_table(
        "organizations",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
        sa.UniqueConstraint("name", name="uq_organizations_name"),
    )
    op.create_table(
        "api_keys",
        _id(),
        _id("organization_id"),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        _at("created_at"),
        _at("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
        _org_fk("api_keys"),
    )


def _datasets() -> None:
    op.create_table(
        "datasets",
        _id(),
        _id("organization_id"),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("readme", sa.Text, nullable=True),
        sa.Column("annotation_types", sa.JSON, nullable=False),
        sa.Column("classes", sa.JSON, nullable=False),
        sa.Column("is_public", sa.Boolean, nullable=False),
        sa.Column("is_archived", sa.Boolean, nullable=False),
        _at("archived_at", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_datasets"),
        sa.UniqueConstraint("organization_id", "name", name="uq_datasets_organization_id_name"),
        _org_fk("datasets"),
    )
    op.create_index(
        "ix_datasets_organization_id_is_archived_created_at_id",
        "datasets",
        ["organization_id", "is_archived", "created_at", "id"],
    )
    op.create_table(
        "directories",
        _id(),
        _id("dataset_id"),
        sa.Column("full_path", sa.String(4096), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        _id("parent_directory_id", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_directories"),
        sa.UniqueConstraint("dataset_id", "full_path", name="uq_directories_dataset_id_full_path"),
        _dataset_fk("directories"),
    )


def _images() -> None:
    op.create_table(
        "images",
        _id(),
        _id("dataset_id"),
        sa.Column("directory_path", sa.String(4096), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("file_size", sa.BigInteger, nullable=False),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("height", sa.Integer, nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("blob_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("split", sa.String(8), nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("annotations", sa.JSON, nullable=False),
        sa.Column("annotation_count", sa.Integer, nullable=False),
        sa.Column("min_confidence", sa.Float, nullable=True),
        sa.Column("is_archived", sa.Boolean, nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_images"),
        sa.UniqueConstraint(
            "dataset_id",
            "directory_path",
            "filename",
            name="uq_images_dataset_id_directory_path_filename",
        ),
        _dataset_fk("images"),
    )
    op.create_index(
        "ix_images_dataset_id_is_archived_created_at_id",
        "images",
        ["dataset_id", "is_archived", "created_at", "id"],
    )
    op.create_index("ix_images_dataset_id_filename", "images", ["dataset_id", "filename"])
    op.create_table(
        "pending_uploads",
        _id("dataset_id"),
        sa.Column("directory_path", sa.String(4096), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("blob_key", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_size", sa.BigInteger, nullable=False),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("height", sa.Integer, nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint(
            "dataset_id", "directory_path", "filename", name="pk_pending_uploads"
        ),
        _dataset_fk("pending_uploads"),
    )


def _server() -> None:
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_server_secrets"),
    )
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_records"),
        sa.UniqueConstraint(
            "scope", "idempotency_key", name="uq_idempotency_records_scope_idempotency_key"
        ),
    )


def upgrade() -> None:
    _accounts()
    _datasets()
    _images()
    _server()


def downgrade() -> None:
    for table in (
        "idempotency_records",
        "server_secrets",
        "pending_uploads",
        "images",
        "directories",
        "datasets",
        "api_keys",
        "organizations",
    ):
        op.drop_table(table)
