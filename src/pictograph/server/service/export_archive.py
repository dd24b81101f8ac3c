"""A ZIP being written to a temporary file, one member at a time, image bytes streamed in."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from pictograph.errors import NotFoundError
from pictograph.server.service.context import AppContext

_COPY_CHUNK = 1024 * 1024
#: Every member's timestamp: the same archive from the same rows is the same bytes (a version's
#: export is reproducible), whenever and wherever it is built.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _info(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.create_system = 3  # Unix, whatever the host: the attributes below are Unix modes
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


class Archive:
    """Members go straight to disk; only the member being written is ever in hand."""

    def __init__(self, path: Path, store: AppContext) -> None:
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._store = store
        #: Images whose bytes vanished (deleted permanently) while the export was built.
        self.missing: list[str] = []

    def json(self, name: str, value: Any) -> None:
        self._zip.writestr(_info(name, zipfile.ZIP_DEFLATED), json.dumps(value, indent=1))

    def text(self, name: str, value: str) -> None:
        self._zip.writestr(_info(name, zipfile.ZIP_DEFLATED), value)

    @contextmanager
    def stream(self, name: str) -> Iterator[IO[str]]:
        """A text stream writing the member ``name`` as it goes (for large JSON documents)."""
        with self._zip.open(_info(name, zipfile.ZIP_DEFLATED), "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
            try:
                yield text
            finally:
                text.flush()
                text.detach()

    def image(self, name: str, blob_key: str) -> bool:
        """Copy a stored image in (not recompressed); False when its bytes are gone."""
        try:
            source = self._store.blobs.open(blob_key)
        except NotFoundError:
            self.missing.append(name)
            return False
        with source, self._zip.open(_info(name, zipfile.ZIP_STORED), "w", force_zip64=True) as out:
            shutil.copyfileobj(source, out, _COPY_CHUNK)
        return True

    def images_of(self, spool: Spool, prefix: str) -> None:
        """Copy in every image ``spool.image`` recorded, as ``prefix + path``."""
        for line in spool.lines():
            path, key = json.loads(line)
            self.image(prefix + path, key)

    def close(self) -> None:
        self._zip.close()


class Spool:
    """Lines kept in a temporary file until they can be copied into a member (bounded memory)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115

    def write(self, line: str) -> None:
        self._file.write(line + "\n")

    def image(self, path: str, blob_key: str) -> None:
        """Record an image to copy in once the member being written is done."""
        self.write(json.dumps([path, blob_key]))

    def lines(self) -> Iterator[str]:
        self._file.seek(0)
        for line in self._file:
            yield line.rstrip("\n")

    def close(self) -> None:
        self._file.close()
