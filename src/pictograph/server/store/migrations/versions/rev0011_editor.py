"""Each image's annotation version: a counter every save of its annotations raises, so an
editor's save of an older version is refused instead of overwriting someone else's work."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_editor"
down_revision = "0013_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "images",
        sa.Column("annotation_version", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_column("annotation_version")
