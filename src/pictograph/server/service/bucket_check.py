"""The full check of images registered from the bucket unchecked (``presigned``: an object PUT
with a SHA-256 the bucket verified is registered on the strength of that checksum, without the
replica reading it): read whole once, off the request path, by the worker that describes new
images (``descriptors``), on the bytes it reads anyway.

An image whose bytes hash to its recorded SHA-256 and pass ``inspect_image`` (the check every
upload passes) is marked checked, with its real dimensions. Any other is quarantined: moved out
of its dataset into ``quarantined_images`` with why, its bytes kept there for an operator (and
released with the dataset). ``pictograph verify --store`` lists the quarantine, and a re-run of
the upload that sent it reports the file (``names-digest``'s ``quarantined``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any, BinaryIO

import sqlalchemy as sa

from pictograph.errors import NotFoundError, ValidationError
from pictograph.server.imaging import inspect_image
from pictograph.server.service.context import AppContext, now
from pictograph.server.store import tables as t
from pictograph.server.store.blobs import read_chunks

log = logging.getLogger("pictograph.bucket_check")
_I = t.images
_Q = t.quarantined_images


def vet(store: AppContext, image_ids: Sequence[str], source: BinaryIO) -> bool:
    """Check ``source`` (the open blob of ``image_ids``) for those of them still unchecked;
    False when they were quarantined (the bytes are not a whole image), True otherwise. Cheap
    when none is unchecked: one query by primary key."""
    with store.read() as conn:
        rows = [
            dict(row._mapping)
            for row in conn.execute(
                sa.select(_I).where(_I.c.id.in_(list(image_ids)), _I.c.unchecked.is_(True))
            )
        ]
    if not rows:
        return True
    digest = hashlib.sha256()
    for chunk in read_chunks(source):
        digest.update(chunk)
    try:
        if any(row["sha256"] != digest.hexdigest() for row in rows):
            raise ValidationError("the stored bytes do not match the checksum they were sent with")
        info = inspect_image(source, rows[0]["content_type"] or "", store.decoding)
    except ValidationError as error:
        quarantine(store, rows, error)
        return False
    with store.write() as conn:
        conn.execute(
            _I.update()
            .where(_I.c.id.in_([row["id"] for row in rows]), _I.c.unchecked.is_(True))
            .values(unchecked=False, width=info.width, height=info.height)
        )
    return True


def check_dataset(store: AppContext, dataset_id: str) -> int:
    """Check now, on the caller's thread, the dataset's images still unchecked (an export does
    before it reads any row, and a new version before it freezes any, so neither holds bytes
    that were never checked whole); how many of them were quarantined."""
    query = sa.select(_I.c.id, _I.c.blob_key).where(
        _I.c.dataset_id == dataset_id, _I.c.unchecked.is_(True)
    )
    with store.read() as conn:
        rows = conn.execute(query).all()
    quarantined = 0
    for row in rows:
        try:
            with store.blobs.open(row.blob_key) as source:
                quarantined += not vet(store, [row.id], source)
        except NotFoundError:  # deleted meanwhile: nothing to export either
            continue
    return quarantined


def awaiting(store: AppContext, image_ids: Sequence[str]) -> bool:
    """Whether any of ``image_ids`` still awaits its check."""
    query = sa.select(_I.c.id).where(_I.c.id.in_(list(image_ids)), _I.c.unchecked.is_(True))
    with store.read() as conn:
        return conn.execute(query.limit(1)).first() is not None


def quarantine(store: AppContext, rows: Sequence[dict[str, Any]], error: ValidationError) -> None:
    """Move the image ``rows`` out of their datasets into the quarantine, saying why; a row
    changed or deleted meanwhile is left as it is."""
    stamp = now()
    with store.write() as conn:
        for row in rows:
            gone = conn.execute(
                _I.delete().where(_I.c.id == row["id"], _I.c.unchecked.is_(True))
            ).rowcount
            if not gone:
                continue
            conn.execute(
                _Q.insert().values(
                    id=row["id"],
                    dataset_id=row["dataset_id"],
                    directory_path=row["directory_path"],
                    filename=row["filename"],
                    file_size=row["file_size"],
                    content_type=row["content_type"],
                    sha256=row["sha256"],
                    blob_key=row["blob_key"],
                    code=error.code or "validation_error",
                    reason=error.message,
                    uploaded_at=row["created_at"],
                    quarantined_at=stamp,
                )
            )
            path = f"{row['directory_path'].rstrip('/')}/{row['filename']}"
            log.warning("quarantined %s of dataset %s: %s", path, row["dataset_id"], error.message)


def quarantined(store: AppContext, dataset_id: str | None = None) -> list[dict[str, Any]]:
    """The quarantine (of one dataset, or all), newest first."""
    query = sa.select(_Q).order_by(_Q.c.quarantined_at.desc(), _Q.c.id)
    if dataset_id is not None:
        query = query.where(_Q.c.dataset_id == dataset_id)
    with store.read() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
