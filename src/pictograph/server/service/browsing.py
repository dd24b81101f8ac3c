"""Browsing a dataset as the gallery does: a view (folder, search, filters, sort) of its images,
a page of it, an image's neighbours in it, and the summaries the datasets page shows.

Every query is scoped to the organisation and reads only what the page shows (LIMIT/OFFSET,
counts and neighbours in SQL), so a dataset of any size opens as fast as a small one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, get_args

import sqlalchemy as sa

from pictograph.models import ImageSplit, ImageStatus
from pictograph.server.service.context import AppContext, Links, Page, clamp
from pictograph.server.service.datasets import resolve
from pictograph.server.service.paths import canonical_uuid, is_uuid, normalize_directory
from pictograph.server.service.views import to_image
from pictograph.server.store import tables as t

_I = t.images

#: The orders a view can take: name -> (column, descending) keys, ``id`` last so it is total.
SORTS: dict[str, tuple[tuple[sa.Column[Any], bool], ...]] = {
    "newest": ((_I.c.created_at, True), (_I.c.id, True)),
    "oldest": ((_I.c.created_at, False), (_I.c.id, False)),
    "name": ((_I.c.filename, False), (_I.c.directory_path, False), (_I.c.id, False)),
    "largest": ((_I.c.file_size, True), (_I.c.id, True)),
    "smallest": ((_I.c.file_size, False), (_I.c.id, False)),
}
DEFAULT_SORT = "newest"


@dataclass(frozen=True)
class ImageView:
    """Which of a dataset's images a page shows, in which order.

    ``folder`` None means every folder; with a folder, ``subfolders`` adds what is below it.
    ``search`` matches part of the filename, case-insensitively. ``has_class`` keeps images
    with at least one annotation of that class, ``lacks_class`` those without any. Unknown sorts
    fall back to newest first. ``overlays`` changes no row: the gallery draws labels over the
    thumbnails.
    """

    folder: str | None = None
    subfolders: bool = False
    search: str = ""
    tag: str | None = None
    status: str | None = None
    split: str | None = None
    has_class: str | None = None
    lacks_class: str | None = None
    sort: str = DEFAULT_SORT
    overlays: bool = False

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = [_I.c.is_archived == sa.false()]
        if self.folder is not None:
            folder = normalize_directory(self.folder)
            if not self.subfolders:
                found.append(_I.c.directory_path == folder)
            elif folder != "/":
                below = _I.c.directory_path.like(_escaped(folder) + "/%", escape="\\")
                found.append(sa.or_(_I.c.directory_path == folder, below))
        if self.search.strip():
            pattern = f"%{_escaped(self.search.strip().lower())}%"
            found.append(sa.func.lower(_I.c.filename).like(pattern, escape="\\"))
        if self.tag:
            # Tags are a JSON list; its text holds each tag as a JSON string ("cat"), the same
            # on SQLite and PostgreSQL, so one LIKE finds it without a per-engine JSON operator.
            needle = f"%{_escaped(json.dumps(self.tag))}%"
            found.append(sa.cast(_I.c.tags, sa.Text).like(needle, escape="\\"))
        if self.status:
            found.append(_I.c.status == self.status)
        if self.split:
            found.append(_I.c.split == self.split)
        if self.has_class:
            found.append(class_clause(self.has_class, present=True))
        if self.lacks_class:
            found.append(class_clause(self.lacks_class, present=False))
        return found

    def order(self) -> list[sa.ColumnElement[Any]]:
        return [column.desc() if desc else column.asc() for column, desc in self._keys()]

    def _keys(self) -> tuple[tuple[sa.Column[Any], bool], ...]:
        return SORTS.get(self.sort, SORTS[DEFAULT_SORT])


@dataclass(frozen=True)
class Neighbours:
    """An image's place in a view: its 0-based position, the total, and the ids either side."""

    position: int
    total: int
    previous_id: str | None
    next_id: str | None


@dataclass(frozen=True)
class DatasetCard:
    """What the datasets page shows beside a dataset's name and counts."""

    cover_ids: list[str] = field(default_factory=list)
    folders: int = 0
    last_upload: datetime | None = None


@dataclass(frozen=True)
class Facets:
    """The values the filter menus offer."""

    tags: list[str]
    statuses: list[str]
    splits: list[str]


def class_clause(name: str, *, present: bool) -> sa.ColumnElement[bool]:
    """Images with (or without) an annotation of class ``name``.

    Annotations are stored as JSON text in canonical form, each with its class as
    ``"name": "<name>"`` (``json.dumps`` spacing and escaping, the same on SQLite and
    PostgreSQL), so one LIKE on that text finds them, as the tag filter does. An attribute object
    whose own ``name`` equals a class name would match too; the shapes this server stores have
    none."""
    needle = f"%{_escaped(json.dumps({'name': name})[1:-1])}%"
    text = sa.cast(_I.c.annotations, sa.Text)
    return text.like(needle, escape="\\") if present else text.not_like(needle, escape="\\")


