"""The export worker: builds queued exports on a thread of the serving process.

Jobs live in the ``exports`` table, so they survive restarts. A worker claims a ``pending`` job
with a conditional update (several server processes may run workers), beats a heartbeat while
building, and finishes it ``completed`` or ``failed`` with a reason. A job whose heartbeat stopped
(its process died) goes back to ``pending`` and is built again, at most ``MAX_ATTEMPTS`` times;
then it is ``failed`` with the reason. The worker runs while unfinished jobs exist, then exits.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pictograph.server.service import bucket_check
from pictograph.server.service.context import AppContext, now, row_dict
from pictograph.server.service.export_archive import Archive
from pictograph.server.service.export_formats import BUILDERS
from pictograph.server.service.export_job import Job
from pictograph.server.service.exports import KEEP_FOR
from pictograph.server.store import tables as t
from pictograph.server.store.blobs import read_chunks

log = logging.getLogger("pictograph.exports")
_E = t.exports
#: Seconds between heartbeats of a job being built, and after which silence means it died.
BEAT_EVERY = 2.0
STALE_AFTER = timedelta(seconds=20)
MAX_ATTEMPTS = 3
#: Seconds the worker sleeps between looks at the queue while jobs remain unfinished.
POLL = 1.0
#: Where builds write their archive, under the home: ``export-<id>-<attempt>-<random>/``.
SCRATCH = "tmp"
_SCRATCH_FOLDER = re.compile(r"^export-([0-9a-f-]{36})-([0-9]+)-")


class Cancelled(Exception):
    """The export was deleted, or taken over by another worker, while being built."""


class ExportWorker:
    """One per app. ``kick()`` after queueing a job; ``stop()`` when the app shuts down."""

    def __init__(self, store: AppContext) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """Make sure a worker thread runs and looks at the queue now."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="exports", daemon=True)
                self._thread.start()

    def resume(self) -> None:
        """Start the worker when jobs were left unfinished (by a restart or a crash)."""
        query = sa.select(_E.c.id).where(_E.c.status.in_(("pending", "processing"))).limit(1)
        with self._store.read() as conn:
            if conn.execute(query).first() is not None:
                self.kick()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs; wait for the job in hand (it goes back to the queue if cut short)."""
        with self._lock:
            self._stopping.set()
            self._wake.set()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                reap_stale(self._store)
                job = claim(self._store)
                if job is not None:
                    build(self._store, job, self._stopping)
                    continue
                if not unfinished(self._store):
                    with self._lock:
                        if not self._wake.is_set():
                            self._thread = None
                            return
                    continue
            except Exception:  # the loop must survive a broken job or a database hiccup
                log.exception("export worker error")
            self._wake.wait(POLL)


def unfinished(store: AppContext) -> bool:
    query = sa.select(_E.c.id).where(_E.c.status.in_(("pending", "processing"))).limit(1)
    with store.read() as conn:
        return conn.execute(query).first() is not None


def reap_stale(store: AppContext) -> None:
    """Requeue (or fail, after ``MAX_ATTEMPTS``) jobs whose builder stopped beating."""
    stale = sa.and_(_E.c.status == "processing", _E.c.heartbeat_at < now() - STALE_AFTER)
    reason = (
        f"the server stopped while building this export, {MAX_ATTEMPTS} times; "
        "delete it and create it again"
    )
    with store.write() as conn:
        conn.execute(
            _E.update()
            .where(stale, _E.c.attempts >= MAX_ATTEMPTS)
            .values(status="failed", error_message=reason, heartbeat_at=None)
        )
        conn.execute(_E.update().where(stale).values(status="pending", heartbeat_at=None))


def claim(store: AppContext) -> dict[str, Any] | None:
    """Take the oldest pending job (``processing`` now, attempts + 1); None when there is none."""
    oldest = (
        sa.select(_E.c.id)
        .where(_E.c.status == "pending")
        .order_by(_E.c.created_at, _E.c.id)
        .limit(1)
    )
    with store.write() as conn:
        found = conn.execute(oldest).scalar_one_or_none()
        if found is None:
            return None
        taken = conn.execute(
            _E.update()
            .where(_E.c.id == found, _E.c.status == "pending")
            .values(status="processing", attempts=_E.c.attempts + 1, heartbeat_at=now())
        )
        if taken.rowcount != 1:
            return None
        return row_dict(conn.execute(sa.select(_E).where(_E.c.id == found)).one())


def building(store: AppContext, folders: list[Path]) -> set[Path]:
    """Those of ``folders`` (under ``SCRATCH``) a build of this attempt of its export may still
    be writing: its export is ``processing`` with that attempt. A folder left by a build that
    died, failed or finished (or from before folders were named) is not one of them."""
    owners = {folder: _SCRATCH_FOLDER.match(folder.name) for folder in folders}
    ids = {found.group(1) for found in owners.values() if found}
    with store.read() as conn:
        query = sa.select(_E.c.id, _E.c.attempts).where(
            _E.c.id.in_(ids), _E.c.status == "processing"
        )
        running = {(row.id, str(row.attempts)) for row in conn.execute(query)}
    return {
        folder
        for folder, found in owners.items()
        if found and (found.group(1), found.group(2)) in running
    }


def _mine(export: dict[str, Any]) -> sa.ColumnElement[bool]:
    return sa.and_(
        _E.c.id == export["id"],
        _E.c.status == "processing",
        _E.c.attempts == export["attempts"],
    )


class _Heartbeat:
    def __init__(
        self, store: AppContext, export: dict[str, Any], stopping: threading.Event
    ) -> None:
        self._store, self._export, self._stopping = store, export, stopping
        self._last = time.monotonic()

    def __call__(self) -> None:
        if self._stopping.is_set():
            raise Cancelled("the server is shutting down")
        if time.monotonic() - self._last < BEAT_EVERY:
            return
        self._last = time.monotonic()
        with self._store.write() as conn:
            done = conn.execute(_E.update().where(_mine(self._export)).values(heartbeat_at=now()))
        if done.rowcount != 1:
            raise Cancelled("the export was deleted or taken over")


def build(store: AppContext, export: dict[str, Any], stopping: threading.Event) -> None:
    """Build one claimed job and record its outcome."""
    beat = _Heartbeat(store, export, stopping)
    bucket_check.check_dataset(store, export["dataset_id"])
    job = _job(store, export, beat)
    if job is None:
        return  # the dataset or version (and so the export row) was deleted
    scratch = store.settings.home / SCRATCH
    scratch.mkdir(parents=True, exist_ok=True)
    owner = f"export-{export['id']}-{export['attempts']}-"
    with tempfile.TemporaryDirectory(dir=scratch, prefix=owner) as folder:
        path = Path(folder) / "export.zip"
        try:
            archive = Archive(path, store)
            try:
                BUILDERS[export["format"]](job, archive)
            finally:
                archive.close()
        except Cancelled as stopped:
            _requeue(store, export, str(stopped))
            return
        except Exception as error:
            log.exception("export %s failed", export["id"])
            _fail(store, export, f"building the archive failed: {error}")
            return
        with path.open("rb") as source:
            blob = store.blobs.write_stream(read_chunks(source))
    _complete(store, export, job, blob.key, blob.size)


def _job(store: AppContext, export: dict[str, Any], beat: _Heartbeat) -> Job | None:
    """The job of ``export``: the live dataset, or the dataset as its version froze it."""
    _V = t.dataset_versions
    with store.read() as conn:
        found = conn.execute(sa.select(t.datasets).where(t.datasets.c.id == export["dataset_id"]))
        dataset = found.first()
        version = None
        if export.get("version_id"):
            query = sa.select(_V).where(_V.c.id == export["version_id"])
            version = conn.execute(query).first()
    if dataset is None or (export.get("version_id") and version is None):
        return None
    source = row_dict(dataset)
    if version is None:
        return Job(store, export, source, beat)
    frozen = row_dict(version)
    source |= {key: frozen[key] for key in ("classes", "annotation_types")}
    source["name"] = frozen["dataset_name"]
    return Job(store, export, source, beat, version=frozen)


def _complete(store: AppContext, export: dict[str, Any], job: Job, key: str, size: int) -> None:
    finished = now()
    values = {
        "status": "completed",
        "blob_key": key,
        "file_size": size,
        "image_count": job.image_count,
        "annotation_count": job.annotation_count,
        "completed_at": finished,
        "expires_at": finished + KEEP_FOR,
        "heartbeat_at": None,
    }
    with store.write() as conn:
        done = conn.execute(_E.update().where(_mine(export)).values(**values))
    if done.rowcount != 1:  # deleted meanwhile: keep no orphan archive
        store.blobs.delete(key)


def _fail(store: AppContext, export: dict[str, Any], reason: str) -> None:
    with store.write() as conn:
        conn.execute(
            _E.update()
            .where(_mine(export))
            .values(status="failed", error_message=reason, heartbeat_at=None)
        )


def _requeue(store: AppContext, export: dict[str, Any], reason: str) -> None:
    log.info("export %s put back in the queue: %s", export["id"], reason)
    with store.write() as conn:
        conn.execute(_E.update().where(_mine(export)).values(status="pending", heartbeat_at=None))
