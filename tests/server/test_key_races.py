"""Two admin keys revoking (or deleting) each other at the same moment: one wins, the other is a
409, and the organisation always keeps an active admin key, on PostgreSQL as on SQLite."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pictograph.errors import ConflictError
from pictograph.server import ServerSettings
from pictograph.server.service import api_keys
from pictograph.server.service.context import AppContext
from pictograph.server.service.keys import Principal
from pictograph.server.service.organizations import ensure_organization
from pictograph.server.store import tables as t

ROUNDS = 12


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[AppContext]:
    settings = ServerSettings(
        home=tmp_path, database_url=database_url, storage_url=f"file://{tmp_path}/blobs"
    )
    opened = AppContext.open(settings)
    yield opened
    opened.close()


def _two_admins(store: AppContext, name: str) -> tuple[Principal, Principal]:
    organization_id = ensure_organization(store, name)
    maker = Principal(organization_id, None, "owner")
    made = [
        api_keys.create_key(store, maker, organization_id=None, name=f"admin {n}", role="admin")
        for n in (1, 2)
    ]
    return (
        Principal(organization_id, made[0]["key_id"], "admin"),
        Principal(organization_id, made[1]["key_id"], "admin"),
    )


def _active_managers(store: AppContext, organization_id: str) -> int:
    k = t.api_keys
    query = sa.select(sa.func.count()).where(
        k.c.organization_id == organization_id,
        k.c.revoked_at.is_(None),
        k.c.role.in_(("admin", "owner")),
    )
    with store.read() as conn:
        return int(conn.execute(query).scalar_one())


def _revoke(store: AppContext, who: Principal, other: str) -> None:
    api_keys.update_key(store, who, other, {"is_active": False})


def _delete(store: AppContext, who: Principal, other: str) -> None:
    api_keys.delete_key(store, who, other)


Remove = Callable[[AppContext, Principal, str], None]


@pytest.mark.parametrize(
    "removals",
    [(_revoke, _revoke), (_delete, _delete), (_revoke, _delete)],
    ids=["revoke-revoke", "delete-delete", "revoke-delete"],
)
def test_two_admin_keys_removing_each_other_at_once_leave_one_active(
    store: AppContext, removals: tuple[Remove, Remove]
) -> None:
    for round_ in range(ROUNDS):
        first, second = _two_admins(store, f"race-{round_}")
        outcomes = _race(store, removals, (first, second), (second, first))
        assert sorted(map(type, outcomes), key=str) == sorted([str, ConflictError], key=str), (
            round_,
            outcomes,
        )
        assert _active_managers(store, first.organization_id) == 1, round_


def _race(
    store: AppContext, removals: tuple[Remove, Remove], *pairs: tuple[Principal, Principal]
) -> list[Any]:
    """Each removal run by its pair's first key on the second, both released at once; what each
    did ("done" or the error raised)."""
    start = threading.Barrier(len(pairs))
    outcomes: list[Any] = [None] * len(pairs)

    def run(index: int, who: Principal, other: Principal) -> None:
        start.wait()
        try:
            removals[index](store, who, str(other.key_id))
            outcomes[index] = "done"
        except Exception as error:  # recorded, asserted by the caller
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(n, *pair)) for n, pair in enumerate(pairs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
