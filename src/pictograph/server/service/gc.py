"""Sweeping up what crashes leave behind: temporary files, blobs no row refers to, pending
uploads older than their URL's lifetime, and expired idempotency records; and emptying the
trash of datasets and images deleted longer ago than ``trash_retention_days``.

Run by ``pictograph gc``, at server start and every ``gc_interval_seconds``. A blob a committed
image (or a live pending upload) refers to is never removed: candidates are listed first and
re-checked against the database just before each removal, and only things untouched for
``grace`` are candidates, so a write in flight (its row not committed yet) is left alone.
With ``s3://`` storage the blobs are the bucket's objects, so an object a client PUT through a
presigned URL and never registered goes once its pending upload has expired (or, with no
pending upload, once it is older than ``grace``).

Replicas sharing a PostgreSQL database take turns: a scheduled sweep runs only in the replica
holding an advisory lock, and the others skip that round (``GcReport.skipped``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import sqlalchemy as sa

from pictograph.server.service import idempotency, trash
from pictograph.server.service.context import AppContext, now
from pictograph.server.settings import ServerSettings
from pictograph.server.store import tables as t
from pictograph.server.store.blobs import HeldBlob

log = logging.getLogger("pictograph.gc")

#: Untouched for this long before a blob or temporary file may be litter.
DEFAULT_GRACE = timedelta(seconds=ServerSettings.gc_grace_seconds)
#: First half of the PostgreSQL advisory lock a scheduled sweep holds ("picg"); the second half
#: is the schema's name hashed, so deployments in separate schemas of one database never wait
#: on each other.
SWEEP_LOCK = 0x70696367
_CHECK_BATCH = 500


@dataclass
class GcReport:
    """What a sweep removed (or, with ``dry_run``, would remove)."""

    dry_run: bool
    temporary_files: list[str] = field(default_factory=list)
    orphan_blobs: list[str] = field(default_factory=list)
    expired_uploads: list[str] = field(default_factory=list)
    idempotency_records: int = 0
    #: Ids of the datasets and images whose time in the trash ran out, and how many of their
    #: blobs went with them.
    trashed_datasets: list[str] = field(default_factory=list)
    trashed_images: list[str] = field(default_factory=list)
    trash_blobs: int = 0
    #: A scheduled sweep that did not run: another replica held the sweep lock.
    skipped: bool = False

    @property
    def total(self) -> int:
        return (
            len(self.temporary_files)
            + len(self.orphan_blobs)
            + len(self.expired_uploads)
            + self.idempotency_records
            + len(self.trashed_datasets)
            + len(self.trashed_images)
        )


def sweep(
    store: AppContext, *, dry_run: bool = False, grace: timedelta = DEFAULT_GRACE
) -> GcReport:
    """Remove crash litter from ``store`` (list it only, with ``dry_run``); the report says what."""
    report = GcReport(dry_run=dry_run)
    expired = trash.purge_expired(store, dry_run=dry_run)
    report.trashed_datasets, report.trashed_images = expired.datasets, expired.images
    report.trash_blobs = expired.blobs
    _expire_pending_uploads(store, report)
    cutoff = now() - grace
    # List what the store holds before reading what rows refer to: a blob written after the
    # listing is not a candidate, and one listed is re-checked before it goes.
    held = [blob for blob in store.blobs.iter_blobs() if blob.modified < cutoff]
    for blob in held:
        if blob.temporary:
            report.temporary_files.append(blob.key)
            if not dry_run:
                store.blobs.remove(blob)
    report.temporary_files += _thumbnail_temporaries(store.settings.home, cutoff, dry_run)
    candidates = [blob for blob in held if not blob.temporary]
    for batch in _batches(candidates):
        for blob in _unreferenced(store, batch):
            report.orphan_blobs.append(blob.key)
            if not dry_run:
                store.blobs.remove(blob)
    if dry_run:
        report.idempotency_records = _count_expired_records(store)
    else:
        report.idempotency_records = idempotency.purge_expired(store)
    return report


def _expire_pending_uploads(store: AppContext, report: GcReport) -> None:
    """Pending uploads older than their URL's lifetime can never be registered: drop them and
    their bytes (the blobs become orphans, removed below or by the next sweep)."""
    pending = t.pending_uploads
    lifetime = timedelta(seconds=store.settings.signed_url_ttl_seconds)
    too_old = pending.c.created_at < now() - lifetime
    columns = (pending.c.dataset_id, pending.c.directory_path, pending.c.filename)
    with store.write() as conn:
        rows = conn.execute(sa.select(*columns, pending.c.blob_key).where(too_old)).all()
        if not report.dry_run:
            conn.execute(pending.delete().where(too_old))
    report.expired_uploads += [f"{r.dataset_id}:{r.directory_path}/{r.filename}" for r in rows]
    if not report.dry_run:
        for row in rows:
            held = HeldBlob(row.blob_key, now())
            if not _unreferenced(store, [held]):
                continue
            store.blobs.remove(held)


def _unreferenced(store: AppContext, blobs: Sequence[HeldBlob]) -> list[HeldBlob]:
    """The blobs of ``blobs`` no image and no pending upload refers to (read now)."""
    keys = [blob.key for blob in blobs]
    used: set[str] = set()
    with store.read() as conn:
        for table in (t.images, t.pending_uploads):
            used.update(conn.scalars(sa.select(table.c.blob_key).where(table.c.blob_key.in_(keys))))
    return [blob for blob in blobs if blob.key not in used]


def _batches(blobs: Sequence[HeldBlob]) -> Iterator[Sequence[HeldBlob]]:
    for start in range(0, len(blobs), _CHECK_BATCH):
        yield blobs[start : start + _CHECK_BATCH]


def _thumbnail_temporaries(home: Path, cutoff: datetime, dry_run: bool) -> list[str]:
    """Half-written renditions (``.thumb-*.tmp``) under ``<home>/thumbnails``."""
    found: list[str] = []
    for path in (home / "thumbnails").glob("*/.thumb-*.tmp"):
        try:
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except FileNotFoundError:
            continue
        if modified >= cutoff:
            continue
        found.append(str(path.relative_to(home)))
        if not dry_run:
            path.unlink(missing_ok=True)
    return found


def _count_expired_records(store: AppContext) -> int:
    records = t.idempotency_records
    with store.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(records)
                .where(records.c.created_at < now() - idempotency.RETENTION)
            ).scalar_one()
        )


def scheduled_sweep(store: AppContext, grace: timedelta = DEFAULT_GRACE) -> GcReport:
    """One round of the server's sweep: on PostgreSQL only if no other replica is sweeping
    (else a report with ``skipped`` set and nothing removed); on SQLite, one server per store,
    always."""
    with _sweep_turn(store) as ours:
        if not ours:
            return GcReport(dry_run=False, skipped=True)
        return sweep(store, grace=grace)


@contextmanager
def _sweep_turn(store: AppContext) -> Iterator[bool]:
    """Whether this process may sweep now. On PostgreSQL: holding the sweep lock until the block
    ends, taken without waiting. It is a transaction-level lock, so it is released when the
    transaction ends, also when a replica dies mid-sweep and its connection drops."""
    if store.engine.dialect.name != "postgresql":
        yield True
        return
    with store.engine.connect() as conn, conn.begin():
        taken = conn.execute(
            sa.text("SELECT pg_try_advisory_xact_lock(:lock, hashtext(current_schema()))"),
            {"lock": SWEEP_LOCK},
        ).scalar_one()
        yield bool(taken)


async def sweep_periodically(store: AppContext, interval: float, grace: timedelta) -> None:
    """Sweep now and then every ``interval`` seconds, until cancelled; a failed sweep is logged
    and the next one still runs."""
    while True:
        try:
            report = await anyio.to_thread.run_sync(scheduled_sweep, store, grace)
            if report.skipped:
                log.info("gc skipped this round: another replica is sweeping")
            elif report.total:
                log.info(
                    "gc removed %d temporary files, %d orphan blobs, %d expired uploads, "
                    "%d datasets and %d images from the trash",
                    len(report.temporary_files),
                    len(report.orphan_blobs),
                    len(report.expired_uploads),
                    len(report.trashed_datasets),
                    len(report.trashed_images),
                )
        except Exception:
            log.exception("gc sweep failed")
        await anyio.sleep(interval)
