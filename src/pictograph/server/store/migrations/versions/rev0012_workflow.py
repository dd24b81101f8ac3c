"""The labelling workflow: who labelled and who reviewed an image, and the queue's index."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_workflow"
down_revision = "0006_trash"
branch_labels = None
depends_on = None

_QUEUE_INDEX = "ix_images_dataset_id_status_directory_path_filename_id"


def upgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("labelled_by", sa.String(255), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(255), nullable=True))
    op.create_index(
        _QUEUE_INDEX, "images", ["dataset_id", "status", "directory_path", "filename", "id"]
    )


def downgrade() -> None:
    op.drop_index(_QUEUE_INDEX, table_name="images")
    with op.batch_alter_table("images") as batch:
        batch.drop_column("reviewed_by")
        batch.drop_column("labelled_by")
