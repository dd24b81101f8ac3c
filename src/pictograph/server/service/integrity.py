"""Re-hashing stored bytes: every image's blob against the SHA-256 recorded when it arrived."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import sqlalchemy as sa

from pictograph.errors import NotFoundError
from pictograph.server.service.context import AppContext
from pictograph.server.store import tables as t
from pictograph.server.store.blobs import read_chunks


@dataclass
class StoreCheck:
    """Images whose bytes are as recorded, and those whose bytes are gone or changed."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)  # "dataset-id /folder/name (blob key)"
    mismatched: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.mismatched)


def check_store(store: AppContext, *, batch: int = 1000) -> StoreCheck:
    """Read every image's blob and compare its SHA-256 with the recorded one."""
    images = t.images
    result = StoreCheck()
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
            except NotFoundError:
                result.missing.append(name)
                continue
            if digest.hexdigest() != row.sha256:
                result.mismatched.append(name)
        after = rows[-1].id
