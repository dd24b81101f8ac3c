"""The gallery's HTML pages: the datasets, one dataset's folder of thumbnails, one image.

Each page calls the same service functions as the API, scoped to the viewer's organisation;
a dataset, folder or image the organisation does not have is a 404 page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from pictograph.errors import NotFoundError, ValidationError
from pictograph.models import DirectoryTreeNode
from pictograph.server.api.deps import get_links, get_store
from pictograph.server.gallery import labels
from pictograph.server.gallery.rendering import render
from pictograph.server.gallery.viewer import COOKIE, Viewer, current_viewer, end_session
from pictograph.server.service import datasets, directories, images
from pictograph.server.service.context import Page
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


def dataset_url(dataset_id: str, folder: str = "/", page: int = 1) -> str:
    """The gallery address of a dataset's folder (and page of thumbnails)."""
    query = {"folder": folder} if folder != "/" else {}
    if page > 1:
        query["page"] = str(page)
    suffix = "?" + urlencode(query) if query else ""
    return f"/datasets/{quote(dataset_id, safe='')}{suffix}"


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
        return render(
            "datasets.html", viewer=viewer, datasets=listing.items, pager=pages, url=dataset_url
        )

    return _show(request, build)


def _all_paths(nodes: list[DirectoryTreeNode]) -> Iterator[str]:
    for node in nodes:
        yield node.full_path
        yield from _all_paths(node.children)


def _subfolders(nodes: list[DirectoryTreeNode], folder: str) -> list[DirectoryTreeNode]:
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
def dataset_page(
    request: Request, dataset_id: str, folder: str | None = None, page: str | None = None
) -> Response:
    """A dataset: its folder tree, and a page of thumbnails of the images in ``?folder=``."""
    number = page_number(page)

    def build(viewer: Viewer) -> Response:
        store, org = get_store(request), viewer.organization_id
        path = normalize_directory(folder)
        dataset = datasets.get_dataset(store, org, dataset_id)
        tree = directories.tree(store, org, dataset.id)
        if path != "/" and path not in set(_all_paths(tree)):
            raise NotFoundError(f"folder {path!r} not found")
        listing = images.list_images(
            store,
            org,
            dataset.id,
            images.ImageFilters(directory_path=path),
            get_links(request),
            limit=IMAGES_PER_PAGE,
            offset=(number - 1) * IMAGES_PER_PAGE,
        )
        return render(
            "dataset.html",
            viewer=viewer,
            dataset=dataset,
            folder=path,
            parent=parent_of(path) if path != "/" else None,
            crumbs=breadcrumbs(path),
            tree=tree,
            subfolders=_subfolders(tree, path),
            images=listing.items,
            pager=pager(listing, number, lambda n: dataset_url(dataset.id, path, n)),
            url=dataset_url,
            **labels.dataset_context(store, org, dataset, get_links(request)),
        )

    return _show(request, build)


@router.get("/images/{image_id}")
def image_page(request: Request, image_id: str) -> Response:
    """One image: a preview, its name, folder, dimensions, size, SHA-256 and a download link."""

    def build(viewer: Viewer) -> Response:
        store, org = get_store(request), viewer.organization_id
        image = images.get_by_id(store, org, image_id, get_links(request))
        dataset = datasets.get_dataset(store, org, image.dataset_id or "")
        folder = image.directory_path or "/"
        return render(
            "image.html",
            viewer=viewer,
            image=image,
            dataset=dataset,
            folder=folder,
            crumbs=breadcrumbs(folder),
            url=dataset_url,
            **labels.image_context(store, org, image, dataset),
        )

    return _show(request, build)
