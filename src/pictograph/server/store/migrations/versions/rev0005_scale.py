"""Pending uploads may be announced before their bytes arrive: a presigned upload straight to the
bucket has no size or SHA-256 until register checks the object."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_scale"
down_revision = "0003_hostile"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pending_uploads") as batch:
        batch.alter_column("sha256", existing_type=sa.String(64), nullable=True)
        batch.alter_column("file_size", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM pending_uploads WHERE sha256 IS NULL OR file_size IS NULL")
    with op.batch_alter_table("pending_uploads") as batch:
        batch.alter_column("sha256", existing_type=sa.String(64), nullable=False)
        batch.alter_column("file_size", existing_type=sa.BigInteger(), nullable=False)
