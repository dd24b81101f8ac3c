"""The in-process transport: one event loop per client, lifespan, concurrency, streamed bodies."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pictograph import ServerError, ValidationError
from pictograph._embedded import EmbeddedTransport
from pictograph._transport import Transport

BASE = "http://embedded.pictograph"


def make_app(events: list[str]) -> Starlette:
    """An app whose lifespan records startup and shutdown and hands a value to requests."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"greeting": "hello"}
        events.append("shutdown")

    async def greet(request: Request) -> Response:
        await asyncio.sleep(0.05)
        return JSONResponse(
            {"data": request.state.greeting, "key": request.headers.get("x-api-key")}
        )

    async def store(request: Request) -> Response:
        body = await request.body()
        if request.query_params.get("reject"):
            return JSONResponse({"error": {"code": "bad", "message": "not an image"}}, 422)
        return JSONResponse({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()})

    async def crash(request: Request) -> Response:
        raise RuntimeError("boom")

    routes = [
        Route("/greet", greet),
        Route("/store", store, methods=["PUT"]),
        Route("/crash", crash),
        Route("/bytes", lambda r: Response(b"\x89PNG" * 1000, media_type="image/png")),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def embedded(events: list[str]) -> Transport:
    return Transport(BASE, transport=EmbeddedTransport(make_app(events)), max_retries=0)


def test_the_app_lifespan_starts_with_the_client_and_stops_when_it_closes():
    events: list[str] = []
    transport = embedded(events)
    assert events == ["startup"]
    assert transport.request_json("GET", "/greet")["data"] == "hello"
    transport.close()
    assert events == ["startup", "shutdown"]


def test_thirty_two_threads_can_call_the_app_at_once():
    with embedded([]) as transport, ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda _: transport.request_json("GET", "/greet"), range(96)))
    assert {a["data"] for a in answers} == {"hello"}


def test_a_file_put_is_streamed_to_the_app_intact_without_the_api_key(tmp_path: Path):
    path = tmp_path / "big.png"
    path.write_bytes(bytes(i % 241 for i in range(3 * 1024 * 1024 + 5)))
    with embedded([]) as transport:
        answer = transport.put_file(f"{BASE}/store", path, "image/png")
    assert answer == {
        "size": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def test_an_error_envelope_from_the_app_decodes_like_one_from_a_socket(tmp_path: Path):
    path = tmp_path / "a.png"
    path.write_bytes(b"x")
    with embedded([]) as transport, pytest.raises(ValidationError, match="not an image"):
        transport.put_file(f"{BASE}/store?reject=1", path, "image/png")


def test_an_exception_inside_the_app_becomes_a_server_error(caplog: pytest.LogCaptureFixture):
    with embedded([]) as transport, pytest.raises(ServerError):
        transport.request_json("GET", "/crash")
    assert "boom" in caplog.text


def test_bytes_download_through_the_app(tmp_path: Path):
    with embedded([]) as transport:
        transport.download("/bytes", tmp_path / "x.png")
    assert (tmp_path / "x.png").read_bytes() == b"\x89PNG" * 1000


def test_a_file_that_cannot_be_read_raises_its_own_error_and_is_not_retried(tmp_path: Path):
    events: list[str] = []
    not_a_file = tmp_path / "folder.png"
    not_a_file.mkdir()
    with embedded(events) as transport, pytest.raises(IsADirectoryError):
        transport.put_file(f"{BASE}/store", not_a_file, "image/png")


def test_a_program_that_never_closes_its_embedded_client_still_exits(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = "from pictograph import Client; print(len(Client().datasets.list()))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "PICTOGRAPH_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
