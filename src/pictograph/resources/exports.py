"""``client.exports``: export jobs (create, wait, list, get, download, delete), official names."""

from __future__ import annotations

import builtins
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pictograph._answers import data_of, parse_model, parse_models
from pictograph.errors import ApiError, PictographError
from pictograph.label_models import BulkDeleteResult, Export
from pictograph.protocol import API_PREFIX, looks_like_id
from pictograph.resources._base import OffsetPager, Resource

_API_PATH = f"{API_PREFIX}/exports"


class PollTimeoutError(PictographError):
    """The export did not finish before the timeout (it keeps running on the server)."""


class Exports(Resource):
    """Build a ZIP of a dataset's labels (and images) in a training format, then fetch it."""

    def create(
        self,
        dataset_name: str,
        name: str,
        *,
        format: str = "pictograph",
        include_images: bool = False,
        class_filter: Sequence[str] | None = None,
        status_filter: str | None = None,
        organize_by_split: bool = False,
        version: str | None = None,
        wait: bool = True,
        poll_interval: float = 2.0,
        timeout: float = 300.0,
    ) -> Export:
        """Queue an export; with ``wait`` poll until it is ``completed``. ``version`` (our
        extension) exports that version of the dataset instead of its live images.

        Raises ``ValidationError`` for an unknown format or class, ``ConflictError`` for a taken
        name, ``ApiError`` (code ``job_failed``) when the job fails, ``PollTimeoutError``.
        """
        body: dict[str, Any] = {"dataset_name": dataset_name, "name": name, "format": format,
                                "include_images": include_images}  # fmt: skip
        if class_filter is not None:
            body["class_filter"] = list(class_filter)
        if status_filter is not None:
            body["status_filter"] = status_filter
        if organize_by_split:
            body["organize_by_split"] = True
        if version is not None:
            body["version"] = version
        answer = self._transport.request_json("POST", f"{_API_PATH}/", json=body)
        created = parse_model(Export, data_of(answer))
        if not wait:
            return created
        return self.wait_for_completion(
            dataset_name, name, poll_interval=poll_interval, timeout=timeout
        )

    def list(
        self,
        *,
        dataset_name: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Export]:
        """One page of exports, newest first."""
        params = {"limit": limit, "offset": offset, "dataset_name": dataset_name, "status": status}
        answer = self._transport.request_json("GET", f"{_API_PATH}/", params=params)
        return parse_models(Export, data_of(answer))

    def iter(
        self,
        *,
        dataset_name: str | None = None,
        status: str | None = None,
        page_size: int = 100,
        max_total: int | None = None,
    ) -> OffsetPager[Export]:
        """Every export, fetched page by page."""

        def fetch(offset: int, limit: int) -> Any:
            params = {"limit": limit, "offset": offset, "dataset_name": dataset_name,
                      "status": status}  # fmt: skip
            return self._transport.request_json("GET", f"{_API_PATH}/", params=params)

        return OffsetPager(
            fetch, lambda raw: parse_model(Export, raw), page_size=page_size, max_total=max_total
        )

    def get(self, dataset_name: str, export_name: str) -> Export:
        """The export called ``export_name`` in the dataset; ``NotFoundError`` otherwise."""
        answer = self._transport.request_json(
            "GET", _named(export_name), params={"dataset": dataset_name}
        )
        return parse_model(Export, data_of(answer))

    def get_by_id(self, export_id: str) -> Export:
        if not looks_like_id(export_id):
            raise ValueError(f"not an export id: {export_id!r}")
        answer = self._transport.request_json("GET", f"{_API_PATH}/{export_id}")
        return parse_model(Export, data_of(answer))

    def wait_for_completion(
        self,
        dataset_name: str,
        export_name: str,
        *,
        poll_interval: float = 2.0,
        timeout: float = 300.0,
    ) -> Export:
        """Poll until ``completed``; ``ApiError`` (``job_failed``) or ``PollTimeoutError``."""
        if poll_interval <= 0 or timeout <= 0:
            raise ValueError("poll_interval and timeout must be > 0")
        deadline = time.monotonic() + timeout
        while True:
            export = self.get(dataset_name, export_name)
            if export.status == "completed":
                return export
            if export.status == "failed":
                raise ApiError(
                    f"Export '{export_name}' failed: {export.error_message or 'no reason given'}",
                    code="job_failed",
                    response=export.model_dump(mode="json"),
                )
            if time.monotonic() >= deadline:
                raise PollTimeoutError(f"export '{export_name}' is still {export.status}")
            time.sleep(poll_interval)

    def download(self, dataset_name: str, export_name: str, output_path: str | Path) -> Path:
        """Fetch the finished archive to ``output_path`` (written to ``.part``, then renamed)."""
        answer = self._transport.request_json(
            "GET", _named(export_name) + "/download", params={"dataset": dataset_name}
        )
        return self._transport.download(data_of(answer)["download_url"], Path(output_path))

    def download_by_id(self, export_id: str, output_path: str | Path) -> Path:
        answer = self._transport.request_json("GET", f"{_API_PATH}/{export_id}/download")
        return self._transport.download(data_of(answer)["download_url"], Path(output_path))

    def delete(self, dataset_name: str, export_name: str) -> None:
        """Delete the export and its archive."""
        self._transport.request_json(
            "DELETE", _named(export_name), params={"dataset": dataset_name}
        )

    def bulk_delete(self, export_ids: Sequence[str]) -> BulkDeleteResult:
        answer = self._transport.request_json(
            "POST", f"{_API_PATH}/bulk-delete", json={"export_ids": list(export_ids)}
        )
        return parse_model(BulkDeleteResult, data_of(answer, required=False))


def _named(export_name: str) -> str:
    return f"{_API_PATH}/{quote(export_name, safe='')}"
