"""Hostile input at the HTTP layer: a 4xx envelope with a readable message, and nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

P = "/api/v1/developer"
JPEG = "image/jpeg"


def snapshot(client: TestClient) -> tuple[Any, Any, Any]:
    datasets = client.get(f"{P}/datasets/", params={"limit": 1000}).json()["data"]
    images = client.get(f"{P}/images/", params={"dataset": "ds", "limit": 1000}).json()["data"]
    folders = client.get(f"{P}/directories/ds").json()
    return (
        sorted(d["name"] for d in datasets),
        sorted(i["id"] for i in images),
        sorted(f["full_path"] for f in folders),
    )


def upload_url(filename: str, directory_path: str = "/") -> dict[str, Any]:
    return {
        "dataset": "ds",
        "filename": filename,
        "directory_path": directory_path,
        "content_type": JPEG,
    }


HOSTILE: list[tuple[str, str, dict[str, Any] | bytes]] = [
    ("POST", "/datasets/", b'{"name": "broken'),
    ("POST", "/datasets/", b"\xff\xfe not even text"),
    ("POST", "/datasets/", {"name": 42}),
    ("POST", "/datasets/", {"description": "no name"}),
    ("POST", "/datasets/", {"name": "a/b"}),
    ("POST", "/datasets/", {"name": ""}),
    ("POST", "/datasets/", {"name": "bad\x00name"}),
    ("POST", "/images/upload-url", upload_url("../escape.jpg")),
    ("POST", "/images/upload-url", upload_url("x.jpg", "/a/../../etc")),
    ("POST", "/images/upload-url", upload_url("/etc/passwd.jpg")),
    ("POST", "/images/upload-url", upload_url("win\\dows.jpg")),
    ("POST", "/images/upload-url", upload_url("x.jpg", "C:\\temp")),
    ("POST", "/images/upload-url", upload_url("nul\x00.jpg")),
    ("POST", "/images/upload-url", upload_url("bell\x07.jpg")),
    ("POST", "/images/upload-url", upload_url("x.jpg", "/tab\there")),
    ("POST", "/images/upload-url", upload_url("..")),
    ("POST", "/images/upload-url", {"dataset": "ds", "filename": ["x.jpg"]}),
    ("POST", "/directories/", {"dataset": "ds", "directory_path": "/a/../b"}),
    ("POST", "/directories/", {"dataset": "ds", "directory_path": "/"}),
    ("PATCH", "/directories/ds/keep/rename", {"new_name": "a/b"}),
    ("PATCH", "/directories/ds/keep/rename", {"new_name": ".."}),
    ("POST", "/images/bulk-upload-url", {"dataset": "ds", "images": "not a list"}),
]


@pytest.mark.parametrize(("method", "path", "body"), HOSTILE)
def test_hostile_requests_get_a_4xx_envelope_and_change_nothing(
    app_client: TestClient, method: str, path: str, body: dict[str, Any] | bytes
) -> None:
    assert app_client.post(f"{P}/datasets/", json={"name": "ds"}).status_code in (200, 201)
    assert app_client.post(f"{P}/directories/", json={"dataset": "ds", "directory_path": "/keep"})
    before = snapshot(app_client)

    if isinstance(body, bytes):
        headers = {"Content-Type": "application/json"}
        response = app_client.request(method, P + path, content=body, headers=headers)
    else:
        response = app_client.request(method, P + path, json=body)

    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["code"] and len(error["message"]) > 10
    assert snapshot(app_client) == before


def test_an_oversized_json_body_is_a_413_envelope(app_client: TestClient) -> None:
    response = app_client.post(
        f"{P}/datasets/",
        content=b'{"name": "' + b"x" * (11 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert app_client.get(f"{P}/datasets/").json()["data"] == []


def test_a_chunked_json_body_over_the_cap_is_a_413_and_stores_nothing(
    app_client: TestClient,
) -> None:
    def chunked() -> Iterator[bytes]:
        yield b'{"name": "huge", "description": "'
        for _ in range(12):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    response = app_client.post(
        f"{P}/datasets/", content=chunked(), headers={"Content-Type": "application/json"}
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert app_client.get(f"{P}/datasets/").json()["data"] == []


def test_a_chunked_json_body_under_the_cap_is_served(app_client: TestClient) -> None:
    def chunked() -> Iterator[bytes]:
        yield b'{"name": "small", '
        yield b'"description": "fine"}'

    response = app_client.post(
        f"{P}/datasets/", content=chunked(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["description"] == "fine"
