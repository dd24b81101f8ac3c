"""The blob-store interface: where image bytes live, keyed by random ids.

Backends live in modules of their own (``local_blobs``, ``s3_blobs``) and are chosen by URL
scheme in ``blob_registry``. Readers never see a file path: they ``open`` a blob.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol, runtime_checkable

from pictograph.errors import NotFoundError

_KEY = re.compile(r"^[0-9a-f]{32}$")

#: Records, durably, that blobs of these keys are about to be written. Every backend calls it
#: with a key before it stores any byte under that key (or hands out a URL to store them), so
#: ``gc`` knows the blob is wanted before the blob exists; ``AppContext`` supplies it.
Reserve = Callable[[Sequence[str]], None]


def new_keys(count: int) -> list[str]:
    """``count`` fresh random blob keys (drawn with one system call)."""
    drawn = secrets.token_hex(16 * count)
    return [drawn[32 * i : 32 * (i + 1)] for i in range(count)]


def no_reservations(keys: Sequence[str]) -> None:
    """A ``Reserve`` recording nothing: for a blob store used without a database (tools, tests of
    the backends), where no sweep can run."""


@dataclass(frozen=True)
class HeldBlob:
    """Something the store holds: a blob (``temporary`` False) or a write a crash left behind.

    ``key`` is the blob key, or for a temporary file its name relative to the store; either
    can be handed back to ``BlobStore.remove``.
    """

    key: str
    modified: datetime
    temporary: bool = False
    #: For a temporary file: the key of the blob it is becoming, when its name says so.
    for_key: str | None = None


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

    def staged(self) -> BinaryIO:
        """The bytes written so far, readable and seekable, before ``commit`` (the caller closes
        it; no write may follow): the writer's own copy, so they can be checked before they are
        made durable instead of read back after."""
        ...

    def commit(self) -> StoredBlob: ...

    def abort(self) -> None: ...


class BlobStore(Protocol):
    """Where image bytes live, keyed by random ids so folder renames never move bytes.

    Every write reserves its key (``Reserve``) before the first byte. The read contract:
    ``open(key)`` answers a readable, seekable binary file holding the whole blob (the caller
    closes it), or raises ``NotFoundError``; it never depends on what this process wrote or read
    before, so any replica reads any blob.
    """

    def writer(self) -> BlobWriter: ...

    def write_stream(self, chunks: Iterable[bytes]) -> StoredBlob: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...

    def iter_blobs(self) -> Iterator[HeldBlob]:
        """Every blob and temporary file the store holds, with when it was last written."""
        ...

    def remove(self, held: HeldBlob) -> None:
        """Delete what ``iter_blobs`` listed (a blob or a temporary file); gone already is fine."""
        ...


@dataclass(frozen=True)
class BlobFacts:
    """What a direct store says about an object without reading it: its size, and its SHA-256
    (hex) when the client sent a checksum the store verified on arrival."""

    size: int
    sha256: str | None


@runtime_checkable
class DirectBlobStore(BlobStore, Protocol):
    """A blob store clients reach themselves through presigned URLs (S3): uploads go straight
    to it and downloads come straight from it, never through a replica."""

    def new_keys(self, count: int) -> list[str]:
        """Fresh keys for clients to upload to, reserved before they are handed out."""
        ...

    def upload_url(
        self, key: str, *, content_type: str, sha256: str | None, expires_in: int
    ) -> str: ...

    def download_url(
        self, key: str, *, content_type: str, disposition: str | None, expires_in: int
    ) -> str: ...

    def facts(self, key: str) -> BlobFacts: ...

    def derived_url(self, name: str, *, expires_in: int) -> str | None: ...

    def put_derived(self, name: str, data: bytes, content_type: str) -> None: ...


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


@runtime_checkable
class GroupCommitStore(BlobStore, Protocol):
    """A store that makes several blobs durable in one sync round (the local store)."""

    def write_many(self, payloads: Sequence[bytes]) -> list[StoredBlob]: ...


def write_many(blobs: BlobStore, payloads: Sequence[bytes]) -> list[StoredBlob]:
    """Each payload stored as a blob, in order, every one durable when this returns: in one sync
    round when the store can (``GroupCommitStore``), one committed write each otherwise."""
    if not payloads:
        return []
    if isinstance(blobs, GroupCommitStore):
        return blobs.write_many(payloads)
    return [blobs.write_stream([payload]) for payload in payloads]


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
