"""``client.images``: list, read, download, delete and upload the images of a dataset."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from pictograph._answers import data_of, parse_model, parse_models
from pictograph._upload.channel import UploadChannel
from pictograph._upload.engine import UploadReport, upload_folder
from pictograph._upload.wire import UploadSlot, describe_file
from pictograph.errors import NotFoundError, ServerError
from pictograph.models import (
    BulkUploadFailure,
    BulkUploadResult,
    Image,
    ImageSplit,
    ImageStatus,
)
from pictograph.protocol import API_PREFIX, looks_like_id
from pictograph.resources._base import OffsetPager
from pictograph.resources.image_workflow import ImageWorkflow, image_route

__all__ = ["Images"]

_API_PATH = f"{API_PREFIX}/images"
_Job = TypeVar("_Job")


_image_route = image_route


class Images(ImageWorkflow):
    """The images of a dataset, addressed by filename, folder path or id."""

    def list(
        self,
        dataset: str,
        *,
        limit: int = 100,
        offset: int = 0,
        directory_path: str | None = None,
        status: ImageStatus | None = None,
        split: ImageSplit | None = None,
        include_archived: bool = False,
        min_confidence_lt: float | None = None,
        filename: str | None = None,
    ) -> list[Image]:
        """One page of a dataset's images, newest first; unset filters are not sent.

        ``directory_path`` matches one folder exactly; ``filename`` matches across folders.
        Raises ``NotFoundError`` for an unknown dataset.
        """
        filters = _filters(
            directory_path, status, split, include_archived, min_confidence_lt, filename
        )
        body = self._page(dataset, limit, offset, filters)
        return parse_models(Image, body.get("data", []))

    def iter(
        self,
        dataset: str,
        *,
        page_size: int = 100,
        max_total: int | None = None,
        directory_path: str | None = None,
        status: ImageStatus | None = None,
        split: ImageSplit | None = None,
        include_archived: bool = False,
        min_confidence_lt: float | None = None,
        filename: str | None = None,
    ) -> OffsetPager[Image]:
        """Every matching image, fetched ``page_size`` at a time; filters as in :meth:`list`."""
        filters = _filters(
            directory_path, status, split, include_archived, min_confidence_lt, filename
        )
        return OffsetPager(
            lambda offset, limit: self._page(dataset, limit, offset, filters),
            lambda raw: parse_model(Image, raw),
            page_size=page_size,
            max_total=max_total,
        )

    def _page(self, dataset: str, limit: int, offset: int, filters: dict[str, Any]) -> Any:
        params = {"dataset": dataset, "limit": limit, "offset": offset, **filters}
        body = self._transport.request_json("GET", f"{_API_PATH}/", params=params)
        if not isinstance(body, Mapping):
            raise ServerError("Backend response did not match expected Image page schema")
        return body

    def get(self, dataset_name: str, image: str) -> Image:
        """An image by filename or ``folder/file`` (one request), or by id (``GET
        /images/{id}/metadata``).

        A filename is looked up across the dataset's folders; archived images are not found
        that way, but are by id. Raises ``NotFoundError`` when there is no such image in this
        dataset and ``ValueError`` when the filename exists in more than one folder.
        """
        if not looks_like_id(image):
            matches = self.list(dataset_name, filename=image, limit=2)
            if not matches:
                raise NotFoundError(f"No image named {image!r} in dataset {dataset_name!r}.")
            if len(matches) > 1:
                folders = ", ".join(sorted({m.directory_path or "/" for m in matches}))
                raise ValueError(
                    f"{image!r} exists in more than one directory of {dataset_name!r} "
                    f"({folders}). Fetch it by id, or narrow with list()."
                )
            return matches[0]
        return self._metadata(dataset_name, image)

    def _metadata(self, dataset_name: str, image_id: str) -> Image:
        body = self._transport.request_json(
            "GET", f"{_API_PATH}/{quote(image_id, safe='')}/metadata"
        )
        data = data_of(body, required=False)
        if not isinstance(data, Mapping) or not data.get("filename"):
            raise NotFoundError(f"No image with id {image_id!r} in your organization.")
        found = parse_model(Image, data)
        wanted = dataset_name
        if not looks_like_id(dataset_name):
            wanted = self._client.datasets.get(dataset_name).id
        if (found.dataset_id or "").strip().lower() != wanted.strip().lower():
            raise NotFoundError(f"Image {image_id!r} is not in dataset {dataset_name!r}.")
        return found

    def _segment(self, dataset_name: str, image: str) -> str:
        """``dir/filename`` for the per-image routes; a bare filename means the root folder."""
        if not looks_like_id(image):
            return image
        found = self._metadata(dataset_name, image)
        folder = (found.directory_path or "").strip("/")
        return f"{folder}/{found.filename}" if folder else found.filename

    def download(self, dataset_name: str, image: str, output_path: str | Path) -> Path:
        """Write an image's bytes to ``output_path`` (through ``<name>.part``); return the path.

        ``image`` is a filename in the root folder, a ``dir/filename`` path, or an id.
        """
        segment = self._segment(dataset_name, image)
        dest = Path(output_path).expanduser()
        return self._transport.download(_image_route(dataset_name, segment), dest)

    def delete(self, dataset_name: str, image: str, *, permanent: bool = False) -> None:
        """Archive an image (soft delete), or remove it for good with ``permanent=True``."""
        segment = self._segment(dataset_name, image)
        params = {"permanent": "true"} if permanent else None
        self._transport.request_json("DELETE", _image_route(dataset_name, segment), params=params)

    def upload(
        self,
        dataset: str,
        file_path: str | Path,
        *,
        directory_path: str = "/",
        filename: str | None = None,
        content_type: str | None = None,
    ) -> Image:
        """Upload one file (upload-url, PUT, register) into ``directory_path``; return the image.

        Raises ``FileNotFoundError`` or ``ValueError`` (unknown suffix) before any request,
        ``ConflictError`` when the folder already holds that filename, and ``ValidationError``
        with the server's reason when it refuses the bytes (the PUT's receipt says ``refused``;
        register gives the error).
        """
        path = Path(file_path).expanduser()
        item = describe_file(
            path, directory_path=directory_path, filename=filename, content_type=content_type
        )
        request = {
            "filename": item["filename"],
            "directory_path": item["directory_path"],
            "content_type": item["content_type"],
        }
        slot = data_of(
            self._transport.request_json(
                "POST", f"{_API_PATH}/upload-url", json={"dataset": dataset, **request}
            )
        )
        if not isinstance(slot, Mapping) or not isinstance(slot.get("upload_url"), str):
            raise ServerError("Backend response did not match expected upload-url schema")
        self._transport.put_file(slot["upload_url"], path, item["content_type"])
        answer = self._transport.request_json(
            "POST", f"{_API_PATH}/register", json={"dataset": dataset, **item}
        )
        return parse_model(Image, data_of(answer))

    def bulk_upload(
        self,
        dataset: str,
        file_paths: Sequence[str | Path],
        *,
        directory_path: str = "/",
        max_workers: int = 8,
    ) -> BulkUploadResult:
        """Upload many files into one folder with two API calls plus one PUT per file.

        Files the server reports as already present are not sent; they come back in ``failed``
        with the rest of the per-file refusals, as do files whose bytes the server refused (not
        a valid image, say: with its reason). Raises ``ValueError`` for an empty list,
        ``FileNotFoundError``/``ValueError`` for a bad file before any request, and the PUT's
        error if one fails otherwise (nothing is registered then).
        """
        paths = [Path(p).expanduser() for p in file_paths]
        if not paths:
            raise ValueError("file_paths must contain at least one file.")
        items = [describe_file(p, directory_path=directory_path) for p in paths]
        channel = UploadChannel(self._transport)
        slots = channel.plan(
            dataset, [(i["filename"], directory_path, i["content_type"]) for i in items]
        ).slots
        present = [
            BulkUploadFailure(
                filename=s.filename, error=_exists(s), directory_path=s.directory_path
            )
            for s in slots
            if s.existing is not None
        ]
        todo = [
            (p, i, s) for p, i, s in zip(paths, items, slots, strict=True) if s.existing is None
        ]
        _run_all(
            lambda job: channel.put_file(job[2].url, job[0], job[1]["content_type"]),
            todo,
            max_workers,
        )
        if not todo:
            return BulkUploadResult(succeeded=[], failed=present)
        result = channel.register_many(dataset, [item for _, item, _ in todo])
        return BulkUploadResult(succeeded=result.succeeded, failed=[*present, *result.failed])

    def upload_from_directory(
        self,
        dataset: str,
        directory: str | Path,
        *,
        organize_by_class: bool = True,
        preserve_structure: bool = False,
        parallel: bool = True,
        max_workers: int = 8,
        skip_existing: bool = True,
        create_if_missing: bool = True,
        progress: Callable[..., None] | None = None,
    ) -> UploadReport:
        """Upload a local folder tree (``pictograph.workflows.upload_dataset_from_folder``)."""
        return upload_folder(
            self._client,
            dataset,
            directory,
            organize_by_class=organize_by_class,
            preserve_structure=preserve_structure,
            parallel=parallel,
            max_workers=max_workers,
            skip_existing=skip_existing,
            create_if_missing=create_if_missing,
            progress=progress,
        )


def _filters(
    directory_path: str | None,
    status: str | None,
    split: str | None,
    include_archived: bool,
    min_confidence_lt: float | None,
    filename: str | None,
) -> dict[str, Any]:
    filters: dict[str, Any] = {
        "directory_path": directory_path,
        "status": status,
        "split": split,
        "include_archived": "true" if include_archived else None,
        "min_confidence_lt": min_confidence_lt,
        "filename": filename,
    }
    return {key: value for key, value in filters.items() if value is not None}


def _exists(slot: UploadSlot) -> str:
    return f"{slot.filename!r} already exists in {slot.directory_path}"


def _run_all(work: Callable[[_Job], object], jobs: Sequence[_Job], max_workers: int) -> None:
    """Run ``work`` on every job in a thread pool; the first failure propagates."""
    if max_workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            work(job)
        return
    with ThreadPoolExecutor(max_workers=min(max_workers, len(jobs))) as pool:
        for future in [pool.submit(work, job) for job in jobs]:
            future.result()
