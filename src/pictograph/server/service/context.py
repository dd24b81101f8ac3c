"""The ``AppContext`` handed to every service call (the metadata database, the blob store, settings
and signing), and small shared helpers (time, ids)."""

from __future__ import annotations

import functools
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

import sqlalchemy as sa
from itsdangerous import Serializer, URLSafeTimedSerializer, base64_encode

from pictograph.errors import ServerError, ValidationError
from pictograph.protocol import MAX_BULK_IMAGES
from pictograph.server.imaging import DecodeBudget
from pictograph.server.service.group_commit import GroupCommit
from pictograph.server.service.workload import Workload
from pictograph.server.settings import ServerSettings
from pictograph.server.store import tables as t
from pictograph.server.store.blob_registry import open_blob_store
from pictograph.server.store.blobs import BlobStore, Reserve
from pictograph.server.store.database import WRITE, open_database

_SECRET_NAME = "signing_secret"  # noqa: S105 (the row name, not a secret)


def now() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


def new_id() -> str:
    """A fresh canonical (lower-case) UUID string."""
    return str(uuid.uuid4())


def aware(value: datetime | None) -> datetime | None:
    """``value`` with UTC attached when the database handed back a naive datetime (SQLite)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class UncompressedSigner(URLSafeTimedSerializer):
    """itsdangerous's URL-safe timed signer without its zlib step: a token's claims are a few
    short strings, which zlib shrinks by a quarter at a third of a token's cost, paid twice
    per uploaded file (made in the pre-flight, checked with the bytes). Tokens it signs load
    with the stock serializer, and it loads the stock (compressed) ones."""

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


#: SQLSTATEs of a transaction the database gave up on to let another finish (deadlock detected,
#: serialization failure): running it again is the remedy.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
#: How many times a transaction is run before a transient failure is reported (a 503).
TRANSACTION_ATTEMPTS = 5

_P = ParamSpec("_P")
_R = TypeVar("_R")


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is the database aborting a transaction that may simply run again (by
    the driver's SQLSTATE, never the message)."""
    return isinstance(error, sa.exc.DBAPIError) and (
        getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
    )


def retry_transient(call: Callable[_P, _R]) -> Callable[_P, _R]:
    """``call`` run again (after a short random pause) when the database aborted its
    transaction for a deadlock or a serialization failure; after ``TRANSACTION_ATTEMPTS`` a
    503 the client may retry. ``call`` must be one transaction whose effects outside the
    database are undone when it fails."""

    @functools.wraps(call)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                return call(*args, **kwargs)
            except sa.exc.DBAPIError as error:
                if not is_transient(error):
                    raise
                if attempt + 1 == TRANSACTION_ATTEMPTS:
                    raise ServerError(
                        "the database is busy with conflicting changes; try again",
                        code="database_busy",
                        status_code=503,
                    ) from error
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise AssertionError("unreachable")

    return run


@dataclass
class AppContext:
    """Everything a service call needs: metadata engine, blob store, settings, URL signer."""

    engine: sa.Engine
    blobs: BlobStore
    settings: ServerSettings
    signer: URLSafeTimedSerializer
    #: Bounds what decoding images (checks, thumbnails) may cost at once.
    decoding: DecodeBudget = field(default_factory=DecodeBudget)
    #: Bounds expensive work per object (descriptors, renditions): see ``workload.py``.
    work: Workload = field(default_factory=Workload)
    #: Told the ids of images just registered (the app's descriptor worker describes them).
    on_stored: Callable[[Sequence[str]], None] = lambda _ids: None
    #: SQLite has one writer at a time; threads of this process queue here instead of in
    #: SQLite's busy handler, which sleeps and retries. Other engines need no such turn.
    _writer_turn: AbstractContextManager[Any] = field(default_factory=nullcontext)
    _groups: dict[str, GroupCommit[Any, Any]] = field(default_factory=dict)
    _groups_lock: threading.Lock = field(default_factory=threading.Lock)

    def group_commit(
        self, name: str, run_group: Callable[[Sequence[Any]], Sequence[Any]]
    ) -> GroupCommit[Any, Any]:
        """The store's group committer called ``name`` (made on first use with ``run_group``)."""
        with self._groups_lock:
            if name not in self._groups:
                self._groups[name] = GroupCommit(run_group)
            return self._groups[name]

    @classmethod
    def open(cls, settings: ServerSettings) -> AppContext:
        """Open (and migrate) the database and the blob store named by ``settings``."""
        engine = open_database(settings.database_url, pool_size=settings.database_pool_size)
        turn = threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        blobs = open_blob_store(settings.storage_url, _intent_recorder(engine, turn))
        signer = UncompressedSigner(_signing_secret(engine), salt="pictograph-storage")
        decoding = DecodeBudget(settings.max_image_pixels, settings.decode_memory_bytes)
        return cls(
            engine=engine,
            blobs=blobs,
            settings=settings,
            signer=signer,
            decoding=decoding,
            _writer_turn=turn,
        )

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A connection inside a read transaction."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A connection inside a write transaction (takes SQLite's write lock up front)."""
        with (
            _writing(),
            self._writer_turn,
            self.engine.execution_options(**WRITE).begin() as conn,
        ):
            yield conn

    def close(self) -> None:
        """Release every pooled database connection."""
        self.engine.dispose()


