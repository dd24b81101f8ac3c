"""API keys: created once and shown once, stored only as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pictograph.errors import AuthError, NotFoundError
from pictograph.server.service.context import AppContext, aware, new_id, now
from pictograph.server.service.organizations import ensure_organization
from pictograph.server.service.paths import refuse_control
from pictograph.server.store import tables as t

KEY_PREFIX = "pk_live_"
#: How much of a key is kept in clear to recognise it in listings (never enough to use it).
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 6


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: an organisation, through one key (none in embedded mode)."""

    organization_id: str
    key_id: str | None
    #: See ``service.policy.ROLES``; keys made by ``pictograph keys`` (and embedded mode) own.
    role: str = "owner"
    #: The key's name, as the audit trail shows who acted.
    key_name: str | None = None
    #: The key's own cap in requests per minute (None: only the server's limit applies).
    rate_limit: int | None = None

    @property
    def scope(self) -> str:
        """The name limits and idempotency records are kept under."""
        return self.key_id or self.organization_id


def local_principal(store: AppContext) -> Principal:
    """Who every request acts for when no key is required (embedded mode): the built-in
    organisation, owner, through no key."""
    return Principal(ensure_organization(store), None)


@dataclass(frozen=True)
class KeyInfo:
    """A key as listings show it: never the key itself."""

    id: str
    organization: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def hash_key(raw_key: str) -> str:
    """The stored form of a key. Keys carry 256 random bits, so one SHA-256 suffices."""
    return hashlib.sha256(raw_key.strip().encode()).hexdigest()


def create_key(store: AppContext, organization: str, name: str = "default") -> tuple[KeyInfo, str]:
    """Create a key for ``organization`` (created if needed); return it with the raw key."""
    refuse_control(name, "a key name")
    refuse_control(organization, "an organization name")
    organization_id = ensure_organization(store, organization)
    raw_key = KEY_PREFIX + secrets.token_hex(32)
    info = KeyInfo(new_id(), organization, name, raw_key[:SHOWN_PREFIX_LENGTH], now(), None)
    with store.write() as conn:
        conn.execute(
            t.api_keys.insert().values(
                id=info.id,
                organization_id=organization_id,
                name=name,
                key_hash=hash_key(raw_key),
                prefix=info.prefix,
                created_at=info.created_at,
            )
        )
    return info, raw_key


def list_keys(store: AppContext, organization: str | None = None) -> list[KeyInfo]:
    """Every key (or one organisation's), oldest first."""
    query = (
        sa.select(t.api_keys, t.organizations.c.name.label("organization"))
        .join(t.organizations, t.organizations.c.id == t.api_keys.c.organization_id)
        .order_by(t.api_keys.c.created_at, t.api_keys.c.id)
    )
    if organization is not None:
        query = query.where(t.organizations.c.name == organization)
    with store.read() as conn:
        rows = conn.execute(query).all()
    return [
        KeyInfo(
            r.id,
            r.organization,
            r.name,
            r.prefix,
            aware(r.created_at) or now(),
            aware(r.revoked_at),
        )
        for r in rows
    ]


def revoke_key(store: AppContext, key_id: str) -> None:
    """Revoke the key with id ``key_id``. Raises ``NotFoundError`` when there is no active one."""
    with store.write() as conn:
        done = conn.execute(
            t.api_keys.update()
            .where(t.api_keys.c.id == key_id, t.api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now())
        )
    if done.rowcount == 0:
        raise NotFoundError(f"no active API key with id {key_id}")


def authenticate(store: AppContext, raw_key: str | None) -> Principal:
    """The principal a key stands for. Raises ``AuthError`` for a missing, wrong or revoked key."""
    if not raw_key or not raw_key.strip():
        raise AuthError("missing API key: send it in the X-API-Key header")
    principal = _active_key(store, t.api_keys.c.key_hash == hash_key(raw_key))
    if principal is None:
        raise AuthError("invalid, revoked or expired API key")
    return principal


def principal_of_key(store: AppContext, key_id: str) -> Principal | None:
    """The principal of the active key with id ``key_id`` (a gallery session names its key)."""
    return _active_key(store, t.api_keys.c.id == key_id)


def _active_key(store: AppContext, which: sa.ColumnElement[bool]) -> Principal | None:
    keys = t.api_keys.c
    query = sa.select(keys.id, keys.organization_id, keys.role, keys.name, keys.rate_limit).where(
        which,
        keys.revoked_at.is_(None),
        sa.or_(keys.expires_at.is_(None), keys.expires_at > now()),
    )
    with store.read() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return Principal(
        organization_id=row.organization_id,
        key_id=row.id,
        role=row.role,
        key_name=row.name,
        rate_limit=row.rate_limit,
    )
