"""Sweeping up what crashes leave behind: temporary files, blobs no row refers to, pending
uploads and refusals of uploaded bytes older than their URL's lifetime, partial export archives,
expired idempotency records, and audit entries past their retention; and emptying the trash of
datasets and images deleted longer ago than ``trash_retention_days``.

Run by ``pictograph gc``, at server start and every ``gc_interval_seconds``. No live blob can be
removed, whatever the grace period: every blob's key is recorded in ``blob_intents`` (committed)
before its first byte is written (the blob store's ``Reserve``), and a blob is removed only when,
read after it was listed, no intent younger than ``INTENT_HORIZON`` and no row of any table with
a ``blob_key`` column (images, pending uploads, exports, dataset versions' images; see
``blob_owners.REFERRERS``) names it. An intent is forgotten once a row names its blob, or once
it is older than the horizon (its write was abandoned: no request runs that long). The grace
period only says how long litter is kept: things written less than ``grace`` ago are not looked
at. With ``s3://`` storage the blobs are the bucket's objects, so an
object a client PUT through a presigned URL and never registered goes once its pending upload has
expired (or, with no pending upload, once its intent is past the horizon).

Replicas sharing a PostgreSQL database take turns: a scheduled sweep runs only in the replica
holding an advisory lock, and the others skip that round (``GcReport.skipped``).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import sqlalchemy as sa

from pictograph.server.service import audit, export_jobs, idempotency, trash
from pictograph.server.service.blob_owners import REFERRERS
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
#: An intent this old was abandoned (no request runs this long): its blob, if any, is litter.
#: Never shorter than the signed-URL lifetime, during which a client may still PUT.
INTENT_HORIZON = timedelta(hours=24)


@dataclass
class GcReport:
    """What a sweep removed (or, with ``dry_run``, would remove)."""

    dry_run: bool
    temporary_files: list[str] = field(default_factory=list)
    orphan_blobs: list[str] = field(default_factory=list)
    expired_uploads: list[str] = field(default_factory=list)
    #: Refusals of PUT bytes (``refused_uploads``) never asked for by a register, as long kept.
    expired_refusals: list[str] = field(default_factory=list)
    idempotency_records: int = 0
    #: Audit entries older than the retention (``audit_retention_days``).
    audit_entries: int = 0
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
            + len(self.expired_refusals)
            + self.idempotency_records
            + self.audit_entries
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
    horizon = now() - intent_horizon(store)
    if not dry_run:
        _forget_settled_intents(store, horizon)
    _expire_pending_uploads(store, report, horizon)
    _expire_refusals(store, report)
    cutoff = now() - grace
    # List what the store holds before reading what rows and intents refer to: a blob written
    # after the listing is not a candidate, and one listed is checked after it was listed.
    held = [blob for blob in store.blobs.iter_blobs() if blob.modified < cutoff]
    _remove_temporaries(store, [blob for blob in held if blob.temporary], horizon, report)
    report.temporary_files += _thumbnail_temporaries(store.settings.home, cutoff, dry_run)
    report.temporary_files += _export_temporaries(store, cutoff, dry_run)
    for batch in _batches([blob for blob in held if not blob.temporary]):
        for blob in _unreferenced(store, batch, horizon):
            report.orphan_blobs.append(blob.key)
            if not dry_run:
                store.blobs.remove(blob)
    if dry_run:
        report.idempotency_records = _count_expired_records(store)
    else:
        report.idempotency_records = idempotency.purge_expired(store)
    retention = timedelta(days=store.settings.audit_retention_days)
    report.audit_entries = audit.prune(store, retention, dry_run=dry_run)
    return report


def intent_horizon(store: AppContext) -> timedelta:
    """How old an intent must be to count as abandoned in ``store``."""
    return max(INTENT_HORIZON, timedelta(seconds=store.settings.signed_url_ttl_seconds))


def _forget_settled_intents(store: AppContext, horizon: datetime) -> None:
    """Drop the intents a row now stands for (its blob is kept by the row) and those older than
    ``horizon`` (abandoned). One statement, so a key is never between the two."""
    intents = t.blob_intents
    named = [
        intents.c.blob_key.in_(sa.select(table.c.blob_key).where(table.c.blob_key.is_not(None)))
        for table in REFERRERS
    ]
    with store.write() as conn:
        conn.execute(intents.delete().where(sa.or_(intents.c.created_at < horizon, *named)))


def _expire_pending_uploads(store: AppContext, report: GcReport, horizon: datetime) -> None:
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
            if not _unreferenced(store, [held], horizon):
                continue
            store.blobs.remove(held)


def _expire_refusals(store: AppContext, report: GcReport) -> None:
    """Refusals on the pending uploads' horizon: a register can only come while the URL lives
    (its row holds no bytes, so nothing else goes with it)."""
    refused = t.refused_uploads
    lifetime = timedelta(seconds=store.settings.signed_url_ttl_seconds)
    too_old = refused.c.created_at < now() - lifetime
    columns = (refused.c.dataset_id, refused.c.directory_path, refused.c.filename)
    with store.write() as conn:
        rows = conn.execute(sa.select(*columns).where(too_old)).all()
        if not report.dry_run:
            conn.execute(refused.delete().where(too_old))
    report.expired_refusals += [f"{r.dataset_id}:{r.directory_path}/{r.filename}" for r in rows]


def _remove_temporaries(
    store: AppContext, temporaries: Sequence[HeldBlob], horizon: datetime, report: GcReport
) -> None:
    """Half-written blobs, except those whose blob's intent is live (a write in progress)."""
    writing = _intended(store, [blob.for_key for blob in temporaries if blob.for_key], horizon)
    for blob in temporaries:
        if blob.for_key in writing:
            continue
        report.temporary_files.append(blob.key)
        if not report.dry_run:
            store.blobs.remove(blob)