_THREAD = threading.local()


@contextmanager
def _writing() -> Iterator[None]:
    """Marks this thread as inside a write transaction for the block."""
    depth = getattr(_THREAD, "writing", 0)
    _THREAD.writing = depth + 1
    try:
        yield
    finally:
        _THREAD.writing = depth


def _intent_recorder(engine: sa.Engine, turn: AbstractContextManager[Any]) -> Reserve:
    """The ``Reserve`` of a store's blobs: each key becomes a ``blob_intents`` row, committed in a
    transaction of its own before the blob's first byte is written.

    A blob written inside a write transaction could not have its intent committed first (and on
    SQLite it would wait for its own lock), so that is refused: write blobs before the
    transaction that refers to them.
    """

    def reserve(keys: Sequence[str]) -> None:
        if getattr(_THREAD, "writing", 0):
            raise RuntimeError("a blob is written inside a write transaction")
        stamp = now()
        with turn, engine.execution_options(**WRITE).begin() as conn:
            conn.execute(
                t.blob_intents.insert(), [{"blob_key": k, "created_at": stamp} for k in keys]
            )

    return reserve


def _signing_secret(engine: sa.Engine) -> str:
    """The secret for signed URLs, created once and kept in ``server_secrets``."""
    query = sa.select(t.server_secrets.c.value).where(t.server_secrets.c.name == _SECRET_NAME)
    with engine.execution_options(**WRITE).begin() as conn:
        value = conn.execute(query).scalar_one_or_none()
        if value is None:
            value = secrets.token_urlsafe(48)
            conn.execute(t.server_secrets.insert().values(name=_SECRET_NAME, value=value))
    return str(value)


#: A route's path from its name and path parameters (the app router's ``url_path_for``).
PathFor = Callable[..., str]


@dataclass(frozen=True)
class Links:
    """Builds the URLs a response carries: the app's own routes, found by name (so a route's
    path is written once, where it is mounted), on the base URL clients reach us at."""

    base: str
    signer: URLSafeTimedSerializer
    path_for: PathFor

    def image_url(self, dataset_id: str, directory_path: str, filename: str) -> str:
        """Absolute API URL returning the image bytes (authenticated like every API route)."""
        segment = image_segment(directory_path, filename)
        return self.base + self.path_for("image_bytes", dataset=dataset_id, image_path=segment)

    def annotation_url(self, dataset_id: str, directory_path: str, filename: str) -> str:
        """Relative API path of the image's annotation JSON (the SDK re-applies its base)."""
        segment = image_segment(directory_path, filename)
        return self.path_for("get_annotations", dataset=dataset_id, image_path=segment)

    def upload_url(self, token: str) -> str:
        return self.base + self.path_for("put_upload", token=token)

    def batch_upload_url(self) -> str:
        """Where several files' bytes go in one request (each still named by its token)."""
        return self.base + self.path_for("post_upload_batch")

    def blob_url(self, image_id: str) -> str:
        """Absolute, unauthenticated, expiring URL returning the image bytes."""
        token = self.signer.dumps({"kind": "blob", "image": image_id})
        return self.base + self.path_for("get_blob", token=token)


def image_segment(directory_path: str, filename: str) -> str:
    """``dir/filename`` (no leading slash), percent-encoded with ``/`` kept."""
    path = f"{directory_path.rstrip('/')}/{filename}".lstrip("/")
    return quote(path, safe="/")


def row_dict(row: sa.Row[Any]) -> dict[str, Any]:
    """A result row as a plain dict."""
    return dict(row._mapping)


@dataclass(frozen=True)
class Page:
    """One page of a listing: the items plus what the pagination envelope needs."""

    items: list[Any]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


#: The largest offset SQL engines take (a signed 64-bit integer).
MAX_OFFSET = 2**63 - 1


def clamp(limit: int, offset: int, cap: int) -> tuple[int, int]:
    """``limit`` clamped into 1..cap and ``offset`` to at least 0; ``ValidationError`` for an
    offset past ``MAX_OFFSET`` (no engine could skip that many rows)."""
    if offset > MAX_OFFSET:
        raise ValidationError(f"offset must be at most {MAX_OFFSET} (2**63 - 1), got {offset}")
    return max(1, min(limit, cap)), max(0, offset)


def check_batch_size(count: int) -> None:
    """``ValidationError`` when a bulk request names more than ``MAX_BULK_IMAGES`` images."""
    if count > MAX_BULK_IMAGES:
        raise ValidationError(f"at most {MAX_BULK_IMAGES} images per request, got {count}")
