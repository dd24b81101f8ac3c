"""The upload engine behind ``upload_dataset_from_folder``: walk a local folder and upload every
image to a dataset.

The upload runs in batches. For each batch one request asks the server for signed upload URLs and
learns which names are already there (those are skipped without sending a byte); new files then go
through a thread pool, small ones several per request to the server's batch route, large ones in a
PUT each, and each of those requests registers its images. Embedded and served clients take this
same path through an upload channel (``channel``): served, requests; embedded, the same service
functions called in this process. A server with ``s3://`` storage
answers with presigned URLs straight to its bucket instead: the files' SHA-256 are sent with the
question so the URLs are bound to the bytes, many PUTs run at once, and one ``bulk-register`` per
batch follows (``direct_upload``). Every per-file problem becomes an :class:`UploadFailure`;
nothing is raised because of one file.
The progress callback always runs on the calling thread, once per file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    Executor,
    Future,
    ThreadPoolExecutor,
    as_completed,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pictograph._upload import direct as direct_upload
from pictograph._upload import interrupts
from pictograph._upload.channel import UploadChannel
from pictograph._upload.folder_plan import FolderPlan, PlannedFile, plan_folder
from pictograph.errors import (
    ConflictError,
    NotFoundError,
    PictographError,
    ValidationError,
)
from pictograph.protocol import MAX_BULK_IMAGES, names_digest, sizes_digest

if TYPE_CHECKING:
    from pictograph._upload.wire import ExistingImage, UploadBatch, UploadPlan, UploadSlot
    from pictograph.client import Client
    from pictograph.models import Dataset

_T = TypeVar("_T")
__all__ = [
    "BATCH_FILE_LIMIT",
    "ProgressCallback",
    "UploadFailure",
    "UploadInterrupted",
    "UploadReport",
    "request_groups",
    "upload_folder",
]

ProgressCallback = Callable[[int, int, "str | None"], None]
#: What became of one file a request carried: the bytes it sent, or why it failed.
_Outcome = int | BaseException
#: Requests submitted to the pool, each with the files it carries.
_Jobs = dict[Future[list[_Outcome]], list[PlannedFile]]

_DATASET_DELETED = "dataset was deleted while this file was being uploaded"
#: Files larger than this stream in a PUT of their own, never wholly in memory.
BATCH_FILE_LIMIT = 1024 * 1024
#: Multipart headers and token of one part, counted against a batch's byte cap.
_PART_OVERHEAD = 1024


@dataclass(frozen=True)
class UploadFailure:
    """One local file that did not upload, and a reason a person understands."""

    path: Path
    reason: str


@dataclass
class UploadReport:
    """What an upload did: counts per outcome and every failure with its reason."""

    dataset_name: str
    images_attempted: int
    images_uploaded: int
    images_skipped: int
    failures: list[UploadFailure] = field(default_factory=list)
    #: Bytes of the files uploaded by this run (our addition); skipped files count none.
    bytes_uploaded: int = 0
    #: Files skipped whose name was there but whose content changed since it was uploaded (our
    #: addition; also counted in ``images_skipped``): not uploaded, the dataset holds the old one.
    changed: list[Path] = field(default_factory=list)
    #: Changed files that replaced the image at their name (``replace_changed``; also counted in
    #: ``images_uploaded``). The old image went, with its labels.
    replaced: list[Path] = field(default_factory=list)
    #: Files of this folder whose earlier upload the server quarantined after it was registered
    #: (its background check of bytes sent straight to a bucket found them not a whole image),
    #: with why (our addition). This run sent them again, or failed them, as any other file.
    quarantined: list[UploadFailure] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """True only when nothing failed and at least one file was uploaded."""
        return not self.failures and self.images_uploaded > 0


def upload_folder(
    client: Client,
    dataset_name: str,
    folder: str | os.PathLike[str] | FolderPlan,
    *,
    organize_by_class: bool,
    preserve_structure: bool,
    parallel: bool,
    max_workers: int,
    skip_existing: bool,
    create_if_missing: bool,
    progress: ProgressCallback | None,
    replace_changed: bool = False,
) -> UploadReport:
    """The upload engine behind :func:`upload_dataset_from_folder` and
    ``client.images.upload_from_directory``: every option explicit, ``preserve_structure`` too
    (the whole folder tree kept as virtual folders, which the specification's workflow does not
    offer). ``folder`` may be a plan already made with the same options (a caller that showed
    it first need not walk the folder twice).

    A file whose name is taken by an image with other content (another size, or the same size
    and another SHA-256) is *changed*: listed in ``UploadReport.changed`` and skipped, or, with
    ``replace_changed``, uploaded in place of that image, which is deleted for good first (its
    labels, tags and review state go with it: they described other pixels; this needs a key
    allowed to delete images permanently). A re-run whose names and sizes all match the
    dataset's asks nothing per file and reads no file (``names-digest``), so a change that
    keeps a file's size is found only when its batch is asked about."""
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    plan = (
        folder
        if isinstance(folder, FolderPlan)
        else plan_folder(
            folder, organize_by_class=organize_by_class, preserve_structure=preserve_structure
        )
    )
    channel = _channel_for(client)
    dataset, created = _resolve_dataset(
        client, channel, dataset_name, create_if_missing=create_if_missing
    )
    run = _Run(client, channel, dataset, plan.total, skip_existing, progress)
    run.replace_changed = replace_changed
    run.put_workers = direct_upload.PUTS_PER_WORKER * max_workers if parallel else 1
    workers = max_workers if parallel else 1
    if client.mode == "embedded":
        # The in-process server does the work on this machine's cores, half of each file's
        # time waiting on fsync: two threads a core keep them busy, more only queue on the
        # interpreter lock (make bench, 2 cores: 4 threads 15% faster than 2, 8 no faster).
        workers = min(workers, 2 * (os.cpu_count() or 1))
    pool = _executor(parallel, workers)
    try:
        with interrupts.deferred():
            _upload_all(run, plan, pool)
    except KeyboardInterrupt:
        # No more requests start; those running finish, and their answers are counted (without
        # the progress callback: it may be what raised, and the run is over for its caller).
        run.progress = None
        pool.shutdown(wait=True, cancel_futures=True)
        run.settle_finished()
        report = run.report(dataset_name)
        removed = created and report.images_uploaded == 0 and _remove_empty(client, dataset)
        raise UploadInterrupted(report, removed_dataset=removed) from None
    finally:
        pool.shutdown(wait=True)
    return run.report(dataset_name)


