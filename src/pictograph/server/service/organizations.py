"""Organisations: the built-in ``local`` one (the store's default, which embedded mode acts
for), the datasets each one holds, and each organisation as ``$P/organizations/...`` shows it
(details, its owner, invites)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from pictograph.errors import ConflictError, NotFoundError, ValidationError
from pictograph.server.service.context import AppContext, aware, new_id, now, row_dict
from pictograph.server.service.datasets import LIVE
from pictograph.server.store import tables as t

LOCAL = "local"


def ensure_organization(store: AppContext, name: str = LOCAL) -> str:
    """The id of the organisation called ``name``, creating it on first use."""
    query = sa.select(t.organizations.c.id).where(t.organizations.c.name == name)
    with store.read() as conn:
        found = conn.execute(query).scalar_one_or_none()
    if found is not None:
        return str(found)
    try:
        with store.write() as conn:
            found = conn.execute(query).scalar_one_or_none()
            if found is None:
                found = new_id()
                conn.execute(t.organizations.insert().values(id=found, name=name, created_at=now()))
    except sa.exc.IntegrityError:
        with store.read() as conn:
            found = conn.execute(query).scalar_one()
    return str(found)


def dataset_counts(store: AppContext) -> list[tuple[str, int]]:
    """Every organisation of the store with its number of datasets (archived ones too), by name.

    The built-in organisation is always listed: it is the one embedded commands act for.
    """
    ensure_organization(store, LOCAL)
    query = (
        sa.select(t.organizations.c.name, sa.func.count(t.datasets.c.id))
        .select_from(t.organizations)
        .outerjoin(
            t.datasets,
            sa.and_(t.datasets.c.organization_id == t.organizations.c.id, LIVE),
        )
        .group_by(t.organizations.c.id, t.organizations.c.name)
        .order_by(t.organizations.c.name)
    )
    with store.read() as conn:
        return [(str(name), int(count)) for name, count in conn.execute(query)]


def signed_in_as(
    store: AppContext, organization_id: str, key_id: str | None
) -> tuple[str, str | None]:
    """The organisation's name, and the label of the key it was reached with (None: no key)."""
    with store.read() as conn:
        name = conn.execute(
            sa.select(t.organizations.c.name).where(t.organizations.c.id == organization_id)
        ).scalar_one()
        label = (
            conn.execute(sa.select(t.api_keys.c.name).where(t.api_keys.c.id == key_id)).scalar()
            if key_id
            else None
        )
    return str(name), (str(label) if label is not None else None)


# --- The organisation as the API shows it (``$P/organizations/...``) -------------------------
#
# A self-hosted server has no user accounts: an organisation's keys all act for one member, its
# owner, whose ids are derived from the organisation's id. Invites are stored and listed; with no
# accounts and no mail there is nothing to accept them with (documented in docs/compatibility.md).

#: Reported as "no limit" in the counters the SDK requires (no plans, no credits here).
NO_LIMIT = 2**31 - 1
INVITE_ROLES = ("admin", "member", "annotator", "viewer")
INVITE_STATES = ("pending", "accepted", "expired", "revoked", "declined")
INVITE_LIFETIME = timedelta(days=7)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_O = t.organizations
_V = t.organization_invites


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "org"


def _owner_ids(organization_id: str) -> tuple[str, str]:
    """(membership id, user id) of the organisation's owner."""
    member = uuid.uuid5(uuid.NAMESPACE_URL, f"pictograph:member:{organization_id}")
    user = uuid.uuid5(uuid.NAMESPACE_URL, f"pictograph:user:{organization_id}")
    return str(member), str(user)


def _row(conn: sa.Connection, organization_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(_O).where(_O.c.id == organization_id)).first()
    if row is None:
        raise NotFoundError("organization not found")
    return row_dict(row)


def organization(store: AppContext, organization_id: str) -> dict[str, Any]:
    """The ``Organization`` object: tier ``enterprise``, no credits, no caps."""
    with store.read() as conn:
        row = _row(conn, organization_id)
        pending = conn.execute(
            sa.select(sa.func.count()).where(
                _V.c.organization_id == organization_id,
                _V.c.status == "pending",
                _V.c.expires_at > now(),
            )
        ).scalar_one()
    created = aware(row["created_at"])
    return {
        "id": row["id"],
        "name": row["name"],
        "slug": _slug(row["name"]),
        "description": row["description"],
        "is_public": row["is_public"],
        "subscription_tier": "enterprise",
        "credits_remaining": 0,
        "credits_monthly_allowance": 0,
        "credits_reset_at": None,
        "max_users": NO_LIMIT,
        "max_images": NO_LIMIT,
        "max_storage_bytes": NO_LIMIT,
        "member_count": 1,
        "pending_invite_count": pending,
        "created_at": created,
        "updated_at": aware(row["updated_at"]) or created,
    }


