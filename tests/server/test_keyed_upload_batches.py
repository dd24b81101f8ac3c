"""The batch route under the API key (``POST $P/images/upload-batch``): a manifest names the
files, no signed token per file, a slim answer per file; a retry is answered by name and SHA-256."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from pictograph.protocol import MAX_BATCH_BYTES
from pictograph.server.service import keys
from tests.images import make_image, sha256_of
from tests.server.conftest import MakeClient
from tests.server.flows import P, create_dataset

ROUTE = f"{P}/images/upload-batch"


def _send(client: TestClient, dataset: str, files: list[tuple[str, str, bytes]], **kw: Any) -> Any:
    """POST ``(directory_path, filename, bytes)`` files as PNGs; the manifest names them."""
    manifest = kw.pop("manifest", None) or [
        {"filename": name, "directory_path": folder, "content_type": "image/png"}
        for folder, name, _ in files
    ]
    parts = [("file", ("f.png", data, "image/png")) for _, _, data in files]
    return client.post(
        ROUTE,
        params={"dataset": dataset},
        data={"manifest": json.dumps(manifest)},
        files=parts,
        **kw,
    )


def test_a_keyed_batch_stores_every_file_and_answers_slim_receipts(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "many")
    paths = [make_image(tmp_path / f"{i}.png", seed=i) for i in range(4)]
    files = [("/set" if i % 2 else "/", p.name, p.read_bytes()) for i, p in enumerate(paths)]

    response = _send(app_client, "many", files)

    assert response.status_code == 200, response.text
    results = response.json()["data"]["results"]
    assert [set(r) for r in results] == [{"id", "sha256", "file_size"}] * 4
    assert [r["sha256"] for r in results] == [sha256_of(p) for p in paths]
    for (folder, name, data), result in zip(files, results, strict=True):
        path = f"{folder.strip('/')}/{name}".lstrip("/")
        assert app_client.get(f"{P}/images/many/{path}").content == data
        image = app_client.get(f"{P}/images/{result['id']}/metadata").json()["data"]
        assert (image["filename"], image["directory_path"]) == (name, folder)


def test_a_bad_file_or_name_fails_alone_with_its_reason(
    app_client: TestClient, tmp_path: Path, blob_root: Path
) -> None:
    create_dataset(app_client, "mixed")
    good = make_image(tmp_path / "good.png").read_bytes()

    results = _send(
        app_client,
        "mixed",
        [("/", "good.png", good), ("/", "text.png", b"not an image"), ("/", "a\x1bb.png", good)],
    ).json()["data"]["results"]

    assert results[0]["sha256"]
    assert results[1]["error"]["status"] == 422 and "image" in results[1]["error"]["message"]
    assert results[2]["error"]["status"] == 422 and "control" in results[2]["error"]["message"]
    listed = app_client.get(f"{P}/images/", params={"dataset": "mixed"}).json()["data"]
    assert [i["filename"] for i in listed] == ["good.png"]
    assert len([p for p in blob_root.rglob("*") if p.is_file()]) == 1


def test_a_batch_sent_again_is_answered_by_name_and_sha256(
    app_client: TestClient, tmp_path: Path, blob_root: Path
) -> None:
    create_dataset(app_client, "retry")
    files = [
        ("/", f"{i}.png", make_image(tmp_path / f"{i}.png", seed=i).read_bytes()) for i in range(3)
    ]

    first = _send(app_client, "retry", files).json()["data"]["results"]
    again = _send(app_client, "retry", files).json()["data"]["results"]
    other_bytes = _send(app_client, "retry", [("/", "0.png", files[1][2])]).json()["data"]

    assert [r["id"] for r in again] == [r["id"] for r in first]
    assert other_bytes["results"][0]["error"]["status"] == 409
    assert "already exists" in other_bytes["results"][0]["error"]["message"]
    assert len(app_client.get(f"{P}/images/", params={"dataset": "retry"}).json()["data"]) == 3
    assert len([p for p in blob_root.rglob("*") if p.is_file()]) == 3


def test_a_batch_is_capped_by_its_own_limit_not_the_json_one(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "big")
    good = make_image(tmp_path / "a.png").read_bytes()
    # 12 MiB: over the 10 MiB cap of a JSON body, within a batch's 16 MiB.
    padded = [("/", f"{i}.png", good + b"\0" * (3 * 1024 * 1024)) for i in range(4)]

    within = _send(app_client, "big", padded)
    over = _send(app_client, "big", [("/", "x.png", b"x" * (MAX_BATCH_BYTES + 1))])

    assert within.status_code == 200, within.text
    assert over.status_code == 413
    assert [
        i["filename"]
        for i in app_client.get(f"{P}/images/", params={"dataset": "big"}).json()["data"]
    ]


def test_a_manifest_that_does_not_match_the_files_refuses_the_batch_whole(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "shape")
    data = make_image(tmp_path / "a.png").read_bytes()
    one_entry = [{"filename": "a.png", "content_type": "image/png"}]

    short = _send(app_client, "shape", [("/", "a.png", data)] * 2, manifest=one_entry)
    no_manifest = app_client.post(
        ROUTE, params={"dataset": "shape"}, files=[("file", ("a.png", data, "image/png"))]
    )

    assert short.status_code == 422 and "one entry per file" in short.json()["error"]["message"]
    assert no_manifest.status_code == 400 and "manifest" in no_manifest.json()["error"]["message"]
    assert app_client.get(f"{P}/images/", params={"dataset": "shape"}).json()["data"] == []


def test_the_keyed_batch_needs_an_uploaders_key_and_keeps_organisations_apart(
    make_client: MakeClient, tmp_path: Path
) -> None:
    served = make_client(require_api_key=True)
    store = served.app.state.store
    ours = TestClient(served.app, headers={"X-API-Key": keys.create_key(store, "acme")[1]})
    theirs = TestClient(served.app, headers={"X-API-Key": keys.create_key(store, "rival")[1]})
    made = ours.post("/api/v1/api-keys/", json={"name": "looker", "role": "viewer"})
    viewer = TestClient(served.app, headers={"X-API-Key": made.json()["api_key"]})
    create_dataset(ours, "mine")
    files = [("/", "a.png", make_image(tmp_path / "a.png").read_bytes())]

    assert _send(theirs, "mine", files).status_code == 404
    assert _send(viewer, "mine", files).status_code == 403
    assert _send(served, "mine", files).status_code == 401
    assert ours.get(f"{P}/images/", params={"dataset": "mine"}).json()["data"] == []
    assert _send(ours, "mine", files).status_code == 200
