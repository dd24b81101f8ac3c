"""`pictograph serve` as a real process: keys, organisations, signed URLs, limits, our SDK."""

from __future__ import annotations

import logging
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from pictograph import AuthError, Client, NotFoundError
from pictograph.workflows import upload_dataset_from_folder
from tests.conftest import fresh_database
from tests.images import make_image, sha256_of
from tests.served import PICTOGRAPH, Served, serve

P = "/api/v1/developer"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path / "home", database_url) as served:
        yield served


def client_for(served: Served, key: str, **kw: float) -> Client:
    return Client(api_key=key, base_url=served.base_url, **kw)  # type: ignore[arg-type]


def test_keys_are_shown_once_listed_by_prefix_stored_hashed_and_revocable(
    server: Served, database_url: str
) -> None:
    key = server.create_key("acme")
    assert key.startswith("pk_live_") and len(key) == len("pk_live_") + 64
    with client_for(server, key) as client:
        assert client.datasets.list() == []

    listing = subprocess.run(
        [PICTOGRAPH, "keys", "list", *server.store_args], capture_output=True, text=True, check=True
    ).stdout
    assert key[:14] in listing and key not in listing and "active" in listing
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT key_hash, prefix FROM api_keys")).all()
    engine.dispose()
    assert all(key not in (row.key_hash + row.prefix) for row in stored)

    key_id = next(line for line in listing.splitlines() if key[:14] in line).split()[0]
    subprocess.run([PICTOGRAPH, "keys", "revoke", key_id, *server.store_args], check=True)
    with client_for(server, key) as client, pytest.raises(AuthError):
        client.datasets.list()


