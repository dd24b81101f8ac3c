"""One writer per SQLite home: ``pictograph serve`` and ``pictograph gc`` hold an OS lock
(``flock``) on ``<home>/pictograph.lock`` while they run, so a second one refuses to start.

The lock goes with its process (also one killed with ``kill -9``), so nothing is ever left to
clean. On PostgreSQL there is no home lock: replicas share the database by design and take turns
sweeping with an advisory lock (``service.gc``). Embedded ``Client()`` users take no lock: their
writes are as safe beside a server as the server's own (every blob is reserved before it is
written), but a home a server runs on is meant to be used through that server.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pictograph.errors import StoreInUseError
from pictograph.server.settings import ServerSettings
from pictograph.server.store.database import UnusableDatabaseError

LOCK_FILE = "pictograph.lock"


class HomeLock:
    """The held lock; released by ``release`` or when the process ends."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = -1


def hold_home(settings: ServerSettings, command: str) -> HomeLock | None:
    """The lock of ``settings``' home when its database is SQLite (``None`` otherwise), taken
    without waiting; ``StoreInUseError`` when another process holds it."""
    if not settings.database_url.startswith("sqlite"):
        return None
    path = settings.home / LOCK_FILE
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:  # a read-only home, a home that is a file: the store is unusable
        raise UnusableDatabaseError(
            f"cannot use the metadata database in {settings.home}: its lock file cannot be "
            f"made ({error.strerror})"
        ) from error
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise StoreInUseError(
            f"{settings.home} is in use by {holder}: one pictograph serve or gc runs on a SQLite "
            f"home at a time ({command} refused to start)"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pictograph {command} (pid {os.getpid()})".encode(), 0)
    return HomeLock(path, fd)


@contextmanager
def home_held(settings: ServerSettings, command: str) -> Iterator[None]:
    """``hold_home`` for the block."""
    lock = hold_home(settings, command)
    try:
        yield
    finally:
        if lock is not None:
            lock.release()
