"""``client.datasets``: list, read, create, update, archive, delete and download datasets."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from pictograph._answers import data_of, parse_model, parse_models
from pictograph.errors import ApiError, NetworkError, ServerError
from pictograph.models import Dataset, DatasetClass
from pictograph.protocol import API_PREFIX
from pictograph.resources._base import OffsetPager, Resource

DownloadMode = Literal["full", "images_only", "annotations_only"]

_API_PATH = f"{API_PREFIX}/datasets/"
_DOWNLOAD_LIMIT = 10000


class DownloadFailure(BaseModel):
    """One file :meth:`Datasets.download` could not fetch, and why."""

    model_config = ConfigDict(frozen=True)

    filename: str
    kind: Literal["image", "annotation"]
    reason: str


class DownloadReport(BaseModel):
    """Outcome of :meth:`Datasets.download`; ``success`` means every requested file landed."""

    dataset_id: str
    images_downloaded: int = 0
    annotations_downloaded: int = 0
    failures: list[DownloadFailure] = Field(default_factory=list)
    truncated: bool = False

    @property
    def total_attempted(self) -> int:
        return self.images_downloaded + self.annotations_downloaded + len(self.failures)

    @property
    def success(self) -> bool:
        return not self.failures


def _route(name: str | None, dataset_id: str | None, suffix: str = "") -> str:
    """``/datasets/{name-or-id}[suffix]``; exactly one of ``name`` and ``dataset_id``."""
    if (name is None) == (dataset_id is None):
        raise ValueError("Pass exactly one of `name` (positional) or `dataset_id=`.")
    slot = name if name is not None else dataset_id
    return f"{_API_PATH}{quote(str(slot), safe='')}{suffix}"


def _classes(classes: Sequence[DatasetClass | dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        c.model_dump(exclude_none=True) if isinstance(c, DatasetClass) else dict(c) for c in classes
    ]


class Datasets(Resource):
    """The datasets of the organisation the API key belongs to."""

    def list(self, *, limit: int = 100, offset: int = 0, archived: bool = False) -> list[Dataset]:
        """One page of datasets, newest first (``archived=True`` lists the archived ones)."""
        return parse_models(Dataset, self._page(offset, limit, archived).get("data", []))

    def iter(
        self, *, page_size: int = 100, max_total: int | None = None, archived: bool = False
    ) -> OffsetPager[Dataset]:
        """Every dataset, fetched ``page_size`` at a time, stopping after ``max_total``."""
        return OffsetPager(
            lambda offset, limit: self._page(offset, limit, archived, offset_first=True),
            lambda raw: parse_model(Dataset, raw),
            page_size=page_size,
            max_total=max_total,
        )

    def _page(
        self, offset: int, limit: int, archived: bool, *, offset_first: bool = False
    ) -> dict[str, Any]:
        params: dict[str, Any] = (
            {"offset": offset, "limit": limit}
            if offset_first
            else {"limit": limit, "offset": offset}
        )
        if archived:
            params["archived"] = True
        body = self._transport.request_json("GET", _API_PATH, params=params)
        if not isinstance(body, dict):
            raise ServerError("Backend response did not match expected Dataset page schema")
        return body

    def get(
        self,
        name: str | None = None,
        *,
        dataset_id: str | None = None,
        include_images: bool = False,
        images_limit: int = 1000,
        images_offset: int = 0,
    ) -> Dataset:
        """A dataset by name (or ``dataset_id=``); raises ``NotFoundError`` when there is none.

        ``include_images=True`` embeds up to ``images_limit`` of its images in ``images``.
        """
        params: dict[str, Any] = {}
        if include_images:
            params = {"include_images": True, "images_limit": images_limit}
            params["images_offset"] = images_offset
        body = self._transport.request_json("GET", _route(name, dataset_id), params=params)
        return parse_model(Dataset, data_of(body))

    def create(
        self,
        name: str,
        *,
        readme: str | None = None,
        description: str | None = None,
        annotation_types: Sequence[str] | None = None,
        classes: Sequence[DatasetClass | dict[str, Any]] | None = None,
    ) -> Dataset:
        """Create a dataset; raises ``ConflictError`` when the name is taken."""
        body: dict[str, Any] = {"name": name}
        if readme is not None:
            body["readme"] = readme
        if description is not None:
            body["description"] = description
        if annotation_types is not None:
            body["annotation_types"] = list(annotation_types)
        if classes is not None:
            body["classes"] = _classes(classes)
        answer = self._transport.request_json("POST", _API_PATH, json=body)
        return parse_model(Dataset, data_of(answer))

    def update(
        self,
        name: str | None = None,
        *,
        dataset_id: str | None = None,
        new_name: str | None = None,
        readme: str | None = None,
        description: str | None = None,
        annotation_types: Sequence[str] | None = None,
        classes: Sequence[DatasetClass | dict[str, Any]] | None = None,
        classes_base: Sequence[DatasetClass | dict[str, Any]] | None = None,
    ) -> Dataset:
        """Change only the given fields. ``classes`` replaces the class list; with
        ``classes_base`` (the list you read) the server merges your edit into the current list.

        Raises ``ValueError`` for an empty update, ``NotFoundError``, or ``ConflictError`` when
        ``new_name`` is taken.
        """
        fields: dict[str, Any] = {"new_name": new_name, "readme": readme}
        fields["description"] = description
        fields["annotation_types"] = None if annotation_types is None else list(annotation_types)
        fields["classes"] = None if classes is None else _classes(classes)
        if classes_base is not None:
            if classes is None:
                raise ValueError("classes_base is the list `classes` edits - pass classes too.")
            fields["classes_base"] = _classes(classes_base)
        body = {key: value for key, value in fields.items() if value is not None}
        if not body:
            raise ValueError(
                "Nothing to update - pass at least one of new_name / readme / description / "
                "annotation_types / classes."
            )
        answer = self._transport.request_json("PATCH", _route(name, dataset_id), json=body)
        return parse_model(Dataset, data_of(answer))

    def delete(
        self, name: str | None = None, *, dataset_id: str | None = None, permanent: bool = False
    ) -> dict[str, Any]:
        """Delete a dataset with its images and folders; returns the server's summary.

        The dataset goes to the trash (``client.trash``), restorable until the server's
        retention passes; its name is free at once. ``permanent=True`` removes it now."""
        params = {"permanent": True} if permanent else None
        answer = self._transport.request_json("DELETE", _route(name, dataset_id), params=params)
        summary = data_of(answer)
        return dict(summary) if isinstance(summary, dict) else {}

    def archive(self, name: str | None = None, *, dataset_id: str | None = None) -> Dataset:
        """Hide a dataset from the default list (idempotent, reversible)."""
        answer = self._transport.request_json("POST", _route(name, dataset_id, "/archive"))
        return parse_model(Dataset, data_of(answer))

    def unarchive(self, name: str | None = None, *, dataset_id: str | None = None) -> Dataset:
        """Bring an archived dataset back into the default list (idempotent)."""
        answer = self._transport.request_json("POST", _route(name, dataset_id, "/unarchive"))
        return parse_model(Dataset, data_of(answer))

    def download(
        self,
        name: str,
        output_dir: str | Path,
        *,
        mode: DownloadMode = "full",
        status_filter: str | None = None,
        max_workers: int = 10,
    ) -> DownloadReport:
        """Download images (``<filename>``) and/or annotations (``<filename>.json``) in parallel.

        Per-file problems land in ``DownloadReport.failures``; only the initial listing raises
        (``NotFoundError`` for an unknown dataset).
        """
        out = Path(output_dir).expanduser()
        out.mkdir(parents=True, exist_ok=True)
        params: dict[str, Any] = {"mode": mode, "limit": _DOWNLOAD_LIMIT}
        if status_filter is not None:
            params["status_filter"] = status_filter
        listing = data_of(
            self._transport.request_json("GET", _route(name, None, "/download"), params=params)
        )
        items: list[dict[str, Any]] = list(listing.get("items", []))
        report = DownloadReport(dataset_id=str(listing.get("id", "")))
        if len(items) >= _DOWNLOAD_LIMIT:
            report.truncated = True
            warnings.warn(
                f"Dataset {name!r} has at least {_DOWNLOAD_LIMIT} images; only the first "
                f"{_DOWNLOAD_LIMIT} were downloaded (see report.truncated).",
                stacklevel=2,
            )
        tasks = _download_tasks(items, out, mode)
        with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
            for task, error in pool.map(self._fetch, tasks):
                _record(report, task, error)
        return report

    def _fetch(self, task: _Task) -> tuple[_Task, str | None]:
        kind, url, dest, _ = task
        try:
            if kind == "image":
                self._transport.download(url, dest)
            else:
                _write_json(self._transport.request_json("GET", url), dest)
        except (ApiError, NetworkError, OSError) as exc:
            return task, str(exc)
        return task, None


_Task = tuple[Literal["image", "annotation"], str, Path, str]


def _download_tasks(items: list[dict[str, Any]], out: Path, mode: DownloadMode) -> list[_Task]:
    tasks: list[_Task] = []
    for item in items:
        filename = _safe_name(str(item.get("filename", "")))
        if mode != "annotations_only" and item.get("image_url"):
            tasks.append(("image", str(item["image_url"]), out / filename, filename))
        if mode != "images_only" and item.get("annotation_url"):
            tasks.append(
                ("annotation", str(item["annotation_url"]), out / f"{filename}.json", filename)
            )
    return tasks


def _record(report: DownloadReport, task: _Task, error: str | None) -> None:
    kind, _, _, filename = task
    if error is not None:
        report.failures.append(DownloadFailure(filename=filename, kind=kind, reason=error))
    elif kind == "image":
        report.images_downloaded += 1
    else:
        report.annotations_downloaded += 1


def _safe_name(filename: str) -> str:
    """Server data as one harmless path component: no directories, no ``..``."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    return name if name not in ("", ".", "..") else "image"


def _write_json(payload: Any, dest: Path) -> None:
    part = dest.with_name(dest.name + ".part")
    try:
        part.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    part.replace(dest)
