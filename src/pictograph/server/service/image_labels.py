"""Image-level labels: tags (the classification labels), review outcome, train/val/test split."""

from __future__ import annotations

import random
from typing import Any

import sqlalchemy as sa

from pictograph.errors import ConflictError, ValidationError
from pictograph.server.service.context import AppContext, now
from pictograph.server.service.datasets import resolve
from pictograph.server.service.images import find_by_path
from pictograph.server.service.paths import canonical_uuid, is_uuid
from pictograph.server.store import tables as t

_I = t.images
SPLITS = ("train", "val", "test")
REVIEW_ACTIONS = {"approve": "complete", "request_changes": "annotate"}
MAX_TAG_IDS = 10_000


def bulk_tag(
    store: AppContext,
    organization_id: str,
    ref: str,
    image_ids: list[str],
    tags: list[str],
    add: bool,
) -> dict[str, Any]:
    """Add (union) or remove ``tags`` on the dataset's images named by id: ``{"processed"}``.
    Ids of other datasets or organisations are not touched."""
    if len(image_ids) > MAX_TAG_IDS:
        raise ValidationError(f"at most {MAX_TAG_IDS} images per request")
    clean = [tag.strip() for tag in tags if isinstance(tag, str) and tag.strip()]
    if not clean:
        raise ValidationError("give at least one non-blank tag")
    ids = [canonical_uuid(value) for value in image_ids if is_uuid(value)]
    processed = 0
    with store.write() as conn:
        dataset = resolve(conn, organization_id, ref)
        query = sa.select(_I.c.id, _I.c.tags).where(_I.c.dataset_id == dataset["id"])
        for row in conn.execute(query.where(_I.c.id.in_(ids))).all():
            current = list(row.tags or [])
            if add:
                new = current + [tag for tag in dict.fromkeys(clean) if tag not in current]
            else:
                new = [tag for tag in current if tag not in clean]
            values = {"tags": new, "updated_at": now()}
            conn.execute(_I.update().where(_I.c.id == row.id).values(**values))
            processed += 1
    return {"processed": processed}


def review(
    store: AppContext,
    organization_id: str,
    ref: str,
    segment: str,
    action: str,
    note: str | None,
    reviewer: str | None = None,
) -> dict[str, Any]:
    """``approve`` sets status ``complete``; ``request_changes`` sets ``annotate`` and keeps the
    note; either remembers the reviewer's key name. ``{"id", "status", "review_note"}``."""
    if action not in REVIEW_ACTIONS:
        raise ValidationError(f"action must be one of {', '.join(REVIEW_ACTIONS)}")
    status = REVIEW_ACTIONS[action]
    stored_note = note if action == "request_changes" else None
    with store.write() as conn:
        row = find_by_path(conn, organization_id, ref, segment)
        values: dict[str, Any] = {"status": status, "review_note": stored_note}
        values |= {"reviewed_by": reviewer, "updated_at": now()}
        conn.execute(_I.update().where(_I.c.id == row["id"]).values(**values))
    return {"id": row["id"], "status": status, "review_note": stored_note}


def set_split(
    store: AppContext, organization_id: str, ref: str, segment: str, split: str | None
) -> dict[str, Any]:
    """Assign (or with None clear) one image's split: ``{"id", "split"}``."""
    if split is not None and split not in SPLITS:
        raise ValidationError(f"split must be one of {', '.join(SPLITS)} or null")
    with store.write() as conn:
        row = find_by_path(conn, organization_id, ref, segment)
        values = {"split": split, "updated_at": now()}
        conn.execute(_I.update().where(_I.c.id == row["id"]).values(**values))
    return {"id": row["id"], "split": split}


def assign_splits(
    store: AppContext,
    organization_id: str,
    ref: str,
    weights: tuple[int, int, int],
    seed: int,
    mode: str = "random",
) -> dict[str, int]:
    """Split every non-archived image by integer percentages (val and test take their floor,
    train the rest), shuffled deterministically by ``seed``. ``{"processed", "train", "val",
    "test"}``. ``ConflictError`` for ``embedding`` mode (this server keeps no embedding map)."""
    if mode == "embedding":
        raise ConflictError("no embedding map exists for this dataset: use split_mode 'random'")
    if mode != "random":
        raise ValidationError("split_mode must be 'random' or 'embedding'")
    if any(weight < 0 for weight in weights) or sum(weights) <= 0:
        raise ValidationError("train, val and test are non-negative percentages, not all 0")
    with store.write() as conn:
        dataset = resolve(conn, organization_id, ref)
        where = (_I.c.dataset_id == dataset["id"], _I.c.is_archived == sa.false())
        ids = list(conn.execute(sa.select(_I.c.id).where(*where).order_by(_I.c.id)).scalars())
        random.Random(seed).shuffle(ids)
        total = sum(weights)
        val = len(ids) * weights[1] // total
        test = len(ids) * weights[2] // total
        parts = {"val": ids[:val], "test": ids[val : val + test], "train": ids[val + test :]}
        stamp = now()
        for split, members in parts.items():
            for start in range(0, len(members), 500):
                chunk = members[start : start + 500]
                values = {"split": split, "updated_at": stamp}
                conn.execute(_I.update().where(_I.c.id.in_(chunk)).values(**values))
    counts = {split: len(members) for split, members in parts.items()}
    return {"processed": len(ids), **counts}
