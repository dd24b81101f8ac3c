"""Storage URL scheme -> the blob store that serves it. A new backend is one module with a
``from_url(url)`` function and one line here."""

from __future__ import annotations

import importlib
from typing import cast
from urllib.parse import urlparse

from pictograph.errors import ConfigurationError
from pictograph.server.store.blobs import BlobStore, Reserve

#: Scheme -> module holding ``from_url``; imported only when used (boto3 is an optional extra).
BACKENDS: dict[str, str] = {
    "file": "pictograph.server.store.local_blobs",
    "s3": "pictograph.server.store.s3_blobs",
}


def open_blob_store(url: str, reserve: Reserve) -> BlobStore:
    """The blob store for ``url`` (``file:///abs/path``, ``s3://bucket/prefix``), recording each
    key it is about to write with ``reserve``; ``ConfigurationError`` for an unknown scheme or a
    store that cannot be reached."""
    scheme = urlparse(url).scheme
    module = BACKENDS.get(scheme)
    if module is None:
        known = ", ".join(f"{name}://" for name in BACKENDS)
        raise ConfigurationError(f"unsupported storage URL {url!r}: use one of {known}")
    return cast(BlobStore, importlib.import_module(module).from_url(url, reserve))
