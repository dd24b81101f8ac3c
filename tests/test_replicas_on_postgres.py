"""Replicas sharing one PostgreSQL database: the schema migrated once by `pictograph migrate`,
replicas refusing an older schema, a pool size per process, and uniqueness held by constraints."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from pictograph.server.store.database import SCHEMA_HEAD, migrate, schema_revision
from tests.images import make_image
from tests.served import PICTOGRAPH, create_key, free_port, launch

P = "/api/v1/developer"
pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PICTOGRAPH, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_replica_refuses_an_older_schema_in_one_line_until_migrate_runs_once(
    database_url: str, tmp_path: Path
) -> None:
    engine = sa.create_engine(database_url)
    migrate(engine, "0001_initial")
    engine.dispose()
    port = str(free_port())
    store = ("--home", str(tmp_path / "home"), "--database-url", database_url)

    refused = _run("serve", "--port", port, *store)
    migrated = _run("migrate", *store)
    again = _run("migrate", *store)

    assert refused.returncode != 0
    message = refused.stderr.strip().splitlines()[-1]
    assert "schema is at revision 0001_initial" in message
    assert "run `pictograph migrate" in message
    assert "Traceback" not in refused.stderr
    assert migrated.returncode == 0, migrated.stderr
    assert f"at revision {SCHEMA_HEAD}" in migrated.stdout
    assert again.returncode == 0 and f"at revision {SCHEMA_HEAD}" in again.stdout
    engine = sa.create_engine(database_url)
    assert schema_revision(engine) == SCHEMA_HEAD
    engine.dispose()


def test_two_replicas_racing_to_register_one_name_make_exactly_one_image(
    database_url: str, tmp_path: Path
) -> None:
    store = ("--home", str(tmp_path / "keys"), "--database-url", database_url)
    key = create_key(store, "acme")
    picture = make_image(tmp_path / "same.png").read_bytes()
    ports = [free_port(), free_port()]
    replicas = [
        launch(
            [
                "serve",
                "--port",
                str(port),
                "--home",
                str(tmp_path / f"h{port}"),
                "--database-url",
                database_url,
                "--db-pool-size",
                "2",
            ],
            f"http://127.0.0.1:{port}",
            (),
        )
        for port in ports
    ]
    with replicas[0] as one, replicas[1] as two:
        headers = {"X-API-Key": key}
        httpx.post(f"{one.base_url}{P}/datasets", json={"name": "race"}, headers=headers)
        outcomes: list[int] = []

        def upload(base: str, attempt: int) -> None:
            body = {
                "dataset": "race",
                "images": [
                    {"filename": "same.png", "directory_path": "/", "content_type": "image/png"}
                ],
                "register_on_upload": True,
            }
            answer = httpx.post(f"{base}{P}/images/bulk-upload-url", json=body, headers=headers)
            url = answer.json()["data"]["upload_urls"][0]["upload_url"]
            put = httpx.put(url, content=picture, headers={"Content-Type": "image/png"})
            outcomes.append(put.status_code)

        threads = [
            threading.Thread(target=upload, args=(replica.base_url, n))
            for n in range(8)
            for replica in (one, two)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        listed = httpx.get(
            f"{two.base_url}{P}/images/", params={"dataset": "race"}, headers=headers
        ).json()

    assert sorted(set(outcomes)) == [200, 409]
    assert outcomes.count(200) == 1
    assert [image["filename"] for image in listed["data"]] == ["same.png"]