def update_organization(store: AppContext, organization_id: str, changes: dict[str, Any]) -> None:
    """Change name, description or public flag; ``ConflictError`` for a taken name."""
    values = {k: changes[k] for k in ("name", "description", "is_public") if k in changes}
    if "name" in values and not str(values["name"] or "").strip():
        raise ValidationError("an organization name cannot be blank")
    if not values:
        raise ValidationError("give name, description or is_public")
    try:
        with store.write() as conn:
            _row(conn, organization_id)
            query = _O.update().where(_O.c.id == organization_id)
            conn.execute(query.values(**values, updated_at=now()))
    except sa.exc.IntegrityError:
        raise ConflictError(f"an organization called {values.get('name')!r} exists") from None


def members(store: AppContext, organization_id: str) -> list[dict[str, Any]]:
    """The one member of a self-hosted organisation: its owner."""
    with store.read() as conn:
        row = _row(conn, organization_id)
    member_id, user_id = _owner_ids(organization_id)
    return [{"id": member_id, "user_id": user_id, "email": None,
             "full_name": f"{row['name']} owner", "role": "owner",
             "joined_at": aware(row["created_at"])}]  # fmt: skip


def change_member(organization_id: str, member_id: str, role: str | None) -> None:
    """Role changes and removals: the only member is the only owner (400), others are 404."""
    if member_id != _owner_ids(organization_id)[0]:
        raise NotFoundError(f"member {member_id!r} not found")
    if role is not None and role not in ("owner", *INVITE_ROLES):
        raise ValidationError(f"role must be one of owner, {', '.join(INVITE_ROLES)}")
    if role != "owner":
        raise ValidationError(
            "the organization's last owner cannot be demoted or removed", status_code=400
        )


def _invite_wire(row: dict[str, Any]) -> dict[str, Any]:
    expires = aware(row["expires_at"])
    status = row["status"]
    if status == "pending" and expires is not None and expires <= now():
        status = "expired"
    return {
        "id": row["id"],
        "organization_id": row["organization_id"],
        "email": row["email"],
        "role": row["role"],
        "status": status,
        "invited_by": row["invited_by"],
        "expires_at": expires,
        "created_at": aware(row["created_at"]),
    }


def invites(store: AppContext, organization_id: str, status: str | None) -> list[dict[str, Any]]:
    """The organisation's invites, newest first, optionally of one status."""
    if status is not None and status not in INVITE_STATES:
        raise ValidationError(f"status must be one of {', '.join(INVITE_STATES)}")
    query = sa.select(_V).where(_V.c.organization_id == organization_id)
    with store.read() as conn:
        rows = conn.execute(query.order_by(_V.c.created_at.desc())).all()
    found = [_invite_wire(row_dict(row)) for row in rows]
    return [item for item in found if status is None or item["status"] == status]


def invite(
    store: AppContext, organization_id: str, email: str, role: str, invited_by: str | None
) -> dict[str, Any]:
    """Record a pending invite (email trimmed, lower-cased). ``ValidationError`` for a bad email
    or role, ``ConflictError`` when that address already has a pending invite."""
    address = email.strip().lower()
    if not _EMAIL.match(address):
        raise ValidationError(f"{email!r} is not an email address")
    if role not in INVITE_ROLES:
        raise ValidationError(f"an invite's role is one of {', '.join(INVITE_ROLES)}")
    stamp = now()
    row = {"id": new_id(), "organization_id": organization_id, "email": address, "role": role,
           "status": "pending", "invited_by": invited_by, "expires_at": stamp + INVITE_LIFETIME,
           "created_at": stamp}  # fmt: skip
    with store.write() as conn:
        open_invite = conn.execute(
            sa.select(_V.c.id).where(
                _V.c.organization_id == organization_id,
                _V.c.email == address,
                _V.c.status == "pending",
                _V.c.expires_at > stamp,
            )
        ).first()
        if open_invite is not None:
            raise ConflictError(f"{address} already has a pending invite")
        conn.execute(_V.insert().values(**row))
    return _invite_wire(row)


def revoke_invite(store: AppContext, organization_id: str, invite_id: str) -> None:
    """Revoke a pending invite; ``NotFoundError`` when unknown, 400 when not pending."""
    with store.write() as conn:
        found = conn.execute(
            sa.select(_V).where(_V.c.organization_id == organization_id, _V.c.id == invite_id)
        ).first()
        if found is None:
            raise NotFoundError(f"invite {invite_id!r} not found")
        current = _invite_wire(row_dict(found))
        if current["status"] != "pending":
            raise ValidationError(
                f"the invite is {current['status']}, not pending", status_code=400
            )
        conn.execute(_V.update().where(_V.c.id == invite_id).values(status="revoked"))