def _channel_for(client: Client) -> UploadChannel:
    """The channel an upload run of ``client`` uses: in-process for an embedded client (its
    batches go straight to the service this process runs), over the transport otherwise."""
    embedded = client._transport.in_process()
    if embedded is None:
        return UploadChannel(client._transport)
    from pictograph._upload.in_process import InProcessChannel  # imports the server: only now

    return InProcessChannel(client._transport, embedded)


def _upload_all(run: _Run, plan: FolderPlan, pool: Executor) -> None:
    """Report the plan's problems, then upload its files in batches through ``pool``."""
    for problem in plan.problems:
        run.fail(problem.path, problem.reason)
    files = plan.files
    if run.skip_existing and files and run.all_there(files):
        for planned in files:
            run.already_there(planned)
        return
    waiting: _Jobs = {}
    for batch in _chunks(files, MAX_BULK_IMAGES):
        # This batch's pre-flight runs while the previous batch's files are still sending.
        submitted = run.upload_batch(batch, pool)
        run.settle(waiting)
        waiting = submitted
    run.settle(waiting)


class UploadInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped an upload. ``report`` counts what the server confirmed before the stop
    (the requests in flight were let finish and their answers counted);
    ``removed_dataset`` is True when the run had created the dataset, nothing landed in it, and
    it was deleted again."""

    def __init__(self, report: UploadReport, *, removed_dataset: bool) -> None:
        super().__init__("upload interrupted")
        self.report, self.removed_dataset = report, removed_dataset


def _remove_empty(client: Client, dataset: Dataset) -> bool:
    """Delete for good the empty dataset this run created; False when it cannot be (the key may
    not delete datasets) or is no longer empty."""
    try:
        if client.datasets.get(dataset.id).image_count:
            return False
        client.datasets.delete(dataset_id=dataset.id, permanent=True)
    except PictographError:
        return False
    return True


def _resolve_dataset(
    client: Client, channel: UploadChannel, name: str, *, create_if_missing: bool
) -> tuple[Dataset, bool]:
    """The dataset, and whether this call created it (looked up through the run's channel,
    created through the client)."""
    try:
        return channel.dataset(name), False
    except NotFoundError:
        if not create_if_missing:
            raise
    try:
        return client.datasets.create(name), True
    except ConflictError:  # created by a concurrent run between our get and create
        return channel.dataset(name), False


class _Run:
    """The state of one folder upload: outcomes so far, reported on the calling thread."""

    def __init__(
        self,
        client: Client,
        channel: UploadChannel,
        dataset: Dataset,
        total: int,
        skip_existing: bool,
        progress: ProgressCallback | None,
    ) -> None:
        self.images = client.images
        self.channel = channel
        #: The server's upload URLs go straight to its bucket (learnt from its first answer).
        self.direct = False
        self.put_workers = direct_upload.PUTS_PER_WORKER
        #: Files checked before going straight to a bucket, by dataset path (registered with
        #: the dimensions the check measured).
        self.measured: dict[str, direct_upload.Checked] = {}
        self.dataset_id = dataset.id
        self.total = total
        self.skip_existing = skip_existing
        self.progress = progress
        self.done = 0
        self.uploaded = 0
        self.bytes_uploaded = 0
        self.skipped = 0
        self.failures: list[UploadFailure] = []
        self.replace_changed = False
        self.changed: list[Path] = []
        self.quarantined: list[UploadFailure] = []
        self.replaced: list[Path] = []
        self._replacing: set[Path] = set()
        #: Requests submitted and not yet counted, with the files each carries.
        self.pending: _Jobs = {}
        #: Files of a pending request counted so far (an interrupt may stop a count midway).
        self._counted: dict[Future[list[_Outcome]], int] = {}

    def report(self, dataset_name: str) -> UploadReport:
        return UploadReport(
            dataset_name=dataset_name,
            images_attempted=self.total,
            images_uploaded=self.uploaded,
            bytes_uploaded=self.bytes_uploaded,
            images_skipped=self.skipped,
            failures=self.failures,
            changed=self.changed,
            replaced=self.replaced,
            quarantined=self.quarantined,
        )

    def all_there(self, files: Sequence[PlannedFile]) -> bool:
        """True when the dataset holds exactly these files' names, each with the file's size,
        asked in one request (our extension): a re-run of an unchanged folder then needs no
        pre-flight per batch."""
        try:
            found = self.channel.folder_digest(self.dataset_id)
            sizes = [(f.directory_path, f.filename, os.path.getsize(f.local)) for f in files]
        except (PictographError, OSError):  # no extension, or a file to report: pre-flight
            return False
        told = {(folder, name): why for folder, name, why in found.quarantined}
        self.quarantined = [
            UploadFailure(path=f.path, reason=told[(f.directory_path, f.filename)])
            for f in files
            if (f.directory_path, f.filename) in told
        ]
        places = ((folder, name) for folder, name, _ in sizes)
        return (
            found.count == len(files)
            and found.names_sha256 == names_digest(places)
            and found.sizes_sha256 == sizes_digest(sizes)
        )

    def preflight(
        self, batch: Sequence[PlannedFile]
    ) -> tuple[Sequence[PlannedFile], UploadPlan | None]:
        """Ask the server which of ``batch`` are new, and where to send those: the files asked
        about and the answer (``None`` when no file was left to ask about).

        A server whose URLs go straight to the bucket is asked again with each file's SHA-256
        (then for every later batch at once), so the bucket checks the bytes; a JPEG that is not
        whole fails here, before any of its bytes leave (the bucket would take them).
        """
        sha256: list[str | None] | None = None
        if self.direct:
            batch, sha256 = self._checked(batch)
            if not batch:
                return batch, None
        items = [(f.filename, f.directory_path, f.content_type) for f in batch]
        plan = self.channel.plan(self.dataset_id, items, register_on_upload=True, sha256=sha256)
        if plan.direct and sha256 is None:
            self.direct = True
            return self.preflight(batch)
        return batch, plan

    def _checked(self, batch: Sequence[PlannedFile]) -> tuple[list[PlannedFile], list[str | None]]:
        """The files of ``batch`` that may be sent, with their SHA-256; the others fail."""
        kept: list[PlannedFile] = []
        sha256: list[str | None] = []
        for planned, found in zip(batch, direct_upload.digests(batch), strict=True):
            if isinstance(found, ValidationError):
                self.fail(planned.path, _reason(found))
            else:
                kept.append(planned)
                sha256.append(None if found is None else found.sha256)
                if found is not None:
                    self.measured[planned.dataset_path] = found
        return kept, sha256

    def upload_batch(self, batch: Sequence[PlannedFile], pool: Executor) -> _Jobs:
        """Pre-flight ``batch``, settle what needs no sending, and submit the rest to ``pool``:
        the requests still running (settle them with :meth:`settle`)."""
        failed_before = len(self.failures)
        try:
            batch, plan = self.preflight(batch)
        except PictographError as exc:
            checked = {failure.path for failure in self.failures[failed_before:]}
            for planned in batch:
                if planned.path not in checked:
                    self.fail(planned.path, _reason(exc))
            return {}
        if plan is None:
            return {}
        to_send: list[tuple[PlannedFile, UploadSlot]] = []
        to_replace: list[PlannedFile] = []
        for planned, slot in zip(batch, plan.slots, strict=True):
            if slot.existing is None:
                to_send.append((planned, slot))
            elif not _changed_since(planned, slot.existing):
                self.already_there(planned)
            elif self.replace_changed and planned.path not in self._replacing:
                to_replace.append(planned)
            else:
                self.changed.append(planned.path)
                self.already_there(planned)
        if plan.direct:
            self._send_direct(to_send)
            jobs: _Jobs = {}
        else:
            jobs = self._send(to_send, plan.batch, pool)
        return jobs | self._replace(to_replace, plan.slots, batch, pool)

    def _send_direct(self, items: list[tuple[PlannedFile, UploadSlot]]) -> None:
        """Straight to the bucket; on Ctrl-C, count the files whose outcome came, then stop."""
        interrupted = False
        try:
            failed = direct_upload.send(
                self.channel, self.dataset_id, items, self.put_workers, self.measured
            )
            finished = {planned.dataset_path for planned, _ in items}
        except direct_upload.SendInterrupted as stop:
            failed, finished, interrupted = stop.errors, stop.finished, True
            self.progress = None  # the run is over for its caller: count, report nothing
        files = [planned for planned, _ in items if planned.dataset_path in finished]
        answered: Future[list[_Outcome]] = Future()
        answered.set_result([failed.get(f.dataset_path) or _size_of(f) for f in files])
        self.pending[answered] = files
        self._count(answered)
        if interrupted:
            raise KeyboardInterrupt

    def _replace(
        self,
        files: list[PlannedFile],
        slots: Sequence[UploadSlot],
        batch: Sequence[PlannedFile],
        pool: Executor,
    ) -> _Jobs:
        """Delete for good the images that changed ``files`` would replace, then upload those
        files as new ones (a file whose image cannot be deleted fails, saying why)."""
        existing = {planned.path: slot.existing for planned, slot in zip(batch, slots, strict=True)}
        deleted: list[PlannedFile] = []
        for planned in files:
            image = existing[planned.path]
            assert image is not None
            try:
                self.images.delete(self.dataset_id, image.id, permanent=True)
            except PictographError as error:
                self.fail(
                    planned.path,
                    f"changed since it was uploaded; the image there could not be replaced: "
                    f"{_reason(error)}",
                )
                continue
            deleted.append(planned)
            self._replacing.add(planned.path)
        return self.upload_batch(deleted, pool) if deleted else {}

    def _send(
        self, items: list[tuple[PlannedFile, UploadSlot]], batch: UploadBatch | None, pool: Executor
    ) -> _Jobs:
        """Small files go several per request when the server offers it; the rest one PUT each."""
        groups, singles = request_groups(items, batch)
        jobs: _Jobs = {}
        for group in groups:
            assert batch is not None
            with interrupts.held():  # a request submitted is a request remembered
                future = pool.submit(self._put_group, batch, group)
                jobs[future] = self.pending[future] = [f for f, _ in group]
        for planned, slot in singles:
            with interrupts.held():
                future = pool.submit(self._put_one, planned, slot)
                jobs[future] = self.pending[future] = [planned]
        return jobs

    def settle(self, jobs: _Jobs) -> None:
        """Wait for ``jobs`` and count each file's outcome, on the calling thread."""
        for future in as_completed(jobs):
            self._count(future)

    def settle_finished(self) -> None:
        """Count the requests that finished (after an interrupt: those cancelled never ran)."""
        for future in list(self.pending):
            if future.done() and not future.cancelled():
                self._count(future)

    def _count(self, future: Future[list[_Outcome]]) -> None:
        """Count the outcomes of a finished request not counted yet, resuming where an
        interrupt (in the progress callback, say) stopped an earlier count of it."""
        files = self.pending.get(future)
        if files is None:  # counted already
            return
        try:
            outcomes = future.result()
        except Exception as error:  # the request failed as a whole: so did each file in it
            outcomes = [error] * len(files)
        while (index := self._counted.get(future, 0)) < len(files):
            with interrupts.held():  # Ctrl-C waits until this file is counted
                self._counted[future] = index + 1
                self._settle_one(files[index], outcomes[index])
        del self.pending[future]
        self._counted.pop(future, None)

    def _put_one(self, planned: PlannedFile, slot: UploadSlot) -> list[_Outcome]:
        size = os.path.getsize(planned.local)
        self.channel.send_file(self.dataset_id, slot, Path(planned.local), planned.content_type)
        return [size]

    def _put_group(
        self, batch: UploadBatch, group: list[tuple[PlannedFile, UploadSlot]]
    ) -> list[_Outcome]:
        """One batch request; a file that cannot be read fails alone and is not sent."""
        outcomes: list[_Outcome] = [0] * len(group)
        readable: list[tuple[int, UploadSlot, PlannedFile, bytes]] = []
        for index, (planned, slot) in enumerate(group):
            try:
                readable.append((index, slot, planned, Path(planned.local).read_bytes()))
            except OSError as error:
                outcomes[index] = error
        if not readable:
            return outcomes
        files = [(slot, data, f.content_type) for _, slot, f, data in readable]
        try:
            answers = self.channel.send_batch(self.dataset_id, batch, files)
            sent: list[_Outcome] = [
                answer.failure() or len(data)
                for answer, (*_, data) in zip(answers, readable, strict=True)
            ]
        except NotFoundError:
            # The batch route's only 404 for a whole request is its dataset, which this run
            # found when it began (by id): deleted since, for good.
            sent = [NotFoundError(_DATASET_DELETED)] * len(readable)
        except PictographError as error:
            sent = [error] * len(readable)
        for (index, *_), outcome in zip(readable, sent, strict=True):
            outcomes[index] = outcome
        return outcomes

    def _settle_one(self, planned: PlannedFile, outcome: _Outcome) -> None:
        if isinstance(outcome, int):
            if planned.path in self._replacing:
                self.replaced.append(planned.path)
            self.uploaded += 1
            self.bytes_uploaded += outcome
            self._tick(planned.filename)
        elif isinstance(outcome, ConflictError):
            self.already_there(planned)  # taken since the pre-flight, by another run
        else:
            self.fail(planned.path, _reason(outcome))

    def already_there(self, planned: PlannedFile) -> None:
        if self.skip_existing:
            self.skipped += 1
            self._tick(planned.filename)
        else:
            where = planned.dataset_path
            self.fail(planned.path, f"conflict: an image already exists at {where} in the dataset")

    def fail(self, path: Path, reason: str) -> None:
        self.failures.append(UploadFailure(path=path, reason=reason))
        self._tick(path.name)

    def _tick(self, filename: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total, filename)


