"""API keys over the API (``/api/v1/api-keys/``): the same rows ``pictograph keys`` manages.

Roles: see ``service.policy`` (managing keys needs admin or owner, checked there). A key never
mints a role above its own, nor changes, deactivates or deletes a key that outranks it.
Deactivating (``is_active=false``) revokes; deleting removes the row: either way the key gets 401
on its next request (every request re-checks the table).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pictograph.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from pictograph.server.service.context import AppContext, aware, new_id, now, row_dict
from pictograph.server.service.keys import KEY_PREFIX, SHOWN_PREFIX_LENGTH, Principal, hash_key
from pictograph.server.service.paths import canonical_uuid, is_uuid
from pictograph.server.service.policy import ROLES, rank
from pictograph.server.store import tables as t

_K = t.api_keys
#: Reported as the plan's limit (requests per minute) when the server sets none.
UNLIMITED = 1_000_000


def ceiling(store: AppContext) -> int:
    """The server-wide limit in requests per minute (``UNLIMITED`` when there is none)."""
    limit = store.settings.rate_limit
    return max(1, int(limit.per_second * 60)) if limit is not None else UNLIMITED


def to_wire(store: AppContext, row: dict[str, Any]) -> dict[str, Any]:
    """The ``ApiKey`` object the SDK parses."""
    top = ceiling(store)
    return {
        "id": row["id"],
        "organization_id": row["organization_id"],
        "name": row["name"],
        "key_prefix": row["prefix"],
        "role": row["role"],
        "rate_limit": min(row["rate_limit"], top) if row["rate_limit"] else top,
        "is_active": row["revoked_at"] is None,
        "last_used_at": aware(row.get("last_used_at")),
        "expires_at": aware(row["expires_at"]),
        "created_at": aware(row["created_at"]),
    }


def list_keys(store: AppContext, principal: Principal, organization_id: str | None) -> list[Any]:
    """The organisation's keys, oldest first; ``ForbiddenError`` for another organisation."""
    _own(principal, organization_id)
    query = sa.select(_K).where(_K.c.organization_id == principal.organization_id)
    with store.read() as conn:
        rows = conn.execute(query.order_by(_K.c.created_at, _K.c.id)).all()
    return [to_wire(store, row_dict(row)) for row in rows]


def _own(principal: Principal, organization_id: str | None) -> None:
    if organization_id is not None and organization_id != principal.organization_id:
        raise ForbiddenError("keys of another organisation cannot be managed with this key")


def _check_limit(rate_limit: int | None) -> None:
    if rate_limit is not None and rate_limit < 1:
        raise ValidationError("rate_limit must be a positive number of requests per minute")


def create_key(
    store: AppContext,
    principal: Principal,
    *,
    organization_id: str | None,
    name: str,
    role: str,
    rate_limit: int | None = None,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    """A new key: the ``CreatedApiKey`` answer, the only time the secret is shown."""
    _own(principal, organization_id)
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}", status_code=400)
    if rank(role) > rank(principal.role):
        raise ForbiddenError(f"a {principal.role} key cannot create a {role} key")
    if not name.strip() or len(name) > 100:
        raise ValidationError("a key name has 1 to 100 characters")
    _check_limit(rate_limit)
    raw = KEY_PREFIX + secrets.token_hex(32)
    row = {
        "id": new_id(),
        "organization_id": principal.organization_id,
        "name": name,
        "key_hash": hash_key(raw),
        "prefix": raw[:SHOWN_PREFIX_LENGTH],
        "created_at": now(),
        "revoked_at": None,
        "role": role,
        "rate_limit": rate_limit,
        "expires_at": expires_at,
    }
    with store.write() as conn:
        conn.execute(_K.insert().values(**row))
    wire = to_wire(store, row)
    return {"api_key": raw, "key_id": row["id"], **{k: wire[k] for k in _CREATED}}


