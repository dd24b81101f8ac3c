"""A real ``pictograph serve`` process on a free port, and keys made with ``pictograph keys``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PICTOGRAPH = str(Path(sys.executable).parent / "pictograph")


@dataclass(frozen=True)
class Served:
    """A running server: where it listens and how to reach its store from the command line."""

    base_url: str
    store_args: tuple[str, ...]
    process: subprocess.Popen[str]
    #: What the server printed so far (read as it comes, see ``launch``).
    printed: list[str] = field(default_factory=list)

    def create_key(self, organization: str) -> str:
        """A new API key for ``organization``, made by ``pictograph keys create``."""
        return create_key(self.store_args, organization)

    def output(self) -> str:
        """Everything the server printed; complete once it has stopped."""
        return "".join(self.printed)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def create_key(store_args: Sequence[str], organization: str) -> str:
    result = subprocess.run(
        [PICTOGRAPH, "keys", "create", "--org", organization, *store_args],
        capture_output=True,
        text=True,
        check=True,
        env=_clean_env(),
        timeout=60,
    )
    return result.stdout.strip().splitlines()[-1]


@contextmanager
def serve(home: Path, database_url: str, *extra: str) -> Iterator[Served]:
    """Start ``pictograph serve`` and stop it (SIGTERM) when the block ends."""
    port = free_port()
    store_args = ("--home", str(home), "--database-url", database_url)
    command = ["serve", "--port", str(port), *store_args, *extra]
    with launch(command, f"http://127.0.0.1:{port}", store_args) as served:
        yield served


@contextmanager
def launch(
    command: Sequence[str],
    base_url: str,
    store_args: Sequence[str],
    env: Mapping[str, str] | None = None,
    start_timeout: float = 30.0,
) -> Iterator[Served]:
    """Run ``pictograph *command`` (with ``env`` on top of a PICTOGRAPH_-free environment) until it
    answers at ``base_url`` (within ``start_timeout`` seconds); stop it (SIGTERM) when the block
    ends. Its output is read as it comes into ``Served.printed`` (``Served.output()``).
    """
    process = subprocess.Popen(
        [PICTOGRAPH, *command],
        env=_clean_env() | dict(env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(base_url, tuple(store_args), process)
    # Keep reading what it prints: a full pipe would block the server's next log line (and a
    # thread blocked in logging then holds up its shutdown).
    reader = threading.Thread(target=_drain, args=(served,), daemon=True)
    reader.start()
    try:
        _wait_until_up(served, reader, start_timeout)
        yield served
    finally:
        stop(served, signal.SIGTERM)
        reader.join(timeout=10)


def _drain(served: Served) -> None:
    if served.process.stdout is not None:
        for line in served.process.stdout:
            served.printed.append(line)


#: How long a stopping server may take: uvicorn finishes requests in flight for up to 30 s
#: (``serve``'s graceful shutdown), then the app's workers stop (the descriptor worker within
#: 10 s).
STOP_SECONDS = 60


def stop(served: Served, signum: int) -> int:
    """Send ``signum`` to the server; its exit status. A server still running after
    ``STOP_SECONDS`` is killed and the test fails with its threads' stacks (py-spy), to say
    what it was waiting for."""
    served.process.send_signal(signum)
    try:
        return served.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        stacks = _stacks(served.process.pid)
        served.process.kill()
        served.process.wait()
        raise AssertionError(
            f"the server did not stop within {STOP_SECONDS} s; its threads were:\n{stacks}"
        ) from None


def _stacks(pid: int) -> str:
    py_spy = Path(sys.executable).parent / "py-spy"
    try:
        dump = subprocess.run(
            [str(py_spy), "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"(no stacks: {error})"
    return dump.stdout + dump.stderr


def _wait_until_up(served: Served, reader: threading.Thread, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            reader.join(timeout=10)
            raise RuntimeError(f"pictograph serve exited early:\n{served.output()}")
        try:
            httpx.get(f"{served.base_url}/api/v1/developer/datasets/", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"pictograph serve did not answer within {timeout} s")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
