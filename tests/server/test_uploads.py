"""The 3-step upload (URL, PUT, register) and its bulk form, with every refusal it can give."""

from __future__ import annotations

import concurrent.futures
import hashlib
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from starlette.testclient import TestClient

from tests.images import make_image, sha256_of
from tests.server.conftest import MakeClient
from tests.server.flows import P, create_dataset, register, stored_files, upload, upload_url

FORMATS = [".jpg", ".png", ".gif", ".bmp", ".webp", ".tiff", ".heic"]


@pytest.mark.parametrize("suffix", FORMATS)
def test_every_format_round_trips_byte_for_byte(
    app_client: TestClient, tmp_path: Path, suffix: str
) -> None:
    create_dataset(app_client, "formats")
    path = make_image(tmp_path / f"in/photo{suffix}", size=(128, 96))
    image = upload(app_client, "formats", path, "/sub")
    assert (image["width"], image["height"]) == (128, 96)
    assert image["status"] == "new"
    assert image["directory_path"] == "/sub"
    assert image["sha256"] == sha256_of(path)
    response = app_client.get(f"{P}/images/formats/sub/photo{suffix}")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == sha256_of(path)


def test_the_put_answers_with_the_digest_size_and_dimensions(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "put")
    path = make_image(tmp_path / "a.png", size=(40, 30))
    url = upload_url(app_client, "put", "a.png", "/", "image/png").json()["data"]["upload_url"]
    assert url.startswith("http")
    response = app_client.put(url, content=path.read_bytes(), headers={"content-type": "image/png"})
    assert response.status_code == 200
    assert response.json() == {
        "sha256": sha256_of(path),
        "file_size": path.stat().st_size,
        "width": 40,
        "height": 30,
    }


def test_an_existing_name_is_a_409_at_upload_url_and_at_register(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "dupes")
    path = make_image(tmp_path / "a.jpg")
    upload(app_client, "dupes", path, "/f")
    response = upload_url(app_client, "dupes", "a.jpg", "f", "image/jpeg")
    assert response.status_code == 409
    assert "already exists" in response.json()["error"]["message"]
    assert register(app_client, "dupes", "a.jpg", "/f").status_code == 409


def test_an_archived_image_still_occupies_its_name(app_client: TestClient, tmp_path: Path) -> None:
    create_dataset(app_client, "arch")
    upload(app_client, "arch", make_image(tmp_path / "a.png"))
    assert app_client.delete(f"{P}/images/arch/a.png").status_code == 200
    assert upload_url(app_client, "arch", "a.png", "/", "image/png").status_code == 409


def test_register_without_a_put_is_a_422_that_says_what_to_do(app_client: TestClient) -> None:
    create_dataset(app_client, "early")
    assert upload_url(app_client, "early", "a.jpg", "/x", "image/jpeg").status_code == 200
    response = register(app_client, "early", "a.jpg", "/x")
    assert response.status_code == 422
    assert "PUT the file to its upload_url first" in response.json()["error"]["message"]
    assert "/x/a.jpg" in response.json()["error"]["message"]


def test_a_tampered_or_foreign_token_is_a_403(app_client: TestClient) -> None:
    create_dataset(app_client, "tamper")
    url = upload_url(app_client, "tamper", "a.png", "/", "image/png").json()["data"]["upload_url"]
    forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert app_client.put(forged, content=b"x").status_code == 403
    assert app_client.put("/storage/upload/not-a-token", content=b"x").status_code == 403


def test_an_expired_token_is_a_403(make_client: MakeClient, tmp_path: Path) -> None:
    client = make_client(signed_url_ttl_seconds=-1)
    create_dataset(client, "late")
    url = upload_url(client, "late", "a.png", "/", "image/png").json()["data"]["upload_url"]
    body = make_image(tmp_path / "a.png").read_bytes()
    assert client.put(url, content=body).status_code == 403


def test_a_body_over_the_limit_is_a_413(make_client: MakeClient, blob_root: Path) -> None:
    client = make_client(max_upload_bytes=1000)
    create_dataset(client, "big")
    url = upload_url(client, "big", "a.png", "/", "image/png").json()["data"]["upload_url"]
    assert client.put(url, content=b"x" * 5000).status_code == 413
    assert stored_files(blob_root) == []


