"""A fault-injecting TCP proxy on loopback: each request (a client chunk starting with an HTTP
method) is, with probability ``rate``, reset part-way, cut off after part of its bytes (a
truncated header or body), or answered only after a stall."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

FAULTS = ("reset", "truncate", "stall")
_METHODS = (b"GET ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ", b"HEAD ")


@dataclass
class FaultProxy:
    """Forwards ``127.0.0.1:port`` to ``target_port``, injecting faults; counts the faults
    that happened (a request chosen for a cut that ends before the cut point has none)."""

    target_port: int
    rate: float
    seed: int = 0
    stall_seconds: float = 2.0
    #: The faults drawn from (all of ``FAULTS`` unless narrowed, e.g. to resets only).
    kinds: tuple[str, ...] = FAULTS
    port: int = 0
    injected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULTS, 0))
    connections: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _rng: random.Random = field(default_factory=random.Random)
    _open: set[socket.socket] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def faults(self) -> int:
        return sum(self.injected.values())

    def serve(self) -> threading.Thread:
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._rng = random.Random(self.seed)

        def accept_loop() -> None:
            with listener:
                while not self._stop.is_set():
                    try:
                        client, _ = listener.accept()
                    except TimeoutError:
                        continue
                    with self._lock:
                        self.connections += 1
                    threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

        thread = threading.Thread(target=accept_loop, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop accepting and abort every connection still open (a server being stopped must
        not wait on requests the proxy left half-sent)."""
        self._stop.set()
        with self._lock:
            open_sockets = list(self._open)
        for sock in open_sockets:
            _reset(sock)

    def _count(self, fault: str) -> None:
        with self._lock:
            self.injected[fault] += 1

    def _decide(self, first_chunk: int) -> tuple[str | None, int]:
        """A new request's fault (or none) and after how many of its bytes a cut happens:
        within its first chunk (the header, and the body of a small request), so it happens."""
        with self._lock:
            fault = self._rng.choice(self.kinds) if self._rng.random() < self.rate else None
            return fault, self._rng.randint(1, max(1, first_chunk - 1))

    def _pipe(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=600)
        except OSError:
            _reset(client)
            return
        with self._lock:
            self._open.update((client, upstream))
        done = threading.Event()
        stall = threading.Event()  # the next answer waits before it is passed on

        def downstream() -> None:  # server -> client
            try:
                while chunk := upstream.recv(65536):
                    if stall.is_set():
                        stall.clear()
                        self._count("stall")
                        time.sleep(self.stall_seconds)
                    client.sendall(chunk)
            except OSError:
                pass
            finally:
                done.set()
                _close(client)

        threading.Thread(target=downstream, daemon=True).start()
        fault: str | None = None
        cut_after = sent = 0
        try:
            while chunk := client.recv(65536):
                if chunk.startswith(_METHODS):
                    fault, cut_after = self._decide(len(chunk))
                    sent = 0
                    if fault == "stall":
                        stall.set()
                if fault in ("reset", "truncate") and sent + len(chunk) >= cut_after:
                    upstream.sendall(chunk[: cut_after - sent])
                    self._count(fault)
                    if fault == "reset":
                        _reset(client)
                        _reset(upstream)
                    else:  # the request stops part-way; the client never hears back
                        _close(upstream)
                        _close(client)
                    return
                upstream.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        finally:
            if not done.is_set():
                _close(upstream)
            with self._lock:
                self._open.difference_update((client, upstream))


def _reset(sock: socket.socket) -> None:
    """Abort ``sock`` with a RST (linger 0). ``shutdown`` first wakes the other thread's
    ``recv`` on it: a socket another thread still reads is not released by ``close`` alone."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with suppress(OSError):
        sock.close()


def _close(sock: socket.socket) -> None:
    """Close ``sock`` with a FIN, even while another thread is blocked reading it."""
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        sock.close()


@contextmanager
def fault_proxy(
    target_port: int, rate: float, seed: int = 0, kinds: tuple[str, ...] = FAULTS
) -> Iterator[FaultProxy]:
    proxy = FaultProxy(target_port, rate, seed, kinds=kinds)
    proxy.serve()
    try:
        yield proxy
    finally:
        proxy.stop()