_CREATED = ("key_prefix", "name", "role", "rate_limit", "created_at", "expires_at")


def _find(conn: sa.Connection, principal: Principal, key_id: str) -> dict[str, Any]:
    if not is_uuid(key_id):
        raise NotFoundError(f"API key {key_id!r} not found")
    query = sa.select(_K).where(
        _K.c.id == canonical_uuid(key_id), _K.c.organization_id == principal.organization_id
    )
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"API key {key_id!r} not found")
    return row_dict(row)


def get_key(store: AppContext, principal: Principal, key_id: str) -> dict[str, Any]:
    """One key of the organisation; ``NotFoundError`` otherwise."""
    with store.read() as conn:
        return to_wire(store, _find(conn, principal, key_id))


def _not_above(principal: Principal, row: dict[str, Any], verb: str) -> None:
    """``ForbiddenError`` when the key in ``row`` outranks the caller's."""
    if rank(row["role"]) > rank(principal.role):
        raise ForbiddenError(f"a {principal.role} key cannot {verb} a {row['role']} key")


def _lock_organization(conn: sa.Connection, principal: Principal) -> None:
    """Take the organisation's row lock (PostgreSQL ``FOR UPDATE``; SQLite writers already take
    turns) for the rest of the transaction, so changes to its keys run one at a time: two
    admin keys revoking each other at once cannot both pass the last-admin check."""
    query = sa.select(t.organizations.c.id).where(t.organizations.c.id == principal.organization_id)
    conn.execute(query.with_for_update())


def _last_manager(conn: sa.Connection, row: dict[str, Any]) -> bool:
    """Whether ``row`` is the organisation's only active admin or owner key."""
    if rank(row["role"]) < rank("admin") or row["revoked_at"] is not None:
        return False
    query = sa.select(sa.func.count()).where(
        _K.c.organization_id == row["organization_id"],
        _K.c.revoked_at.is_(None),
        _K.c.role.in_(("admin", "owner")),
        _K.c.id != row["id"],
    )
    return conn.execute(query).scalar_one() == 0


def update_key(
    store: AppContext, principal: Principal, key_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Rename, cap (``rate_limit``; None clears the cap), deactivate or reactivate a key.
    ``ValidationError`` for a ``role`` (immutable), ``ConflictError`` for deactivating the last
    admin/owner key."""
    if "role" in changes:
        raise ValidationError("the role of a key cannot change: create a new key", status_code=400)
    values: dict[str, Any] = {}
    if changes.get("name") is not None:
        if not str(changes["name"]).strip() or len(changes["name"]) > 100:
            raise ValidationError("a key name has 1 to 100 characters")
        values["name"] = changes["name"]
    if "rate_limit" in changes:
        _check_limit(changes["rate_limit"])
        values["rate_limit"] = changes["rate_limit"]
    with store.write() as conn:
        if changes.get("is_active") is False:
            _lock_organization(conn, principal)
        row = _find(conn, principal, key_id)
        _not_above(principal, row, "change")
        if changes.get("is_active") is not None:
            if not changes["is_active"] and _last_manager(conn, row):
                raise ConflictError("this is the last active admin key; create another first")
            active = row["revoked_at"] is None
            if bool(changes["is_active"]) != active:
                values["revoked_at"] = None if changes["is_active"] else now()
        if values:
            conn.execute(_K.update().where(_K.c.id == row["id"]).values(**values))
        return to_wire(store, {**row, **values})


def delete_key(store: AppContext, principal: Principal, key_id: str) -> None:
    """Delete a key (401 from its next request on); ``ConflictError`` for the last admin key."""
    with store.write() as conn:
        _lock_organization(conn, principal)
        row = _find(conn, principal, key_id)
        _not_above(principal, row, "delete")
        if _last_manager(conn, row):
            raise ConflictError("this is the last active admin key; create another first")
        conn.execute(_K.delete().where(_K.c.id == row["id"]))
