"""Images remember the upload token they were registered from, so a replayed upload is a replay."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_upload_nonce"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("images", sa.Column("upload_nonce", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("images", "upload_nonce")
