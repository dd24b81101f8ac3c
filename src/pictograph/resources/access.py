"""``client.api_keys``, ``client.organizations`` and ``client.audit``: keys, the organisation,
members, invites, and the audit trail."""

from __future__ import annotations

from typing import Any

from pictograph._answers import parse_model, parse_models
from pictograph.label_models import (
    ApiKey,
    AuditEntry,
    CreatedApiKey,
    Organization,
    OrganizationInvite,
    OrganizationMember,
)
from pictograph.protocol import API_PREFIX
from pictograph.resources._base import Resource

_KEYS = "/api/v1/api-keys/"
_ORGS = f"{API_PREFIX}/organizations"


class ApiKeys(Resource):
    """Keys of the caller's organisation (the same ones ``pictograph keys`` manages)."""

    def list(self) -> list[ApiKey]:
        answer = self._transport.request_json("GET", _KEYS)
        return parse_models(ApiKey, answer.get("api_keys", []))

    def create(
        self,
        name: str,
        *,
        role: str = "member",
        rate_limit: int | None = None,
        expires_at: str | None = None,
    ) -> CreatedApiKey:
        """A new key; its secret (``api_key``) is shown only in this answer."""
        body: dict[str, Any] = {"name": name, "role": role}
        if rate_limit is not None:
            body["rate_limit"] = rate_limit
        if expires_at is not None:
            body["expires_at"] = expires_at
        return parse_model(CreatedApiKey, self._transport.request_json("POST", _KEYS, json=body))

    def get(self, key_id: str) -> ApiKey:
        return parse_model(ApiKey, self._transport.request_json("GET", _KEYS + key_id)["api_key"])

    def update(
        self,
        key_id: str,
        *,
        name: str | None = None,
        rate_limit: int | None = None,
        clear_rate_limit: bool = False,
        is_active: bool | None = None,
    ) -> ApiKey:
        """Rename, cap, uncap, deactivate or reactivate; ``ValueError`` when nothing is given."""
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if rate_limit is not None and clear_rate_limit:
            raise ValueError("rate_limit and clear_rate_limit exclude each other")
        if rate_limit is not None or clear_rate_limit:
            body["rate_limit"] = rate_limit
        if is_active is not None:
            body["is_active"] = is_active
        if not body:
            raise ValueError("give at least one field to update")
        answer = self._transport.request_json("PATCH", _KEYS + key_id, json=body)
        return parse_model(ApiKey, answer["api_key"])

    def delete(self, key_id: str) -> None:
        """Delete a key: it gets 401 from its next request on."""
        self._transport.request_json("DELETE", _KEYS + key_id)


class Organizations(Resource):
    """The caller's organisation."""

    def me(self) -> Organization:
        answer = self._transport.request_json("GET", f"{_ORGS}/me")
        return parse_model(Organization, answer["organization"])

    def update(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        is_public: bool | None = None,
    ) -> Organization:
        body = {k: v for k, v in (("name", name), ("description", description),
                                  ("is_public", is_public)) if v is not None}  # fmt: skip
        if not body:
            raise ValueError("give name, description or is_public")
        answer = self._transport.request_json("PATCH", f"{_ORGS}/me", json=body)
        return parse_model(Organization, answer["organization"])

    def list_members(self) -> list[OrganizationMember]:
        answer = self._transport.request_json("GET", f"{_ORGS}/members")
        return parse_models(OrganizationMember, answer.get("members", []))

    def list_invites(self, *, status: str | None = None) -> list[OrganizationInvite]:
        answer = self._transport.request_json("GET", f"{_ORGS}/invites", params={"status": status})
        return parse_models(OrganizationInvite, answer.get("invites", []))

    def invite(self, email: str, *, role: str = "member") -> OrganizationInvite:
        body = {"email": email, "role": role}
        answer = self._transport.request_json("POST", f"{_ORGS}/invites", json=body)
        return parse_model(OrganizationInvite, answer["invite"])

    def revoke_invite(self, invite_id: str) -> None:
        self._transport.request_json("DELETE", f"{_ORGS}/invites/{invite_id}")


class AuditTrail(Resource):
    """The organisation's audit trail (admin keys): every write that removed or changed data or
    access, newest first."""

    def list(
        self, *, limit: int = 100, offset: int = 0, key_id: str | None = None
    ) -> list[AuditEntry]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if key_id is not None:
            params["key_id"] = key_id
        answer = self._transport.request_json("GET", f"{API_PREFIX}/audit", params=params)
        return parse_models(AuditEntry, answer.get("data", []))
