"""Small helpers driving the wire protocol the way the official SDK does."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import httpx

P = "/api/v1/developer"

CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".webp": "image/webp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".heic": "image/heic",
}


def content_type_of(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or ""


def create_dataset(client: httpx.Client, name: str, **fields: Any) -> dict[str, Any]:
    response = client.post(f"{P}/datasets/", json={"name": name, **fields})
    assert response.status_code in (200, 201), response.text
    return dict(response.json()["data"])


def upload_url(
    client: httpx.Client, dataset: str, filename: str, directory: str, content_type: str
) -> httpx.Response:
    body = {
        "dataset": dataset,
        "filename": filename,
        "directory_path": directory,
        "content_type": content_type,
    }
    return client.post(f"{P}/images/upload-url", json=body)


def register(
    client: httpx.Client, dataset: str, filename: str, directory: str = "/"
) -> httpx.Response:
    body = {"dataset": dataset, "filename": filename, "directory_path": directory}
    return client.post(f"{P}/images/register", json=body)


def upload(
    client: httpx.Client,
    dataset: str,
    path: Path,
    directory: str = "/",
    content_type: str | None = None,
    filename: str | None = None,
) -> dict[str, Any]:
    """The 3-step upload; returns the registered image and fails the test on any error."""
    kind = content_type or content_type_of(path)
    name = filename or path.name
    step1 = upload_url(client, dataset, name, directory, kind)
    assert step1.status_code == 200, step1.text
    step2 = client.put(
        step1.json()["data"]["upload_url"],
        content=path.read_bytes(),
        headers={"content-type": kind},
    )
    assert step2.status_code in (200, 201), step2.text
    step3 = register(client, dataset, name, directory)
    assert step3.status_code in (200, 201), step3.text
    return dict(step3.json()["data"])


def stored_files(root: Path) -> list[Path]:
    """Every file in the blob store (temporary files included)."""
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []
