"""A tiny misbehaving HTTP server for the transport tests: flaky, slow, redirecting, rate limiting.

Every route takes a ``name`` so tests never share state; ``GET /seen/{name}`` returns the
requests the server saw for that name (method, headers, body size).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

SEEN: dict[str, list[dict[str, Any]]] = defaultdict(list)


async def _record(request: Request) -> int:
    """Remember the request under its ``name`` and return how many came before it."""
    name = request.path_params["name"]
    body = await request.body()
    SEEN[name].append(
        {
            "method": request.method,
            "path": request.url.path,
            "query": str(request.url.query),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
    )
    return len(SEEN[name]) - 1


def _envelope(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers={"X-Request-Id": "req-123"})


async def flaky(request: Request) -> Response:
    """Answer ``status`` (default 503) for the first ``fail`` requests, then 200.

    With ``retry_after`` the failures carry that ``Retry-After`` header.
    """
    before = await _record(request)
    if before < int(request.query_params.get("fail", "1")):
        status = int(request.query_params.get("status", "503"))
        response = _envelope(status, "unavailable", "try again later")
        if "retry_after" in request.query_params:
            response.headers["Retry-After"] = request.query_params["retry_after"]
        return response
    return JSONResponse({"data": {"attempt": before + 1}})


async def ratelimited(request: Request) -> Response:
    """Answer 429 with ``Retry-After: retry_after`` for the first ``fail`` requests, then 200."""
    before = await _record(request)
    if before < int(request.query_params.get("fail", "1")):
        retry_after = request.query_params.get("retry_after", "1")
        response = _envelope(429, "rate_limited", "slow down")
        response.headers["Retry-After"] = retry_after
        return response
    return JSONResponse({"data": {"attempt": before + 1}})


async def redirect(request: Request) -> Response:
    await _record(request)
    return RedirectResponse(f"/target/{request.path_params['name']}", status_code=308)


async def not_json(request: Request) -> Response:
    await _record(request)
    return PlainTextResponse("this is not json")


async def empty(request: Request) -> Response:
    await _record(request)
    return Response(status_code=204)


async def slow(request: Request) -> Response:
    await _record(request)
    await asyncio.sleep(float(request.query_params.get("seconds", "2")))
    return JSONResponse({"data": "late"})


async def error(request: Request) -> Response:
    """An error envelope with the given status, code and message."""
    await _record(request)
    status = int(request.query_params["status"])
    code = request.query_params.get("code", "some_code")
    message = request.query_params.get("message", "something went wrong")
    if request.query_params.get("field"):
        return _envelope(status, code, message, errors=[{"loc": ["body", "name"], "msg": "bad"}])
    return _envelope(status, code, message)


async def echo(request: Request) -> Response:
    before = await _record(request)
    return JSONResponse({"data": {"attempt": before + 1, "query": str(request.url.query)}})


async def upload(request: Request) -> Response:
    """A signed-URL stand-in: 200 by default, or ``status`` (422 gets an error envelope)."""
    await _record(request)
    status = int(request.query_params.get("status", "200"))
    if status == 422:
        return _envelope(422, "invalid_image", "the bytes are not a PNG image")
    if status >= 400:
        return _envelope(status, "unavailable", "storage is down")
    return Response(status_code=status) if status == 204 else JSONResponse({"stored": True})


async def blob(request: Request) -> Response:
    await _record(request)
    size = int(request.query_params.get("size", "1000"))
    return Response(bytes(i % 251 for i in range(size)), media_type="application/octet-stream")


async def seen(request: Request) -> Response:
    return JSONResponse(SEEN.get(request.path_params["name"], []))


app = Starlette(
    routes=[
        Route("/api/flaky/{name}", flaky, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/api/ratelimited/{name}", ratelimited, methods=["GET", "POST"]),
        Route("/api/redirect/{name}", redirect, methods=["GET", "POST"]),
        Route("/api/not-json/{name}", not_json),
        Route("/api/empty/{name}", empty, methods=["GET", "DELETE"]),
        Route("/api/slow/{name}", slow),
        Route("/api/error/{name}", error, methods=["GET", "POST"]),
        Route("/api/echo/{name}", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/storage/upload/{name}", upload, methods=["PUT"]),
        Route("/storage/blob/{name}", blob),
        Route("/seen/{name}", seen),
    ]
)
