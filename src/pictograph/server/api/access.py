"""Routes of ``/api/v1/api-keys/`` (outside the developer prefix), ``$P/organizations`` and
``$P/audit``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pictograph.protocol import KEYS_PREFIX
from pictograph.server.api.bodies import (
    ApiKeyCreate,
    ApiKeyUpdate,
    InviteBody,
    MemberRole,
    OrganizationUpdate,
)
from pictograph.server.api.deps import StoreDep, paged, route
from pictograph.server.api.principal import PrincipalDep
from pictograph.server.service import api_keys, audit, organizations

keys_router = APIRouter(redirect_slashes=False)
router = APIRouter(redirect_slashes=False)


@route(keys_router, f"{KEYS_PREFIX}/", "GET", slash_twin=True)
def list_keys(store: StoreDep, who: PrincipalDep, organization_id: str | None = None) -> Any:
    return {"api_keys": api_keys.list_keys(store, who, organization_id), "success": True}


@route(keys_router, f"{KEYS_PREFIX}/", "POST", slash_twin=True, status_code=201)
def create_key(store: StoreDep, who: PrincipalDep, body: ApiKeyCreate) -> Any:
    return api_keys.create_key(
        store,
        who,
        organization_id=body.organization_id,
        name=body.name,
        role=body.role,
        rate_limit=body.rate_limit,
        expires_at=body.expires_at,
    )


@route(keys_router, f"{KEYS_PREFIX}/{{key_id}}", "GET")
def get_key(store: StoreDep, who: PrincipalDep, key_id: str) -> Any:
    return {"api_key": api_keys.get_key(store, who, key_id)}


@route(keys_router, f"{KEYS_PREFIX}/{{key_id}}", "PATCH")
def update_key(store: StoreDep, who: PrincipalDep, key_id: str, body: ApiKeyUpdate) -> Any:
    # Unset fields stay out; an explicit ``"rate_limit": null`` clears the key's cap.
    changes = body.model_dump(exclude_unset=True)
    return {"api_key": api_keys.update_key(store, who, key_id, changes)}


@route(keys_router, f"{KEYS_PREFIX}/{{key_id}}", "DELETE")
def delete_key(store: StoreDep, who: PrincipalDep, key_id: str) -> Any:
    api_keys.delete_key(store, who, key_id)
    return {"success": True, "deleted": True}


@route(router, "/organizations/me", "GET")
def me(store: StoreDep, who: PrincipalDep) -> Any:
    return {"organization": organizations.organization(store, who.organization_id)}


@route(router, "/organizations/me", "PATCH")
def update_me(store: StoreDep, who: PrincipalDep, body: OrganizationUpdate) -> Any:
    organizations.update_organization(
        store, who.organization_id, body.model_dump(exclude_unset=True)
    )
    return {"organization": organizations.organization(store, who.organization_id)}


@route(router, "/organizations/members", "GET")
def members(store: StoreDep, who: PrincipalDep) -> Any:
    return {"members": organizations.members(store, who.organization_id)}


@route(router, "/organizations/members/{member_id}", "PATCH")
def change_role(store: StoreDep, who: PrincipalDep, member_id: str, body: MemberRole) -> Any:
    organizations.change_member(who.organization_id, member_id, body.role)
    return {"member": {"id": member_id, "role": body.role}}


@route(router, "/organizations/members/{member_id}", "DELETE")
def remove_member(store: StoreDep, who: PrincipalDep, member_id: str) -> Any:
    organizations.change_member(who.organization_id, member_id, None)
    return {"success": True}


@route(router, "/organizations/invites", "GET")
def invites(store: StoreDep, who: PrincipalDep, status: str | None = None) -> Any:
    return {"invites": organizations.invites(store, who.organization_id, status)}


@route(router, "/organizations/invites", "POST", status_code=201)
def invite(store: StoreDep, who: PrincipalDep, body: InviteBody) -> Any:
    created = organizations.invite(store, who.organization_id, body.email, body.role, who.key_id)
    return {"invite": created}


@route(router, "/organizations/invites/{invite_id}", "DELETE")
def revoke_invite(store: StoreDep, who: PrincipalDep, invite_id: str) -> Any:
    organizations.revoke_invite(store, who.organization_id, invite_id)
    return {"success": True}


@route(router, "/audit", "GET")
def audit_trail(
    store: StoreDep, who: PrincipalDep, limit: int = 100, offset: int = 0, key_id: str | None = None
) -> Any:
    page = audit.entries(store, who.organization_id, limit=limit, offset=offset, key_id=key_id)
    return paged(page, page.items)
