"""Small helpers driving the wire protocol the way the official SDK does, and reading back what an
in-process app stored."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from pictograph.server.service.context import AppContext

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


def app_store(client: Any) -> AppContext:
    """The store of the app a ``TestClient`` drives."""
    store: AppContext = client.app.state.store
    return store


def table_rows(client: Any, table: sa.Table) -> list[dict[str, Any]]:
    """Every row of ``table`` in the store of the app ``client`` drives."""
    with app_store(client).read() as conn:
        return [dict(row._mapping) for row in conn.execute(sa.select(table))]
