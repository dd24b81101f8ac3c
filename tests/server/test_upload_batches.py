"""The batch route: several small files in one request, each succeeding or failing alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from tests.images import make_image, sha256_of
from tests.server.conftest import MakeClient
from tests.server.flows import P, create_dataset


def _plan(client: TestClient, dataset: str, names: list[str], folder: str = "/set") -> Any:
    images = [
        {"filename": name, "directory_path": folder, "content_type": "image/png"} for name in names
    ]
    body = {"dataset": dataset, "images": images, "skip_existing": True, "register_on_upload": True}
    response = client.post(f"{P}/images/bulk-upload-url", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _token(entry: dict[str, Any]) -> str:
    return str(entry["upload_url"]).rsplit("/", 1)[-1]


def _send(client: TestClient, url: str, parts: list[tuple[str, bytes]]) -> Any:
    files = [(token, ("f.png", data, "image/png")) for token, data in parts]
    return client.post(url, files=files)


def test_register_on_upload_answers_advertise_the_batch_route_and_its_limits(
    app_client: TestClient,
) -> None:
    create_dataset(app_client, "adv")

    batch = _plan(app_client, "adv", ["a.png"])["upload_batch"]

    assert batch["url"].endswith("/storage/upload-batch")
    assert batch["max_files"] >= 2 and batch["max_bytes"] >= 1024 * 1024
    plain = {"dataset": "adv", "images": [{"filename": "a.png", "content_type": "image/png"}]}
    answer = app_client.post(f"{P}/images/bulk-upload-url", json=plain).json()["data"]
    assert "upload_batch" not in answer  # the official SDK's flow is unchanged


def test_a_batch_stores_and_registers_every_file_byte_for_byte(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "many")
    paths = [make_image(tmp_path / f"{i}.png", seed=i) for i in range(5)]
    plan = _plan(app_client, "many", [p.name for p in paths])
    parts = [(_token(e), p.read_bytes()) for e, p in zip(plan["upload_urls"], paths, strict=True)]

    response = _send(app_client, plan["upload_batch"]["url"], parts)

    assert response.status_code == 200, response.text
    results = response.json()["data"]["results"]
    assert [r["image"]["filename"] for r in results] == [p.name for p in paths]
    for result, path in zip(results, paths, strict=True):
        assert result["image"]["sha256"] == sha256_of(path)
        assert result["image"]["directory_path"] == "/set"
        download = app_client.get(f"{P}/images/many/set/{path.name}")
        assert download.content == path.read_bytes()


def test_bad_files_in_a_batch_fail_alone_with_their_reasons(
    app_client: TestClient, tmp_path: Path, blob_root: Path
) -> None:
    create_dataset(app_client, "mixed")
    good = make_image(tmp_path / "good.png")
    plan = _plan(app_client, "mixed", ["good.png", "text.png", "empty.png", "forged.png"])
    tokens = [_token(e) for e in plan["upload_urls"]]
    parts = [
        (tokens[0], good.read_bytes()),
        (tokens[1], b"this is not an image"),
        (tokens[2], b""),
        (tokens[3][:-4] + "AAAA", good.read_bytes()),
    ]

    results = _send(app_client, plan["upload_batch"]["url"], parts).json()["data"]["results"]

    assert results[0]["image"]["filename"] == "good.png"
    assert results[1]["error"]["status"] == 422 and "image" in results[1]["error"]["message"]
    assert results[2]["error"]["status"] == 422
    assert results[3]["error"]["status"] == 403
    listed = app_client.get(f"{P}/images/", params={"dataset": "mixed"}).json()["data"]
    assert [i["filename"] for i in listed] == ["good.png"]
    stored = [p for p in blob_root.rglob("*") if p.is_file()]
    assert len(stored) == 1  # nothing of the refused files was kept


def test_a_name_taken_since_the_plan_is_a_conflict_for_that_file_only(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "race")
    first = make_image(tmp_path / "x.png", seed=1)
    plan = _plan(app_client, "race", ["x.png", "y.png"])
    x_token, y_token = (_token(e) for e in plan["upload_urls"])
    url = plan["upload_batch"]["url"]
    other_run = _token(_plan(app_client, "race", ["x.png"])["upload_urls"][0])
    assert _send(app_client, url, [(other_run, first.read_bytes())]).status_code == 200

    again = _send(app_client, url, [(x_token, first.read_bytes()), (y_token, first.read_bytes())])

    x, y = again.json()["data"]["results"]
    assert x["error"]["status"] == 409 and "already exists" in x["error"]["message"]
    assert y["image"]["filename"] == "y.png"


def test_a_batch_sent_again_after_a_lost_answer_gets_the_same_images(
    app_client: TestClient, tmp_path: Path, blob_root: Path
) -> None:
    create_dataset(app_client, "retry")
    paths = [make_image(tmp_path / f"{i}.png", seed=i) for i in range(3)]
    plan = _plan(app_client, "retry", [p.name for p in paths])
    parts = [(_token(e), p.read_bytes()) for e, p in zip(plan["upload_urls"], paths, strict=True)]

    first = _send(app_client, plan["upload_batch"]["url"], parts).json()["data"]["results"]
    again = _send(app_client, plan["upload_batch"]["url"], parts).json()["data"]["results"]

    assert [r["image"]["id"] for r in again] == [r["image"]["id"] for r in first]
    listed = app_client.get(f"{P}/images/", params={"dataset": "retry"}).json()["data"]
    assert len(listed) == 3
    assert len([p for p in blob_root.rglob("*") if p.is_file()]) == 3


def test_tokens_made_without_register_on_upload_are_refused_by_the_batch_route(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "plain")
    images = [{"filename": "a.png", "directory_path": "/", "content_type": "image/png"}]
    answer = app_client.post(
        f"{P}/images/bulk-upload-url", json={"dataset": "plain", "images": images}
    ).json()["data"]
    token = _token(answer["upload_urls"][0])
    url = _plan(app_client, "plain", ["b.png"])["upload_batch"]["url"]

    result = _send(app_client, url, [(token, make_image(tmp_path / "a.png").read_bytes())])

    error = result.json()["data"]["results"][0]["error"]
    assert error["status"] == 422 and "register_on_upload" in error["message"]


def test_a_batch_over_the_advertised_limits_is_refused_whole(
    make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client()
    create_dataset(client, "big")
    plan = _plan(client, "big", [f"{i}.png" for i in range(2)])
    batch = plan["upload_batch"]
    token = _token(plan["upload_urls"][0])
    too_many = [(token, b"x")] * (batch["max_files"] + 1)

    many = _send(client, batch["url"], too_many)
    huge = _send(client, batch["url"], [(token, b"x" * (batch["max_bytes"] + 1))])
    not_multipart = client.post(batch["url"], content=b"{}", headers={"content-type": "x/y"})

    assert many.status_code == 400 and many.json()["error"]["message"]
    assert huge.status_code == 413 and "at most" in huge.json()["error"]["message"]
    assert not_multipart.status_code == 400
    assert "multipart" in not_multipart.json()["error"]["message"]
    assert client.get(f"{P}/images/", params={"dataset": "big"}).json()["data"] == []


def test_the_batch_route_holds_images_to_the_servers_pixel_limit(
    make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(max_image_pixels=1000)
    create_dataset(client, "limits")
    plan = _plan(client, "limits", ["small.png", "large.png"])
    small = make_image(tmp_path / "small.png", size=(30, 30)).read_bytes()
    large = make_image(tmp_path / "large.png", size=(40, 40)).read_bytes()
    tokens = [_token(e) for e in plan["upload_urls"]]

    results = _send(
        client, plan["upload_batch"]["url"], list(zip(tokens, [small, large], strict=True))
    )

    ok, refused = results.json()["data"]["results"]
    assert ok["image"]["width"] == 30
    assert refused["error"]["status"] == 422
    assert "1,600 pixels" in refused["error"]["message"] and "1,000" in refused["error"]["message"]


def test_a_batch_body_cut_short_or_holding_a_plain_field_is_a_400_and_stores_nothing(
    app_client: TestClient, tmp_path: Path, blob_root: Path
) -> None:
    create_dataset(app_client, "shapes")
    plan = _plan(app_client, "shapes", ["a.png"])
    url, token = plan["upload_batch"]["url"], _token(plan["upload_urls"][0])
    data = make_image(tmp_path / "a.png").read_bytes()
    whole = (
        b'--b0\r\nContent-Disposition: form-data; name="' + token.encode() + b'"; '
        b'filename="a.png"\r\nContent-Type: image/png\r\n\r\n' + data + b"\r\n--b0--\r\n"
    )
    field = b'--b0\r\nContent-Disposition: form-data; name="x"\r\n\r\nvalue\r\n--b0--\r\n'
    kind = {"content-type": "multipart/form-data; boundary=b0"}

    cut = app_client.post(url, content=whole[:-12], headers=kind)  # inside the file
    plain = app_client.post(url, content=field, headers=kind)
    no_boundary = app_client.post(
        url, content=whole, headers={"content-type": "multipart/form-data"}
    )

    assert cut.status_code == 400 and "cut short" in cut.json()["error"]["message"]
    assert plain.status_code == 400 and "is a file" in plain.json()["error"]["message"]
    assert no_boundary.status_code == 400
    assert not blob_root.exists() or not any(p.is_file() for p in blob_root.rglob("*"))
    ok = app_client.post(url, content=whole, headers=kind).json()["data"]["results"]
    assert ok[0]["image"]["filename"] == "a.png"
