"""The gallery's HTML pages: the datasets, a view of one dataset's thumbnails, one image, the
trash (whose Restore buttons call the developer API from ``trash.js``).

Each page calls the same service functions as the API, scoped to the viewer's organisation;
a dataset, folder or image the organisation does not have is a 404 page.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from pictograph.errors import NotFoundError, ValidationError
from pictograph.models import DirectoryTreeNode
from pictograph.protocol import API_PREFIX
from pictograph.server.api.deps import get_links, get_store
from pictograph.server.gallery import labels
from pictograph.server.gallery.rendering import render
from pictograph.server.gallery.viewer import COOKIE, Viewer, current_viewer, end_session
from pictograph.server.service import (
    audit,
    browsing,
    datasets,
    directories,
    images,
    policy,
    trash,
    versions,
    workflow,
)
from pictograph.server.service.browsing import DEFAULT_SORT, SORTS, ImageView
from pictograph.server.service.context import Page, image_segment
from pictograph.server.service.paths import normalize_directory, parent_of

router = APIRouter(include_in_schema=False)

IMAGES_PER_PAGE = 60
DATASETS_PER_PAGE = 50


@dataclass(frozen=True)
class Pager:
    """Where a page sits in a listing, and the links to its neighbours."""

    number: int
    pages: int
    total: int
    first: int
    last: int
    previous_url: str | None
    next_url: str | None


def pager(page: Page, number: int, url: Callable[[int], str]) -> Pager:
    """The ``Pager`` of page ``number`` (1-based); ``url(n)`` is the address of page ``n``."""
    return Pager(
        number=number,
        pages=max(1, -(-page.total // page.limit)),
        total=page.total,
        first=page.offset + 1 if page.items else 0,
        last=page.offset + len(page.items),
        previous_url=url(number - 1) if number > 1 else None,
        next_url=url(number + 1) if page.has_more else None,
    )


def page_number(raw: str | None) -> int:
    """The 1-based page number in ``?page=``; 1 when absent or not a positive number."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) < 10:
        return max(1, int(raw))
    return 1


def view_of(request: Request) -> ImageView:
    """The view a page's query string names: ``folder``, ``sub``, ``q``, ``tag``, ``status``,
    ``split``, ``has_class``, ``lacks_class``, ``sort`` and ``overlays``. Absent values mean
    every folder, newest first, no filter, no labels drawn."""
    query = request.query_params
    folder = query.get("folder") or None
    sort = query.get("sort") or DEFAULT_SORT
    return ImageView(
        folder=normalize_directory(folder) if folder else None,
        subfolders=query.get("sub") == "1",
        search=(query.get("q") or "").strip()[:200],
        tag=query.get("tag") or None,
        status=query.get("status") or None,
        split=query.get("split") or None,
        has_class=query.get("has_class") or None,
        lacks_class=query.get("lacks_class") or None,
        sort=sort if sort in SORTS else DEFAULT_SORT,
        overlays=query.get("overlays") == "1",
    )


def view_query(view: ImageView, page: int = 1) -> str:
    """The query string (with its ``?``, or empty) that holds ``view`` and ``page``."""
    query: dict[str, str] = {}
    if view.folder is not None:
        query["folder"] = view.folder
        if view.subfolders:
            query["sub"] = "1"
    for key, value in (("q", view.search), ("tag", view.tag), ("status", view.status)):
        if value:
            query[key] = value
    for key, value in (
        ("split", view.split),
        ("has_class", view.has_class),
        ("lacks_class", view.lacks_class),
    ):
        if value:
            query[key] = value
    if view.sort != DEFAULT_SORT:
        query["sort"] = view.sort
    if view.overlays:
        query["overlays"] = "1"
    if page > 1:
        query["page"] = str(page)
    return "?" + urlencode(query) if query else ""


def dataset_url(
    dataset_id: str, folder: str | None = None, page: int = 1, view: ImageView | None = None
) -> str:
    """The gallery address of a dataset's view: ``folder`` alone, or a whole ``view``."""
    shown = view if view is not None else ImageView(folder=folder)
    return f"/datasets/{quote(dataset_id, safe='')}{view_query(shown, page)}"


def image_url(image_id: str, view: ImageView) -> str:
    """The address of an image opened from ``view`` (so previous/next stay within it)."""
    return f"/images/{quote(image_id, safe='')}{view_query(view)}"


