"""The metadata schema (SQLAlchemy Core), one schema for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _uuid(name: str = "id", **kw: object) -> sa.Column[str]:
    return sa.Column(name, sa.String(36), **kw)  # type: ignore[arg-type]


def _stamp(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


organizations = sa.Table(
    "organizations",
    metadata,
    _uuid(primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    _stamp("created_at"),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("is_public", sa.Boolean, nullable=True),
    _stamp("updated_at", nullable=True),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    _uuid(primary_key=True),
    _uuid("organization_id", nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("key_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("prefix", sa.String(32), nullable=False),
    _stamp("created_at"),
    _stamp("revoked_at", nullable=True),
    # What the key may do (viewer < member < admin < owner); keys from `pictograph keys` own.
    sa.Column("role", sa.String(16), nullable=False, server_default="owner"),
    # A per-key cap below the server's limit; null means the server's limit.
    sa.Column("rate_limit", sa.Integer, nullable=True),
    _stamp("expires_at", nullable=True),
    # Kept to the minute: written at most once a minute per key and process, never per request.
    _stamp("last_used_at", nullable=True),
    sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
)

#: The partial unique index on the names of live (not trashed) datasets.
LIVE_DATASET_NAME = "uq_datasets_live_name"

datasets = sa.Table(
    "datasets",
    metadata,
    _uuid(primary_key=True),
    _uuid("organization_id", nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("readme", sa.Text, nullable=True),
    sa.Column("annotation_types", sa.JSON, nullable=False),
    sa.Column("classes", sa.JSON, nullable=False),
    sa.Column("is_public", sa.Boolean, nullable=False, default=False),
    sa.Column("is_archived", sa.Boolean, nullable=False, default=False),
    _stamp("archived_at", nullable=True),
    _stamp("created_at"),
    _stamp("updated_at"),
    # In the trash since then (by that key, when known); null for a live dataset.
    _stamp("deleted_at", nullable=True),
    _uuid("deleted_by", nullable=True),
    sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
    # A name is unique among live datasets only: deleting one frees its name at once.
    sa.Index(
        LIVE_DATASET_NAME,
        "organization_id",
        "name",
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    ),
    sa.Index(None, "organization_id", "is_archived", "created_at", "id"),
)

directories = sa.Table(
    "directories",
    metadata,
    _uuid(primary_key=True),
    _uuid("dataset_id", nullable=False),
    sa.Column("full_path", sa.String(4096), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    _uuid("parent_directory_id", nullable=True),
    _stamp("created_at"),
    _stamp("updated_at"),
    sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
    sa.UniqueConstraint("dataset_id", "full_path"),
)

#: Each dataset's insights figures, kept by triggers on ``images`` (migration 0016).
insight_counts = sa.Table(
    "insight_counts",
    metadata,
    _uuid("dataset_id", nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("w", sa.Integer, nullable=False),
    sa.Column("h", sa.Integer, nullable=False),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("dataset_id", "kind", "key", "w", "h"),
)

images = sa.Table(
    "images",
    metadata,
    _uuid(primary_key=True),
    _uuid("dataset_id", nullable=False),
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
    sa.Column("annotation_count", sa.Integer, nullable=False, default=0),
    sa.Column("min_confidence", sa.Float, nullable=True),
    sa.Column("is_archived", sa.Boolean, nullable=False, default=False),
    _stamp("created_at"),
    _stamp("updated_at"),
    # The nonce of the signed upload URL the bytes came through (register-on-upload only): the
    # same URL replayed with the same bytes is answered with this image, not a conflict.
    sa.Column("upload_nonce", sa.String(32), nullable=True),
    # The reviewer's note of the last "request changes" (review route).
    sa.Column("review_note", sa.Text, nullable=True),
    # Deleted without ``permanent``: archived and in the trash since then (restorable until the
    # retention passes); null for live images and for ones archived on purpose.
    _stamp("deleted_at", nullable=True),
    # The names of the keys that last submitted the image for review and last reviewed it.
    sa.Column("labelled_by", sa.String(255), nullable=True),
    sa.Column("reviewed_by", sa.String(255), nullable=True),
    # Raised by every change of ``annotations``: an editor's save names the version it edited.
    sa.Column("annotation_version", sa.Integer, nullable=False, server_default="0"),
    # Registered from the bucket on the strength of the checksum it verified, not yet read whole
    # (service/bucket_check.py): the background worker checks it, or quarantines it.
    sa.Column("unchecked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
    sa.UniqueConstraint("dataset_id", "directory_path", "filename"),
    sa.Index(None, "dataset_id", "is_archived", "created_at", "id"),
    sa.Index(None, "dataset_id", "filename"),
    # The labelling queue: a dataset's images of one status in name order.
    sa.Index(None, "dataset_id", "status", "directory_path", "filename", "id"),
)

pending_uploads = sa.Table(
    "pending_uploads",
    metadata,
    _uuid("dataset_id", nullable=False),
    sa.Column("directory_path", sa.String(4096), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("blob_key", sa.String(64), nullable=False),
    # Both NULL while a presigned upload to the bucket is announced but not yet checked.
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("file_size", sa.BigInteger, nullable=True),
    sa.Column("width", sa.Integer, nullable=True),
    sa.Column("height", sa.Integer, nullable=True),
    sa.Column("content_type", sa.String(100), nullable=True),
    _stamp("created_at"),
    # The SHA-256 a presigned PUT was bound to (the bucket refuses other bytes); with it, and
    # the bucket's verified checksum equal to it, register trusts the object without reading it
    # and marks it ``unchecked`` (migration 0018).
    sa.Column("declared_sha256", sa.String(64), nullable=True),
    sa.Column("unchecked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("dataset_id", "directory_path", "filename"),
)

#: Images registered from the bucket unchecked whose full check failed (service/bucket_check.py):
#: out of their dataset, with why, their bytes kept for an operator until the dataset goes.
quarantined_images = sa.Table(
    "quarantined_images",
    metadata,
    _uuid(primary_key=True),
    _uuid("dataset_id", nullable=False),
    sa.Column("directory_path", sa.String(4096), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("file_size", sa.BigInteger, nullable=False),
    sa.Column("content_type", sa.String(100), nullable=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("blob_key", sa.String(64), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    _stamp("uploaded_at"),
    _stamp("quarantined_at"),
    sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
    sa.Index(None, "dataset_id", "quarantined_at"),
)

#: Why the bytes PUT to a three-step upload URL were refused (the blob is gone already): its
#: register answers with this reason (migration 0017). No ``blob_key``: it keeps no bytes.
refused_uploads = sa.Table(
    "refused_uploads",
    metadata,
    _uuid("dataset_id", nullable=False),
    sa.Column("directory_path", sa.String(4096), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    _stamp("created_at"),
    sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("dataset_id", "directory_path", "filename"),
)

server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

idempotency_records = sa.Table(
    "idempotency_records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=True),
    sa.Column("body", sa.LargeBinary, nullable=True),
    _stamp("created_at"),
    # While the first request runs its claim is leased and renewed; a dead owner's lease lapses.
    _stamp("lease_expires_at", nullable=True),
    sa.UniqueConstraint("scope", "idempotency_key"),
)

# A frozen copy of a dataset's images, labels, classes and splits (service/versions.py). Its
# images are rows naming the same blobs as the live images did (no bytes copied); gc keeps a blob
# while any row of ``version_images`` names it.
dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    _uuid(primary_key=True),
    _uuid("organization_id", nullable=False),
    _uuid("dataset_id", nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    # The dataset's name, classes and annotation types when the version was made.
    sa.Column("dataset_name", sa.String(255), nullable=False),
    sa.Column("classes", sa.JSON, nullable=False),
    sa.Column("annotation_types", sa.JSON, nullable=False),
    sa.Column("image_count", sa.Integer, nullable=False),
    sa.Column("annotation_count", sa.Integer, nullable=False),
    _stamp("created_at"),
    sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
    sa.UniqueConstraint("dataset_id", "name"),
)
version_images = sa.Table(
    "version_images",
    metadata,
    _uuid("version_id", nullable=False),
    _uuid("image_id", nullable=False),
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
    sa.PrimaryKeyConstraint("version_id", "image_id"),
    sa.ForeignKeyConstraint(["version_id"], ["dataset_versions.id"], ondelete="CASCADE"),
    sa.UniqueConstraint("version_id", "directory_path", "filename"),
    sa.Index(None, "blob_key"),
)
exports = sa.Table(
    "exports",
    metadata,
    _uuid(primary_key=True),
    _uuid("organization_id", nullable=False),
    _uuid("dataset_id", nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("format", sa.String(32), nullable=False),
    sa.Column("include_images", sa.Boolean, nullable=False),
    sa.Column("class_filter", sa.JSON, nullable=True),
    sa.Column("status_filter", sa.String(16), nullable=True),
    sa.Column("organize_by_split", sa.Boolean, nullable=False),
    # pending -> processing -> completed | failed
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("file_size", sa.BigInteger, nullable=True),
    sa.Column("image_count", sa.Integer, nullable=True),
    sa.Column("annotation_count", sa.Integer, nullable=True),
    sa.Column("blob_key", sa.String(64), nullable=True),
    # How many times a worker took the job, and when the one building it last said so.
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    _stamp("heartbeat_at", nullable=True),
    _stamp("created_at"),
    _stamp("completed_at", nullable=True),
    _stamp("expires_at", nullable=True),
    # The dataset version exported (None: the live dataset).
    _uuid("version_id", nullable=True),
    sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["version_id"], ["dataset_versions.id"], ondelete="CASCADE"),
    sa.UniqueConstraint("dataset_id", "name"),
    sa.Index(None, "status"),
    sa.Index(None, "organization_id", "created_at"),
)

#: Blobs about to be written: a key is recorded here (committed) before any byte of it is
#: stored, so a sweep never takes a blob whose row is still to come. ``gc`` forgets an intent once
#: a row refers to its blob, or once it is older than ``gc.INTENT_HORIZON`` (abandoned).
blob_intents = sa.Table(
    "blob_intents",
    metadata,
    sa.Column("blob_key", sa.String(64), primary_key=True),
    _stamp("created_at"),
    sa.Index(None, "created_at"),
)

organization_invites = sa.Table(
    "organization_invites",
    metadata,
    _uuid(primary_key=True),
    _uuid("organization_id", nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    _uuid("invited_by", nullable=True),
    _stamp("expires_at"),
    _stamp("created_at"),
    sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
    sa.Index(None, "organization_id", "email"),
)

# A small visual fingerprint of each image, for `search/similar`: a 64-bit difference hash and a
# 4x4 RGB thumbnail, both hex. Made lazily (see service/descriptors.py).
image_descriptors = sa.Table(
    "image_descriptors",
    metadata,
    _uuid("image_id", primary_key=True),
    sa.Column("descriptor", sa.String(128), nullable=False),
    sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="CASCADE"),
)

# Every write that removes or changes data or access (service/audit.py): who, what, when, where.
# Not tied to the key or organisation rows by a foreign key: the trail outlives what it names.
audit_log = sa.Table(
    "audit_log",
    metadata,
    _uuid(primary_key=True),
    _uuid("organization_id", nullable=False),
    _uuid("key_id", nullable=True),
    sa.Column("key_name", sa.String(255), nullable=True),
    sa.Column("action", sa.String(255), nullable=False),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("client", sa.String(255), nullable=True),
    _stamp("created_at"),
    sa.Index(None, "organization_id", "created_at"),
    sa.Index(None, "created_at"),
)
