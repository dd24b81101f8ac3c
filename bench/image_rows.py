"""Image rows written straight into a store in bulk, ``chunk`` a transaction: how the
benchmarks seed datasets of tens of thousands of images in seconds."""

from __future__ import annotations

from typing import Any

from pictograph.server.service.context import AppContext
from pictograph.server.store import tables as t


class ImageRows:
    """Collects image rows and inserts them ``chunk`` at a time; ``flush`` writes the rest."""

    def __init__(self, store: AppContext, chunk: int = 1000) -> None:
        self.store = store
        self.chunk = chunk
        self._rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        if len(self._rows) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            with self.store.write() as conn:
                conn.execute(t.images.insert(), self._rows)
            self._rows = []
