"""``create_app(settings)``: wiring of routers, middleware, and the one error handler."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from pictograph.errors import ApiError
from pictograph.protocol import API_PREFIX
from pictograph.server.api import (
    access,
    batch,
    datasets,
    directories,
    exports,
    images,
    jobs,
    labels,
    openapi,
    search,
    storage,
    trash,
    versions,
    workflow,
)
from pictograph.server.api import annotations as annotation_routes
from pictograph.server.api.middleware import (
    AccessMiddleware,
    IdempotencyMiddleware,
    RequestIdMiddleware,
    error_body,
)
from pictograph.server.service import gc
from pictograph.server.service.context import AppContext
from pictograph.server.service.descriptors import DescriptorWorker
from pictograph.server.service.export_jobs import ExportWorker
from pictograph.server.service.keys import local_principal
from pictograph.server.service.limits import open_rate_limiter
from pictograph.server.service.workload import ClientGone
from pictograph.server.settings import ServerSettings

log = logging.getLogger("pictograph.server")

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def create_app(
    settings: ServerSettings, *, gallery: bool = True, opened_store: AppContext | None = None
) -> FastAPI:
    """The ASGI app serving the developer API and signed storage URLs for ``settings``, and
    the web gallery unless ``gallery`` is False (the embedded client has no browser, and not
    importing the pages is a tenth of its start-up).

    Opens (and migrates) the database at once, so the app also works without lifespan events
    (for example under httpx's in-process ASGI transport). ``app.state.store.close()`` releases it.
    ``opened_store`` is that database already opened for ``settings`` (the embedded client
    opens it before it needs the app, see ``server.embedded``); the app's lifespan closes it.
    """
    store = opened_store if opened_store is not None else AppContext.open(settings)
    worker = ExportWorker(store)
    describer = DescriptorWorker(store)
    store.on_stored = describer.noticed

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with anyio.create_task_group() as background:
            if settings.gc_interval_seconds > 0:
                grace = timedelta(seconds=settings.gc_grace_seconds)
                background.start_soon(
                    gc.sweep_periodically, store, settings.gc_interval_seconds, grace
                )
            yield
            background.cancel_scope.cancel()
        describer.stop()
        worker.stop()
        store.close()

    app = FastAPI(title="Pictograph", redirect_slashes=False, lifespan=lifespan)
    app.state.store = store
    app.state.settings = settings
    app.state.export_worker = worker
    app.state.descriptor_worker = describer
    routers = (
        workflow,
        labels,
        datasets,
        images,
        directories,
        annotation_routes,
        exports,
        jobs,
        batch,
        search,
        trash,
        versions,
    )
    for module in (*routers, access):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(access.keys_router)
    app.include_router(storage.router)
    app.include_router(exports.download_router)
    if gallery:
        from pictograph.server.gallery import router as gallery_router

        app.include_router(gallery_router)
    _install_error_handlers(app)
    openapi.install(app)
    local = None if settings.require_api_key else local_principal(store)
    #: Who every request acts for without keys (embedded), for the in-process upload channel.
    app.state.local_principal = local
    limiter = None if local else open_rate_limiter(settings.rate_limit, settings.redis_url)
    # Added innermost first: request id, then access (key, limit, size), then idempotency.
    app.add_middleware(IdempotencyMiddleware, store=store)
    app.add_middleware(AccessMiddleware, store=store, local=local, limiter=limiter)
    app.add_middleware(RequestIdMiddleware)
    worker.resume()
    describer.start()
    return app


def _api_error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status_code)


def _install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _api_error_response(exc)

    async def on_invalid_request(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "loc": list(error.get("loc", ())),
                "msg": str(error.get("msg", "")),
                "type": error.get("type"),
            }
            for error in exc.errors()
        ]
        summary = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in errors
        )
        body = error_body("validation_error", f"invalid request: {summary}", {"errors": errors})
        return JSONResponse(body, status_code=422)

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = "no such route" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(
            error_body(code, message, {}), status_code=exc.status_code, headers=exc.headers
        )

    async def on_client_gone(request: Request, _exc: Exception) -> JSONResponse:
        # The client hung up mid-body (a reset, a cut link): nobody hears this answer, and a
        # traceback per lost connection would flood the log on a lossy link.
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return JSONResponse(error_body("client_disconnected", "client disconnected", {}), 400)

    async def on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        body = error_body("internal_error", "internal server error", {})
        return JSONResponse(body, status_code=500)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(ClientDisconnect, on_client_gone)
    app.add_exception_handler(ClientGone, on_client_gone)
    app.add_exception_handler(Exception, on_unexpected)
