"""Routes of ``$P/exports/`` (``{"data": ...}`` envelopes) and the signed archive download."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import unquote

import anyio
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from pictograph.errors import NotFoundError
from pictograph.server.api.blob_responses import archive_response
from pictograph.server.api.bodies import ExportBulkDelete, ExportCreate
from pictograph.server.api.deps import LinksDep, OrgDep, StoreDep, envelope, paged, route
from pictograph.server.api.principal import PrincipalDep
from pictograph.server.service import exports
from pictograph.server.service.export_jobs import ExportWorker
from pictograph.server.service.uploads import verify_token

router = APIRouter(redirect_slashes=False)
download_router = APIRouter(redirect_slashes=False)


def get_worker(request: Request) -> ExportWorker:
    worker: ExportWorker = request.app.state.export_worker
    return worker


WorkerDep = Annotated[ExportWorker, Depends(get_worker)]


@route(router, "/exports/", "POST", slash_twin=True, status_code=201)
def create_export(
    store: StoreDep,
    who: PrincipalDep,
    links: LinksDep,
    worker: WorkerDep,
    body: ExportCreate,
) -> Any:
    request = exports.ExportRequest(
        dataset=body.dataset_name,
        name=body.name,
        format=body.format,
        include_images=body.include_images,
        class_filter=body.class_filter,
        status_filter=body.status_filter,
        organize_by_split=body.organize_by_split,
        version=body.version,
    )
    created = exports.create_export(store, who.organization_id, request, links)
    worker.kick()
    return envelope(created)


@route(router, "/exports/", "GET", slash_twin=True)
def list_exports(
    store: StoreDep,
    org: OrgDep,
    links: LinksDep,
    limit: int = 100,
    offset: int = 0,
    dataset_name: str | None = None,
    status: str | None = None,
) -> Any:
    page = exports.list_exports(
        store, org, links, dataset=dataset_name, status=status, limit=limit, offset=offset
    )
    return paged(page, page.items)


@route(router, "/exports/bulk-delete", "POST")
def bulk_delete(store: StoreDep, who: PrincipalDep, body: ExportBulkDelete) -> Any:
    return envelope(exports.bulk_delete(store, who.organization_id, body.export_ids))


def _segments(request: Request) -> list[str]:
    """The raw path after ``/exports/``, split on real slashes, then percent-decoded: a name
    may hold an encoded ``/`` (``%2F``)."""
    raw = request.scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0]
    tail = raw.split("/exports/", 1)[1] if "/exports/" in raw else ""
    return [unquote(part) for part in tail.split("/")]


@route(router, "/exports/{rest:path}", "GET")
def get_export(
    request: Request,
    store: StoreDep,
    org: OrgDep,
    links: LinksDep,
    worker: WorkerDep,
    rest: str,
    dataset: str | None = None,
) -> Any:
    parts = _segments(request)
    if len(parts) == 2 and parts[1] == "download":
        return envelope(exports.download_url(store, org, parts[0], dataset, links))
    if len(parts) != 1 or not parts[0]:
        raise NotFoundError("no such route")
    found = exports.get_export(store, org, parts[0], dataset, links)
    if found["status"] in ("pending", "processing"):
        worker.kick()  # a poll also revives a job whose builder died
    return envelope(found)


@route(router, "/exports/{rest:path}", "DELETE")
def delete_export(
    request: Request, store: StoreDep, who: PrincipalDep, rest: str, dataset: str | None = None
) -> Any:
    parts = _segments(request)
    if len(parts) != 1 or not parts[0]:
        raise NotFoundError("no such route")
    exports.delete_export(store, who.organization_id, parts[0], dataset)
    return envelope({"deleted": True})


@download_router.get("/storage/exports/{token}", response_model=None)
async def download_archive(store: StoreDep, token: str) -> Response:
    """The archive's bytes, for the signed URL ``…/download`` hands out (no key needed)."""
    claims = verify_token(store, token, "export")
    key = await anyio.to_thread.run_sync(exports.archive_key, store, str(claims["export"]))
    name = f"export-{key[:8]}.zip"
    return await anyio.to_thread.run_sync(archive_response, store, key, name)
