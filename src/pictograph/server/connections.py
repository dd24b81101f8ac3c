"""Connection guards uvicorn lacks: a cap on header bytes, deadlines for a request's header and
for each pause in its body, and a cap on open connections (closed at once beyond it).

``pictograph serve`` runs uvicorn with :class:`GuardedHttpProtocol` (uvicorn's httptools protocol
plus these checks). Without them one client sending a huge header kept the event loop busy
parsing it, and a client sending nothing held its connection forever.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from pictograph.server.settings import SETTINGS_ENV, ServerSettings


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may cost before it is answered with an error and closed."""

    max_header_bytes: int
    header_timeout: float
    body_timeout: float
    max_connections: int

    @classmethod
    def of(cls, settings: ServerSettings) -> ConnectionLimits:
        return cls(
            max_header_bytes=settings.max_header_bytes,
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            max_connections=settings.max_connections,
        )


@cache
def served_limits() -> ConnectionLimits:
    """The limits of this ``pictograph serve`` process (resolved once, from its settings)."""
    return ConnectionLimits.of(ServerSettings.from_json(json.loads(os.environ[SETTINGS_ENV])))


def _plain_answer(status: bytes, message: str) -> bytes:
    body = message.encode()
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, plus header and body deadlines and a header size cap.

    A header is "awaited" from the moment a connection opens or the first byte of a next request
    arrives until the parser has the whole header; while awaited, it must complete within
    ``header_timeout`` (else 408) and within ``max_header_bytes`` (else 431). A request body that
    sends nothing for ``body_timeout`` (while we are reading) is answered 408 and closed.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = served_limits()
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._body_timer: asyncio.TimerHandle | None = None
        self._last_data = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(b"503 Service Unavailable", "too many open connections; retry later")
            return
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        self._last_data = self.loop.time()
        if self._head_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._await_head()
        if self._head_timer is not None:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._head_timer is not None and self._head_bytes > self.limits.max_header_bytes:
            limit = self.limits.max_header_bytes
            self._refuse(
                b"431 Request Header Fields Too Large",
                f"request header is over the {limit}-byte limit",
            )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._await_head()

    def on_headers_complete(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._check_body)

    def _await_head(self) -> None:
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_too_slow)

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered; its body has its own deadline
        seconds = self.limits.header_timeout
        self._refuse(b"408 Request Timeout", f"request header not received within {seconds} s")

    def _check_body(self) -> None:
        self._body_timer = None
        cycle = self.cycle
        if cycle is None or not cycle.more_body or self.transport.is_closing():
            return
        idle = self.loop.time() - self._last_data
        if self.flow.read_paused or idle < self.limits.body_timeout:
            # Reading is paused by us (the app is busy), or data came meanwhile: look again later.
            wait = max(self.limits.body_timeout - idle, 0.1)
            self._body_timer = self.loop.call_later(wait, self._check_body)
            return
        seconds = self.limits.body_timeout
        message = f"request body sent nothing for {seconds} s"
        if cycle.response_started:
            self.transport.close()
        else:
            self._refuse(b"408 Request Timeout", message)

    def _refuse(self, status: bytes, message: str) -> None:
        self._stop_timers()
        if self.cycle is not None and not self.cycle.response_complete:
            # The app sees a disconnect and must not answer on a connection we are closing.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.write(_plain_answer(status, message))
        self.transport.close()

    def _stop_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None
