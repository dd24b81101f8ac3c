"""ASGI middleware in front of every route: request ids, access (key or gallery session, limit,
body size, the audit trail), and idempotent replay of retried writes."""

from __future__ import annotations

import json
import uuid
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pictograph.errors import ApiError, AuthError, PayloadTooLargeError
from pictograph.protocol import API_PREFIX, KEYS_PREFIX, MAX_BATCH_BYTES
from pictograph.server.api.authorize import RULE_STATE
from pictograph.server.service import audit, idempotency, keys, limits, sessions
from pictograph.server.service.batch_uploads import API_BATCH_PATH
from pictograph.server.service.context import AppContext
from pictograph.server.service.policy import Rule

#: Largest JSON body an API route accepts (image bytes go to the signed URLs, not here).
MAX_API_BODY = 10 * 1024 * 1024
#: API routes that take image bytes, and their own cap on a body.
_BYTE_ROUTES = {API_BATCH_PATH: MAX_BATCH_BYTES}
_WRITES = {"POST", "PUT", "PATCH"}
_SAFE = {"GET", "HEAD", "OPTIONS"}


def error_body(code: str | None, message: str, details: dict[str, Any]) -> dict[str, Any]:
    """The error envelope: ``{"error": {"code", "message", "details"}, "detail": message}``."""
    return {"error": {"code": code, "message": message, "details": details}, "detail": message}