@pytest.mark.parametrize(
    "path",
    [
        "/datasets/",
        "/datasets/anything",
        "/credits/balance",
        "/no/such/route",
        "/images/00000000-0000-0000-0000-000000000000/metadata",
    ],
)
def test_a_missing_or_wrong_key_is_a_401_envelope_on_every_api_path(
    server: Served, path: str
) -> None:
    for headers in ({}, {"X-API-Key": "pk_live_" + "0" * 64}, {"X-API-Key": "nope"}):
        response = httpx.get(server.base_url + P + path, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


def test_unknown_routes_with_a_valid_key_are_a_404_envelope(server: Served) -> None:
    key = server.create_key("acme")
    response = httpx.get(f"{server.base_url}{P}/credits/balance", headers={"X-API-Key": key})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_our_sdk_runs_the_whole_workflow_over_http(server: Served, tmp_path: Path) -> None:
    folder = tmp_path / "signs"
    for n in range(6):
        make_image(folder / ("stop" if n % 2 else "yield") / f"{n}.jpg")
    make_image(folder / "stop" / "night" / "dark.png")
    with client_for(server, server.create_key("acme")) as client:
        assert client.mode == "http"
        first = upload_dataset_from_folder(client, "signs", folder)
        second = upload_dataset_from_folder(client, "signs", folder)
        assert (first.images_uploaded, first.failures) == (7, [])
        assert (second.images_uploaded, second.images_skipped, second.failures) == (0, 7, [])
        image = client.images.get("signs", "dark.png")
        assert image.directory_path == "/stop"
        back = client.images.download("signs", image.id, tmp_path / "back.png")
        assert sha256_of(Path(back)) == sha256_of(folder / "stop" / "night" / "dark.png")
        folders = {d.full_path: d.image_count for d in client.directories.list("signs")}
        assert folders == {"/stop": 4, "/yield": 3}
        client.directories.rename("signs", "/stop", "halt")
        assert client.directories.stats("signs", "/halt").total_images == 4
        report = client.datasets.download("signs", tmp_path / "download")
        assert report.success and report.images_downloaded == 7
        client.images.delete("signs", image.id, permanent=True)
        with pytest.raises(NotFoundError):
            client.images.get("signs", image.id)
        assert client.datasets.delete("signs")["deleted"] is True


def test_over_http_small_and_large_files_upload_and_bad_ones_fail_alone(
    server: Served, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    good = [make_image(folder / "ok" / f"{n}.jpg", seed=n) for n in range(40)]
    big = folder / "ok" / "big.png"
    Image.frombytes("RGB", (800, 800), random.Random(7).randbytes(800 * 800 * 3)).save(big)
    (folder / "bad" / "empty.jpg").parent.mkdir()
    (folder / "bad" / "empty.jpg").write_bytes(b"")
    (folder / "bad" / "notes.jpg").write_text("not an image")
    (folder / "bad" / "cut.jpg").write_bytes(good[0].read_bytes()[:100])
    assert big.stat().st_size > 1024 * 1024  # streamed in a PUT of its own

    with client_for(server, server.create_key("acme")) as client:
        report = upload_dataset_from_folder(client, "mixed", folder)
        big_id = client.images.get("mixed", "big.png").id
        back = client.images.download("mixed", big_id, tmp_path / "back.png")

    reasons = {failure.path.name: failure.reason for failure in report.failures}
    assert report.images_uploaded == 41 and set(reasons) == {"empty.jpg", "notes.jpg", "cut.jpg"}
    assert "empty" in reasons["empty.jpg"] and "not a valid image" in reasons["notes.jpg"]
    assert sha256_of(Path(back)) == sha256_of(big)


def test_an_unreadable_file_fails_alone_over_http(server: Served, tmp_path: Path) -> None:
    from tests.unreadable import run_upload_without_read_permission

    env = {"PICTOGRAPH_BASE_URL": server.base_url, "PICTOGRAPH_API_KEY": server.create_key("a")}
    report = run_upload_without_read_permission(tmp_path, env)

    assert report["images_uploaded"] == 1
    assert report["failures"] == [["locked.jpg", "cannot read file: permission denied"]]


def test_organisations_are_isolated_another_orgs_things_are_404(
    server: Served, tmp_path: Path
) -> None:
    picture = make_image(tmp_path / "x.jpg")
    with client_for(server, server.create_key("owner")) as owner:
        owner.datasets.create("private")
        image = owner.images.upload("private", picture, directory_path="/secret")
    with client_for(server, server.create_key("intruder")) as intruder:
        assert intruder.datasets.list() == []
        for attempt in (
            lambda: intruder.datasets.get("private"),
            lambda: intruder.datasets.get(dataset_id=image.dataset_id),
            lambda: intruder.images.get(image.dataset_id or "", image.id),
            lambda: intruder.images.list("private"),
            lambda: intruder.images.download("private", "secret/x.jpg", tmp_path / "stolen.jpg"),
            lambda: intruder.directories.stats("private", "/secret"),
            lambda: intruder.datasets.delete("private"),
        ):
            with pytest.raises(NotFoundError):
                attempt()
        intruder.datasets.create("private")  # the same name in another org is a different dataset
    assert not (tmp_path / "stolen.jpg").exists()


def signed_url(served: Served, key: str, filename: str = "a.jpg") -> str:
    headers = {"X-API-Key": key}
    httpx.post(f"{served.base_url}{P}/datasets/", json={"name": "ds"}, headers=headers)
    answer = httpx.post(
        f"{served.base_url}{P}/images/upload-url",
        json={
            "dataset": "ds",
            "filename": filename,
            "directory_path": "/",
            "content_type": "image/jpeg",
        },
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    url: str = answer.json()["data"]["upload_url"]
    return url


def test_signed_upload_urls_need_no_key_and_refuse_tampering(
    server: Served, tmp_path: Path
) -> None:
    url = signed_url(server, server.create_key("acme"))
    assert url.startswith(server.base_url + "/storage/upload/")
    body = make_image(tmp_path / "a.jpg").read_bytes()
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    refused = httpx.put(tampered, content=body, headers={"Content-Type": "image/jpeg"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    accepted = httpx.put(url, content=body, headers={"Content-Type": "image/jpeg"})
    assert accepted.status_code == 200
    assert accepted.json()["sha256"] == sha256_of(tmp_path / "a.jpg")


def test_signed_urls_expire_and_bodies_over_the_limit_are_413(
    database_url: str, tmp_path: Path
) -> None:
    import time

    extra = ("--signed-url-ttl", "1", "--max-upload-mb", "1")
    with serve(tmp_path / "home", database_url, *extra) as served:
        key = served.create_key("acme")
        big = make_image(tmp_path / "big.bmp", size=(800, 600)).read_bytes()  # ~1.4 MB
        too_big = httpx.put(signed_url(served, key, "big.jpg"), content=big)
        assert too_big.status_code == 413
        url = signed_url(served, key)
        time.sleep(2.5)
        expired = httpx.put(url, content=make_image(tmp_path / "a.jpg").read_bytes())
        assert expired.status_code == 403 and "expired" in expired.json()["error"]["message"]


def test_register_refuses_a_name_whose_bytes_never_arrived(server: Served) -> None:
    key = server.create_key("acme")
    signed_url(server, key, "ghost.jpg")
    answer = httpx.post(
        f"{server.base_url}{P}/images/register",
        json={
            "dataset": "ds",
            "filename": "ghost.jpg",
            "directory_path": "/",
            "file_size": 10,
            "content_type": "image/jpeg",
            "width": None,
            "height": None,
        },
        headers={"X-API-Key": key},
    )
    assert answer.status_code == 422 and "no bytes" in answer.json()["error"]["message"]


def test_a_retried_write_with_the_same_idempotency_key_acts_once(server: Served) -> None:
    key = server.create_key("acme")
    headers = {"X-API-Key": key, "Idempotency-Key": "a" * 32}
    first = httpx.post(f"{server.base_url}{P}/datasets/", json={"name": "once"}, headers=headers)
    again = httpx.post(f"{server.base_url}{P}/datasets/", json={"name": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    different = httpx.post(
        f"{server.base_url}{P}/datasets/", json={"name": "other"}, headers=headers
    )
    assert (
        different.status_code == 422 and "Idempotency-Key" in different.json()["error"]["message"]
    )
    listed = httpx.get(f"{server.base_url}{P}/datasets/", headers={"X-API-Key": key}).json()
    assert [d["name"] for d in listed["data"]] == ["once"]


def test_an_idempotency_key_replays_only_for_the_api_key_that_first_sent_it(
    server: Served, database_url: str
) -> None:
    first_key, same_org_key = server.create_key("acme"), server.create_key("acme")
    other_org_key = server.create_key("globex")
    shared = "shared-" + "b" * 25

    def create(api_key: str, name: str) -> httpx.Response:
        headers = {"X-API-Key": api_key, "Idempotency-Key": shared}
        return httpx.post(f"{server.base_url}{P}/datasets/", json={"name": name}, headers=headers)

    first = create(first_key, "first")
    second, third = create(same_org_key, "second"), create(other_org_key, "third")

    for answer, name in ((first, "first"), (second, "second"), (third, "third")):
        assert answer.status_code == 201, answer.text
        assert answer.json()["data"]["name"] == name
        assert "idempotent-replayed" not in answer.headers
    assert create(first_key, "first").headers["idempotent-replayed"] == "true"
    listed = httpx.get(f"{server.base_url}{P}/datasets/", headers={"X-API-Key": first_key})
    assert sorted(d["name"] for d in listed.json()["data"]) == ["first", "second"]

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT r.status, o.name AS org FROM idempotency_records r "
                "JOIN api_keys k ON k.id = r.scope "
                "JOIN organizations o ON o.id = k.organization_id "
                "WHERE r.idempotency_key = :key"
            ),
            {"key": shared},
        ).all()
    engine.dispose()
    assert sorted((row.org, row.status) for row in rows) == [
        ("acme", 201),
        ("acme", 201),
        ("globex", 201),
    ]


def test_the_rate_limit_answers_429_with_retry_after_and_the_envelope(
    database_url: str, tmp_path: Path
) -> None:
    with serve(tmp_path / "home", database_url, "--rate-limit", "2", "--rate-burst", "3") as served:
        headers = {"X-API-Key": served.create_key("acme")}
        statuses = [httpx.get(f"{served.base_url}{P}/datasets/", headers=headers) for _ in range(6)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and statuses[0].status_code == 200
    assert int(limited[0].headers["retry-after"]) >= 1
    assert limited[0].json()["error"]["code"] == "rate_limited"


def test_replicas_sharing_redis_share_one_limit(tmp_path: Path) -> None:
    redis = ("--redis-url", "redis://127.0.0.1:6379/0")  # buckets are per key: fresh each run
    limit = ("--rate-limit", "0.5", "--rate-burst", "4", *redis)
    # Replicas share PostgreSQL (one server runs on a SQLite home at a time), each its own home.
    with (
        fresh_database("postgres", tmp_path) as url,
        serve(tmp_path / "one", url, *limit) as one,
        serve(tmp_path / "two", url, *limit) as two,
    ):
        headers = {"X-API-Key": one.create_key("acme")}
        codes = [
            httpx.get(f"{served.base_url}{P}/datasets/", headers=headers).status_code
            for served in (one, two, one, two, one, two)
        ]
    assert codes[:4] == [200, 200, 200, 200] and codes[4:] == [429, 429]


def test_a_folder_upload_with_32_workers_absorbs_429s_under_a_low_limit(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "many"
    for n in range(150):
        make_image(folder / f"class{n % 4}" / f"{n:03d}.jpg")
    # Low enough that even a batched upload's few API calls run into it.
    limit = ("--rate-limit", "2", "--rate-burst", "1")
    caplog.set_level(logging.INFO, logger="pictograph.transport")
    with serve(tmp_path / "home", database_url, *limit) as served:
        client = client_for(served, served.create_key("acme"))
        report = upload_dataset_from_folder(client, "many", folder, max_workers=32)
        client.close()
    assert report.failures == [] and report.images_uploaded == 150
    assert any("HTTP 429" in record.getMessage() for record in caplog.records)


def test_the_openapi_document_is_served_and_lists_the_protocol(server: Served) -> None:
    document = httpx.get(f"{server.base_url}/openapi.json").json()
    paths = document["paths"]
    for path in (f"{P}/datasets/", f"{P}/images/upload-url", f"{P}/directories/{{dataset}}/tree"):
        assert path in paths, path
