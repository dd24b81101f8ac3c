"""``client.batch``: status, move, copy, copy to another dataset, archive, restore, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pictograph._answers import parse_model
from pictograph.label_models import BatchResult, CopyToDatasetResult
from pictograph.protocol import API_PREFIX
from pictograph.resources._base import Resource

_API_PATH = f"{API_PREFIX}/batch/images"


class Batch(Resource):
    """Work on many images of one dataset at once; each call is one transaction."""

    def _post(self, route: str, body: dict[str, Any], method: str = "POST") -> Any:
        return self._transport.request_json(method, f"{_API_PATH}/{route}", json=body)

    def move(
        self,
        dataset_name: str,
        image_ids: Sequence[str],
        *,
        target_directory_path: str = "/",
        rename_duplicates: bool = True,
    ) -> BatchResult:
        """Move images to a folder (created when missing). A name taken there becomes ``a-1.png``,
        ``a-2.png``, ... as the official SDK documents; with ``rename_duplicates=False`` it is a
        ``ConflictError`` instead and nothing moves."""
        body = {"dataset_name": dataset_name, "image_ids": list(image_ids),
                "target_directory_path": target_directory_path,
                "duplicate_handling": "rename" if rename_duplicates else "fail"}  # fmt: skip
        return parse_model(BatchResult, self._post("move", body))

    def copy(
        self,
        dataset_name: str,
        image_ids: Sequence[str],
        *,
        target_directory_path: str = "/",
        duplicate_handling: str = "rename",
        copy_annotations: bool = False,
    ) -> BatchResult:
        """Copy images (new ids) into a folder; taken names ``rename``, ``skip`` or
        ``overwrite``."""
        body = {"dataset_name": dataset_name, "image_ids": list(image_ids),
                "target_directory_path": target_directory_path,
                "duplicate_handling": duplicate_handling,
                "copy_annotations": copy_annotations}  # fmt: skip
        return parse_model(BatchResult, self._post("copy", body))

    def copy_to_dataset(
        self,
        dataset_name: str,
        image_ids: Sequence[str],
        target_dataset_name: str,
        *,
        target_directory_path: str = "/",
    ) -> CopyToDatasetResult:
        """Copy images with their labels into another dataset (missing classes are added)."""
        body = {"dataset_name": dataset_name, "image_ids": list(image_ids),
                "target_dataset_name": target_dataset_name,
                "target_directory_path": target_directory_path}  # fmt: skip
        return parse_model(CopyToDatasetResult, self._post("copy-to-dataset", body))

    def delete(
        self, dataset_name: str, image_ids: Sequence[str], *, permanent: bool = False
    ) -> BatchResult:
        """Archive images (restore with ``update(is_archived=False)``), or delete them."""
        body = {"dataset_name": dataset_name, "image_ids": list(image_ids), "permanent": permanent}
        return parse_model(BatchResult, self._post("delete", body))

    def update(
        self,
        dataset_name: str,
        image_ids: Sequence[str],
        *,
        status: str | None = None,
        display_name: str | None = None,
        is_archived: bool | None = None,
    ) -> BatchResult:
        """Set status and/or archive flag; ``ValueError`` when no field is given."""
        updates = {k: v for k, v in (("status", status), ("display_name", display_name),
                                     ("is_archived", is_archived)) if v is not None}  # fmt: skip
        if not updates:
            raise ValueError("give status, display_name or is_archived")
        body = {"dataset_name": dataset_name, "image_ids": list(image_ids), "updates": updates}
        return parse_model(BatchResult, self._post("update", body, "PATCH"))
