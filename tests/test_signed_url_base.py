"""Without --public-url, the URLs a served instance hands out are built on the address it binds
to, never on the Host header a client sent (which anyone can set)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.served import serve

P = "/api/v1/developer"


def test_signed_urls_do_not_reflect_a_forged_host_header(tmp_path: Path) -> None:
    with serve(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}") as served:
        key = served.create_key("acme")
        headers = {"X-API-Key": key, "Host": "attacker.example"}
        with httpx.Client(base_url=served.base_url, headers=headers) as client:
            assert client.post(f"{P}/datasets/", json={"name": "ds"}).status_code == 201
            answer = client.post(
                f"{P}/images/upload-url",
                json={"dataset": "ds", "filename": "a.jpg", "content_type": "image/jpeg"},
            )
    url = answer.json()["data"]["upload_url"]
    assert url.startswith(f"{served.base_url}/storage/upload/"), url
    assert "attacker" not in answer.text


def test_public_url_when_given_is_the_base_of_signed_urls(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with serve(tmp_path, database, "--public-url", "https://images.example.org/") as served:
        key = served.create_key("acme")
        with httpx.Client(base_url=served.base_url, headers={"X-API-Key": key}) as client:
            assert client.post(f"{P}/datasets/", json={"name": "ds"}).status_code == 201
            answer = client.post(
                f"{P}/images/upload-url",
                json={"dataset": "ds", "filename": "a.jpg", "content_type": "image/jpeg"},
            )
    assert answer.json()["data"]["upload_url"].startswith(
        "https://images.example.org/storage/upload/"
    )
