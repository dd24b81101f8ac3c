"""API keys and organisations over the wire: CLI-made keys, roles, 401 at once after revoking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pictograph.server.service import keys
from tests.server.flows import P

K = "/api/v1/api-keys/"


def _client(make_client: Any) -> tuple[Any, Any]:
    app_client = make_client(require_api_key=True)
    raw = keys.create_key(app_client.app.state.store, "acme")[1]
    return app_client, app_client.__class__(app_client.app, headers={"X-API-Key": raw})


def test_keys_made_by_the_cli_are_listed_and_a_deleted_or_deactivated_key_is_refused_at_once(
    make_client: Any, tmp_path: Path
) -> None:
    anonymous, owner = _client(make_client)
    assert anonymous.get(K).status_code == 401
    listed = owner.get(K).json()["api_keys"]
    assert [k["role"] for k in listed] == ["owner"] and listed[0]["is_active"] is True
    made = owner.post(K, json={"name": "ci", "role": "member", "rate_limit": 60}).json()
    assert made["api_key"].startswith("pk_live_") and made["rate_limit"] == 60
    member = owner.__class__(owner.app, headers={"X-API-Key": made["api_key"]})
    assert member.get(f"{P}/datasets/").status_code == 200
    assert member.post(K, json={"name": "x", "role": "viewer"}).status_code == 403
    assert owner.patch(f"{K}{made['key_id']}", json={"role": "owner"}).status_code == 400

    off = owner.patch(f"{K}{made['key_id']}", json={"is_active": False}).json()["api_key"]
    assert off["is_active"] is False
    assert member.get(f"{P}/datasets/").status_code == 401
    owner.patch(f"{K}{made['key_id']}", json={"is_active": True})
    assert member.get(f"{P}/datasets/").status_code == 200
    cleared = owner.patch(f"{K}{made['key_id']}", json={"rate_limit": None}).json()["api_key"]
    assert cleared["rate_limit"] >= 60
    assert owner.delete(f"{K}{made['key_id']}").status_code == 200
    assert member.get(f"{P}/datasets/").status_code == 401
    assert owner.get(f"{K}{made['key_id']}").status_code == 404
    own_id = listed[0]["id"]
    last = owner.delete(f"{K}{own_id}")
    assert last.status_code == 409 and "last active admin" in last.json()["error"]["message"]


def test_another_organisations_key_is_a_404_and_its_organisation_id_a_403(
    make_client: Any, tmp_path: Path
) -> None:
    anonymous, owner = _client(make_client)
    other_id = keys.create_key(anonymous.app.state.store, "other")[0].id
    assert owner.get(f"{K}{other_id}").status_code == 404
    assert owner.delete(f"{K}{other_id}").status_code == 404
    foreign_org = keys.list_keys(anonymous.app.state.store, "other")[0]
    assert foreign_org.organization == "other"
    me = owner.get(f"{P}/organizations/me").json()["organization"]
    answer = owner.get(K, params={"organization_id": "00000000-0000-4000-8000-000000000000"})
    assert answer.status_code == 403
    assert owner.get(K, params={"organization_id": me["id"]}).status_code == 200


def test_the_organisation_reports_no_billing_limits_and_keeps_invites(
    make_client: Any, tmp_path: Path
) -> None:
    _, owner = _client(make_client)
    me = owner.get(f"{P}/organizations/me").json()["organization"]
    assert me["subscription_tier"] == "enterprise" and me["credits_remaining"] == 0
    assert me["member_count"] == 1 and me["max_users"] >= 1
    member = owner.get(f"{P}/organizations/members").json()["members"][0]
    demote = owner.patch(f"{P}/organizations/members/{member['id']}", json={"role": "viewer"})
    assert demote.status_code == 400
    assert owner.delete(f"{P}/organizations/members/nobody").status_code == 404
    assert owner.post(f"{P}/organizations/invites", json={"email": "nope"}).status_code == 422
    owner_invite = owner.post(
        f"{P}/organizations/invites", json={"email": "a@b.io", "role": "owner"}
    )
    assert owner_invite.status_code == 422
    invite = owner.post(f"{P}/organizations/invites", json={"email": "a@b.io"}).json()["invite"]
    assert owner.get(f"{P}/organizations/me").json()["organization"]["pending_invite_count"] == 1
    assert owner.delete(f"{P}/organizations/invites/{invite['id']}").status_code == 200
    again = owner.delete(f"{P}/organizations/invites/{invite['id']}")
    assert again.status_code == 400 and "revoked" in again.json()["error"]["message"]
