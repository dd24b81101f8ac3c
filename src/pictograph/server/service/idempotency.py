"""Idempotent writes: a POST/PUT/PATCH retried with the same Idempotency-Key replays its answer.

Records are keyed by (API key or organisation, Idempotency-Key) and kept 24 hours. A key is
claimed only once the request's whole body has arrived (a body cut off mid-transfer claims
nothing), and the claim is a lease the running request renews: when its owner dies (a crash, a
kill), the lease lapses within ``LEASE`` and the next retry runs the request afresh. A twin
arriving while the first still runs gets 409 with ``Retry-After``; a key reused for a different
request gets 422; 5xx answers are not kept, so a retry can succeed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from pictograph.errors import ConflictError, ValidationError
from pictograph.server.service.context import AppContext, aware, now
from pictograph.server.store import tables as t

RETENTION = timedelta(hours=24)
#: How long a claim holds without renewal; the middleware renews it every third of this.
LEASE = timedelta(seconds=30)
_records = t.idempotency_records


@dataclass(frozen=True)
class Replay:
    """The stored answer of the first request with this key."""

    status: int
    body: bytes


class StillRunningError(ConflictError):
    """The first request with this key is still running (409); retry after ``retry_after``."""

    code = "request_in_progress"

    def __init__(self, retry_after: float) -> None:
        super().__init__("a request with this Idempotency-Key is still being processed")
        self.retry_after = retry_after


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests 'the same request' for a key."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def begin(store: AppContext, scope: str, key: str, request_hash: str) -> Replay | None:
    """Claim ``key`` for this request, or return the answer of the request that claimed it.

    Raises ``StillRunningError`` (409) while that request holds a live lease and
    ``ValidationError`` when the key was used for a different request.
    """
    moment = now()
    where = (_records.c.scope == scope, _records.c.idempotency_key == key)
    with store.write() as conn:
        conn.execute(_records.delete().where(*where, _records.c.created_at < moment - RETENTION))
        found = conn.execute(
            sa.select(
                _records.c.status,
                _records.c.body,
                _records.c.request_hash,
                _records.c.lease_expires_at,
            ).where(*where)
        ).first()
        lease = aware(found.lease_expires_at) if found is not None else None
        if found is None or (found.status is None and (lease is None or lease <= moment)):
            # Nobody holds the key, or its owner died without answering: claim it afresh.
            conn.execute(_records.delete().where(*where))
            conn.execute(
                _records.insert().values(
                    scope=scope,
                    idempotency_key=key,
                    request_hash=request_hash,
                    created_at=moment,
                    lease_expires_at=moment + LEASE,
                )
            )
            return None
    if found.request_hash != request_hash:
        raise ValidationError(
            "this Idempotency-Key was already used for a different request; use a new key"
        )
    if found.status is None:
        assert lease is not None
        raise StillRunningError(retry_after=max(1.0, (lease - moment).total_seconds()))
    return Replay(status=found.status, body=bytes(found.body or b""))


def renew(store: AppContext, scope: str, key: str) -> None:
    """Extend the running request's lease on ``key`` (its owner is alive)."""
    where = (_records.c.scope == scope, _records.c.idempotency_key == key)
    with store.write() as conn:
        conn.execute(
            _records.update()
            .where(*where, _records.c.status.is_(None))
            .values(lease_expires_at=now() + LEASE)
        )


def finish(store: AppContext, scope: str, key: str, status: int, body: bytes) -> None:
    """Keep the answer for replay, or release the key when the answer was a server error."""
    where = (_records.c.scope == scope, _records.c.idempotency_key == key)
    with store.write() as conn:
        if status >= 500:
            conn.execute(_records.delete().where(*where))
        else:
            conn.execute(
                _records.update()
                .where(*where)
                .values(status=status, body=body, lease_expires_at=None)
            )


def purge_expired(store: AppContext) -> int:
    """Delete records older than the retention window; return how many went."""
    with store.write() as conn:
        done = conn.execute(_records.delete().where(_records.c.created_at < now() - RETENTION))
    return done.rowcount
