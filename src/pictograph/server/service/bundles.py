"""An image's data bundle: one ZIP of the image, its annotations and a manifest of what is inside.

``GET $P/images/{dataset}/{folder/file}/data-bundle`` (the official ``images.download_bundle``).
Members: ``image/<filename>`` (the original bytes), ``annotations.json`` (Pictograph JSON, as the
``pictograph`` export writes one image), ``manifest.json`` (the image's facts, each member with its
size and SHA-256, and what is left out with the reason: a depth map only exists when one has been
generated, and nothing here generates one).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

from pictograph.server.service.annotation_shapes import readable
from pictograph.server.service.context import AppContext, aware
from pictograph.server.service.images import find_by_path
from pictograph.server.store.blobs import read_chunks

MANIFEST_VERSION = 1
_FACTS = ("id", "filename", "directory_path", "width", "height", "content_type", "file_size",
          "sha256", "status", "split", "tags")  # fmt: skip


def _image_bytes(store: AppContext, key: str) -> bytes:
    with store.blobs.open(key) as source:
        return b"".join(read_chunks(source))


def build_bundle(
    store: AppContext, organization_id: str, ref: str, segment: str
) -> tuple[str, bytes]:
    """(archive filename, ZIP bytes) of the image at ``segment``; ``NotFoundError`` when absent."""
    with store.read() as conn:
        row = find_by_path(conn, organization_id, ref, segment)
    image = {name: row[name] for name in _FACTS}
    labels = {"image": image, "annotations": [readable(a) for a in row["annotations"] or []]}
    members = {
        f"image/{row['filename']}": _image_bytes(store, row["blob_key"]),
        "annotations.json": json.dumps(labels, indent=2, default=str).encode(),
    }
    manifest: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "image": image,
        "created_at": aware(row["created_at"]),
        "files": [
            {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for path, data in members.items()
        ],
        "omitted": [
            {"item": "depth_map", "reason": "no depth map has been generated for this image"}
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            archive.writestr(path, data)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, default=str))
    stem = row["filename"].rsplit(".", 1)[0]
    return f"{stem}-data-bundle.zip", buffer.getvalue()
