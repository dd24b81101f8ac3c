"""Images over the wire: listing filters, metadata by id, bytes, delete, download, annotations."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from starlette.testclient import TestClient

from tests.images import make_image, sha256_of
from tests.server.flows import P, create_dataset, upload


def _list(client: TestClient, **params: object) -> httpx.Response:
    return client.get(f"{P}/images/", params=params)  # type: ignore[arg-type]


def test_listing_is_newest_first_with_has_more_and_exact_folder_filter(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "list")
    for index in range(3):
        upload(app_client, "list", make_image(tmp_path / f"{index}.png"), "/a")
    upload(app_client, "list", make_image(tmp_path / "deep.png"), "/a/b")
    page = _list(app_client, dataset="list", limit=2).json()
    assert [i["filename"] for i in page["data"]] == ["deep.png", "2.png"]
    assert page["pagination"]["has_more"] is True
    only_a = _list(app_client, dataset="list", directory_path="/a").json()["data"]
    assert sorted(i["filename"] for i in only_a) == ["0.png", "1.png", "2.png"]
    assert _list(app_client, dataset="nope").status_code == 404


def test_filename_filter_matches_exactly_across_folders(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "names")
    upload(app_client, "names", make_image(tmp_path / "1/same.png"), "/x")
    upload(app_client, "names", make_image(tmp_path / "2/same.png"), "/y")
    found = _list(app_client, dataset="names", filename="same.png", limit=2).json()["data"]
    assert sorted(i["directory_path"] for i in found) == ["/x", "/y"]
    assert _list(app_client, dataset="names", filename="same").json()["data"] == []


def test_metadata_by_id_includes_archived_images_and_404s_after_permanent_delete(
    app_client: TestClient, tmp_path: Path, blob_root: Path
) -> None:
    create_dataset(app_client, "meta")
    image = upload(app_client, "meta", make_image(tmp_path / "a.png"), "/f")
    got = app_client.get(f"{P}/images/{image['id']}/metadata").json()["data"]
    assert got["dataset_id"] == image["dataset_id"]
    assert app_client.delete(f"{P}/images/meta/f/a.png").status_code == 200
    archived = app_client.get(f"{P}/images/{image['id']}/metadata").json()["data"]
    assert archived["is_archived"] is True
    assert _list(app_client, dataset="meta").json()["data"] == []
    assert len(_list(app_client, dataset="meta", include_archived=True).json()["data"]) == 1
    counts = app_client.get(f"{P}/datasets/meta").json()["data"]
    assert (counts["image_count"], counts["archived_image_count"]) == (0, 1)
    response = app_client.delete(f"{P}/images/meta/f/a.png", params={"permanent": True})
    assert response.status_code == 200
    assert app_client.get(f"{P}/images/{image['id']}/metadata").status_code == 404
    assert [p for p in blob_root.rglob("*") if p.is_file()] == []
    zero = "00000000-0000-0000-0000-000000000000"
    assert app_client.get(f"{P}/images/{zero}/metadata").status_code == 404


def test_bytes_are_streamed_with_200_even_when_json_is_accepted(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "bytes")
    path = make_image(tmp_path / "big.png", size=(1024, 1024))
    upload(app_client, "bytes", path)
    response = app_client.get(f"{P}/images/bytes/big.png", headers={"accept": "application/json"})
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == sha256_of(path)
    assert app_client.get(f"{P}/images/bytes/missing.png").status_code == 404


def test_names_needing_percent_encoding_round_trip(app_client: TestClient, tmp_path: Path) -> None:
    create_dataset(app_client, "my set")
    path = make_image(tmp_path / "a b#1.png")
    image = upload(app_client, "my set", path, "/val dir")
    assert image["filename"] == "a b#1.png"
    response = app_client.get(f"{P}/images/my%20set/val%20dir/a%20b%231.png")
    assert response.status_code == 200
    assert response.content == path.read_bytes()


def test_download_listing_gives_fetchable_image_urls_and_annotation_paths(
    app_client: TestClient, tmp_path: Path
) -> None:
    dataset = create_dataset(app_client, "dl")
    path = make_image(tmp_path / "a.png")
    upload(app_client, "dl", path, "/f")
    listing = app_client.get(f"{P}/datasets/dl/download", params={"limit": 10000}).json()["data"]
    assert listing["id"] == dataset["id"]
    [item] = listing["items"]
    assert item["filename"] == "a.png"
    assert item["image_url"].startswith("http")
    assert app_client.get(item["image_url"]).content == path.read_bytes()
    assert item["annotation_url"].startswith(f"{P}/annotations/")
    assert app_client.get(item["annotation_url"]).json()["annotations"] == []


def test_annotations_are_stored_and_replaced_whole_and_the_save_reports_the_image_status(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "ann", classes=[{"name": "cat", "type": "bbox"}])
    image = upload(app_client, "ann", make_image(tmp_path / "a.png"), "/f")
    box = {
        "id": "1",
        "name": "cat",
        "type": "bbox",
        "bounding_box": {"x": 1, "y": 2, "w": 3, "h": 4},
        "confidence": 0.4,
        "attributes": [],
    }
    url = f"{P}/annotations/ann/f/a.png"
    saved = app_client.post(url, json={"annotations": [box]}).json()
    assert saved == {
        "image_id": image["id"],
        "previous_count": 0,
        "new_count": 1,
        "status": "new",
        "version": 1,
    }
    assert app_client.get(url).json() == {
        "image_id": image["id"],
        "annotations": [box],
        "version": 1,
    }
    low = _list(app_client, dataset="ann", min_confidence_lt=0.5).json()["data"]
    assert [i["annotation_count"] for i in low] == [1]
    assert app_client.delete(url).json() == {"image_id": image["id"], "deleted_count": 1}


def test_traversal_in_image_paths_is_refused(app_client: TestClient, tmp_path: Path) -> None:
    create_dataset(app_client, "trav")
    upload(app_client, "trav", make_image(tmp_path / "a.png"))
    for segment in ("x/%2E%2E/a.png", "a%5Cb.png", "x/./a.png"):
        response = app_client.get(f"{P}/images/trav/{segment}")
        assert response.status_code in (400, 404, 422), segment