def _changed_since(planned: PlannedFile, existing: ExistingImage) -> bool:
    """True when the local file differs from the image at its name: another size, or the same
    size and another SHA-256 (read only then). A file that cannot be read counts as unchanged
    (its name is there; nothing would be sent)."""
    try:
        size = os.path.getsize(planned.local)
        if existing.file_size is not None and size != existing.file_size:
            return True
        if existing.sha256 is None:
            return False
        with open(planned.local, "rb") as source:
            return hashlib.file_digest(source, "sha256").hexdigest() != existing.sha256
    except OSError:
        return False


def _size_of(planned: PlannedFile) -> int:
    try:
        return os.path.getsize(planned.local)
    except OSError:  # gone since it was sent: its bytes were still transferred, but unknown
        return 0


def _reason(error: BaseException) -> str:
    """A failure reason a person understands, from whatever went wrong with one file."""
    if isinstance(error, PermissionError):
        return "cannot read file: permission denied"
    if isinstance(error, FileNotFoundError):
        return "file disappeared before it could be read"
    if isinstance(error, OSError):
        return f"cannot read file: {error.strerror or error}"
    if isinstance(error, PictographError):  # the error's own words: no status (embedded
        # uploads involve no HTTP, and the words already say what the status would)
        return error.message
    return f"{type(error).__name__}: {error}"


