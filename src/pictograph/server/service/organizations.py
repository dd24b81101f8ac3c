"""Organisations: the built-in ``local`` one (the store's default, which embedded mode acts for)
and the datasets each one holds."""

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


def dataset_counts(store: Store) -> list[tuple[str, int]]:
    """Every organisation of the store with its number of datasets (archived ones too), by name.

    The built-in organisation is always listed: it is the one embedded commands act for.
    """
    ensure_organization(store, LOCAL)
    query = (
        sa.select(t.organizations.c.name, sa.func.count(t.datasets.c.id))
        .select_from(t.organizations)
        .outerjoin(t.datasets, t.datasets.c.organization_id == t.organizations.c.id)
        .group_by(t.organizations.c.id, t.organizations.c.name)
        .order_by(t.organizations.c.name)
    )
    with store.read() as conn:
        return [(str(name), int(count)) for name, count in conn.execute(query)]
