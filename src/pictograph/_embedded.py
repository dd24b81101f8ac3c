"""In-process transport: runs the server's ASGI app on one event-loop thread per client."""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["ASGIApp", "EmbeddedTransport"]

logger = logging.getLogger("pictograph.embedded")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


def _start_portal() -> tuple[anyio.from_thread.BlockingPortal, threading.Thread]:
    """An event loop on a daemon thread, and the portal to call into it.

    A daemon thread, unlike anyio's ``start_blocking_portal`` (a pool thread that interpreter
    exit waits for), so a program that never closes its ``Client`` still exits.
    """
    ready: queue.Queue[anyio.from_thread.BlockingPortal] = queue.Queue()

    async def serve() -> None:
        async with anyio.from_thread.BlockingPortal() as portal:
            ready.put(portal)
            await portal.sleep_until_stopped()

    thread = threading.Thread(
        target=anyio.run, args=(serve,), name="pictograph-embedded", daemon=True
    )
    thread.start()
    return ready.get(), thread


def _stop_portal(portal: anyio.from_thread.BlockingPortal, thread: threading.Thread) -> None:
    portal.call(portal.stop)
    thread.join(timeout=30)


class EmbeddedTransport(httpx.BaseTransport):
    """An ``httpx.BaseTransport`` that answers sync requests from an ASGI app in this process.

    One anyio blocking portal (one event-loop thread) serves every request of the client, so
    any number of caller threads may send concurrently. Given an ``app``, its lifespan startup
    runs when the transport is created; given ``build`` instead, the app is built and its
    lifespan started on the first request (or :meth:`app`), so a client whose work never needs
    it never pays for it. The lifespan's shutdown runs when the transport is closed; ``release``
    is called then instead when no app was ever started (it frees what ``build`` would have
    used, e.g. the store the app's lifespan would have closed).

    ``service`` is opaque here: what the in-process upload channel calls directly
    (``pictograph.server.embedded.EmbeddedServer``), ``None`` for a bare app.
    """

    def __init__(
        self,
        app: ASGIApp | None = None,
        *,
        build: Callable[[], ASGIApp] | None = None,
        service: Any = None,
        release: Callable[[], None] | None = None,
    ) -> None:
        if (app is None) == (build is None):
            raise ValueError("pass exactly one of an app and a way to build it")
        self.service = service
        self._build = build
        self._release = release
        self._app: ASGIApp | None = None
        self._started: tuple[anyio.from_thread.BlockingPortal, threading.Thread] | None = None
        self._lifespan: _Lifespan | None = None
        self._asgi: httpx.ASGITransport | None = None
        self._closed = False
        self._close_lock = threading.Lock()
        self._app_lock = threading.Lock()
        if app is not None:
            self._start(app)

    @property
    def app_built(self) -> bool:
        """Whether the app is running (built, its lifespan started)."""
        return self._app is not None

    def app(self) -> ASGIApp:
        """The app, built and its lifespan started now if that was not done yet."""
        app = self._app
        if app is not None:
            return app
        with self._app_lock:
            if self._closed:
                raise RuntimeError("the embedded Pictograph client is closed")
            if self._app is None:
                assert self._build is not None
                self._start(self._build())
            assert self._app is not None
            return self._app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.ConnectError("the embedded Pictograph client is closed", request=request)
        self.app()
        assert self._started is not None
        status, headers, content = self._started[0].call(self._handle, request)
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        with self._app_lock:  # a build under way finishes first
            started, lifespan = self._started, self._lifespan
        if started is None or lifespan is None:
            if self._release is not None:
                self._release()
            return
        try:
            lifespan.stop(started[0])
        finally:
            _stop_portal(*started)

    def _start(self, app: ASGIApp) -> None:
        """Start the event loop and the app's lifespan; on failure nothing is left running."""
        portal, thread = _start_portal()
        lifespan = _Lifespan(app)
        try:
            lifespan.start(portal)
        except BaseException:
            _stop_portal(portal, thread)
            raise
        self._asgi = httpx.ASGITransport(app=lifespan.with_state)
        self._started, self._lifespan, self._app = (portal, thread), lifespan, app

    async def _handle(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        body = _as_async_stream(request.stream)
        inner = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            stream=body,
            extensions=request.extensions,
        )
        timeout = request.extensions.get("timeout", {}).get("read")
        try:
            with anyio.fail_after(timeout):
                assert self._asgi is not None
                response = await self._asgi.handle_async_request(inner)
                # Raw bytes, not decoded ones: the headers still say how they are encoded.
                content = b"".join([chunk async for chunk in response.aiter_raw()])
        except TimeoutError:
            raise httpx.ReadTimeout(
                "the embedded app did not answer in time", request=request
            ) from None
        except Exception:
            if isinstance(body, _ThreadedBody) and body.error is not None:
                # Reading the caller's body failed (e.g. an unreadable file): the caller's
                # problem, raised as it would be over a socket, not an app failure.
                raise body.error from None
            logger.exception(
                "the embedded Pictograph app failed on %s %s", request.method, request.url
            )
            return 500, [(b"content-type", b"application/json")], _INTERNAL_ERROR
        return response.status_code, response.headers.raw, content


