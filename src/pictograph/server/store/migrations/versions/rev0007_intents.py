"""Blob intents: every blob's key is recorded before its bytes are written, so ``gc`` never
removes a blob whose row is still to be committed, whatever its grace period."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_intents"
down_revision = "0005_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_intents",
        sa.Column("blob_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("blob_key", name="pk_blob_intents"),
    )
    op.create_index("ix_blob_intents_created_at", "blob_intents", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_blob_intents_created_at", table_name="blob_intents")
    op.drop_table("blob_intents")