def _show(request: Request, build: Callable[[Viewer], Response]) -> Response:
    """``build``'s page for the viewer; the sign-in form when nobody (or a revoked key) is."""
    viewer = current_viewer(request)
    if viewer is None:
        response = RedirectResponse("/login", status_code=303)
        if COOKIE in request.cookies:
            end_session(response, request)
        return response
    try:
        return build(viewer)
    except (NotFoundError, ValidationError):
        return render("not_found.html", status_code=404, viewer=viewer)


@router.get("/")
def datasets_page(request: Request, page: str | None = None) -> Response:
    """The organisation's datasets with image counts, sizes and creation times."""
    number = page_number(page)

    def build(viewer: Viewer) -> Response:
        offset = (number - 1) * DATASETS_PER_PAGE
        listing = datasets.list_datasets(
            get_store(request),
            viewer.organization_id,
            limit=DATASETS_PER_PAGE,
            offset=offset,
            archived=False,
        )
        pages = pager(listing, number, lambda n: f"/?page={n}")
        cards = browsing.dataset_cards(get_store(request), [d.id for d in listing.items])
        return render(
            "datasets.html",
            viewer=viewer,
            datasets=listing.items,
            cards=cards,
            pager=pages,
            url=dataset_url,
        )

    return _show(request, build)


def _all_paths(nodes: list[DirectoryTreeNode]) -> Iterator[str]:
    for node in nodes:
        yield node.full_path
        yield from _all_paths(node.children)


def _subfolders(nodes: list[DirectoryTreeNode], folder: str) -> list[DirectoryTreeNode]:
    """The folders directly inside ``folder``."""
    if folder == "/":
        return nodes
    for node in nodes:
        if node.full_path == folder:
            return node.children
        if folder.startswith(node.full_path + "/"):
            return _subfolders(node.children, folder)
    return []


def breadcrumbs(folder: str) -> list[tuple[str, str]]:
    """``/a/b`` -> ``[("a", "/a"), ("b", "/a/b")]``: each folder on the way, with its path."""
    names = [name for name in folder.split("/") if name]
    return [(name, "/" + "/".join(names[: i + 1])) for i, name in enumerate(names)]


@router.get("/datasets/{dataset_id}")
def dataset_page(request: Request, dataset_id: str, page: str | None = None) -> Response:
    """A dataset: its folder tree beside a page of thumbnails of the view in the query string
    (every folder, newest first, unless it names a folder, a search, filters or a sort)."""
    number = page_number(page)

    def build(viewer: Viewer) -> Response:
        view = view_of(request)  # a folder that cannot exist is a 404 page, like a missing one
        store, org = get_store(request), viewer.organization_id
        dataset = datasets.get_dataset(store, org, dataset_id)
        tree = directories.tree(store, org, dataset.id)
        folder = view.folder
        if folder not in (None, "/") and folder not in set(_all_paths(tree)):
            raise NotFoundError(f"folder {folder!r} not found")
        listing = browsing.view_page(
            store,
            org,
            dataset.id,
            view,
            get_links(request),
            limit=IMAGES_PER_PAGE,
            offset=(number - 1) * IMAGES_PER_PAGE,
        )
        return render(
            "dataset.html",
            viewer=viewer,
            dataset=dataset,
            view=view,
            folder=folder,
            parent=parent_of(folder) if folder not in (None, "/") else None,
            crumbs=breadcrumbs(folder or "/"),
            tree=tree,
            folders=sorted(_all_paths(tree)),
            subfolders=_subfolders(tree, folder) if folder else [],
            facets=browsing.facets(store, org, dataset.id),
            sorts=list(SORTS),
            images=listing.items,
            pager=pager(listing, number, lambda n: dataset_url(dataset.id, page=n, view=view)),
            url=dataset_url,
            image_url=image_url,
            replace=replace,
            thumbnail_shapes=labels.thumbnail_shapes(store, dataset, listing.items)
            if view.overlays
            else {},
            status_counts=workflow.status_counts(store, org, dataset.id),
            **labels.dataset_context(store, org, dataset, get_links(request)),
        )

    return _show(request, build)


