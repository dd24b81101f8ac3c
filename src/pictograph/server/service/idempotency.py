"""Idempotent writes: a POST/PUT/PATCH retried with the same Idempotency-Key replays its answer.

Records are keyed by (API key or organisation, Idempotency-Key) and kept 24 hours. A request
still running when its twin arrives gets 409; a key reused for a different request gets 422;
5xx answers are not kept, so a retry can succeed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from pictograph.errors import ConflictError, ValidationError
from pictograph.server.service.context import Store, now
from pictograph.server.store import tables as t

RETENTION = timedelta(hours=24)


@dataclass(frozen=True)
class Replay:
    """The stored answer of the first request with this key."""

    status: int
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests 'the same request' for a key."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def begin(store: Store, scope: str, key: str, request_hash: str) -> Replay | None:
    """Claim ``key`` for this request, or return the answer of the request that claimed it.

    Raises ``ConflictError`` while that request is still running and ``ValidationError`` when the
    key was used for a different request.
    """
    records = t.idempotency_records
    cutoff = now() - RETENTION
    with store.write() as conn:
        conn.execute(
            records.delete().where(
                records.c.scope == scope,
                records.c.idempotency_key == key,
                records.c.created_at < cutoff,
            )
        )
        found = conn.execute(
            sa.select(records.c.status, records.c.body, records.c.request_hash).where(
                records.c.scope == scope, records.c.idempotency_key == key
            )
        ).first()
        if found is None:
            conn.execute(
                records.insert().values(
                    scope=scope,
                    idempotency_key=key,
                    request_hash=request_hash,
                    created_at=now(),
                )
            )
            return None
    if found.request_hash != request_hash:
        raise ValidationError(
            "this Idempotency-Key was already used for a different request; use a new key"
        )
    if found.status is None:
        raise ConflictError("a request with this Idempotency-Key is still being processed")
    return Replay(status=found.status, body=bytes(found.body or b""))


def finish(store: Store, scope: str, key: str, status: int, body: bytes) -> None:
    """Keep the answer for replay, or release the key when the answer was a server error."""
    records = t.idempotency_records
    where = (records.c.scope == scope, records.c.idempotency_key == key)
    with store.write() as conn:
        if status >= 500:
            conn.execute(records.delete().where(*where))
        else:
            conn.execute(records.update().where(*where).values(status=status, body=body))


def purge_expired(store: Store) -> int:
    """Delete records older than the retention window; return how many went."""
    records = t.idempotency_records
    with store.write() as conn:
        done = conn.execute(records.delete().where(records.c.created_at < now() - RETENTION))
    return done.rowcount
