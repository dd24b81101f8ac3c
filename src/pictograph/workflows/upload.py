"""``upload_dataset_from_folder``: walk a local folder and upload every image to a dataset.

The upload runs in batches. For each batch one request asks the server for signed upload URLs and
learns which names are already there (those are skipped without sending a byte); new files then go
through a thread pool, small ones several per request to the server's batch route, large ones in a
PUT each, and each of those requests registers its images. Embedded and served clients take this
same path (embedded, the requests go to the app in this process). A server with ``s3://`` storage
answers with presigned URLs straight to its bucket instead: the files' SHA-256 are sent with the
question so the URLs are bound to the bytes, many PUTs run at once, and one ``bulk-register`` per
batch follows (``direct_upload``). Every per-file problem becomes an :class:`UploadFailure`;
nothing is raised because of one file.
The progress callback always runs on the calling thread, once per file.
"""

from __future__ import annotations

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

from pictograph.errors import (
    ConflictError,
    NotFoundError,
    PictographError,
    ValidationError,
)
from pictograph.protocol import MAX_BULK_IMAGES, names_digest
from pictograph.workflows import direct_upload
from pictograph.workflows.folder_plan import FolderPlan, PlannedFile, plan_folder

if TYPE_CHECKING:
    from pictograph.client import Client
    from pictograph.models import Dataset
    from pictograph.resources.images import UploadBatch, UploadPlan, UploadSlot

_T = TypeVar("_T")
__all__ = [
    "BATCH_FILE_LIMIT",
    "ProgressCallback",
    "UploadFailure",
    "UploadReport",
    "request_groups",
    "upload_dataset_from_folder",
    "upload_folder",
]

ProgressCallback = Callable[[int, int, "str | None"], None]
#: What became of one file a request carried: the bytes it sent, or why it failed.
_Outcome = int | BaseException
#: Requests submitted to the pool, each with the files it carries.
_Jobs = dict[Future[list[_Outcome]], list[PlannedFile]]

#: Caps on one batch request to a server (within the limits it advertises): files, bytes.
_BATCH_FILES = 32
_BATCH_BYTES = 4 * 1024 * 1024
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

    @property
    def success(self) -> bool:
        """True only when nothing failed and at least one file was uploaded."""
        return not self.failures and self.images_uploaded > 0


def upload_dataset_from_folder(
    client: Client,
    dataset_name: str,
    folder: str | Path,
    *,
    organize_by_class: bool = True,
    parallel: bool = True,
    max_workers: int = 8,
    skip_existing: bool = True,
    create_if_missing: bool = True,
    progress: Callable[[int, int, str | None], None] | None = None,
) -> UploadReport:
    """Upload every image under ``folder`` to the dataset ``dataset_name``.

    First-level subfolders become virtual folders when ``organize_by_class`` (deeper ones
    collapse into them); otherwise every file lands at the root. Files whose name is already in
    the dataset are skipped (``skip_existing``) or recorded as failures.

    Raises ``FileNotFoundError`` when ``folder`` is missing or not a directory, and
    ``NotFoundError`` when the dataset is missing and ``create_if_missing`` is False.
    """
    return upload_folder(
        client,
        dataset_name,
        folder,
        organize_by_class=organize_by_class,
        preserve_structure=False,
        parallel=parallel,
        max_workers=max_workers,
        skip_existing=skip_existing,
        create_if_missing=create_if_missing,
        progress=progress,
    )


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
) -> UploadReport:
    """The upload engine behind :func:`upload_dataset_from_folder` and
    ``client.images.upload_from_directory``: every option explicit, ``preserve_structure`` too
    (the whole folder tree kept as virtual folders, which the specification's workflow does not
    offer). ``folder`` may be a plan already made with the same options (a caller that showed
    it first need not walk the folder twice)."""
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    plan = (
        folder
        if isinstance(folder, FolderPlan)
        else plan_folder(
            folder, organize_by_class=organize_by_class, preserve_structure=preserve_structure
        )
    )
    dataset = _resolve_dataset(client, dataset_name, create_if_missing=create_if_missing)
    run = _Run(client, dataset, plan.total, skip_existing, progress)
    run.put_workers = direct_upload.PUTS_PER_WORKER * max_workers if parallel else 1
    for problem in plan.problems:
        run.fail(problem.path, problem.reason)
    workers = max_workers if parallel else 1
    if client.mode == "embedded":
        # The in-process server does the work on this machine's cores, half of each file's
        # time waiting on fsync: two threads a core keep them busy, more only queue on the
        # interpreter lock (make bench, 2 cores: 4 threads 15% faster than 2, 8 no faster).
        workers = min(workers, 2 * (os.cpu_count() or 1))
    files = plan.files
    if skip_existing and files and run.all_there(files):
        for planned in files:
            run.already_there(planned)
        files = []
    with _executor(parallel, workers) as pool:
        waiting: _Jobs = {}
        for batch in _chunks(files, MAX_BULK_IMAGES):
            # This batch's pre-flight runs while the previous batch's files are still sending.
            submitted = run.upload_batch(batch, pool)
            run.settle(waiting)
            waiting = submitted
        run.settle(waiting)
    return run.report(dataset_name)