def annotations_of(store: AppContext, dataset_id: str, image_ids: list[str]) -> dict[str, Any]:
    """The stored annotations of these images of the dataset (ids from a page already scoped to
    the viewer's organisation), in one query."""
    if not image_ids:
        return {}
    query = sa.select(_I.c.id, _I.c.annotations).where(
        _I.c.dataset_id == dataset_id, _I.c.id.in_(image_ids)
    )
    with store.read() as conn:
        return {str(row.id): list(row.annotations or []) for row in conn.execute(query)}


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def view_page(
    store: AppContext,
    organization_id: str,
    ref: str,
    view: ImageView,
    links: Links,
    *,
    limit: int,
    offset: int,
) -> Page:
    """A page of the view's images. ``NotFoundError`` for a dataset not in the organisation."""
    limit, offset = clamp(limit, offset, 1000)
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        where = sa.and_(_I.c.dataset_id == dataset["id"], *view.clauses())
        total = conn.execute(sa.select(sa.func.count()).select_from(_I).where(where)).scalar_one()
        query = sa.select(_I).where(where).order_by(*view.order()).limit(limit).offset(offset)
        items = [to_image(row._mapping, links) for row in conn.execute(query)]
    return Page(items=items, total=total, limit=limit, offset=offset)


def neighbours(
    store: AppContext, organization_id: str, ref: str, view: ImageView, image_id: str
) -> Neighbours | None:
    """Where ``image_id`` sits in the view, or None when the view does not hold it."""
    if not is_uuid(image_id):
        return None
    image_id = canonical_uuid(image_id)
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        where = sa.and_(_I.c.dataset_id == dataset["id"], *view.clauses())
        row = conn.execute(sa.select(_I).where(where, _I.c.id == image_id)).first()
        if row is None:
            return None
        before = _before(view, row._mapping)
        count = sa.select(sa.func.count()).select_from(_I)
        position = conn.execute(count.where(where, before)).scalar_one()
        total = conn.execute(count.where(where)).scalar_one()
        ids = sa.select(_I.c.id).where(where).order_by(*view.order())
        previous = (
            conn.execute(ids.offset(position - 1).limit(1)).scalar_one_or_none()
            if position > 0
            else None
        )
        following = conn.execute(ids.offset(position + 1).limit(1)).scalar_one_or_none()
    return Neighbours(
        position,
        total,
        str(previous) if previous is not None else None,
        str(following) if following is not None else None,
    )


def _before(view: ImageView, row: Any) -> sa.ColumnElement[bool]:
    """Rows that come before ``row`` in the view's order (lexicographic on its sort keys)."""
    keys = view._keys()
    alternatives: list[sa.ColumnElement[bool]] = []
    for index, (column, desc) in enumerate(keys):
        value = row[column.name]
        equal_so_far = [keys[i][0] == row[keys[i][0].name] for i in range(index)]
        ahead = column > value if desc else column < value
        alternatives.append(sa.and_(*equal_so_far, ahead))
    return sa.or_(*alternatives)


def facets(store: AppContext, organization_id: str, ref: str, *, sample: int = 1000) -> Facets:
    """The statuses and splits an image can have, and the tags of the newest ``sample`` images
    (read with a LIMIT, so a large dataset costs no more than a small one)."""
    with store.read() as conn:
        dataset = resolve(conn, organization_id, ref)
        newest = (
            sa.select(_I.c.tags)
            .where(_I.c.dataset_id == dataset["id"], _I.c.is_archived == sa.false())
            .order_by(_I.c.created_at.desc(), _I.c.id.desc())
            .limit(sample)
        )
        tags = {str(tag) for value in conn.execute(newest).scalars() for tag in (value or [])}
    return Facets(sorted(tags), list(get_args(ImageStatus)), list(get_args(ImageSplit)))


def dataset_cards(
    store: AppContext, dataset_ids: list[str], covers: int = 3
) -> dict[str, DatasetCard]:
    """Cover image ids (newest first), folder counts and last upload time, per dataset id.

    Callers pass ids already scoped to the viewer's organisation (a page of its datasets). Each
    dataset costs one indexed LIMIT query, however many images it holds.
    """
    if not dataset_ids:
        return {}
    folder_counts = (
        sa.select(t.directories.c.dataset_id, sa.func.count())
        .where(t.directories.c.dataset_id.in_(dataset_ids), t.directories.c.full_path != "/")
        .group_by(t.directories.c.dataset_id)
    )
    cards: dict[str, DatasetCard] = {}
    with store.read() as conn:
        folders = dict(conn.execute(folder_counts).tuples().all())
        for ref in dataset_ids:
            newest = conn.execute(
                sa.select(_I.c.id, _I.c.created_at)
                .where(_I.c.dataset_id == ref, _I.c.is_archived == sa.false())
                .order_by(_I.c.created_at.desc(), _I.c.id.desc())
                .limit(covers)
            ).all()
            cards[ref] = DatasetCard(
                [str(row.id) for row in newest],
                int(folders.get(ref, 0)),
                newest[0].created_at if newest else None,
            )
    return cards
