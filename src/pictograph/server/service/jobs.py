"""One view of every long job (``$P/jobs``): a thin read layer over each kind's own table.

Each kind of job keeps its own rows and its own worker (exports: ``exports`` and
``export_jobs``). A ``JobKind`` says how its rows read as jobs: one SELECT giving the common
columns, its statuses already in the official vocabulary (queued, running, completed, failed,
cancelled), and how to cancel one. The list is one UNION ALL of those SELECTs, filtered, ordered
and paged in SQL; a later kind (imports, ...) is one more entry in ``KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pictograph.errors import ConflictError, NotFoundError, ValidationError
from pictograph.protocol import API_PREFIX
from pictograph.server.service.context import AppContext, Page, aware, clamp, row_dict
from pictograph.server.service.datasets import LIVE
from pictograph.server.service.exports import CANCELLED
from pictograph.server.service.paths import canonical_uuid, is_uuid
from pictograph.server.store import tables as t

JOB_STATUSES = ("queued", "running", "completed", "failed", "cancelled")
ACTIVE = ("queued", "running")
FINISHED = ("completed", "failed", "cancelled")
#: What ``status`` filters by: a group or one status.
FILTERS: dict[str, tuple[str, ...]] = {
    "active": ACTIVE,
    "finished": FINISHED,
    "all": JOB_STATUSES,
    **{status: (status,) for status in JOB_STATUSES},
}
#: The official API reads at most the newest 1,000 jobs of a filter.
MAX_JOBS = 1000


@dataclass(frozen=True)
class JobKind:
    """How one kind of long work reads as jobs."""

    type: str
    #: Columns id, organization_id, status (official words), name, dataset_id, error, progress,
    #: created_at, updated_at, completed_at, detail_a, detail_b.
    select: Callable[[], sa.Select[Any]]
    #: Cancels the active job ``id`` inside the transaction ``conn``; False when it was not active.
    cancel: Callable[[sa.Connection, str], bool] | None
    #: Names of ``detail_a`` and ``detail_b`` in the job's ``detail``.
    details: tuple[str, str]


def _export_select() -> sa.Select[Any]:
    e = t.exports
    status = sa.case(
        (e.c.status == "pending", "queued"),
        (e.c.status == "processing", "running"),
        else_=e.c.status,
    )
    progress = sa.case((e.c.status == "completed", 100.0), else_=sa.null())
    return sa.select(
        e.c.id,
        e.c.organization_id,
        sa.literal("export").label("type"),
        status.label("status"),
        e.c.name,
        e.c.dataset_id,
        e.c.error_message.label("error"),
        progress.label("progress"),
        e.c.created_at,
        sa.func.coalesce(e.c.completed_at, e.c.heartbeat_at, e.c.created_at).label("updated_at"),
        e.c.completed_at,
        e.c.format.label("detail_a"),
        e.c.image_count.label("detail_b"),
    ).join(t.datasets, sa.and_(t.datasets.c.id == e.c.dataset_id, LIVE))


def _export_cancel(conn: sa.Connection, job_id: str) -> bool:
    # The worker writes only rows still ``processing`` under its own attempt, so a cancelled row
    # is never completed afterwards: its heartbeat stops the build, its archive is dropped.
    e = t.exports
    done = conn.execute(
        e.update()
        .where(e.c.id == job_id, e.c.status.in_(("pending", "processing")))
        .values(status=CANCELLED, error_message="cancelled", heartbeat_at=None)
    )
    return done.rowcount == 1


KINDS: tuple[JobKind, ...] = (
    JobKind("export", _export_select, _export_cancel, ("format", "image_count")),
)
_BY_TYPE = {kind.type: kind for kind in KINDS}


def _union() -> sa.Subquery:
    return sa.union_all(*(kind.select() for kind in KINDS)).subquery("jobs")


def cancel_path(job_id: str) -> str:
    return f"{API_PREFIX}/jobs/{job_id}/cancel"


def _wire(row: dict[str, Any]) -> dict[str, Any]:
    kind = _BY_TYPE[row["type"]]
    active = row["status"] in ACTIVE
    return {
        "id": row["id"],
        "type": row["type"],
        "status": row["status"],
        "progress": row["progress"],
        "name": row["name"],
        "dataset_id": row["dataset_id"],
        "error": row["error"],
        "created_at": aware(row["created_at"]),
        "updated_at": aware(row["updated_at"]),
        "completed_at": aware(row["completed_at"]),
        "cancel_path": cancel_path(row["id"]) if active and kind.cancel else None,
        "detail": dict(zip(kind.details, (row["detail_a"], row["detail_b"]), strict=True)),
    }


def list_jobs(
    store: AppContext,
    organization_id: str,
    *,
    status: str = "active",
    job_type: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """The organisation's jobs, newest first, of the statuses ``status`` names."""
    if status not in FILTERS:
        raise ValidationError(f"status must be one of {', '.join(FILTERS)}, got {status!r}")
    limit, offset = clamp(limit, offset, 100)
    jobs = _union()
    where = [jobs.c.organization_id == organization_id, jobs.c.status.in_(FILTERS[status])]
    if job_type is not None:
        where.append(jobs.c.type == job_type)
    with store.read() as conn:
        total = conn.execute(
            sa.select(sa.func.count()).select_from(jobs).where(*where)
        ).scalar_one()
        query = (
            sa.select(jobs)
            .where(*where)
            .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
            .limit(max(0, min(limit, MAX_JOBS - offset)))
            .offset(offset)
        )
        rows = [row_dict(row) for row in conn.execute(query)]
    return Page(
        items=[_wire(row) for row in rows], total=min(total, MAX_JOBS), limit=limit, offset=offset
    )


def _find(conn: sa.Connection, organization_id: str, job_id: str) -> dict[str, Any]:
    if not is_uuid(job_id):
        raise NotFoundError(f"job {job_id!r} not found")
    jobs = _union()
    query = sa.select(jobs).where(
        jobs.c.organization_id == organization_id, jobs.c.id == canonical_uuid(job_id)
    )
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"job {job_id!r} not found")
    return row_dict(row)


def get_job(store: AppContext, organization_id: str, job_id: str) -> dict[str, Any]:
    """One job of the organisation; ``NotFoundError`` for another's or an unknown id."""
    with store.read() as conn:
        return _wire(_find(conn, organization_id, job_id))


def cancel_job(store: AppContext, organization_id: str, job_id: str) -> dict[str, Any]:
    """Cancel a queued or running job; ``ConflictError`` when it has already ended."""
    with store.write() as conn:
        row = _find(conn, organization_id, job_id)
        kind = _BY_TYPE[row["type"]]
        if kind.cancel is None:
            raise ConflictError(f"a {kind.type} job cannot be cancelled")
        if not kind.cancel(conn, row["id"]):
            raise ConflictError(f"job {row['id']} is already {row['status']}")
        return _wire(_find(conn, organization_id, job_id))
