"""Uploading to a server whose upload URLs go straight to its bucket (``s3://`` storage): many
presigned PUTs in flight, each bound to the file's SHA-256, and a ``bulk-register`` for each
group of them that arrived, while the next PUTs run.

A small file costs less than the request that carries it, so instead of batching files into one
request through a replica (which would route their bytes through it), many PUTs run at once.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, NamedTuple

from pictograph._upload import interrupts
from pictograph._upload.wire import RegisterItem
from pictograph.errors import ConflictError, PictographError, ValidationError
from pictograph.protocol import dataset_path

if TYPE_CHECKING:
    from pictograph._upload.channel import UploadChannel
    from pictograph._upload.folder_plan import PlannedFile
    from pictograph._upload.wire import UploadSlot
    from pictograph.models import BulkUploadResult
    from pictograph.server.imaging import DecodeBudget

#: PUTs to the bucket in flight per upload worker (``max_workers``; 8 by default, so 32 PUTs at
#: once): a PUT waits on the network and the bucket. On the loopback deployment 8 to 64 in
#: flight upload equally fast (docs/deploying.md); a bucket far away needs many.
PUTS_PER_WORKER = 4
#: Files registered per ``bulk-register`` call, sent as soon as that many PUTs are done; up to
#: ``REGISTERS_IN_FLIGHT`` at once, so replicas check objects while later PUTs run (one register
#: after all of a batch's PUTs left the replicas idle during the PUTs, and the bucket idle after).
REGISTER_GROUP = 100
REGISTERS_IN_FLIGHT = 3


class Checked(NamedTuple):
    """A file checked before sending: its SHA-256 (hex) and the dimensions the check measured
    (registered with it; the server's background check measures them again)."""

    sha256: str
    width: int
    height: int


def digests(files: Sequence[PlannedFile]) -> list[Checked | ValidationError | None]:
    """Each file checked (:class:`Checked`); a ``ValidationError`` for one that is not a whole image
    of its type (the server's own check, ``inspect_image``, run here so that nothing of it is
    sent: a bucket takes any bytes, and the server registers a checksum-bound object without
    reading it); ``None`` for one that cannot be read (its PUT will say why, and it fails
    alone)."""
    found: list[Checked | ValidationError | None] = []
    for planned in files:
        try:
            found.append(_digest(planned))
        except OSError:
            found.append(None)
    return found


@functools.cache
def _budget() -> DecodeBudget:
    """What checking files before sending may decode at once (the server's defaults)."""
    from pictograph.server.imaging import DecodeBudget

    return DecodeBudget()


def _digest(planned: PlannedFile) -> Checked | ValidationError:
    # The server's check, loaded only when a server takes uploads straight to its bucket: the
    # SDK alone never imports the server.
    from pictograph.server.imaging import inspect_image

    with open(planned.local, "rb") as source:
        sha256 = hashlib.file_digest(source, "sha256").hexdigest()
    with open(planned.local, "rb") as source:  # Pillow may close it after a decode
        try:
            info = inspect_image(source, planned.content_type, _budget())
        except ValidationError as error:
            return ValidationError(f"{error.message}; checked before sending, nothing was sent")
    return Checked(sha256, info.width, info.height)


class SendInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`send`, raised once what was in flight has finished: ``errors`` as
    :func:`send` returns them, for the files in ``finished`` (whose outcome the server gave);
    the others were not sent, or sent and never registered (gc removes their objects)."""

    def __init__(self, errors: dict[str, BaseException], finished: set[str]) -> None:
        super().__init__("upload interrupted")
        self.errors, self.finished = errors, finished


def send(
    channel: UploadChannel,
    dataset_id: str,
    items: Sequence[tuple[PlannedFile, UploadSlot]],
    workers: int,
    measured: Mapping[str, Checked] | None = None,
) -> dict[str, BaseException]:
    """PUT each file to its slot, ``workers`` at a time, and register those that arrived with a
    ``bulk-register`` per ``REGISTER_GROUP`` of them, sent while later PUTs still run. Returns
    the error of each file that did not become an image, by its dataset path (a
    ``ConflictError`` when the name was taken meanwhile).

    On Ctrl-C no more PUTs start; the PUTs and registers already running finish, and
    :class:`SendInterrupted` says what became of the files they carried."""
    errors: dict[str, BaseException] = {}
    if not items:
        return errors
    registering: list[tuple[Future[BulkUploadResult], list[PlannedFile]]] = []
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(items))))
    registrar = ThreadPoolExecutor(max_workers=REGISTERS_IN_FLIGHT)
    finished: set[str] = set()
    interrupted = False
    try:
        puts: dict[Future[object], PlannedFile] = {}
        for planned, slot in items:
            with interrupts.held():
                put = pool.submit(
                    channel.put_file,
                    slot.url,
                    planned.local,
                    planned.content_type,
                    headers=slot.upload_headers,
                )
                puts[put] = planned
        arrived: list[PlannedFile] = []
        for future in as_completed(puts):
            planned = puts[future]
            try:
                future.result()
                arrived.append(planned)
            except Exception as error:  # this file alone failed: unreadable, refused, ...
                errors[planned.dataset_path] = error
                finished.add(planned.dataset_path)
            if len(arrived) == REGISTER_GROUP:
                with interrupts.held():  # a register asked for is a register counted
                    job = registrar.submit(_register, channel, dataset_id, arrived, measured)
                    registering.append((job, arrived))
                arrived = []
        if arrived:
            with interrupts.held():
                job = registrar.submit(_register, channel, dataset_id, arrived, measured)
                registering.append((job, arrived))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        registrar.shutdown(wait=True)  # registers already asked for land: count them
    for registered, group in registering:
        finished |= {planned.dataset_path for planned in group}
        try:
            result = registered.result()
        except PictographError as error:
            errors |= {planned.dataset_path: error for planned in group}
            continue
        for failure in result.failed:
            where = dataset_path(failure.directory_path, failure.filename)
            # bulk-register names each refusal only in words; a taken name is counted apart.
            taken = "already exists" in failure.error.lower()
            errors[where] = (
                ConflictError(failure.error) if taken else ValidationError(failure.error)
            )
    if interrupted:
        raise SendInterrupted(errors, finished)
    return errors


def _register(
    channel: UploadChannel,
    dataset_id: str,
    group: Sequence[PlannedFile],
    measured: Mapping[str, Checked] | None,
) -> BulkUploadResult:
    """Register ``group``, with the dimensions measured before sending where there are some."""
    measured = measured or {}
    items: list[RegisterItem | tuple[str, str, str]] = []
    for f in group:
        checked = measured.get(f.dataset_path)
        if checked is None:
            items.append((f.filename, f.directory_path, f.content_type))
        else:
            items.append(
                RegisterItem(
                    filename=f.filename,
                    directory_path=f.directory_path,
                    content_type=f.content_type,
                    file_size=os.path.getsize(f.local),
                    width=checked.width,
                    height=checked.height,
                )
            )
    return channel.register_many(dataset_id, items)