def _unreferenced(
    store: AppContext, blobs: Sequence[HeldBlob], horizon: datetime
) -> list[HeldBlob]:
    """The blobs of ``blobs`` no live intent and no row refers to.

    One statement, so one snapshot: on PostgreSQL (read committed) each statement sees the
    database anew, and a blob moving from a pending upload's row to its image's row between two
    reads would be seen in neither."""
    intents = t.blob_intents
    used: set[str] = set()
    with store.read() as conn:
        for start in range(0, len(blobs), _CHECK_BATCH):
            keys = [blob.key for blob in blobs[start : start + _CHECK_BATCH]]
            live = sa.and_(intents.c.blob_key.in_(keys), intents.c.created_at >= horizon)
            named = [
                sa.select(table.c.blob_key).where(table.c.blob_key.in_(keys)) for table in REFERRERS
            ]
            query = sa.union_all(sa.select(intents.c.blob_key).where(live), *named)
            used.update(conn.scalars(query))
    return [blob for blob in blobs if blob.key not in used]


def _intended(store: AppContext, keys: Sequence[str], horizon: datetime) -> set[str]:
    """Those of ``keys`` with an intent newer than ``horizon``: blobs being written."""
    intents = t.blob_intents
    found: set[str] = set()
    with store.read() as conn:
        for start in range(0, len(keys), _CHECK_BATCH):
            chunk = keys[start : start + _CHECK_BATCH]
            live = sa.and_(intents.c.blob_key.in_(chunk), intents.c.created_at >= horizon)
            found.update(conn.scalars(sa.select(intents.c.blob_key).where(live)))
    return found


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


def _export_temporaries(store: AppContext, cutoff: datetime, dry_run: bool) -> list[str]:
    """Folders of export builds under ``<home>/tmp`` (a partial ``export.zip``) that no running
    build owns, untouched since ``cutoff``: what a build killed or failed mid-way left."""
    home = store.settings.home
    folders = [path for path in (home / export_jobs.SCRATCH).glob("export-*") if path.is_dir()]
    running = export_jobs.building(store, folders)  # read after listing: a new build is running
    found: list[str] = []
    for folder in folders:
        if folder in running or _modified(folder) >= cutoff:
            continue
        found.append(f"{folder.relative_to(home)}/")
        if not dry_run:
            shutil.rmtree(folder, ignore_errors=True)
    return found


def _modified(path: Path) -> datetime:
    """When ``path`` was last changed (the epoch when it is gone already)."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return datetime.fromtimestamp(0, UTC)


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
