"""``create_app(settings)``: wiring of routers, middleware, and the one error handler."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pictograph.errors import ApiError, AuthError
from pictograph.server.api import annotations as annotation_routes
from pictograph.server.api import datasets, directories, images, storage
from pictograph.server.service.context import API_PREFIX, Store
from pictograph.server.service.keys import authenticate
from pictograph.server.service.organizations import ensure_organization
from pictograph.server.settings import ServerSettings

log = logging.getLogger("pictograph.server")

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def create_app(settings: ServerSettings) -> FastAPI:
    """The ASGI app serving the developer API and signed storage URLs for ``settings``.

    Opens (and migrates) the database at once, so the app also works without lifespan events
    (for example under httpx's in-process ASGI transport). ``app.state.store.close()`` releases it.
    """
    store = Store.open(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(title="Pictograph", redirect_slashes=False, lifespan=lifespan)
    app.state.store = store
    app.state.settings = settings
    for module in (datasets, images, directories, annotation_routes):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(storage.router)
    _install_error_handlers(app)
    local = None if settings.require_api_key else ensure_organization(store)
    app.add_middleware(OrganizationMiddleware, store=store, local_organization_id=local)
    app.add_middleware(RequestIdMiddleware)
    return app


def error_body(code: str | None, message: str, details: dict[str, Any]) -> dict[str, Any]:
    """The error envelope: ``{"error": {"code", "message", "details"}, "detail": message}``."""
    return {"error": {"code": code, "message": message, "details": details}, "detail": message}


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

    async def on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        body = error_body("internal_error", "internal server error", {})
        return JSONResponse(body, status_code=500)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


class RequestIdMiddleware:
    """Adds an ``X-Request-Id`` header to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


class OrganizationMiddleware:
    """Resolves the organisation of every API request before routing (401 on a bad key)."""

    def __init__(self, app: ASGIApp, store: Store, local_organization_id: str | None) -> None:
        self.app = app
        self.store = store
        self.local = local_organization_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope.setdefault("state", {})
            if self.local is not None:
                state["organization_id"] = self.local
            elif str(scope["path"]).startswith(API_PREFIX):
                key = _header(scope, b"x-api-key")
                try:
                    principal = await anyio.to_thread.run_sync(authenticate, self.store, key)
                except AuthError as exc:
                    await _api_error_response(exc)(scope, receive, send)
                    return
                state["organization_id"] = principal.organization_id
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None
