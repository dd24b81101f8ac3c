"""The trash: datasets and images deleted without ``permanent`` keep their rows and bytes, with
``deleted_at``, until restored or the retention passes; a dataset name is unique among live
datasets only, so deleting one frees its name at once."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_trash"
down_revision = "0010_audit"
branch_labels = None
depends_on = None

_LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("deleted_by", sa.String(36), nullable=True))
        batch.drop_constraint("uq_datasets_organization_id_name", type_="unique")
    op.create_index(
        "uq_datasets_live_name",
        "datasets",
        ["organization_id", "name"],
        unique=True,
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Trashed rows cannot survive the old schema's constraint: they go (their blobs become
    # orphans for the next gc).
    op.execute("DELETE FROM images WHERE dataset_id IN "
               "(SELECT id FROM datasets WHERE deleted_at IS NOT NULL)")  # fmt: skip
    op.execute("DELETE FROM directories WHERE dataset_id IN "
               "(SELECT id FROM datasets WHERE deleted_at IS NOT NULL)")  # fmt: skip
    op.execute("DELETE FROM datasets WHERE deleted_at IS NOT NULL")
    with op.batch_alter_table("images") as batch:
        batch.drop_column("deleted_at")
    op.drop_index("uq_datasets_live_name", table_name="datasets")
    with op.batch_alter_table("datasets") as batch:
        batch.create_unique_constraint(
            "uq_datasets_organization_id_name", ["organization_id", "name"]
        )
        batch.drop_column("deleted_by")
        batch.drop_column("deleted_at")
