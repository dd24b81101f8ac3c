"""Idempotency claims hold only for a request whose whole body arrived, and only while its owner
lives: a cut-off body or a crashed server never leaves a key that fails every retry."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from pictograph.server.service import idempotency
from pictograph.server.service.context import now
from pictograph.server.store import tables as t
from tests.served import Served, serve

P = "/api/v1/developer"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}") as running:
        yield running


def test_a_body_cut_off_mid_transfer_does_not_poison_its_idempotency_key(served: Served) -> None:
    key = served.create_key("acme")
    body = b'{"name": "after-a-reset", "description": "' + b"d" * 2000 + b'"}'
    port = int(served.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/developer/datasets/ HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nIdempotency-Key: cut-off-once\r\n"
            b"X-API-Key: " + key.encode() + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:500]
        )
    # The connection dropped after 500 bytes; the retry sends the whole body with the same key.
    retry = httpx.post(
        f"{served.base_url}{P}/datasets/",
        content=body,
        headers={
            "X-API-Key": key,
            "Idempotency-Key": "cut-off-once",
            "Content-Type": "application/json",
        },
    )
    assert retry.status_code == 201, retry.text
    assert retry.json()["data"]["name"] == "after-a-reset"


def test_a_claim_whose_owner_died_expires_and_the_retry_runs(app_client: TestClient) -> None:
    store = app_client.app.state.store  # type: ignore[attr-defined]
    body = b'{"name": "survivor"}'
    target = f"{P}/datasets/?"
    request_hash = idempotency.fingerprint("POST", target, body)
    scope = _local_scope(app_client)
    # A server claims the key, then dies (kill -9) before answering: its lease is never renewed.
    assert idempotency.begin(store, scope, "crashed", request_hash) is None
    headers = {"Idempotency-Key": "crashed", "Content-Type": "application/json"}

    while_alive = app_client.post(f"{P}/datasets/", content=body, headers=headers)
    assert while_alive.status_code == 409
    assert while_alive.json()["error"]["code"] == "request_in_progress"
    assert 1 <= int(while_alive.headers["retry-after"]) <= idempotency.LEASE.total_seconds()

    records = t.idempotency_records
    with store.write() as conn:  # the lease runs out (we do not wait 30 s for it)
        conn.execute(records.update().values(lease_expires_at=now() - timedelta(seconds=1)))
    retried = app_client.post(f"{P}/datasets/", content=body, headers=headers)
    assert retried.status_code == 201, retried.text
    replayed = app_client.post(f"{P}/datasets/", content=body, headers=headers)
    assert replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"


def test_expired_idempotency_records_are_purged(app_client: TestClient) -> None:
    store = app_client.app.state.store  # type: ignore[attr-defined]
    headers = {"Idempotency-Key": "old-one"}
    assert app_client.post(f"{P}/datasets/", json={"name": "x"}, headers=headers).status_code == 201
    records = t.idempotency_records
    with store.write() as conn:
        conn.execute(records.update().values(created_at=now() - timedelta(hours=25)))
    assert idempotency.purge_expired(store) == 1
    with store.read() as conn:
        assert conn.execute(records.select()).first() is None


def _local_scope(client: TestClient) -> str:
    from pictograph.server.service.organizations import ensure_organization

    return ensure_organization(client.app.state.store)  # type: ignore[attr-defined]
