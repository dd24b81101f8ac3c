"""Fixtures of the SDK tests: a real misbehaving HTTP server on a free port, unique names."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def flaky_url() -> Iterator[str]:
    """Base URL of ``flaky_server.py`` run by uvicorn in a separate process."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "flaky_server:app", "--app-dir", str(HERE)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/seen/ready", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("flaky_server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def name() -> str:
    """A name no other test uses, so the server's per-name counters start at zero."""
    return uuid.uuid4().hex


Seen = Callable[[str], list[dict[str, Any]]]


@pytest.fixture
def seen(flaky_url: str) -> Seen:
    """``seen(name)``: the requests the flaky server received for ``name``, oldest first."""

    def fetch(name: str) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = httpx.get(f"{flaky_url}/seen/{name}").json()
        return answer

    return fetch