_INTERNAL_ERROR = json.dumps(
    {"error": {"code": "internal_error", "message": "the embedded app raised an exception"}}
).encode()


def _as_async_stream(stream: httpx.SyncByteStream | httpx.AsyncByteStream) -> httpx.AsyncByteStream:
    if isinstance(stream, httpx.AsyncByteStream):
        return stream  # bytes bodies (httpx.ByteStream) are both sync and async
    return _ThreadedBody(iter(stream))


class _ThreadedBody(httpx.AsyncByteStream):
    """A sync request body (e.g. a file being uploaded) read chunk by chunk off the loop thread."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.error: Exception | None = None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            try:
                chunk = await anyio.to_thread.run_sync(next, self._chunks, None)
            except Exception as exc:
                self.error = exc
                raise
            if chunk is None:
                return
            yield chunk


class _Lifespan:
    """Drives the ASGI lifespan protocol of an app from the portal's event loop."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._state: dict[str, Any] = {}
        self._running = False
        to_app: tuple[MemoryObjectSendStream[Message], MemoryObjectReceiveStream[Message]]
        to_app = anyio.create_memory_object_stream(4)
        from_app: tuple[MemoryObjectSendStream[Message], MemoryObjectReceiveStream[Message]]
        from_app = anyio.create_memory_object_stream(4)
        self._to_app_send, self._to_app_receive = to_app
        self._from_app_send, self._from_app_receive = from_app

    async def with_state(
        self, scope: MutableMapping[str, Any], receive: Receive, send: Send
    ) -> None:
        """The app, with the state its lifespan yielded copied into each request's scope."""
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "state": dict(self._state)}
        await self._app(scope, receive, send)

    def start(self, portal: anyio.from_thread.BlockingPortal) -> None:
        portal.start_task_soon(self._run)
        self._running = portal.call(self._exchange, "lifespan.startup")

    def stop(self, portal: anyio.from_thread.BlockingPortal) -> None:
        if self._running:
            self._running = False
            portal.call(self._exchange, "lifespan.shutdown")

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self._state}
        try:
            await self._app(scope, self._to_app_receive.receive, self._from_app_send.send)
        except Exception:
            # An app without lifespan support raises on the lifespan scope (ASGI spec).
            logger.debug("the embedded app does not run a lifespan", exc_info=True)
        finally:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await self._from_app_send.send({"type": "lifespan.ended"})

    async def _exchange(self, kind: str) -> bool:
        """Send a lifespan event; True when the app completed it, False when it has no lifespan."""
        await self._to_app_send.send({"type": kind})
        reply = await self._from_app_receive.receive()
        if reply["type"] == f"{kind}.failed":
            raise RuntimeError(f"embedded app {kind} failed: {reply.get('message', '')}")
        return bool(reply["type"] == f"{kind}.complete")
