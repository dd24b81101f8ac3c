"""A small visual fingerprint per image for ``search/similar``: a 64-bit difference hash (shape)
and a 4x4 RGB thumbnail (colour), compared by Hamming and mean absolute distance.

Made when an image is stored, off the upload's request: registration tells the app's
``DescriptorWorker`` the new images' ids, and the worker describes them one at a time in the
background (at start it also describes every image still without one, e.g. stored before
this existed). An image registered from the bucket unchecked is checked whole first, on the
same read (``bucket_check``). Kept in ``image_descriptors``. A search reads them; one still
missing is computed through the same path (``AppContext.work``: one decode per image in
flight, bounded overall and per organisation), so a search and the worker never decode the
same image twice.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.dialects import postgresql, sqlite

from pictograph.server.imaging import DecodeBudget, prepare_decoders
from pictograph.server.service import bucket_check
from pictograph.server.service.context import AppContext
from pictograph.server.service.workload import ClientGone, Wanted, always
from pictograph.server.store import tables as t
from pictograph.server.tiff_pages import encoded_preview, is_tiff

log = logging.getLogger("pictograph.descriptors")
_D = t.image_descriptors
_I = t.images
_HASH_HEX = 16
#: Images with both sides at least twice this are reduced to about this size before describing.
_REDUCED = 512
_PAGE = 500
#: Seconds without a newly stored image before the worker decodes: it keeps out of an upload's
#: way (the upload's CPU), and describes the burst after it.
QUIET = 1.0

_counted = threading.Lock()
_computed = 0


def computed() -> int:
    """How many descriptors this process has computed (decoded an image for) so far."""
    return _computed


def describe(source: Any, budget: DecodeBudget) -> str:
    """The descriptor of the image file ``source`` (a path or an open binary file): 16 hex digits
    of dHash + 96 of colour. The decode waits for room in ``budget``, as every decode does; a
    large image is reduced (box averages) to at least ``_REDUCED`` pixels a side before any copy
    is made, so the decode's pixels are the only full-size ones, and are dropped before the
    budget's room is given back."""
    prepare_decoders()
    try:
        return _described(source, budget)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        path = isinstance(source, str | os.PathLike)
        with open(source, "rb") if path else nullcontext(source) as f:
            if not is_tiff(f):
                raise
            return _described(encoded_preview(f, budget), budget)


def _described(source: Any, budget: DecodeBudget) -> str:
    with Image.open(source) as image:
        image.draft("RGB", (64, 64))  # JPEG decodes at a fraction of its size: much faster
        with budget.reserve(image):
            image.load()
            factor = min(image.size) // _REDUCED
            reduced = image.reduce(factor) if factor > 1 and image.mode not in ("1", "P") else image
            rgb = ImageOps.exif_transpose(reduced).convert("RGB")
            del reduced
            image.close()
    grey = rgb.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    colour = rgb.resize((4, 4), Image.Resampling.BOX).tobytes()
    pixels = list(grey.getdata())
    bits = 0
    for row in range(8):
        for column in range(8):
            left, right = pixels[row * 9 + column], pixels[row * 9 + column + 1]
            bits = (bits << 1) | (1 if left > right else 0)
    return f"{bits:016x}{colour.hex()}"


def similarity(a: str, b: str) -> float:
    """How alike two descriptors are, in [0, 1] (1: the same picture)."""
    shape = 1 - bin(int(a[:_HASH_HEX], 16) ^ int(b[:_HASH_HEX], 16)).count("1") / 64
    ca, cb = bytes.fromhex(a[_HASH_HEX:]), bytes.fromhex(b[_HASH_HEX:])
    colour = 1 - sum(abs(x - y) for x, y in zip(ca, cb, strict=True)) / (255 * len(ca))
    return min(1.0, max(0.0, 0.5 * shape + 0.5 * colour))


def descriptors(
    store: AppContext,
    rows: Iterable[dict[str, Any]],
    *,
    organization: str | None = None,
    wanted: Wanted = always,
) -> dict[str, str]:
    """Image id -> descriptor for ``rows`` (each with ``id``, ``sha256`` and ``blob_key``): the
    stored ones, and the missing ones computed (and stored) one image at a time through
    ``store.work``. An image whose bytes cannot be read is left out. ``ClientGone`` as soon as
    ``wanted()`` is false between images: nothing more is started for a client that left."""
    wanted_rows = {row["id"]: row for row in rows}
    found = stored(store, list(wanted_rows))
    by_content: dict[str, list[dict[str, Any]]] = {}
    for image_id, row in wanted_rows.items():
        if image_id not in found:
            by_content.setdefault(row["sha256"], []).append(row)
    for sha256, same in by_content.items():
        if not wanted():
            raise ClientGone("the client disconnected")
        ids = [row["id"] for row in same]
        made = store.work.run(
            f"descriptor:{sha256}",
            functools.partial(_make, store, ids, same[0]["blob_key"]),
            organization=organization,
            wanted=wanted,
        )
        if made is not None:  # computed here, or by another caller for its own image ids
            found |= dict.fromkeys(ids, made)
            _keep(store, dict.fromkeys(ids, made))
    return found


