"""Every route of the served OpenAPI document x every role x own and another organisation,
each answer checked against the authorisation table (``service.policy``): allowed, 403, or 404
for another organisation's objects. A route without a table entry fails here."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pictograph.protocol import KEYS_PREFIX
from pictograph.server.service import keys, policy
from tests.images import make_image, sha256_of
from tests.server.flows import P, create_dataset, upload
from tests.server.labelling import box, create_export, save

K = f"{KEYS_PREFIX}/"
#: Routes outside the table: they authenticate by a signed token in their path, not a key.
SIGNED = {("GET", "/storage/blob/{token}"), ("GET", "/storage/exports/{token}")}


@dataclass
class World:
    """One organisation's objects a route is tried on: fresh for every route."""

    dataset: str
    dataset_id: str
    image_id: str
    other_image_id: str
    export_id: str
    key_id: str
    member_id: str
    invite_id: str


class Team:
    """One organisation with a key of every role."""

    def __init__(self, app_client: Any, organization: str) -> None:
        raw = keys.create_key(app_client.app.state.store, organization)[1]
        self.owner = self._as(app_client, raw)
        self.by_role = {"owner": self.owner}
        for role in policy.ROLES[:-1]:
            made = self.owner.post(K, json={"name": role, "role": role})
            assert made.status_code == 201, made.text
            self.by_role[role] = self._as(app_client, made.json()["api_key"])

    @staticmethod
    def _as(app_client: Any, raw: str) -> Any:
        return app_client.__class__(app_client.app, headers={"X-API-Key": raw})

    def world(self, tmp_path: Path, index: int) -> World:
        owner = self.owner
        name = f"victim-{index}"
        made = create_dataset(owner, name, classes=[{"name": "cat", "type": "bbox"}])
        images = [
            upload(owner, name, make_image(tmp_path / f"w{index}" / f"{n}.png", seed=n), "/a")
            for n in range(2)
        ]
        save(owner, name, "a/0.png", [box("cat", 1, 1, 5, 5)])
        export = create_export(owner, name, f"export-{index}")
        owner.post(f"{P}/datasets/{name}/versions", json={"name": "v1"})
        spare = owner.post(K, json={"name": f"spare-{index}", "role": "viewer"}).json()
        invite = owner.post(f"{P}/organizations/invites", json={"email": f"{index}@x.io"})
        members = owner.get(f"{P}/organizations/members").json()["members"]
        return World(
            dataset=name,
            dataset_id=made["id"],
            image_id=images[0]["id"],
            other_image_id=images[1]["id"],
            export_id=export["id"],
            key_id=spare["key_id"],
            member_id=members[0]["id"],
            invite_id=invite.json()["invite"]["id"],
        )


def _values(world: World) -> dict[str, Any]:
    """What a parameter or body field of this name is set to when a route is tried."""
    return {
        "dataset": world.dataset,
        "dataset_name": world.dataset,
        "target_dataset_name": world.dataset,
        "dataset_id": world.dataset_id,
        "image_path": "a/0.png",
        "directory_path": "a",
        "image_id": world.image_id,
        "image_ids": [world.image_id],
        "export_ids": [world.export_id],
        "rest": world.export_id,
        "version": "v1",
        "job_id": world.export_id,
        "key_id": world.key_id,
        "member_id": world.member_id,
        "invite_id": world.invite_id,
        "name": "scratch",
        "filename": "new.png",
        "content_type": "image/png",
        "old_name": "cat",
        "source_name": "cat",
        "target_name": "cat",
        "new_name": "renamed",
        "action": "approve",
        "role": "viewer",
        "email": "new@x.io",
        "tags": ["t"],
        "saves": [{"image_id": world.image_id, "annotations": []}],
        "images": [{"filename": "new.png", "content_type": "image/png"}],
        "updates": {"status": "annotate"},
    }


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


