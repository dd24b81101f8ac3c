"""Bytes processes move over TCP, from the kernel's per-connection counters (`ss -tinp`).

``/proc/PID/io`` (rchar + wchar) counts only read()/write() calls: a replica's HTTP server
(uvloop) is counted, but the connections its clients open with send()/recv() (boto3 to the
bucket, libpq to PostgreSQL, redis-py) are not. ``ss`` reports every connection's
``bytes_sent`` and ``bytes_received`` whatever the calls, so sampling it often while a run goes
on, and keeping each connection's last figures, counts them all; a connection opened and closed
between two samples is missed (ours are pooled and kept open, so few are).
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterable
from types import TracebackType

_USERS = re.compile(r"pid=(\d+)")
_COUNTER = re.compile(r"\bbytes_(sent|received):(\d+)")


def connections(pids: Iterable[int]) -> dict[tuple[str, str, int], int]:
    """Bytes sent plus received so far on each established TCP connection of ``pids``, by
    (local address, peer address, pid)."""
    wanted = set(pids)
    text = subprocess.run(
        ["ss", "-tinpH", "state", "established"], capture_output=True, text=True, check=True
    ).stdout
    found: dict[tuple[str, str, int], int] = {}
    lines = text.splitlines()
    for head, info in zip(lines[::2], lines[1::2], strict=False):
        fields = head.split()
        owners = {int(pid) for pid in _USERS.findall(head)} & wanted
        if len(fields) < 4 or not owners:
            continue
        moved = sum(int(count) for _, count in _COUNTER.findall(info))
        found[(fields[2], fields[3], min(owners))] = moved
    return found


class SocketMeter:
    """``with SocketMeter(pids) as meter: ...`` then ``meter.total``: the bytes ``pids`` sent and
    received over TCP during the block (connections open before it count from its start)."""

    def __init__(self, pids: Iterable[int], every: float = 0.1) -> None:
        self._pids = list(pids)
        self._every = every
        self._start: dict[tuple[str, str, int], int] = {}
        self._last: dict[tuple[str, str, int], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.total = 0

    def __enter__(self) -> SocketMeter:
        self._start = connections(self._pids)
        self._last = dict(self._start)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._last.update(connections(self._pids))
        self.total = sum(moved - self._start.get(key, 0) for key, moved in self._last.items())

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            self._last.update(connections(self._pids))
