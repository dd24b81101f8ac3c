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
