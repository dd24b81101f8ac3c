"""The audit trail: one entry per successful call that removes or changes data or access
(the routes whose rule in ``service.policy`` says ``audited``), kept for a retention period.

Written by the access middleware once the route has answered, so the entry carries the outcome;
read by admins through ``GET $P/audit``, ``pictograph audit`` and the gallery's audit page.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pictograph.server.service.context import AppContext, Page, aware, new_id, now
from pictograph.server.service.keys import Principal
from pictograph.server.store import tables as t

_A = t.audit_log
#: How often a process writes a key's ``last_used_at`` at most.
LAST_USED_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Entry:
    """What one audited call did, as a route answered it."""

    action: str
    method: str
    path: str
    status: int
    client: str | None


def record(store: AppContext, principal: Principal, entry: Entry) -> None:
    """Keep ``entry`` as done by ``principal`` now."""
    with store.write() as conn:
        conn.execute(
            _A.insert().values(
                id=new_id(),
                organization_id=principal.organization_id,
                key_id=principal.key_id,
                key_name=principal.key_name,
                action=entry.action[:255],
                method=entry.method,
                path=entry.path,
                status=entry.status,
                client=(entry.client or "")[:255] or None,
                created_at=now(),
            )
        )


def entries(
    store: AppContext,
    organization_id: str,
    *,
    limit: int = 100,
    offset: int = 0,
    key_id: str | None = None,
) -> Page:
    """A page of the organisation's trail, newest first (optionally one key's)."""
    limit = max(1, min(limit, 1000))
    where = [_A.c.organization_id == organization_id]
    if key_id is not None:
        where.append(_A.c.key_id == key_id)
    query = (
        sa.select(_A)
        .where(*where)
        .order_by(_A.c.created_at.desc(), _A.c.id.desc())
        .limit(limit)
        .offset(max(0, offset))
    )
    with store.read() as conn:
        rows = conn.execute(query).all()
        total = conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one()
    items = [_wire(row._mapping) for row in rows]
    return Page(items=items, total=int(total), limit=limit, offset=offset)


def _wire(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "key_id": row["key_id"],
        "key_name": row["key_name"],
        "action": row["action"],
        "method": row["method"],
        "path": row["path"],
        "status": row["status"],
        "client": row["client"],
        "created_at": aware(row["created_at"]),
    }


def prune(store: AppContext, retention: timedelta, *, dry_run: bool = False) -> int:
    """Remove entries older than ``retention`` (count them only, with ``dry_run``)."""
    old = _A.c.created_at < now() - retention
    if dry_run:
        with store.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).where(old)).scalar_one())
    with store.write() as conn:
        return int(conn.execute(_A.delete().where(old)).rowcount or 0)


class KeyUsage:
    """Keeps each key's ``last_used_at`` to the minute without a database write per request:
    a process writes a key's stamp at most once every ``LAST_USED_EVERY_SECONDS``."""

    def __init__(self, store: AppContext) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._written: dict[str, float] = {}

    def due(self, key_id: str) -> bool:
        """Whether this process should write ``key_id``'s stamp now (then it counts as done)."""
        moment = time.monotonic()
        with self._lock:
            last = self._written.get(key_id)
            if last is not None and moment - last < LAST_USED_EVERY_SECONDS:
                return False
            self._written[key_id] = moment
            return True

    def write(self, key_id: str) -> None:
        stamp: datetime = now()
        with self.store.write() as conn:
            conn.execute(
                t.api_keys.update().where(t.api_keys.c.id == key_id).values(last_used_at=stamp)
            )
