"""What goes into an export: the images of a dataset (or of one of its versions) in bounded
pages, in path order, with filtered annotations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pictograph.server.service.context import AppContext, row_dict
from pictograph.server.store import tables as t

_I = t.images
_VI = t.version_images
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
    #: Export this version's frozen rows instead of the live images.
    version_id: str | None = None

    def keeps(self, annotation: Any) -> bool:
        if not isinstance(annotation, dict):
            return False
        return self.class_filter is None or annotation.get("name") in self.class_filter


def images(
    store: AppContext, selection: Selection, split_folder: str | None = None
) -> Iterator[dict[str, Any]]:
    """The selected images (not archived), ordered by folder then name, each with its kept
    ``annotations``; a version's rows when the selection names one (their ``id`` is the image id
    they were frozen from).

    With ``split_folder`` only the images of that archive folder (``train`` includes images with
    no split). Reads ``PAGE`` rows per query, keyed on (folder, name), so nothing is held across
    pages and the order (the order of the archive's members) is the same on every run.
    """
    if selection.version_id is None:
        table, columns = _I, list[sa.ColumnElement[Any]](_I.c)
        where = [_I.c.dataset_id == selection.dataset_id, _I.c.is_archived == sa.false()]
    else:
        table = _VI
        columns = [_VI.c.image_id.label("id"), *(c for c in _VI.c if c.name != "image_id")]
        where = [_VI.c.version_id == selection.version_id]
    if selection.status_filter is not None:
        where.append(table.c.status == selection.status_filter)
    if split_folder is not None:
        values = [value for value, folder in SPLIT_FOLDERS.items() if folder == split_folder]
        clause = table.c.split.in_(values)
        where.append(sa.or_(clause, table.c.split.is_(None)) if split_folder == "train" else clause)
    place = sa.tuple_(table.c.directory_path, table.c.filename)
    order = (table.c.directory_path, table.c.filename)
    last: tuple[str, str] | None = None
    while True:
        after = [] if last is None else [place > sa.tuple_(*map(sa.literal, last))]
        query = sa.select(*columns).where(*where, *after).order_by(*order).limit(PAGE)
        with store.read() as conn:
            rows = [row_dict(row) for row in conn.execute(query)]
        for row in rows:
            row["annotations"] = [a for a in row["annotations"] or [] if selection.keeps(a)]
            yield row
        if len(rows) < PAGE:
            return
        last = (rows[-1]["directory_path"], rows[-1]["filename"])


def relative_path(row: dict[str, Any]) -> str:
    """``dir/sub/name.png`` of an image, without a leading slash."""
    return f"{row['directory_path'].rstrip('/')}/{row['filename']}".lstrip("/")
