"""Near-duplicate clusters of a dataset (``GET $P/datasets/{dataset}/duplicates``), the official
``NearDuplicatesResult``: keep one image per cluster, archive the rest (with the batch archive).

Served from the stored descriptors (``descriptors.py``; one still missing is computed as a search
would). Pairs at least ``threshold`` alike are found by ``alike.py``'s banding; the pairs kept
(most alike first, at most ``neighbors`` per image, ``max_pairs`` in all) join images into
connected clusters. Each bound is clamped and reported, as the official API does: ``sample``
live images are scanned (oldest first), ``threshold`` is at least ``LEAST_THRESHOLD`` (below it
banding could miss a pair). Each cluster's first member is the one to keep: the most annotated,
then the oldest.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pictograph.errors import ValidationError
from pictograph.server.service.alike import LEAST_THRESHOLD, alike_pairs
from pictograph.server.service.context import AppContext, row_dict
from pictograph.server.service.datasets import resolve
from pictograph.server.service.descriptors import descriptors
from pictograph.server.service.paths import normalize_directory
from pictograph.server.service.workload import Wanted, always
from pictograph.server.store import tables as t

_I = t.images
DEFAULT_THRESHOLD = 0.95
DEFAULT_SAMPLE, MAX_SAMPLE = 1000, 2000
DEFAULT_NEIGHBORS, MAX_NEIGHBORS = 10, 100
DEFAULT_PAIRS, MAX_PAIRS = 2000, 20000


def _bound(value: int, most: int) -> int:
    return max(1, min(value, most))


def near_duplicates(
    store: AppContext,
    organization_id: str,
    dataset_ref: str,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    sample: int = DEFAULT_SAMPLE,
    neighbors: int = DEFAULT_NEIGHBORS,
    max_pairs: int = DEFAULT_PAIRS,
    directory_path: str | None = None,
    wanted: Wanted = always,
) -> dict[str, Any]:
    """The dataset's (or one folder's) near-duplicate clusters, largest first."""
    if not 0 <= threshold <= 1:
        raise ValidationError("threshold is a number in [0, 1]")
    threshold = max(threshold, LEAST_THRESHOLD)
    sample, neighbors = _bound(sample, MAX_SAMPLE), _bound(neighbors, MAX_NEIGHBORS)
    max_pairs = _bound(max_pairs, MAX_PAIRS)
    folder = normalize_directory(directory_path) if directory_path is not None else None
    rows, total = _scanned(store, organization_id, dataset_ref, folder, sample)
    known = descriptors(store, rows.values(), organization=organization_id, wanted=wanted)
    pairs = sorted(alike_pairs(known, threshold), key=lambda p: (-p[2], p[0], p[1]))
    edges = _kept(pairs, neighbors, max_pairs)
    order = {image_id: index for index, image_id in enumerate(rows)}  # oldest first
    groups = [_group(members, best, rows, order) for members, best in _clusters(edges)]
    groups.sort(key=lambda g: (-g["size"], -g["max_similarity"], g["members"][0]["id"]))
    return {
        "groups": groups,
        "group_count": len(groups),
        "duplicate_image_count": sum(g["size"] for g in groups),
        "redundant_count": sum(g["size"] - 1 for g in groups),
        "analyzed": len(known),
        "total_images": total,
        "sample_limit": sample,
        "sample_capped": total > sample,
        "pairs_capped": len(edges) < len(pairs),
        "threshold": threshold,
        "directory_path": folder,
    }


def _scanned(
    store: AppContext, organization_id: str, dataset_ref: str, folder: str | None, sample: int
) -> tuple[dict[str, dict[str, Any]], int]:
    """The first ``sample`` live images in scope (id -> row, oldest first), and how many there
    are in all."""
    with store.read() as conn:
        dataset = resolve(conn, organization_id, dataset_ref)
        scope = [_I.c.dataset_id == dataset["id"], _I.c.is_archived == sa.false()]
        if folder is not None:
            scope.append(_I.c.directory_path == folder)
        total = conn.execute(sa.select(sa.func.count()).where(*scope)).scalar_one()
        columns = (_I.c.id, _I.c.sha256, _I.c.blob_key, _I.c.directory_path, _I.c.filename,
                   _I.c.status, _I.c.annotation_count)  # fmt: skip
        query = sa.select(*columns).where(*scope).order_by(_I.c.created_at, _I.c.id).limit(sample)
        rows = {row.id: row_dict(row) for row in conn.execute(query)}
    return rows, int(total)


def _kept(
    pairs: list[tuple[str, str, float]], neighbors: int, max_pairs: int
) -> list[tuple[str, str, float]]:
    """``pairs`` (most alike first) with at most ``neighbors`` per image, ``max_pairs`` in all."""
    degree: dict[str, int] = {}
    kept: list[tuple[str, str, float]] = []
    for a, b, score in pairs:
        if len(kept) == max_pairs:
            break
        if degree.get(a, 0) < neighbors and degree.get(b, 0) < neighbors:
            degree[a], degree[b] = degree.get(a, 0) + 1, degree.get(b, 0) + 1
            kept.append((a, b, score))
    return kept


def _clusters(edges: list[tuple[str, str, float]]) -> list[tuple[set[str], float]]:
    """The connected components of ``edges`` (union-find), each with its best score."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b, _ in edges:
        parent[root(a)] = root(b)
    clusters: dict[str, set[str]] = {}
    for node in list(parent):
        clusters.setdefault(root(node), set()).add(node)
    best: dict[str, float] = {}
    for a, _, score in edges:
        best[root(a)] = max(score, best.get(root(a), 0.0))
    return [(members, best[key]) for key, members in clusters.items()]


def _group(
    cluster: set[str], best: float, rows: dict[str, dict[str, Any]], order: dict[str, int]
) -> dict[str, Any]:
    ranked = sorted(cluster, key=lambda i: (-rows[i]["annotation_count"], order[i]))
    return {
        "members": [_member(rows[image_id]) for image_id in ranked],
        "size": len(ranked),
        "max_similarity": round(best, 6),
    }


def _member(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "filename": row["filename"],
        "virtual_directory_path": row["directory_path"],
        "status": row["status"],
        "annotation_count": row["annotation_count"],
    }