@router.get("/images/{image_id}")
def image_page(request: Request, image_id: str) -> Response:
    """One image: a preview, its facts and a download link; previous and next within the view
    it was opened from (the query string), and a way back to that view's page."""

    def build(viewer: Viewer) -> Response:
        view = view_of(request)
        store, org = get_store(request), viewer.organization_id
        image = images.get_by_id(store, org, image_id, get_links(request))
        dataset = datasets.get_dataset(store, org, image.dataset_id or "")
        folder = image.directory_path or "/"
        place = browsing.neighbours(store, org, dataset.id, view, image.id)
        back_page = place.position // IMAGES_PER_PAGE + 1 if place else 1
        return render(
            "image.html",
            viewer=viewer,
            image=image,
            dataset=dataset,
            folder=folder,
            crumbs=breadcrumbs(folder),
            place=place,
            previous_url=image_url(place.previous_id, view)
            if place and place.previous_id
            else None,
            next_url=image_url(place.next_id, view) if place and place.next_id else None,
            back_url=dataset_url(dataset.id, page=back_page, view=view),
            url=dataset_url,
            review=workflow.review_state(store, image.id),
            review_api=review_api(dataset.id, image.directory_path or "/", image.filename),
            **labels.image_context(store, org, image, dataset, get_links(request)),
        )

    return _show(request, build)


@router.get("/trash")
def trash_page(request: Request, page: str | None = None) -> Response:
    """The organisation's trash, most recently deleted first, with when each item expires; the
    page carries the CSRF token its Restore buttons send to the API."""
    number = page_number(page)

    def build(viewer: Viewer) -> Response:
        listing = trash.list_trash(
            get_store(request),
            viewer.organization_id,
            limit=DATASETS_PER_PAGE,
            offset=(number - 1) * DATASETS_PER_PAGE,
        )
        return render(
            "trash.html",
            viewer=viewer,
            items=listing.items,
            pager=pager(listing, number, lambda n: f"/trash?page={n}"),
            api=API_PREFIX,
        )

    return _show(request, build)


@router.get("/datasets/{dataset_id}/next")
def queue_page(
    request: Request,
    dataset_id: str,
    stage: str = "label",
    after: str | None = None,
    folder: str | None = None,
) -> Response:
    """The next image of a labelling queue (``stage`` label or review, after image ``after``),
    opened on its page; the dataset's page filtered to the stage when the queue is done."""

    def build(viewer: Viewer) -> Response:
        store, org = get_store(request), viewer.organization_id
        found = workflow.next_in_queue(
            store, org, dataset_id, get_links(request), stage=stage, after=after, folder=folder
        )
        if found["image"] is None:
            status = "review" if stage == "review" else None
            done = ImageView(folder=folder, subfolders=bool(folder), status=status)
            return RedirectResponse(dataset_url(dataset_id, view=done), status_code=303)
        return RedirectResponse(f"/images/{quote(found['image']['id'], safe='')}", 303)

    return _show(request, build)


@router.get("/audit")
def audit_page(request: Request, page: str | None = None) -> Response:
    """The organisation's audit trail, for the keys the API lets read it (admins)."""
    number = page_number(page)
    least = policy.rule_for("GET", "/audit").role

    def build(viewer: Viewer) -> Response:
        if not viewer.may(least):
            return render("forbidden.html", status_code=403, viewer=viewer, least=least)
        listing = audit.entries(
            get_store(request),
            viewer.organization_id,
            limit=DATASETS_PER_PAGE,
            offset=(number - 1) * DATASETS_PER_PAGE,
        )
        return render(
            "audit.html",
            viewer=viewer,
            entries=listing.items,
            pager=pager(listing, number, lambda n: f"/audit?page={n}"),
        )

    return _show(request, build)


def replace(view: ImageView, **changes: object) -> ImageView:
    """``view`` with some fields changed (the templates' links to other filters)."""
    return dataclasses.replace(view, **changes)  # type: ignore[arg-type]


def review_api(dataset_id: str, folder: str, filename: str) -> str:
    """The developer API address of an image, which its submit and review routes extend."""
    return f"{API_PREFIX}/images/{quote(dataset_id, safe='')}/{image_segment(folder, filename)}"


@router.get("/datasets/{dataset_id}/versions/{version}")
def version_page(
    request: Request, dataset_id: str, version: str, page: str | None = None
) -> Response:
    """A dataset version, read-only: what it froze (classes, splits, images with their labels),
    whatever the live dataset became since."""
    number = page_number(page)

    def build(viewer: Viewer) -> Response:
        store, org = get_store(request), viewer.organization_id
        dataset = datasets.get_dataset(store, org, dataset_id)
        frozen, listing = versions.version_images(
            store,
            org,
            dataset.id,
            version,
            limit=IMAGES_PER_PAGE,
            offset=(number - 1) * IMAGES_PER_PAGE,
        )
        base = f"/datasets/{quote(dataset.id, safe='')}/versions/{quote(frozen['id'], safe='')}"
        return render(
            "version.html",
            viewer=viewer,
            dataset=dataset,
            version=frozen,
            images=listing.items,
            pager=pager(listing, number, lambda n: f"{base}?page={n}"),
        )

    return _show(request, build)
