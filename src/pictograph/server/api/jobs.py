"""Routes of ``$P/jobs``: one view of every long job (list, get, cancel)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pictograph.server.api.deps import OrgDep, StoreDep, envelope, paged, route
from pictograph.server.service import jobs

router = APIRouter(redirect_slashes=False)


@route(router, "/jobs/", "GET", slash_twin=True)
def list_jobs(
    store: StoreDep,
    org: OrgDep,
    status: str = "active",
    type: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Any:
    page = jobs.list_jobs(store, org, status=status, job_type=type, limit=limit, offset=offset)
    return paged(page, page.items)


@route(router, "/jobs/{job_id}", "GET")
def get_job(store: StoreDep, org: OrgDep, job_id: str) -> Any:
    return envelope(jobs.get_job(store, org, job_id))


@route(router, "/jobs/{job_id}/cancel", "POST")
def cancel_job(store: StoreDep, org: OrgDep, job_id: str) -> Any:
    return envelope(jobs.cancel_job(store, org, job_id))
