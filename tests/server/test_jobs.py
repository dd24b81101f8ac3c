"""``$P/jobs`` on both backends: listing by status and type with paging, one job, cancelling a
queued export (then its status), a finished one (409), and another organisation's (404)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pictograph.server.service import keys
from tests.images import make_image
from tests.server.flows import P, create_dataset, upload
from tests.server.labelling import create_export


def _clients(make_client: Any) -> tuple[Any, Any]:
    """Clients with a key of organisation acme and one of organisation other."""
    anonymous = make_client(require_api_key=True)
    store = anonymous.app.state.store
    acme, other = (keys.create_key(store, name)[1] for name in ("acme", "other"))
    return (anonymous.__class__(anonymous.app, headers={"X-API-Key": acme}),
            anonymous.__class__(anonymous.app, headers={"X-API-Key": other}))  # fmt: skip


def _export(client: Any, name: str) -> dict[str, Any]:
    answer = client.post(
        f"{P}/exports/", json={"dataset_name": "roads", "name": name, "format": "coco"}
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json()["data"])


def _list(client: Any, **params: Any) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    answer = client.get(f"{P}/jobs/", params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return [(j["id"], j["status"]) for j in body["data"]], body["pagination"]


def test_jobs_are_listed_got_and_cancelled_within_their_organisation(
    make_client: Any, tmp_path: Path
) -> None:
    acme, other = _clients(make_client)
    create_dataset(acme, "roads")
    upload(acme, "roads", make_image(tmp_path / "a.png"))
    done = [create_export(acme, "roads", f"done-{i}")["id"] for i in range(3)]
    acme.app.state.export_worker.stop()  # what follows stays queued
    queued = [_export(acme, f"queued-{i}")["id"] for i in range(2)]
    newest_first = [*reversed(queued), *reversed(done)]

    every, pages = _list(acme, status="all")
    assert every == [(i, "queued") for i in reversed(queued)] + [
        (i, "completed") for i in reversed(done)]  # fmt: skip
    assert (pages["total"], pages["has_more"]) == (5, False)
    assert _list(acme)[0] == every[:2]  # active by default
    assert _list(acme, status="queued")[0] == every[:2]
    assert _list(acme, status="finished")[0] == every[2:]
    assert _list(acme, status="completed", type="export")[0] == every[2:]
    assert _list(acme, status="all", type="import") == (
        [], {"has_more": False, "total": 0, "limit": 50, "offset": 0})  # fmt: skip
    page, pages = _list(acme, status="all", limit=2, offset=1)
    assert [i for i, _ in page] == newest_first[1:3]
    assert (pages["total"], pages["has_more"], pages["limit"], pages["offset"]) == (5, True, 2, 1)
    assert _list(acme, status="all", limit=2, offset=4)[0] == every[4:]
    assert acme.get(f"{P}/jobs/", params={"status": "sleeping"}).status_code == 422

    job = acme.get(f"{P}/jobs/{queued[0]}").json()["data"]
    assert {k: job[k] for k in ("id", "type", "status", "name", "error", "completed_at")} == {
        "id": queued[0], "type": "export", "status": "queued", "name": "queued-0",
        "error": None, "completed_at": None}  # fmt: skip
    assert job["cancel_path"] == f"{P}/jobs/{queued[0]}/cancel"
    assert job["detail"] == {"format": "coco", "image_count": None}
    finished = acme.get(f"{P}/jobs/{done[0]}").json()["data"]
    assert (finished["status"], finished["progress"], finished["cancel_path"]) == (
        "completed", 100.0, None)  # fmt: skip

    cancelled = acme.post(f"{P}/jobs/{queued[0]}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["data"]["status"], cancelled.json()["data"]["cancel_path"]) == (
        "cancelled", None)  # fmt: skip
    assert acme.get(f"{P}/jobs/{queued[0]}").json()["data"]["status"] == "cancelled"
    export = acme.get(f"{P}/exports/{queued[0]}").json()["data"]
    assert (export["status"], export["error_message"]) == ("failed", "cancelled")
    assert _list(acme)[0] == [(queued[1], "queued")]
    assert _list(acme, status="cancelled")[0] == [(queued[0], "cancelled")]
    assert acme.post(f"{P}/jobs/{done[0]}/cancel").status_code == 409
    assert acme.post(f"{P}/jobs/{queued[0]}/cancel").status_code == 409
    assert acme.get(f"{P}/jobs/{done[0]}").json()["data"]["status"] == "completed"

    # Another organisation sees none of them.
    assert _list(other, status="all")[0] == []
    assert other.get(f"{P}/jobs/{queued[1]}").status_code == 404
    assert other.post(f"{P}/jobs/{queued[1]}/cancel").status_code == 404
    assert acme.get(f"{P}/jobs/{queued[1]}").json()["data"]["status"] == "queued"
    assert acme.get(f"{P}/jobs/00000000-0000-4000-8000-000000000000").status_code == 404
    assert acme.get(f"{P}/jobs/not-a-uuid").status_code == 404
