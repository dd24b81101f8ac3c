"""Blobs as local files, written to a temporary file and renamed into place (``file://``)."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from pictograph.errors import InsufficientStorageError, NotFoundError
from pictograph.server.store.blobs import (
    HeldBlob,
    Reserve,
    StoredBlob,
    is_key,
    new_keys,
    validate_key,
    write_all,
)

_SHARD = re.compile(r"^[0-9a-f]{2}$")
_TEMPORARY = re.compile(r"^\.upload-[A-Za-z0-9_]+\.tmp$")
#: A temporary file's name says the key it becomes: ``.upload-<key>_<random>.tmp``.
_TEMPORARY_OF = re.compile(r"^\.upload-([0-9a-f]{32})_")


#: A write that failed because the filesystem is full, or the user's quota is.
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


@contextmanager
def _space_for(root: Path) -> Iterator[None]:
    """A full filesystem (or quota) under ``root`` as ``InsufficientStorageError`` (507)."""
    try:
        yield
    except OSError as error:
        if error.errno not in _FULL:
            raise
        raise InsufficientStorageError(
            f"the blob store file://{root} is full ({error.strerror}): nothing was kept; "
            "free space there or give the server more storage"
        ) from error


class LocalWriter:
    """Writes to a temporary file beside its final place, renamed into place on commit.

    The key is chosen first, so the temporary file lives in the key's own shard folder: new files
    spread over 256 folders instead of all contending for one folder's lock while the journal
    commits the previous file's fsync.
    """

    def __init__(self, root: Path, key: str) -> None:
        self._root = root
        self._key = key
        self._final = root / self._key[:2] / self._key
        with _space_for(root):
            self._final.parent.mkdir(exist_ok=True)  # shard folders appear as first used
            fd, name = tempfile.mkstemp(
                prefix=f".upload-{key}_", suffix=".tmp", dir=self._final.parent
            )
        self._file = os.fdopen(fd, "wb")
        self._temp = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        with _space_for(self._root):
            self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def staged(self) -> BinaryIO:
        """The temporary file, read through a handle of its own (nothing synced yet)."""
        with _space_for(self._root):
            self._file.flush()
        return self._temp.open("rb")

    def commit(self) -> StoredBlob:
        """The blob, durable at its key; on any failure nothing of it is kept."""
        try:
            with _space_for(self._root):
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                os.replace(self._temp, self._final)
                sync_folders([self._final.parent])  # the rename too survives a power cut
        except BaseException:
            self.abort()
            raise
        return StoredBlob(key=self._key, size=self.size, sha256=self._hash.hexdigest())

    def abort(self) -> None:
        try:
            self._file.close()  # flushes what is buffered: fails again on a full disk
        except OSError:
            pass
        finally:
            self._temp.unlink(missing_ok=True)


class LocalBlobStore:
    """Blobs as files under ``root``, sharded by the first two characters of the key."""

    def __init__(self, root: Path, reserve: Reserve) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._reserve = reserve

    def writer(self) -> LocalWriter:
        keys = new_keys(1)
        self._reserve(keys)
        return LocalWriter(self.root, keys[0])

    def write_stream(self, chunks: Iterable[bytes]) -> StoredBlob:
        return write_all(self.writer(), chunks)

    def write_many(self, payloads: Sequence[bytes]) -> list[StoredBlob]:
        """Each payload as a blob, all durable when this returns, with one sync round for the
        group: every file written, each one's data synced (``fdatasync``), then their folder
        synced once. The group's keys share one shard folder, so that is one folder sync per
        group rather than one per file; concurrent groups still spread over 256 folders. (One
        ``syncfs`` for the group measured no faster here, and it would wait for every other
        writer of the filesystem.) Files are written at their final names: no row refers to a
        key until this returns, so a crash mid-group leaves only orphans that ``gc`` removes.
        Nothing is kept when any step fails."""
        shard = new_keys(1)[0][:2]
        keys = [shard + key[2:] for key in new_keys(len(payloads))]
        self._reserve(keys)
        paths = [self._file(key) for key in keys]
        with _space_for(self.root):
            self._write_synced(payloads, paths)
        return [
            StoredBlob(key=key, size=len(payload), sha256=hashlib.sha256(payload).hexdigest())
            for key, payload in zip(keys, payloads, strict=True)
        ]

    def _write_synced(self, payloads: Sequence[bytes], paths: list[Path]) -> None:
        """Each payload at its path, data and folder synced; none kept when a step fails."""
        fds: list[int] = []
        try:
            try:
                for payload, path in zip(payloads, paths, strict=True):
                    fds.append(self._create(path))
                    view = memoryview(payload)
                    while view:
                        view = view[os.write(fds[-1], view) :]
                for fd in fds:
                    os.fdatasync(fd)
            finally:
                for fd in fds:
                    os.close(fd)
            sync_folders([paths[0].parent] if paths else [])
        except BaseException:
            for path in paths:
                path.unlink(missing_ok=True)
            raise

    def _create(self, path: Path) -> int:
        """A new file at ``path``, open for writing; its shard folder is made when missing (not
        asked first: a mkdir per file cost 4% of a batch upload's server CPU)."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            return os.open(path, flags, 0o644)
        except FileNotFoundError:
            path.parent.mkdir(exist_ok=True)
            return os.open(path, flags, 0o644)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._file(key).open("rb")
        except FileNotFoundError:
            raise NotFoundError("blob not found") from None

    def iter_blobs(self) -> Iterator[HeldBlob]:
        for shard in self.root.iterdir():
            if not (shard.is_dir() and _SHARD.match(shard.name)):
                continue
            for entry in os.scandir(shard):
                try:
                    modified = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
                except FileNotFoundError:  # renamed into place or removed meanwhile
                    continue
                if is_key(entry.name):
                    yield HeldBlob(entry.name, modified)
                elif _TEMPORARY.match(entry.name):
                    becoming = _TEMPORARY_OF.match(entry.name)
                    yield HeldBlob(
                        f"{shard.name}/{entry.name}",
                        modified,
                        temporary=True,
                        for_key=becoming.group(1) if becoming else None,
                    )

    def remove(self, held: HeldBlob) -> None:
        if not held.temporary:
            self.delete(held.key)
            return
        shard, _, name = held.key.partition("/")
        if _SHARD.match(shard) and _TEMPORARY.match(name):  # never a path outside the store
            (self.root / shard / name).unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        self._file(key).unlink(missing_ok=True)

    def _file(self, key: str) -> Path:
        validate_key(key)
        return self.root / key[:2] / key


def sync_folders(folders: Iterable[Path]) -> None:
    """``fsync`` each folder, so the names created or renamed in it are durable."""
    for folder in folders:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def from_url(url: str, reserve: Reserve) -> LocalBlobStore:
    """The store for ``file:///abs/path``."""
    parsed = urlparse(url)
    return LocalBlobStore(Path(unquote(parsed.netloc + parsed.path)), reserve)
