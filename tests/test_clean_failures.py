"""Failures a command reports in one line with its documented exit status, never a traceback
(real subprocesses): a read-only home for ``serve``, a damaged database for ``verify --store``;
and ``serve`` announces its URL only once the port accepts connections."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.cli.runner import Pictograph, expect
from tests.images import make_image
from tests.mounts import tmpfs
from tests.served import PICTOGRAPH, Served, stop


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PICTOGRAPH, *args], capture_output=True, text=True, timeout=60)


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def test_serve_on_a_read_only_home_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "home", read_only=True) as home:
        done = _run("serve", "--home", str(home), "--port", "0")
    assert done.returncode == 1, done.stderr
    line = _one_error_line(done)
    assert "cannot use the metadata database" in line and str(home) in line


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    """A home holding a dataset of three images (SQLite), its WAL folded into the file."""
    home = tmp_path / "home"
    for n in range(3):
        make_image(tmp_path / "photos" / f"{n}.png", seed=n)
    expect(Pictograph.embedded(home)("upload", tmp_path / "photos", "-d", "ds", "-q"), 0)
    for leftover in ("pictograph.db-wal", "pictograph.db-shm"):
        assert not (home / leftover).exists()
    return home


def _damage(database: Path, offset: int) -> None:
    data = bytearray(database.read_bytes())
    data[offset:] = b"\xa5" * (len(data) - offset)
    database.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("offset", "said"),
    [(0, "file is not a database"), (4096, "malformed")],
    ids=["header", "pages"],
)
def test_verify_store_on_a_damaged_database_is_one_line_and_exit_10(
    stored: Path, offset: int, said: str
) -> None:
    assert _run("verify", "--store", "--home", str(stored)).returncode == 0
    _damage(stored / "pictograph.db", offset)
    done = _run("verify", "--store", "--home", str(stored))
    assert done.returncode == 10, done.stderr
    line = _one_error_line(done)
    assert "the store cannot be verified" in line and said in line, line


def test_serve_announces_its_url_only_once_the_port_accepts(tmp_path: Path) -> None:
    for _ in range(3):
        process = subprocess.Popen(
            [PICTOGRAPH, "serve", "--port", "0", "--home", str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        first_line = process.stdout.readline()
        base_url = first_line.rsplit(" on ", 1)[-1].strip()
        served = Served(base_url, ("--home", str(tmp_path)), process)
        try:
            port = int(base_url.rsplit(":", 1)[-1])
            # At once, without a retry: the connection is accepted, and answered.
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            answer = httpx.get(f"{base_url}/api/v1/developer/datasets/", timeout=30)
            assert answer.status_code == 401, answer.text
        finally:
            stop(served, signal.SIGTERM)