_DEFAULTS = {"string": "x", "integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}


def _body(doc: dict[str, Any], operation: dict[str, Any], values: dict[str, Any]) -> Any:
    """A body with every required field of the operation's schema, named values first."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    schema = _resolve(doc, content["application/json"]["schema"])
    body = {}
    for field in schema.get("required", []):
        kind = _resolve(doc, schema["properties"][field]).get("type", "object")
        body[field] = values.get(field, _DEFAULTS.get(kind))
    return body


@dataclass(frozen=True)
class Call:
    method: str
    template: str
    least: str
    addresses_an_object: bool


def _calls(doc: dict[str, Any]) -> list[Call]:
    calls = []
    for template, operations in doc["paths"].items():
        for method, operation in operations.items():
            if (method.upper(), template) in SIGNED:
                continue
            assert "x-pictograph-role" in operation, f"{method} {template} has no table entry"
            params = {p["name"] for p in operation.get("parameters", []) if p.get("required")}
            body = _body(doc, operation, {}) or {}
            named = params | set(body)
            # Ids in a list are answered one by one ("not found" each), not with a 404.
            objects = named & {"dataset", "dataset_name", "image_id", "rest", "key_id",
                               "member_id", "invite_id"}  # fmt: skip
            calls.append(Call(method.upper(), template, operation["x-pictograph-role"],
                              bool(objects)))  # fmt: skip
    return calls


def _request(client: Any, doc: dict[str, Any], call: Call, world: World) -> Any:
    values = _values(world)
    operation = doc["paths"][call.template][call.method.lower()]
    path = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), call.template)
    query = {
        p["name"]: values.get(p["name"], "x")
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }
    body = _body(doc, operation, values)
    return client.request(call.method, path, params=query, json=body)


def _secrets(world: World) -> list[str]:
    """What another organisation must never see (the ids it was given aside)."""
    return [world.dataset_id, world.other_image_id]


def _intact(team: Team, world: World) -> list[str]:
    """What of ``world`` another organisation's calls changed (nothing, or it is a problem)."""
    owner = team.owner
    found = owner.get(f"{P}/datasets/{world.dataset}")
    checks = {
        "dataset": found.status_code == 200 and found.json()["data"]["image_count"] == 2,
        "labels": len(owner.get(f"{P}/annotations/{world.dataset}/a/0.png").json()["annotations"])
        == 1,
        "export": owner.get(f"{P}/exports/{world.export_id}").status_code == 200,
        "key": owner.get(f"{K}{world.key_id}").json()["api_key"]["is_active"] is True,
        "invite": any(
            i["id"] == world.invite_id
            for i in owner.get(f"{P}/organizations/invites").json()["invites"]
        ),
    }
    return [name for name, ok in checks.items() if not ok]


def test_every_route_answers_every_role_of_both_organisations_as_the_table_says(
    make_client: Any, tmp_path: Path
) -> None:
    app_client = make_client(require_api_key=True)
    doc = app_client.get("/openapi.json").json()
    ours, theirs = Team(app_client, "acme"), Team(app_client, "rival")
    calls = _calls(doc)
    assert len(calls) >= 60
    problems = []
    for index, call in enumerate(calls):
        world = ours.world(tmp_path, index)
        # Another organisation first, while every object of the world still exists.
        for (team, mine), role in itertools.product(((theirs, False), (ours, True)), policy.ROLES):
            if mine and role == policy.ROLES[0] and (changed := _intact(ours, world)):
                problems.append(f"{call.method} {call.template} by them changed {changed}")
            answer = _request(team.by_role[role], doc, call, world)
            allowed = policy.rank(role) >= policy.rank(call.least)
            seen = f"{call.method} {call.template} as {'our' if mine else 'their'} {role}"
            if not allowed:
                expected_ok = answer.status_code == 403
            elif not mine and call.addresses_an_object:
                expected_ok = answer.status_code == 404
            else:
                expected_ok = answer.status_code not in (401, 403, 500)
            if not mine and answer.status_code < 300:
                expected_ok = expected_ok and not any(s in answer.text for s in _secrets(world))
            if not expected_ok:
                problems.append(f"{seen}: {answer.status_code} {answer.text[:160]}")
    assert problems == [], "\n".join(problems)


def test_every_table_entry_is_a_served_route(make_client: Any) -> None:
    doc = make_client(require_api_key=True).get("/openapi.json").json()
    served = {
        (method.upper(), template.removeprefix(P))
        for template, operations in doc["paths"].items()
        for method in operations
    }
    # FastAPI's document writes {image_path} for {image_path:path}.
    table = {(m, re.sub(r":path\}", "}", path)) for m, path in policy.TABLE}
    assert table - served == set()


def test_a_viewer_key_can_delete_nothing_and_the_data_stays(
    make_client: Any, tmp_path: Path
) -> None:
    app_client = make_client(require_api_key=True)
    team = Team(app_client, "acme")
    owner, viewer = team.owner, team.by_role["viewer"]
    create_dataset(owner, "victim")
    files = [make_image(tmp_path / f"{n}.png", seed=n) for n in range(2)]
    for path in files:
        upload(owner, "victim", path, "/a")
    gone = viewer.delete(f"{P}/images/victim/a/0.png", params={"permanent": "true"})
    assert gone.status_code == 403 and "admin" in gone.json()["error"]["message"]
    assert viewer.delete(f"{P}/datasets/victim").status_code == 403
    member = team.by_role["member"]
    permanent = member.post(
        f"{P}/batch/images/delete",
        json={"dataset_name": "victim", "image_ids": ["x"], "permanent": True},
    )
    assert permanent.status_code == 403
    assert owner.get(f"{P}/datasets/victim").json()["data"]["image_count"] == 2
    for n, path in enumerate(files):
        stored = owner.get(f"{P}/images/victim/a/{n}.png")
        assert stored.status_code == 200
        assert sha256_of_bytes(stored.content) == sha256_of(path)


def sha256_of_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_an_admin_cannot_deactivate_delete_or_outrank_an_owner_key(make_client: Any) -> None:
    app_client = make_client(require_api_key=True)
    team = Team(app_client, "acme")
    admin = team.by_role["admin"]
    owner_id = team.owner.get(K).json()["api_keys"][0]["id"]
    assert admin.patch(f"{K}{owner_id}", json={"is_active": False}).status_code == 403
    assert admin.patch(f"{K}{owner_id}", json={"name": "mine"}).status_code == 403
    assert admin.delete(f"{K}{owner_id}").status_code == 403
    assert admin.post(K, json={"name": "up", "role": "owner"}).status_code == 403
    assert team.owner.get(f"{P}/datasets/").status_code == 200


@pytest.mark.parametrize("role", ["viewer", "annotator"])
def test_a_signed_in_gallery_session_acts_with_its_keys_role_and_needs_the_csrf_token(
    make_client: Any, role: str
) -> None:
    from pictograph.server.service import sessions

    app_client = make_client(require_api_key=True)
    team = Team(app_client, "acme")
    store = app_client.app.state.store
    raw = team.owner.post(K, json={"name": f"s-{role}", "role": role}).json()["api_key"]
    token = sessions.open_session(store, raw)
    browser = app_client.__class__(app_client.app, cookies={sessions.COOKIE: token})
    create_dataset(team.owner, "shared")
    assert browser.get(f"{P}/datasets/shared").status_code == 200
    no_token = browser.delete(f"{P}/datasets/shared")
    assert no_token.status_code == 401
    csrf = {"X-CSRF-Token": sessions.csrf_token(store, token)}
    assert browser.delete(f"{P}/datasets/shared", headers=csrf).status_code == 403
    assert team.owner.get(f"{P}/datasets/shared").status_code == 200