def test_unsupported_content_types_are_refused_at_upload_url(app_client: TestClient) -> None:
    create_dataset(app_client, "types")
    response = upload_url(app_client, "types", "a.svg", "/", "image/svg+xml")
    assert response.status_code in (400, 422)
    assert upload_url(app_client, "nope", "a.png", "/", "image/png").status_code == 404


@pytest.mark.parametrize(
    ("filename", "directory"),
    [
        ("../a.png", "/"),
        ("a.png", "/../etc"),
        ("a.png", "a/./b"),
        ("a\\b.png", "/"),
        ("a.png", "a\\b"),
        ("a\x00.png", "/"),
        ("a.png", "/a\x07b"),
        ("..", "/"),
        ("", "/"),
    ],
)
def test_path_traversal_and_junk_names_are_refused(
    app_client: TestClient, filename: str, directory: str
) -> None:
    create_dataset(app_client, "safe")
    response = upload_url(app_client, "safe", filename, directory, "image/png")
    assert response.status_code in (400, 422)


def test_a_second_put_replaces_the_pending_bytes(
    app_client: TestClient, tmp_path: Path, blob_root: Path
) -> None:
    create_dataset(app_client, "again")
    first = make_image(tmp_path / "1/a.png", seed=1)
    second = make_image(tmp_path / "2/a.png", seed=2, size=(50, 50))
    url = upload_url(app_client, "again", "a.png", "/", "image/png").json()["data"]["upload_url"]
    for path in (first, second):
        assert app_client.put(url, content=path.read_bytes()).status_code == 200
    assert len(stored_files(blob_root)) == 1
    image = register(app_client, "again", "a.png").json()["data"]
    assert image["sha256"] == sha256_of(second)


def test_bulk_upload_gives_one_entry_per_image_in_order_and_reports_existing(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "bulk")
    there = upload(app_client, "bulk", make_image(tmp_path / "b.png"), "/set")
    names = ["c.png", "b.png", "a.png"]
    images = [{"filename": n, "directory_path": "set", "content_type": "image/png"} for n in names]
    response = app_client.post(
        f"{P}/images/bulk-upload-url", json={"dataset": "bulk", "images": images}
    )
    assert response.status_code == 200
    entries = response.json()["data"]["upload_urls"]
    assert [e["filename"] for e in entries] == names
    assert [e["directory_path"] for e in entries] == ["/set"] * 3
    assert entries[0]["existing"] is None
    assert entries[1]["existing"] == {
        "id": there["id"],
        "sha256": there["sha256"],
        "file_size": there["file_size"],
    }
    for name, entry in zip(names, entries, strict=True):
        body = make_image(tmp_path / "new" / name).read_bytes()
        assert app_client.put(entry["upload_url"], content=body).status_code == 200
    registered = app_client.post(
        f"{P}/images/bulk-register", json={"dataset": "bulk", "images": images}
    ).json()["data"]
    assert [i["filename"] for i in registered["succeeded"]] == ["c.png", "a.png"]
    assert [f["filename"] for f in registered["failed"]] == ["b.png"]
    assert "already exists" in registered["failed"][0]["error"]


def test_bulk_register_reports_files_never_put_without_failing_the_batch(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "partial")
    images = [{"filename": n, "directory_path": "/", "content_type": "image/png"} for n in "ab"]
    entries = app_client.post(
        f"{P}/images/bulk-upload-url", json={"dataset": "partial", "images": images}
    ).json()["data"]["upload_urls"]
    app_client.put(entries[0]["upload_url"], content=make_image(tmp_path / "a.png").read_bytes())
    result = app_client.post(
        f"{P}/images/bulk-register", json={"dataset": "partial", "images": images}
    ).json()["data"]
    assert [i["filename"] for i in result["succeeded"]] == ["a"]
    assert result["failed"][0]["filename"] == "b"
    assert "PUT the file" in result["failed"][0]["error"]


def test_bulk_requests_over_500_images_are_refused(app_client: TestClient) -> None:
    create_dataset(app_client, "huge")
    images = [
        {"filename": f"{i}.png", "directory_path": "/", "content_type": "image/png"}
        for i in range(501)
    ]
    response = app_client.post(
        f"{P}/images/bulk-upload-url", json={"dataset": "huge", "images": images}
    )
    assert response.status_code == 422


