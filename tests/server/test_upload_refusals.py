"""Issue 22: bytes refused at the PUT of a three-step upload URL are a 200 whose receipt says
``refused``, and register gives the reason (the official SDK reads register's error, never a
refused PUT's body). Nothing of the bytes is kept; a register_on_upload PUT is still a 422."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pictograph.server.service import gc
from pictograph.server.service.blob_owners import REFERRERS
from pictograph.server.service.context import now
from pictograph.server.store import tables as t
from tests.images import make_image, sha256_of
from tests.server.flows import (
    P,
    app_store,
    create_dataset,
    register,
    stored_files,
    table_rows,
    upload_url,
)

TEXT = b"this is plain text, not a JPEG"


def _url(client: TestClient, dataset: str, name: str, kind: str = "image/jpeg") -> str:
    answer = upload_url(client, dataset, name, "/", kind)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["upload_url"])


def _put(client: TestClient, url: str, body: bytes, kind: str = "image/jpeg") -> Any:
    return client.put(url, content=body, headers={"content-type": kind})


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "file is empty"),
        (TEXT, "not a valid image"),
        (None, "truncated or corrupt"),
        ("png", "file contains PNG data but was declared image/jpeg"),
    ],
)
def test_bad_bytes_are_refused_at_the_put_and_register_says_why(
    app_client: TestClient, tmp_path: Path, blob_root: Path, payload: object, message: str
) -> None:
    create_dataset(app_client, "bad")
    jpeg = make_image(tmp_path / "good.jpg", size=(256, 256)).read_bytes()
    body = {
        None: jpeg[: len(jpeg) // 2],
        "png": make_image(tmp_path / "real.png").read_bytes(),
    }.get(payload, payload)  # type: ignore[call-overload]

    put = _put(app_client, _url(app_client, "bad", "x.jpg"), body)

    assert put.status_code == 200, put.text
    receipt = put.json()
    assert list(receipt) == ["refused"]  # no digest or size: nothing was kept
    assert receipt["refused"]["code"] == "validation_error"
    assert message in receipt["refused"]["message"]
    assert stored_files(blob_root) == []
    assert table_rows(app_client, t.pending_uploads) == []
    refused = register(app_client, "bad", "x.jpg")
    assert refused.status_code == 422
    assert refused.json()["error"]["message"] == receipt["refused"]["message"]
    assert table_rows(app_client, t.refused_uploads) == []  # told once
    again = register(app_client, "bad", "x.jpg")
    assert again.status_code == 422 and "PUT the file" in again.json()["error"]["message"]
    assert app_client.get(f"{P}/datasets/bad").json()["data"]["image_count"] == 0


def test_bulk_register_lists_each_refused_file_with_its_reason(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "mixed")
    names = ["good.png", "fake.png", "never.png"]
    images = [{"filename": n, "directory_path": "/d", "content_type": "image/png"} for n in names]
    entries = app_client.post(
        f"{P}/images/bulk-upload-url", json={"dataset": "mixed", "images": images}
    ).json()["data"]["upload_urls"]
    good = make_image(tmp_path / "good.png").read_bytes()
    assert "sha256" in _put(app_client, entries[0]["upload_url"], good, "image/png").json()
    fake = _put(app_client, entries[1]["upload_url"], TEXT, "image/png")
    assert fake.status_code == 200 and "refused" in fake.json()

    result = app_client.post(
        f"{P}/images/bulk-register", json={"dataset": "mixed", "images": images}
    ).json()["data"]

    assert [i["filename"] for i in result["succeeded"]] == ["good.png"]
    failed = {f["filename"]: f["error"] for f in result["failed"]}
    assert failed["fake.png"] == "not a valid image: cannot identify image file"
    assert "PUT the file" in failed["never.png"]
    assert table_rows(app_client, t.refused_uploads) == []


def test_a_good_put_after_a_refusal_clears_it_and_registers(
    app_client: TestClient, tmp_path: Path, blob_root: Path
) -> None:
    create_dataset(app_client, "retry")
    url = _url(app_client, "retry", "a.png", "image/png")
    assert "refused" in _put(app_client, url, TEXT, "image/png").json()
    assert len(table_rows(app_client, t.refused_uploads)) == 1
    image = make_image(tmp_path / "a.png")

    put = _put(app_client, url, image.read_bytes(), "image/png")

    assert put.status_code == 200 and put.json()["sha256"] == sha256_of(image)
    assert table_rows(app_client, t.refused_uploads) == []
    registered = register(app_client, "retry", "a.png")
    assert registered.status_code == 201, registered.text
    assert registered.json()["data"]["sha256"] == sha256_of(image)
    assert len(stored_files(blob_root)) == 1


def test_a_refusal_replaces_the_pending_bytes_of_its_place(
    app_client: TestClient, tmp_path: Path, blob_root: Path
) -> None:
    create_dataset(app_client, "replace")
    url = _url(app_client, "replace", "a.png", "image/png")
    good = make_image(tmp_path / "a.png").read_bytes()
    assert _put(app_client, url, good, "image/png").status_code == 200
    assert len(stored_files(blob_root)) == 1

    assert "refused" in _put(app_client, url, TEXT, "image/png").json()

    assert stored_files(blob_root) == []  # the earlier bytes went with their pending row
    assert table_rows(app_client, t.pending_uploads) == []
    refused = register(app_client, "replace", "a.png")
    assert refused.status_code == 422
    assert "not a valid image" in refused.json()["error"]["message"]


def test_a_register_on_upload_put_of_bad_bytes_is_still_a_422_with_the_reason(
    app_client: TestClient, blob_root: Path
) -> None:
    create_dataset(app_client, "fast")
    images = [{"filename": "a.jpg", "directory_path": "/", "content_type": "image/jpeg"}]
    body = {"dataset": "fast", "images": images, "register_on_upload": True}
    plan = app_client.post(f"{P}/images/bulk-upload-url", json=body).json()["data"]

    put = _put(app_client, plan["upload_urls"][0]["upload_url"], TEXT)

    assert put.status_code == 422
    assert "not a valid image" in put.json()["error"]["message"]
    assert stored_files(blob_root) == []
    assert table_rows(app_client, t.refused_uploads) == []


def test_deleting_a_dataset_removes_its_refusals(app_client: TestClient) -> None:
    create_dataset(app_client, "gone")
    create_dataset(app_client, "stays")
    for dataset in ("gone", "stays"):
        assert "refused" in _put(app_client, _url(app_client, dataset, "a.jpg"), TEXT).json()

    deleted = app_client.delete(f"{P}/datasets/gone", params={"permanent": "true"})

    assert deleted.status_code == 200, deleted.text
    stays = app_client.get(f"{P}/datasets/stays").json()["data"]["id"]
    assert [row["dataset_id"] for row in table_rows(app_client, t.refused_uploads)] == [stays]


def test_gc_expires_refusals_with_the_pending_uploads_and_no_blob_is_theirs(
    app_client: TestClient, tmp_path: Path
) -> None:
    assert t.refused_uploads not in REFERRERS  # it keeps no bytes
    create_dataset(app_client, "old")
    for name in ("stale.jpg", "fresh.jpg"):
        assert "refused" in _put(app_client, _url(app_client, "old", name), TEXT).json()
    store = app_store(app_client)
    lifetime = timedelta(seconds=store.settings.signed_url_ttl_seconds)
    with store.write() as conn:
        stale = t.refused_uploads.c.filename == "stale.jpg"
        conn.execute(
            t.refused_uploads.update().where(stale).values(created_at=now() - lifetime * 2)
        )

    listed = gc.sweep(store, dry_run=True)
    assert [name.rsplit("/", 1)[-1] for name in listed.expired_refusals] == ["stale.jpg"]
    assert len(table_rows(app_client, t.refused_uploads)) == 2
    swept = gc.sweep(store)

    assert [name.rsplit("/", 1)[-1] for name in swept.expired_refusals] == ["stale.jpg"]
    assert [row["filename"] for row in table_rows(app_client, t.refused_uploads)] == ["fresh.jpg"]
    answer = register(app_client, "old", "stale.jpg")
    assert answer.status_code == 422 and "PUT the file" in answer.json()["error"]["message"]
