"""The labelling workflow: the queues (the next image to label or to review), submitting an image
for review, who labelled and reviewed it, and a dataset's counts per status.

Statuses flow new -> annotate -> review -> complete. An annotator submits (status ``review``);
a reviewer approves (``complete``) or requests changes with a note (``annotate``) through
``image_labels.review``. A queue is a dataset's images of the stage's statuses in one stable
order, folder path then filename then id, so "next after this one" never skips or repeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

import sqlalchemy as sa

from pictograph.errors import ConflictError, NotFoundError, ValidationError
from pictograph.models import ImageStatus
from pictograph.server.service.browsing import ImageView
from pictograph.server.service.context import AppContext, Links, now
from pictograph.server.service.datasets import resolve
from pictograph.server.service.images import find_by_path
from pictograph.server.service.paths import canonical_uuid, is_uuid, normalize_directory
from pictograph.server.service.views import to_image
from pictograph.server.store import tables as t

_I = t.images

#: Which statuses each queue holds.
STAGES: dict[str, tuple[str, ...]] = {"label": ("new", "annotate"), "review": ("review",)}
#: The queue's order; ``id`` last so it is total.
QUEUE_ORDER = (_I.c.directory_path, _I.c.filename, _I.c.id)


@dataclass(frozen=True)
class ReviewState:
    """What the image page shows of an image's review: the note, and who labelled and
    reviewed it (key names)."""

    status: str
    review_note: str | None
    labelled_by: str | None
    reviewed_by: str | None


def next_in_queue(
    store: AppContext,
    organization_id: str,
    ref: str,
    links: Links,
    *,
    stage: str,
    after: str | None = None,
    folder: str | None = None,
    class_name: str | None = None,
) -> dict[str, Any]:
    """The first image of the ``stage`` queue (after image ``after`` in the queue's order, when
    given), within ``folder`` and its subfolders and holding class ``class_name`` when given:
    ``{"image": Image | None, "remaining": n, "stage"}``, ``remaining`` counting the whole
    queue so filtered. ``NotFoundError`` when ``after`` is not an image of the dataset."""
    if stage not in STAGES:
        raise ValidationError(f"stage must be one of {', '.join(STAGES)}")
    view = ImageView(
        folder=normalize_directory(folder) if folder else None,
        subfolders=True,
        has_class=class_name or None,
    )
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        where = [_I.c.dataset_id == dataset["id"], _I.c.status.in_(STAGES[stage])]
        where += view.clauses()
        count = sa.select(sa.func.count()).select_from(_I).where(*where)
        remaining = conn.execute(count).scalar_one()
        query = sa.select(_I).where(*where)
        if after:
            place = _place(conn, dataset["id"], after)
            query = query.where(sa.tuple_(*QUEUE_ORDER) > sa.tuple_(*place))
        row = conn.execute(query.order_by(*QUEUE_ORDER).limit(1)).first()
    image = to_image(row._mapping, links).model_dump(mode="json") if row is not None else None
    return {"image": image, "remaining": remaining, "stage": stage}


def _place(conn: sa.Connection, dataset_id: str, image_id: str) -> tuple[Any, ...]:
    """The queue-order keys of image ``image_id`` of the dataset, whatever its status now."""
    found = None
    if is_uuid(image_id):
        query = sa.select(*QUEUE_ORDER).where(
            _I.c.dataset_id == dataset_id, _I.c.id == canonical_uuid(image_id)
        )
        found = conn.execute(query).first()
    if found is None:
        raise NotFoundError(f"image {image_id!r} not found in this dataset")
    return tuple(found)


def submit_for_review(
    store: AppContext, organization_id: str, ref: str, segment: str, labeller: str | None
) -> dict[str, Any]:
    """Status ``review``, remembering who submitted: ``{"id", "status", "labelled_by"}``.
    An image already ``complete`` is a ``ConflictError`` (a reviewer reopens it)."""
    with store.write() as conn:
        row = find_by_path(conn, organization_id, ref, segment)
        if row["status"] == "complete":
            raise ConflictError("this image is already complete: a reviewer can reopen it")
        values = {"status": "review", "labelled_by": labeller, "updated_at": now()}
        conn.execute(_I.update().where(_I.c.id == row["id"]).values(**values))
    return {"id": row["id"], "status": "review", "labelled_by": labeller}


def review_state(store: AppContext, image_id: str) -> ReviewState:
    """The review facts of an image the caller already found in its organisation."""
    columns = (_I.c.status, _I.c.review_note, _I.c.labelled_by, _I.c.reviewed_by)
    with store.read() as conn:
        row = conn.execute(sa.select(*columns).where(_I.c.id == image_id)).one()
    return ReviewState(row.status, row.review_note, row.labelled_by, row.reviewed_by)


def status_counts(store: AppContext, organization_id: str, ref: str) -> dict[str, int]:
    """How many of the dataset's (non-archived) images have each status, every status listed."""
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        query = (
            sa.select(_I.c.status, sa.func.count())
            .where(_I.c.dataset_id == dataset["id"], _I.c.is_archived == sa.false())
            .group_by(_I.c.status)
        )
        found = dict(conn.execute(query).tuples().all())
    return {status: int(found.get(status, 0)) for status in get_args(ImageStatus)}