def request_groups(
    items: list[tuple[PlannedFile, UploadSlot]], batch: UploadBatch | None
) -> tuple[list[list[tuple[PlannedFile, UploadSlot]]], list[tuple[PlannedFile, UploadSlot]]]:
    """Split new files into batch requests (small files, within the server's advertised
    limits) and files sent alone (large ones, or every file when there is no batch route)."""
    if batch is None:
        return [], items
    max_files, max_bytes = batch.max_files, batch.max_bytes
    groups: list[list[tuple[PlannedFile, UploadSlot]]] = []
    singles: list[tuple[PlannedFile, UploadSlot]] = []
    current: list[tuple[PlannedFile, UploadSlot]] = []
    used = 0
    for item in items:
        try:
            cost = os.path.getsize(item[0].local) + _PART_OVERHEAD
        except OSError:  # sent alone, so the PUT reports why it cannot be read
            singles.append(item)
            continue
        if cost > min(BATCH_FILE_LIMIT, max_bytes):
            singles.append(item)
            continue
        if current and (len(current) >= max_files or used + cost > max_bytes):
            groups.append(current)
            current, used = [], 0
        current.append(item)
        used += cost
    if current:
        groups.append(current)
    return groups, singles


def _chunks(files: Sequence[PlannedFile], size: int) -> Iterator[Sequence[PlannedFile]]:
    for start in range(0, len(files), size):
        yield files[start : start + size]


class _InlineExecutor(Executor):
    """Runs each task at once on the calling thread: ``parallel=False`` means no pool."""

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        future: Future[_T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # recorded on the future, as a pool would
            future.set_exception(exc)
        return future


def _executor(parallel: bool, workers: int) -> Executor:
    return ThreadPoolExecutor(max_workers=workers) if parallel else _InlineExecutor()
