"""Blob stores for image bytes: one small interface, local files written atomically."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlparse

from pictograph.errors import ConfigurationError, NotFoundError

_KEY = re.compile(r"^[0-9a-f]{32}$")
_SHARD = re.compile(r"^[0-9a-f]{2}$")
_TEMPORARY = re.compile(r"^\.upload-[A-Za-z0-9_]+\.tmp$")


@dataclass(frozen=True)
class HeldBlob:
    """Something the store holds: a blob (``temporary`` False) or a write a crash left behind.

    ``key`` is the blob key, or for a temporary file its name relative to the store; either
    can be handed back to ``BlobStore.remove``.
    """

    key: str
    modified: datetime
    temporary: bool = False


@dataclass(frozen=True)
class StoredBlob:
    """What a finished write produced."""

    key: str
    size: int
    sha256: str


class BlobWriter(Protocol):
    """An in-progress write: feed chunks, then ``commit`` or ``abort``."""

    @property
    def size(self) -> int: ...

    def write(self, chunk: bytes) -> None: ...

    def commit(self) -> StoredBlob: ...

    def abort(self) -> None: ...


class BlobStore(Protocol):
    """Where image bytes live, keyed by random ids so folder renames never move bytes."""

    def writer(self) -> BlobWriter: ...

    def write_stream(self, chunks: Iterable[bytes]) -> StoredBlob: ...

    def open(self, key: str) -> BinaryIO: ...

    def path(self, key: str) -> Path: ...

    def delete(self, key: str) -> None: ...

    def iter_blobs(self) -> Iterator[HeldBlob]:
        """Every blob and temporary file the store holds, with when it was last written."""
        ...

    def remove(self, held: HeldBlob) -> None:
        """Delete what ``iter_blobs`` listed (a blob or a temporary file); gone already is fine."""
        ...


def write_all(writer: BlobWriter, chunks: Iterable[bytes]) -> StoredBlob:
    """Feed ``chunks`` to ``writer`` and commit; on any error (reading the chunks included)
    abort, so nothing of the blob is kept, and raise it."""
    try:
        for chunk in chunks:
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    return writer.commit()


def read_chunks(source: BinaryIO, size: int = 1024 * 1024) -> Iterator[bytes]:
    """``source`` from its current position, ``size`` bytes at a time."""
    while chunk := source.read(size):
        yield chunk


def is_key(name: str) -> bool:
    """Whether ``name`` is a well-formed blob key."""
    return bool(_KEY.match(name))


def validate_key(key: str) -> str:
    """``key`` when it is a well-formed blob key; ``NotFoundError`` otherwise (no traversal)."""
    if not _KEY.match(key):
        raise NotFoundError("blob not found")
    return key


class LocalWriter:
    """Writes to a temporary file beside its final place, renamed into place on commit.

    The key is chosen first, so the temporary file lives in the key's own shard folder: new files
    spread over 256 folders instead of all contending for one folder's lock while the journal
    commits the previous file's fsync.
    """

    def __init__(self, root: Path) -> None:
        self._key = secrets.token_hex(16)
        self._final = root / self._key[:2] / self._key
        self._final.parent.mkdir(exist_ok=True)  # shard folders appear as they are first used
        fd, name = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=self._final.parent)
        self._file = os.fdopen(fd, "wb")
        self._temp = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def commit(self) -> StoredBlob:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._temp, self._final)
        return StoredBlob(key=self._key, size=self.size, sha256=self._hash.hexdigest())

    def abort(self) -> None:
        self._file.close()
        self._temp.unlink(missing_ok=True)


class LocalBlobStore:
    """Blobs as files under ``root``, sharded by the first two characters of the key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def writer(self) -> LocalWriter:
        return LocalWriter(self.root)

    def write_stream(self, chunks: Iterable[bytes]) -> StoredBlob:
        return write_all(self.writer(), chunks)

    def path(self, key: str) -> Path:
        validate_key(key)
        return self.root / key[:2] / key

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError:
            raise NotFoundError("blob not found") from None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def iter_blobs(self) -> Iterator[HeldBlob]:
        for shard in self.root.iterdir():
            if not (shard.is_dir() and _SHARD.match(shard.name)):
                continue
            for entry in os.scandir(shard):
                modified = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
                if is_key(entry.name):
                    yield HeldBlob(entry.name, modified)
                elif _TEMPORARY.match(entry.name):
                    yield HeldBlob(f"{shard.name}/{entry.name}", modified, temporary=True)

    def remove(self, held: HeldBlob) -> None:
        if not held.temporary:
            self.delete(held.key)
            return
        shard, _, name = held.key.partition("/")
        if _SHARD.match(shard) and _TEMPORARY.match(name):  # never a path outside the store
            (self.root / shard / name).unlink(missing_ok=True)


def open_blob_store(url: str, cache: Path) -> BlobStore:
    """The blob store for ``url``: ``file:///abs/path``, or ``s3://bucket/prefix`` (blobs this
    replica wrote or read cached under ``cache``). ``ConfigurationError`` for anything else."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(unquote(parsed.netloc + parsed.path)))
    if parsed.scheme == "s3" and parsed.netloc:
        from pictograph.server.store.s3_blobs import open_s3_store

        prefix = unquote(parsed.path).strip("/")
        return open_s3_store(parsed.netloc, f"{prefix}/" if prefix else "", cache)
    raise ConfigurationError(f"unsupported storage URL scheme: {parsed.scheme or url!r}")
