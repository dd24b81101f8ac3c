"""Which rows keep a blob, and releasing the blobs of rows just removed.

An image's blob may also be named by the rows of dataset versions (``version_images``): a
version freezes images without copying their bytes. So removing an image row must not remove
its blob while another row still names it; ``gc`` keeps every blob named by any of these
tables, and ``release`` deletes at once only the blobs nothing names any more.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from pictograph.server.service.context import AppContext
from pictograph.server.store import tables as t

#: The tables whose rows keep a blob: every one with a ``blob_key`` column.
REFERRERS = tuple(
    table
    for table in t.metadata.sorted_tables
    if "blob_key" in table.c and table is not t.blob_intents
)
_CHUNK = 500


def release(store: AppContext, keys: Iterable[str]) -> None:
    """Delete the blobs of rows just removed (after their transaction committed), except those
    a row of any table still names (a dataset version's image, typically)."""
    wanted = list(dict.fromkeys(keys))
    named: set[str] = set()
    with store.read() as conn:
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            queries = [sa.select(table.c.blob_key).where(table.c.blob_key.in_(chunk))
                       for table in REFERRERS]  # fmt: skip
            named.update(conn.scalars(sa.union_all(*queries)))
    for key in wanted:
        if key not in named:
            store.blobs.delete(key)
