"""Idempotency claims are leased: a claim whose owner died expires instead of answering 409."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_hostile"
down_revision = "0002_upload_nonce"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "idempotency_records",
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("idempotency_records", "lease_expires_at")
