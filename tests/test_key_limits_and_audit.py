"""A key's own rate limit, enforced (and shared through Redis by replicas), and the audit trail
of destructive calls, on a real ``pictograph serve``."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.cli.runner import Pictograph
from tests.conftest import fresh_database
from tests.images import make_image
from tests.served import Served, serve
from tests.server.flows import P, create_dataset, upload

K = "/api/v1/api-keys/"


def _key(served: Served, owner: dict[str, str], role: str, rate_limit: int | None = None) -> str:
    body: dict[str, object] = {"name": f"{role}-{uuid.uuid4().hex[:6]}", "role": role}
    if rate_limit is not None:
        body["rate_limit"] = rate_limit
    made = httpx.post(f"{served.base_url}{K}", json=body, headers=owner)
    assert made.status_code == 201, made.text
    return str(made.json()["api_key"])


def test_a_key_over_its_own_rate_limit_gets_429_while_another_key_is_unaffected(
    database_url: str, tmp_path: Path
) -> None:
    with serve(tmp_path / "home", database_url) as served:
        owner = {"X-API-Key": served.create_key("acme")}
        capped = {"X-API-Key": _key(served, owner, "member", rate_limit=60)}
        with httpx.Client(base_url=served.base_url) as http:
            codes = [http.get(f"{P}/datasets/", headers=capped).status_code for _ in range(60)]
            refused = http.get(f"{P}/datasets/", headers=capped)
            other = [http.get(f"{P}/datasets/", headers=owner).status_code for _ in range(70)]
    assert codes == [200] * 60
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert other == [200] * 70


def test_two_replicas_sharing_redis_hold_a_keys_limit_across_them(tmp_path: Path) -> None:
    redis = ("--redis-url", "redis://127.0.0.1:6379/0")  # windows are per key: fresh each run
    with fresh_database("postgres", tmp_path) as url:
        home_one, home_two = tmp_path / "one", tmp_path / "two"
        with serve(home_one, url, *redis) as one, serve(home_two, url, *redis) as two:
            owner = {"X-API-Key": one.create_key("acme")}
            capped = {"X-API-Key": _key(one, owner, "member", rate_limit=10)}
            codes = [
                httpx.get(f"{served.base_url}{P}/datasets/", headers=capped).status_code
                for served in (one, two) * 6
            ]
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]


def test_each_destructive_call_leaves_one_audit_entry_naming_its_key(
    database_url: str, tmp_path: Path
) -> None:
    with serve(tmp_path / "home", database_url) as served:
        owner = {"X-API-Key": served.create_key("acme")}
        admin_key = _key(served, owner, "admin")
        viewer_key = _key(served, owner, "viewer")
        admin = httpx.Client(base_url=served.base_url, headers={"X-API-Key": admin_key})
        viewer = httpx.Client(base_url=served.base_url, headers={"X-API-Key": viewer_key})
        create_dataset(admin, "victim")
        for n in range(2):
            upload(admin, "victim", make_image(tmp_path / f"{n}.png", seed=n), "/a")
        assert viewer.delete(f"{P}/datasets/victim").status_code == 403
        image = admin.delete(f"{P}/images/victim/a/0.png", params={"permanent": "true"})
        assert image.status_code == 200
        assert admin.delete(f"{P}/datasets/victim").status_code == 200
        trail = admin.get(f"{P}/audit").json()["data"]
        assert viewer.get(f"{P}/audit").status_code == 403
        admin.close()
        viewer.close()
        printed = Pictograph.served(served.base_url, admin_key).json("audit")
    deletes = [entry for entry in trail if entry["method"] == "DELETE"]
    assert [(e["action"], e["path"]) for e in deletes] == [
        ("deleting a dataset", f"{P}/datasets/victim"),
        ("deleting an image", f"{P}/images/victim/a/0.png?permanent=true"),
    ]
    assert all(e["key_name"].startswith("admin-") for e in deletes)
    assert all(e["status"] == 200 and e["client"] == "127.0.0.1" for e in deletes)
    assert not any((e["key_name"] or "").startswith("viewer") for e in trail)
    assert [e["id"] for e in printed] == [e["id"] for e in trail]
