"""A served instance bounds what one connection may cost: header size and time, body pauses,
idle connections, and how many connections are open. Other clients keep being served."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.served import Served, serve
from tests.server.flows import create_dataset, upload_url

P = "/api/v1/developer"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    limits = ("--header-timeout", "1", "--body-timeout", "1", "--max-connections", "20")
    with serve(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", *limits) as running:
        yield running


def connect(served: Served) -> socket.socket:
    port = int(served.base_url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def answer_of(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def test_a_huge_header_is_refused_while_other_clients_get_answers_within_a_second(
    served: Served,
) -> None:
    key = served.create_key("acme")
    stop = threading.Event()
    sent = 0

    def send_huge_header() -> None:
        nonlocal sent
        with connect(served) as sock:
            sock.sendall(b"GET /api/v1/developer/datasets/ HTTP/1.1\r\nHost: x\r\nX-Big: ")
            chunk = b"a" * (1024 * 1024)
            try:
                while sent < 256 * 1024 * 1024 and not stop.is_set():
                    sock.sendall(chunk)
                    sent += len(chunk)
            except OSError:
                return  # the server closed the connection on us: what we want

    sender = threading.Thread(target=send_huge_header)
    sender.start()
    slowest = 0.0
    with httpx.Client(base_url=served.base_url, headers={"X-API-Key": key}) as client:
        for _ in range(20):
            started = time.monotonic()
            assert client.get(f"{P}/datasets/", timeout=5).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.05)
    stop.set()
    sender.join(timeout=30)
    print(f"slowest GET {slowest:.3f} s while {sent / 2**20:.0f} MiB of header were sent")
    assert slowest < 1.0
    assert sent < 256 * 1024 * 1024  # the server hung up long before the 256 MiB were sent


def test_a_header_over_the_size_limit_is_a_431(served: Served) -> None:
    with connect(served) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
        assert answer_of(sock).startswith(b"HTTP/1.1 431")


def test_a_header_sent_too_slowly_is_a_408_and_the_connection_closes(served: Served) -> None:
    with connect(served) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        for _ in range(3):
            time.sleep(0.4)
            try:
                sock.sendall(b"X-Slow: yes\r\n")
            except OSError:
                break
        answer = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 5


def test_a_connection_that_sends_nothing_is_closed(served: Served) -> None:
    with connect(served) as sock:
        started = time.monotonic()
        answer_of(sock)
        assert time.monotonic() - started < 5


def test_a_body_that_stops_arriving_is_a_408(served: Served) -> None:
    key = served.create_key("acme")
    with connect(served) as sock:
        sock.sendall(
            b"POST /api/v1/developer/datasets/ HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n"
            b"X-API-Key: " + key.encode() + b'\r\n\r\n{"name": "stal'
        )
        started = time.monotonic()
        answer = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < 5
    with httpx.Client(base_url=served.base_url, headers={"X-API-Key": key}) as client:
        assert client.get(f"{P}/datasets/").json()["data"] == []


def test_connections_over_the_limit_are_closed_and_the_server_recovers(served: Served) -> None:
    key = served.create_key("acme")
    idle = [connect(served) for _ in range(20)]
    try:
        time.sleep(0.2)
        with connect(served) as extra:
            assert answer_of(extra).startswith(b"HTTP/1.1 503")
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.3)
    response = httpx.get(f"{served.base_url}{P}/datasets/", headers={"X-API-Key": key})
    assert response.status_code == 200


def test_a_client_hanging_up_mid_upload_is_one_log_line_not_a_traceback(
    tmp_path: Path,
) -> None:
    with serve(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}") as served:
        key = served.create_key("acme")
        with httpx.Client(base_url=served.base_url, headers={"X-API-Key": key}) as client:
            create_dataset(client, "cut")
            for index in range(3):
                slot = upload_url(client, "cut", f"cut-{index}.jpg", "/", "image/jpeg")
                target = httpx.URL(slot.json()["data"]["upload_url"]).raw_path
                with connect(served) as sock:  # a PUT that hangs up after 10 of 100,000 bytes
                    sock.sendall(
                        b"PUT " + target + b" HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n"
                        + b"\xff\xd8"
                        * 5
                    )
            time.sleep(0.5)
            assert client.get(f"{P}/datasets/").status_code == 200
    output = served.output()
    assert "Traceback" not in output and "unhandled error" not in output, output[-2000:]