def test_eight_threads_uploading_at_once_all_succeed(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "parallel")
    paths = [make_image(tmp_path / f"p/{i}.png", seed=i) for i in range(24)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        images = list(pool.map(lambda p: upload(app_client, "parallel", p, "/deep/er"), paths))
    assert len({image["id"] for image in images}) == 24
    dataset = app_client.get(f"{P}/datasets/parallel").json()["data"]
    assert dataset["image_count"] == 24
    assert dataset["total_size"] == sum(p.stat().st_size for p in paths)


def test_our_extensions_skip_existing_names_and_register_on_upload(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "ext")
    upload(app_client, "ext", make_image(tmp_path / "old.png"), "/set")
    images = [
        {"filename": n, "directory_path": "/set", "content_type": "image/png"}
        for n in ("old.png", "new.png")
    ]
    body = {"dataset": "ext", "images": images, "skip_existing": True, "register_on_upload": True}
    entries = app_client.post(f"{P}/images/bulk-upload-url", json=body).json()["data"]
    old, new = entries["upload_urls"]
    assert old["upload_url"] is None and old["existing"] is not None
    assert new["upload_url"] and new["existing"] is None

    put = app_client.put(new["upload_url"], content=make_image(tmp_path / "new.png").read_bytes())

    assert put.status_code == 200
    assert put.json()["image"]["filename"] == "new.png"
    listed = app_client.get(f"{P}/images/", params={"dataset": "ext"}).json()["data"]
    assert sorted(i["filename"] for i in listed) == ["new.png", "old.png"]
    other = [{"filename": "new.png", "directory_path": "/set", "content_type": "image/png"}]
    body = {"dataset": "ext", "images": other, "register_on_upload": True}
    second_url = app_client.post(f"{P}/images/bulk-upload-url", json=body).json()["data"]
    taken = app_client.put(
        second_url["upload_urls"][0]["upload_url"],
        content=make_image(tmp_path / "new.png").read_bytes(),
    )
    assert taken.status_code == 409 and "already exists" in taken.json()["error"]["message"]


def test_a_register_on_upload_put_replayed_with_the_same_bytes_answers_with_its_image(
    app_client: TestClient, tmp_path: Path, blob_root: Path
) -> None:
    create_dataset(app_client, "replay")
    images = [{"filename": "a.png", "directory_path": "/", "content_type": "image/png"}]
    body = {"dataset": "replay", "images": images, "register_on_upload": True}
    url = app_client.post(f"{P}/images/bulk-upload-url", json=body).json()["data"]
    url = url["upload_urls"][0]["upload_url"]
    data = make_image(tmp_path / "a.png").read_bytes()

    first = app_client.put(url, content=data)
    replay = app_client.put(url, content=data)  # a retry after the first answer was lost
    changed = app_client.put(url, content=make_image(tmp_path / "b.png", seed=9).read_bytes())

    assert first.status_code == replay.status_code == 200
    assert replay.json()["image"]["id"] == first.json()["image"]["id"]
    assert changed.status_code == 409  # same URL, other bytes: not a replay
    listed = app_client.get(f"{P}/images/", params={"dataset": "replay"}).json()["data"]
    assert [image["id"] for image in listed] == [first.json()["image"]["id"]]
    assert len([p for p in blob_root.rglob("*") if p.is_file()]) == 1


def test_an_upload_url_signed_by_the_stock_serializer_still_takes_its_bytes(
    app_client: TestClient, tmp_path: Path
) -> None:
    """Tokens are signed without itsdangerous's zlib step now; a URL handed out before that
    (compressed, by the stock serializer) still works, so an upgrade breaks no upload."""
    create_dataset(app_client, "upgrade")
    answer = upload_url(app_client, "upgrade", "a.jpg", "/", "image/jpeg").json()
    url = answer["data"]["upload_url"]
    token = url.rsplit("/", 1)[1]
    signer = app_client.app.state.store.signer  # type: ignore[attr-defined]
    stock = URLSafeTimedSerializer(signer.secret_key, salt="pictograph-storage")
    old = stock.dumps(signer.loads(token))
    assert old.startswith(".") and old != token  # compressed: as the stock serializer signs
    image = make_image(tmp_path / "a.jpg")
    put = app_client.put(
        url.replace(token, old), content=image.read_bytes(), headers={"content-type": "image/jpeg"}
    )
    assert put.status_code == 200, put.text
    assert put.json()["sha256"] == sha256_of(image)
    assert stock.loads(token) == signer.loads(token)  # and the stock one reads ours