async def send_error(send: Send, error: ApiError) -> None:
    """Answer with ``error`` in the envelope (used before a route is reached)."""
    body = json.dumps(error_body(error.code, error.message, error.details)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers.append((b"retry-after", str(int(retry_after)).encode()))
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _is_api(scope: Scope) -> bool:
    return scope["type"] == "http" and str(scope["path"]).startswith((API_PREFIX, KEYS_PREFIX))


class RequestIdMiddleware:
    """Adds an ``X-Request-Id`` header to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"x-request-id", request_id)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


class AccessMiddleware:
    """Before routing: who is asking (401 on a bad key or session), whether they may (429),
    body size (413); after the route: the audit entry of an audited call that succeeded.

    A request authenticates with its ``X-API-Key``, or, from the gallery's pages, with the
    signed-in session cookie; a session's writes must also carry the page's ``X-CSRF-Token``.
    Without required keys (embedded mode) every request acts for the built-in organisation.
    """

    def __init__(
        self,
        app: ASGIApp,
        store: AppContext,
        local: keys.Principal | None,
        limiter: limits.RateLimiter | None,
    ) -> None:
        self.app = app
        self.store = store
        self.local = local
        self.limiter = limiter
        self.usage = audit.KeyUsage(store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._principal(scope)
            if principal is not None and _is_api(scope):
                _check_declared_size(scope)
                if self.local is None:
                    await anyio.to_thread.run_sync(
                        limits.check, self.limiter, principal.scope, principal.rate_limit
                    )
                    used = principal.key_id
                    if used is not None and self.usage.due(used):
                        await anyio.to_thread.run_sync(self.usage.write, used)
                if header(scope, b"content-length") is None and header(scope, b"transfer-encoding"):
                    # A chunked body declares no size: read it here, within the cap.
                    body = await read_body(receive, body_cap(scope))
                    if body is None:
                        return  # the client went away before its body arrived
                    receive = _replaying(body, receive)
        except ApiError as error:
            await send_error(send, error)
            return
        if principal is None:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["principal"] = principal
        state["organization_id"] = principal.organization_id
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            rule: Rule | None = state.get(RULE_STATE)
            if rule is not None and rule.audited and status < 400:
                entry = _audit_entry(scope, rule, status)
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(audit.record, self.store, principal, entry)

    async def _principal(self, scope: Scope) -> keys.Principal | None:
        if self.local is not None:
            return self.local
        if not _is_api(scope):
            return None
        key = header(scope, b"x-api-key")
        session = None if key else _cookie(scope, sessions.COOKIE)
        if session is not None:
            return await anyio.to_thread.run_sync(self._session_principal, scope, session)
        principal: keys.Principal = await anyio.to_thread.run_sync(
            keys.authenticate, self.store, key
        )
        return principal

    def _session_principal(self, scope: Scope, session: str) -> keys.Principal:
        principal = sessions.principal_of(self.store, session)
        if scope["method"] not in _SAFE and not sessions.csrf_matches(
            self.store, session, header(scope, b"x-csrf-token")
        ):
            raise AuthError("a signed-in page's change needs its X-CSRF-Token header")
        return principal


def _cookie(scope: Scope, name: str) -> str | None:
    raw = header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value.strip('"')
    return None


def _audit_entry(scope: Scope, rule: Rule, status: int) -> audit.Entry:
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    path = str(scope["path"]) + (f"?{query}" if query else "")
    client = scope.get("client")
    where = str(client[0]) if client else None
    forwarded = header(scope, b"x-forwarded-for")
    if forwarded:
        where = f"{forwarded} via {where}"
    return audit.Entry(rule.action, str(scope["method"]), path, status, where)


def body_cap(scope: Scope) -> int:
    """The largest body this API request may carry."""
    return _BYTE_ROUTES.get(str(scope["path"]), MAX_API_BODY)


def _check_declared_size(scope: Scope) -> None:
    length = header(scope, b"content-length")
    cap = body_cap(scope)
    if length and length.isdigit() and int(length) > cap:
        raise PayloadTooLargeError(
            f"request body of {int(length)} bytes is over the {cap} byte limit "
            "for API requests; send image bytes to the signed upload URL instead"
        )


class IdempotencyMiddleware:
    """A retried POST/PUT/PATCH with the same ``Idempotency-Key`` replays the first answer."""

    def __init__(self, app: ASGIApp, store: AppContext) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, b"idempotency-key") if _is_api(scope) else None
        principal = scope.get("state", {}).get("principal")
        if not key or scope["method"] not in _WRITES or principal is None:
            await self.app(scope, receive, send)
            return
        target = str(scope["path"]) + "?" + bytes(scope.get("query_string", b"")).decode()
        try:
            body = await read_body(receive, body_cap(scope))
            if body is None:
                return  # cut off before the whole body arrived: claim nothing, answer nothing
            request_hash = idempotency.fingerprint(scope["method"], target, body)
            replay = await anyio.to_thread.run_sync(
                idempotency.begin, self.store, principal.scope, key, request_hash
            )
        except ApiError as error:
            await send_error(send, error)
            return
        if replay is not None:
            await _send_replay(send, replay)
            return
        await self._run_and_keep(scope, body, receive, send, principal.scope, key)

    async def _run_and_keep(
        self, scope: Scope, body: bytes, receive: Receive, send: Send, owner: str, key: str
    ) -> None:
        status = 500
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
            await send(message)

        try:
            async with anyio.create_task_group() as renewals:
                renewals.start_soon(self._renew, owner, key)
                await self.app(scope, _replaying(body, receive), capture)
                renewals.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(
                    idempotency.finish, self.store, owner, key, status, b"".join(chunks)
                )

    async def _renew(self, owner: str, key: str) -> None:
        """Keep our claim on ``key`` alive while the request runs (it lapses if we die)."""
        while True:
            await anyio.sleep(idempotency.LEASE.total_seconds() / 3)
            await anyio.to_thread.run_sync(idempotency.renew, self.store, owner, key)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` handing the app ``body`` (already read from ``receive``) in one message,
    then passing on what ``receive`` says next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def read_body(receive: Receive, cap: int = MAX_API_BODY) -> bytes | None:
    """The whole request body, ``None`` when the client disconnected before sending all of it;
    ``PayloadTooLargeError`` past ``cap`` bytes, however the body is framed."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > cap:
            raise PayloadTooLargeError(f"request body is over the {cap} byte limit")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_replay(send: Send, replay: idempotency.Replay) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(replay.body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    await send({"type": "http.response.start", "status": replay.status, "headers": headers})
    await send({"type": "http.response.body", "body": replay.body})