def stored(store: AppContext, ids: Sequence[str]) -> dict[str, str]:
    """Image id -> stored descriptor, for those of ``ids`` that have one."""
    found: dict[str, str] = {}
    with store.read() as conn:
        for start in range(0, len(ids), _PAGE):
            query = sa.select(_D).where(_D.c.image_id.in_(ids[start : start + _PAGE]))
            found |= {row.image_id: row.descriptor for row in conn.execute(query)}
    return found


def _make(store: AppContext, ids: list[str], blob_key: str) -> str | None:
    """The descriptor of the bytes at ``blob_key``, stored for the images ``ids``: read back when
    one of them got it meanwhile (from the worker or an earlier search), else decoded. None when
    the bytes are missing or undecodable."""
    already = stored(store, ids)
    if already and not bucket_check.awaiting(store, ids):
        return next(iter(already.values()))
    try:
        with store.blobs.open(blob_key) as source:
            if not bucket_check.vet(store, ids, source):
                return None  # quarantined: not a whole image, so no descriptor either
            source.seek(0)
            made = describe(source, store.decoding)
    except Exception as error:  # missing or undecodable bytes: no descriptor, no match
        # One line, no traceback: an image deleted meanwhile is routine, not a crash.
        log.info("no descriptor for blob %s: %s", blob_key, error)
        return None
    global _computed
    with _counted:
        _computed += 1
    _keep(store, dict.fromkeys(ids, made))
    return made


def _keep(store: AppContext, made: dict[str, str]) -> None:
    """Store ``made`` (image id -> descriptor); rows already there, or of images deleted
    meanwhile, are left alone."""
    rows = [{"image_id": image_id, "descriptor": value} for image_id, value in made.items()]
    dialect = postgresql if store.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_D).on_conflict_do_nothing(index_elements=[_D.c.image_id])
    try:
        with store.write() as conn:
            conn.execute(statement, rows)
    except sa.exc.IntegrityError:  # an image deleted meanwhile (its row is gone): keep the rest
        for row in rows:
            try:
                with store.write() as conn:
                    conn.execute(statement, [row])
            except sa.exc.IntegrityError:
                continue


class DescriptorWorker:
    """Describes stored images on a thread of the serving process, one at a time: those that
    registration reports (``noticed``), and, once per process, every image still without a
    descriptor. The thread exits when nothing is left and starts again on the next report."""

    def __init__(self, store: AppContext) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._noticed: deque[str] = deque()
        self._last_notice = time.monotonic()
        self._after: str | None = ""  # catch-up cursor (image id); None once done
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start describing (the catch-up pass first)."""
        with self._lock:
            self._start_locked()

    def noticed(self, image_ids: Iterable[str]) -> None:
        """Images just stored: describe them soon. Cheap (the upload's request waits for it)."""
        with self._lock:
            self._noticed.extend(image_ids)
            self._last_notice = time.monotonic()
            self._start_locked()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the image in hand."""
        self._stopping.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def busy(self) -> bool:
        """Whether the thread is running (it exits when nothing is left to describe)."""
        with self._lock:
            return self._thread is not None

    def _start_locked(self) -> None:
        if self._stopping.is_set() or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="descriptors", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                pause = self._last_notice + QUIET - time.monotonic()
            if pause > 0:
                self._stopping.wait(pause)
                continue
            try:
                rows = self._next()
            except Exception:  # e.g. the store closed under a test: stop, retry on a report
                log.exception("descriptor worker error")
                rows = None
            if rows is None:
                with self._lock:
                    if not self._noticed or self._stopping.is_set():
                        self._thread = None
                        return
                continue
            for row in rows:
                if self._stopping.is_set():
                    break
                make = functools.partial(_make, self._store, [row["id"]], row["blob_key"])
                try:
                    self._store.work.run(f"descriptor:{row['sha256']}", make)
                except Exception:
                    log.exception("describing image %s failed", row["id"])
        with self._lock:
            self._thread = None

    def _next(self) -> list[dict[str, Any]] | None:
        """The next images to describe (those lacking a descriptor); None when none are left."""
        with self._lock:
            ids = [self._noticed.popleft() for _ in range(min(len(self._noticed), _PAGE))]
            after = self._after
        query = (
            sa.select(_I.c.id, _I.c.sha256, _I.c.blob_key, _I.c.unchecked, _D.c.image_id)
            .select_from(_I.outerjoin(_D, _D.c.image_id == _I.c.id))
            .order_by(_I.c.id)
        )
        if ids:
            query = query.where(_I.c.id.in_(ids))
        elif after is not None:
            query = query.where(_I.c.id > after).limit(_PAGE)
        else:
            return None
        with self._store.read() as conn:
            page = conn.execute(query).all()
        if not ids:
            with self._lock:
                self._after = page[-1].id if page else None
        return [
            {"id": row.id, "sha256": row.sha256, "blob_key": row.blob_key}
            for row in page
            if row.image_id is None or row.unchecked
        ]
