"""Dataset versions: frozen image rows naming the live images' blobs; exports of a version."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013_versions"
down_revision = "0012_workflow"
branch_labels = None
depends_on = None


def _stamp(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("dataset_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("dataset_name", sa.String(255), nullable=False),
        sa.Column("classes", sa.JSON, nullable=False),
        sa.Column("annotation_types", sa.JSON, nullable=False),
        sa.Column("image_count", sa.Integer, nullable=False),
        sa.Column("annotation_count", sa.Integer, nullable=False),
        _stamp("created_at"),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_dataset_versions_dataset_id_datasets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_versions"),
        sa.UniqueConstraint("dataset_id", "name", name="uq_dataset_versions_dataset_id_name"),
    )
    op.create_table(
        "version_images",
        sa.Column("version_id", sa.String(36), nullable=False),
        sa.Column("image_id", sa.String(36), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name="fk_version_images_version_id_dataset_versions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "image_id", name="pk_version_images"),
        sa.UniqueConstraint(
            "version_id",
            "directory_path",
            "filename",
            name="uq_version_images_version_id_directory_path_filename",
        ),
    )
    op.create_index("ix_version_images_blob_key", "version_images", ["blob_key"])
    with op.batch_alter_table("exports") as batch:
        batch.add_column(sa.Column("version_id", sa.String(36), nullable=True))
        batch.create_foreign_key(
            "fk_exports_version_id_dataset_versions",
            "dataset_versions",
            ["version_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("exports") as batch:
        batch.drop_constraint("fk_exports_version_id_dataset_versions", type_="foreignkey")
        batch.drop_column("version_id")
    op.drop_table("version_images")
    op.drop_table("dataset_versions")
