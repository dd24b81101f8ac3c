"""The structural check of a JPEG, run by ``server/imaging.py`` on every upload (and by our SDK,
through it, on a file before sending it straight to a bucket).

Structure instead of pixels: the segments must chain from SOI to the first scan, the scan may
hold no reserved marker, and an end-of-image marker must follow it, so a truncated or cut file is
refused without decoding the scan (which cost 3-10x the rest of an upload's CPU). Pure Python on
bytes: no image library, no server import.
"""

from __future__ import annotations

import re

#: The two bytes every JPEG starts with (start of image).
JPEG_SOI = b"\xff\xd8"
#: After a scan starts, the first 0xFF followed by one of these ends the check: 0xD9 is the
#: end-of-image marker (it cannot occur inside a scan); the others are reserved markers that
#: may never occur inside entropy-coded data. One pass finds whichever comes first.
_SCAN_END_OR_BAD_MARKER = re.compile(rb"\xff[\x01-\xbf\xd9]")


class JpegStructureError(ValueError):
    """The bytes are not a whole JPEG; the message says what is wrong."""


def check_jpeg_structure(data: bytes) -> None:
    """``JpegStructureError`` unless ``data`` is a JPEG whose segments chain from SOI to its first
    scan (SOS), whose scan holds no reserved marker, and which has an EOI marker after it."""
    if not data.startswith(JPEG_SOI):
        raise JpegStructureError("not a JPEG: no start-of-image marker")
    offset = 2
    while True:
        if offset + 4 > len(data) or data[offset] != 0xFF:
            raise JpegStructureError("JPEG segments do not chain to a scan (truncated or corrupt)")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte before a marker
            offset += 1
            continue
        length = int.from_bytes(data[offset + 2 : offset + 4], "big")
        if length < 2:
            raise JpegStructureError("JPEG segment with a bad length")
        offset += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
    found = _SCAN_END_OR_BAD_MARKER.search(data, offset)
    if found is None:
        raise JpegStructureError("JPEG has no end-of-image marker after its scan (truncated)")
    if data[found.start() + 1] != 0xD9:
        raise JpegStructureError("JPEG scan data holds an invalid marker")


#: The second bytes of a marker that ends the scan check (see ``_SCAN_END_OR_BAD_MARKER``).
_SCAN_END_OR_BAD = frozenset({*range(0x01, 0xC0), 0xD9})


class JpegStructureWalk:
    """``check_jpeg_structure`` fed chunk by chunk, keeping a few bytes instead of the file.

    ``feed`` each chunk in order, then ``finish`` raises the ``JpegStructureError`` (same
    message) ``check_jpeg_structure`` raises for the whole bytes, or returns. ``scan_at`` is the
    offset where the first scan's entropy-coded data starts once the segments reached it (the
    header before it is what an image library reads to learn the size); ``error`` is set as soon
    as the verdict is a refusal, ``done`` as soon as the verdict is known.
    """

    def __init__(self) -> None:
        self._fed = 0  # bytes fed so far
        self._next = 0  # offset of the next segment (0: the start-of-image marker)
        self._pending = bytearray()  # bytes from ``_next`` on, while fewer than 4 have arrived
        self._after_ff = False  # the scan's last byte fed is 0xFF
        self.scan_at: int | None = None
        self.error: JpegStructureError | None = None
        self.done = False

    def feed(self, chunk: bytes) -> None:
        start = self._fed
        self._fed += len(chunk)
        if self.done or not chunk:
            return
        if self.scan_at is None:
            if self._fed <= self._next:
                return  # inside a segment's payload
            self._pending += chunk[max(0, self._next - start) :]
            self._segments()
            if self.scan_at is None or self.done:
                return
            start_in_chunk = max(0, self.scan_at - start)
            if start_in_chunk >= len(chunk):
                return
            self._scan(chunk, start_in_chunk)
        elif self._fed > self.scan_at:
            self._scan(chunk, max(0, self.scan_at - start))

    def _segments(self) -> None:
        """Walk the segments in ``_pending`` (which starts at ``_next``) as far as they go."""
        data = self._pending
        if self._next == 0:
            if len(data) < 2:
                return
            if bytes(data[:2]) != JPEG_SOI:
                self._fail("not a JPEG: no start-of-image marker")
                return
            self._next = 2
            del data[:2]
        while len(data) >= 4:
            if data[0] != 0xFF:
                self._fail("JPEG segments do not chain to a scan (truncated or corrupt)")
                return
            marker = data[1]
            if marker == 0xFF:  # fill byte before a marker
                self._next += 1
                del data[:1]
                continue
            length = int.from_bytes(data[2:4], "big")
            if length < 2:
                self._fail("JPEG segment with a bad length")
                return
            self._next += 2 + length
            del data[: 2 + length]
            if marker == 0xDA:  # start of scan: entropy-coded data follows
                self.scan_at = self._next
                data.clear()
                return

    def _scan(self, chunk: bytes, begin: int) -> None:
        """Look for the first 0xFF + (end of image or reserved marker) from ``chunk[begin:]``."""
        if self._after_ff and begin == 0 and chunk[0] in _SCAN_END_OR_BAD:
            self._ends(chunk[0])
            return
        found = _SCAN_END_OR_BAD_MARKER.search(chunk, begin)
        if found is not None:
            self._ends(chunk[found.start() + 1])
            return
        self._after_ff = chunk[-1] == 0xFF

    def _ends(self, marker: int) -> None:
        self.done = True
        if marker != 0xD9:
            self.error = JpegStructureError("JPEG scan data holds an invalid marker")

    def _fail(self, message: str) -> None:
        self.done = True
        self.error = JpegStructureError(message)

    def finish(self) -> None:
        """``JpegStructureError`` unless the bytes fed are a whole JPEG."""
        if self.error is not None:
            raise self.error
        if self.done:
            return
        if self._next == 0:
            raise JpegStructureError("not a JPEG: no start-of-image marker")
        if self.scan_at is None:
            raise JpegStructureError("JPEG segments do not chain to a scan (truncated or corrupt)")
        raise JpegStructureError("JPEG has no end-of-image marker after its scan (truncated)")
