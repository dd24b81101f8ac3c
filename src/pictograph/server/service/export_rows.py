"""What goes into an export: the dataset's images in bounded pages, with filtered annotations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pictograph.server.service.context import AppContext, row_dict
from pictograph.server.store import tables as t

_I = t.images
#: Rows read per query: memory stays bounded whatever the dataset's size.
PAGE = 500
#: Archive folder of each image split value (``val`` images go to ``valid/``); no split: train.
SPLIT_FOLDERS = {"train": "train", "val": "valid", "test": "test"}


@dataclass(frozen=True)
class Selection:
    """Which images and annotations an export takes."""

    dataset_id: str
    status_filter: str | None
    class_filter: list[str] | None

    def keeps(self, annotation: Any) -> bool:
        if not isinstance(annotation, dict):
            return False
        return self.class_filter is None or annotation.get("name") in self.class_filter


def images(
    store: AppContext, selection: Selection, split_folder: str | None = None
) -> Iterator[dict[str, Any]]:
    """The selected images (not archived), ordered by id, each with its kept ``annotations``.

    With ``split_folder`` only the images of that archive folder (``train`` includes images with
    no split). Reads ``PAGE`` rows per query, keyed on the id, so nothing is held across pages.
    """
    where = [_I.c.dataset_id == selection.dataset_id, _I.c.is_archived == sa.false()]
    if selection.status_filter is not None:
        where.append(_I.c.status == selection.status_filter)
    if split_folder is not None:
        values = [value for value, folder in SPLIT_FOLDERS.items() if folder == split_folder]
        clause = _I.c.split.in_(values)
        where.append(sa.or_(clause, _I.c.split.is_(None)) if split_folder == "train" else clause)
    last = ""
    while True:
        query = sa.select(_I).where(*where, _I.c.id > last).order_by(_I.c.id).limit(PAGE)
        with store.read() as conn:
            rows = [row_dict(row) for row in conn.execute(query)]
        for row in rows:
            row["annotations"] = [a for a in row["annotations"] or [] if selection.keeps(a)]
            yield row
        if len(rows) < PAGE:
            return
        last = rows[-1]["id"]


def relative_path(row: dict[str, Any]) -> str:
    """``dir/sub/name.png`` of an image, without a leading slash."""
    return f"{row['directory_path'].rstrip('/')}/{row['filename']}".lstrip("/")
