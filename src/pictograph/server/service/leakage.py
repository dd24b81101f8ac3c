"""Split leakage: near-duplicate images that sit in different splits (a picture trained on and
also validated or tested on). Compared with the descriptors similarity search uses
(``descriptors.py``); images without a split count as ``train``, where exports put them.

Candidates are found without comparing every pair (``alike.py``); a threshold below
``LEAST_THRESHOLD``, where that could miss a pair, is refused.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pictograph.errors import ValidationError
from pictograph.server.service.alike import LEAST_THRESHOLD, alike_pairs
from pictograph.server.service.context import AppContext, row_dict
from pictograph.server.service.datasets import resolve
from pictograph.server.service.descriptors import descriptors
from pictograph.server.service.workload import Wanted, always
from pictograph.server.store import tables as t

_I = t.images


def split_leaks(
    store: AppContext,
    organization_id: str,
    dataset_ref: str,
    *,
    threshold: float = 0.95,
    wanted: Wanted = always,
) -> dict[str, Any]:
    """``{"pairs": [{"similarity", "images": [a, b]}], "count", "threshold"}``: each pair of
    live images in different splits at least ``threshold`` alike, most alike first."""
    if not LEAST_THRESHOLD <= threshold <= 1:
        raise ValidationError(f"threshold is a number in [{LEAST_THRESHOLD}, 1]")
    with store.read() as conn:
        dataset = resolve(conn, organization_id, dataset_ref)
        columns = (_I.c.id, _I.c.sha256, _I.c.blob_key, _I.c.directory_path, _I.c.filename,
                   _I.c.split)  # fmt: skip
        query = sa.select(*columns).where(
            _I.c.dataset_id == dataset["id"], _I.c.is_archived == sa.false()
        )
        rows = {row.id: row_dict(row) for row in conn.execute(query)}
    known = descriptors(store, rows.values(), organization=organization_id, wanted=wanted)
    splits = {image_id: _split(row) for image_id, row in rows.items()}
    pairs: list[dict[str, Any]] = [
        {"similarity": round(score, 6), "images": _in_order(rows[a], rows[b])}
        for a, b, score in leaking_pairs(known, splits, threshold)
    ]
    pairs.sort(key=lambda p: (-p["similarity"], [i["path"] for i in p["images"]]))
    return {"pairs": pairs, "count": len(pairs), "threshold": threshold}


def leaking_pairs(
    known: dict[str, str], splits: dict[str, str], threshold: float
) -> list[tuple[str, str, float]]:
    """``(a, b, similarity)`` of every two images of ``known`` (id -> descriptor) in different
    ``splits`` at least ``threshold`` alike, ``a < b``."""
    return alike_pairs(known, threshold, compared=lambda a, b: splits[a] != splits[b])


def _split(row: dict[str, Any]) -> str:
    return str(row["split"] or "train")


def _image(row: dict[str, Any]) -> dict[str, Any]:
    path = f"{row['directory_path'].rstrip('/')}/{row['filename']}".lstrip("/")
    return {"id": row["id"], "path": path, "split": _split(row)}


def _in_order(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """The pair's two images by path (not by id, which is random)."""
    return sorted((_image(a), _image(b)), key=lambda image: str(image["path"]))
