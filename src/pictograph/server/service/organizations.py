"""Organisations: the built-in ``local`` organisation used when no API key is required."""

from __future__ import annotations

import sqlalchemy as sa

from pictograph.server.service.context import Store, new_id, now
from pictograph.server.store import tables as t

LOCAL = "local"


def ensure_organization(store: Store, name: str = LOCAL) -> str:
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