def _resolve_dataset(client: Client, name: str, *, create_if_missing: bool) -> Dataset:
    try:
        return client.datasets.get(name)
    except NotFoundError:
        if not create_if_missing:
            raise
    try:
        return client.datasets.create(name)
    except ConflictError:  # created by a concurrent run between our get and create
        return client.datasets.get(name)


class _Run:
    """The state of one folder upload: outcomes so far, reported on the calling thread."""

    def __init__(
        self,
        client: Client,
        dataset: Dataset,
        total: int,
        skip_existing: bool,
        progress: ProgressCallback | None,
    ) -> None:
        self.images = client.images
        #: The server's upload URLs go straight to its bucket (learnt from its first answer).
        self.direct = False
        self.put_workers = direct_upload.PUTS_PER_WORKER
        self.dataset_id = dataset.id
        self.total = total
        self.skip_existing = skip_existing
        self.progress = progress
        self.done = 0
        self.uploaded = 0
        self.bytes_uploaded = 0
        self.skipped = 0
        self.failures: list[UploadFailure] = []

    def report(self, dataset_name: str) -> UploadReport:
        return UploadReport(
            dataset_name=dataset_name,
            images_attempted=self.total,
            images_uploaded=self.uploaded,
            bytes_uploaded=self.bytes_uploaded,
            images_skipped=self.skipped,
            failures=self.failures,
        )

    def all_there(self, files: Sequence[PlannedFile]) -> bool:
        """True when the dataset holds exactly these files' names, asked in one request (our
        extension): a re-run of an unchanged folder then needs no pre-flight per batch."""
        try:
            count, digest = self.images.names_digest(self.dataset_id)
        except PictographError:  # a server without the extension: pre-flight every batch
            return False
        places = ((f.directory_path, f.filename) for f in files)
        return count == len(files) and digest == names_digest(places)

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
        plan = self.images.plan_uploads(
            self.dataset_id, items, register_on_upload=True, sha256=sha256
        )
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
                sha256.append(found)
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
        for planned, slot in zip(batch, plan.slots, strict=True):
            if slot.existing is None:
                to_send.append((planned, slot))
            else:
                self.already_there(planned)
        if plan.direct:
            failed = direct_upload.send(self.images, self.dataset_id, to_send, self.put_workers)
            for planned, _ in to_send:
                self._settle_one(planned, failed.get(planned.dataset_path) or _size_of(planned))
            return {}
        return self._send(to_send, plan.batch, pool)

    def _send(
        self, items: list[tuple[PlannedFile, UploadSlot]], batch: UploadBatch | None, pool: Executor
    ) -> _Jobs:
        """Small files go several per request when the server offers it; the rest one PUT each."""
        groups, singles = request_groups(items, batch)
        jobs: _Jobs = {}
        for group in groups:
            assert batch is not None
            jobs[pool.submit(self._put_group, batch, group)] = [f for f, _ in group]
        for planned, slot in singles:
            jobs[pool.submit(self._put_one, planned, slot)] = [planned]
        return jobs

    def settle(self, jobs: _Jobs) -> None:
        """Wait for ``jobs`` and count each file's outcome, on the calling thread."""
        for future in as_completed(jobs):
            files = jobs[future]
            try:
                outcomes = future.result()
            except Exception as error:  # the request failed as a whole: so did each file in it
                outcomes = [error] * len(files)
            for planned, outcome in zip(files, outcomes, strict=True):
                self._settle_one(planned, outcome)

    def _put_one(self, planned: PlannedFile, slot: UploadSlot) -> list[_Outcome]:
        size = os.path.getsize(planned.local)
        self.images.put_file(slot.url, planned.local, planned.content_type)
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
        files = [(slot, f.filename, data, f.content_type) for _, slot, f, data in readable]
        try:
            answers = self.images.put_batch(batch, files)
            sent: list[_Outcome] = [
                answer.failure() or len(data)
                for answer, (*_, data) in zip(answers, readable, strict=True)
            ]
        except PictographError as error:
            sent = [error] * len(readable)
        for (index, *_), outcome in zip(readable, sent, strict=True):
            outcomes[index] = outcome
        return outcomes

    def _settle_one(self, planned: PlannedFile, outcome: _Outcome) -> None:
        if isinstance(outcome, int):
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
    max_files = min(batch.max_files, _BATCH_FILES)
    max_bytes = min(batch.max_bytes, _BATCH_BYTES)
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
