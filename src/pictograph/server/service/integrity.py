"""Re-hashing stored bytes: every image's blob against the SHA-256 recorded when it arrived, and
checked as an upload is (``inspect_image``): bytes as recorded that are not a whole image of their
type (a truncated JPEG registered from the bucket before issue 23, when only an object's first
KiB was checked) are named apart."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import sqlalchemy as sa

from pictograph.errors import NotFoundError, ValidationError
from pictograph.server.imaging import inspect_image
from pictograph.server.service import bucket_check
from pictograph.server.service.context import AppContext
from pictograph.server.store import tables as t
from pictograph.server.store.blobs import read_chunks


@dataclass
class StoreCheck:
    """Images whose bytes are as recorded, and those whose bytes are gone or changed."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)  # "dataset-id /folder/name (blob key)"
    mismatched: list[str] = field(default_factory=list)
    #: Bytes as recorded, but not a whole image of their type: "<name>: <reason>".
    damaged: list[str] = field(default_factory=list)
    #: Uploads the background check took out of their datasets (``bucket_check``), with why:
    #: listed, not a failure (nothing of them is in a dataset).
    quarantined: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.mismatched or self.damaged)


def check_store(store: AppContext, *, batch: int = 1000) -> StoreCheck:
    """Read every image's blob and compare its SHA-256 with the recorded one; list the
    quarantine."""
    images = t.images
    result = StoreCheck()
    result.quarantined = [
        f"{row['dataset_id']} {row['directory_path'].rstrip('/')}/{row['filename']} "
        f"({row['blob_key']}): {row['reason']}"
        for row in bucket_check.quarantined(store)
    ]
    after = ""
    while True:
        with store.read() as conn:
            rows = conn.execute(
                sa.select(
                    images.c.id,
                    images.c.dataset_id,
                    images.c.directory_path,
                    images.c.filename,
                    images.c.blob_key,
                    images.c.sha256,
                    images.c.content_type,
                )
                .where(images.c.id > after)
                .order_by(images.c.id)
                .limit(batch)
            ).all()
        if not rows:
            return result
        for row in rows:
            name = (
                f"{row.dataset_id} {row.directory_path.rstrip('/')}/{row.filename} ({row.blob_key})"
            )
            result.checked += 1
            try:
                with store.blobs.open(row.blob_key) as source:
                    digest = hashlib.sha256()
                    for chunk in read_chunks(source):
                        digest.update(chunk)
                    if digest.hexdigest() != row.sha256:
                        result.mismatched.append(name)
                        continue
                    inspect_image(source, row.content_type or "", store.decoding)
            except NotFoundError:
                result.missing.append(name)
            except ValidationError as error:
                result.damaged.append(f"{name}: {error.message}")
        after = rows[-1].id
