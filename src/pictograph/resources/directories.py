"""``client.directories``: a dataset's virtual folders, addressed by dataset plus path."""

from __future__ import annotations

import builtins
from typing import Any
from urllib.parse import quote

from pictograph._answers import data_of, parse_model, parse_models
from pictograph.models import Directory, DirectoryStats, DirectoryTreeNode
from pictograph.protocol import API_PREFIX
from pictograph.resources._base import Resource

_API_PATH = f"{API_PREFIX}/directories"


def _route(dataset_name: str, directory_path: str | None = None, suffix: str = "") -> str:
    """``/directories/{dataset}[/{path}][suffix]``; the root path gives ``{dataset}//stats``."""
    route = f"{_API_PATH}/{quote(dataset_name, safe='')}"
    if directory_path is not None:
        route += "/" + quote(directory_path.lstrip("/"), safe="/")
    return route + suffix


class Directories(Resource):
    """List, create, rename, delete and count a dataset's folders."""

    def list(self, dataset_name: str, *, parent_path: str | None = None) -> list[Directory]:
        """Every folder of the dataset, or only the direct children of ``parent_path``.

        ``parent_path=""`` lists the root-level folders. Raises ``NotFoundError`` for an unknown
        dataset.
        """
        params = None if parent_path is None else {"parent_path": parent_path}
        body = self._transport.request_json("GET", _route(dataset_name), params=params)
        return parse_models(Directory, body)

    def tree(self, dataset_name: str) -> builtins.list[DirectoryTreeNode]:
        """The root-level folders with their descendants nested under ``children``."""
        body = self._transport.request_json("GET", _route(dataset_name, suffix="/tree"))
        return parse_models(DirectoryTreeNode, body)

    def stats(
        self, dataset_name: str, directory_path: str, *, include_subdirectories: bool = True
    ) -> DirectoryStats:
        """Image and folder counts for a folder (and, by default, everything under it)."""
        body = self._transport.request_json(
            "GET",
            _route(dataset_name, directory_path, "/stats"),
            params={"include_subdirectories": include_subdirectories},
        )
        return parse_model(DirectoryStats, body)

    def delete(self, dataset_name: str, directory_path: str, *, cascade: bool = False) -> None:
        """Delete a folder; ``cascade=True`` first moves its images up to the parent folder.

        Raises ``NotFoundError`` for an unknown folder and ``ValidationError`` (400) for one that
        has subfolders or, without ``cascade``, images.
        """
        self._transport.request_json(
            "DELETE", _route(dataset_name, directory_path), params={"cascade": cascade}
        )

    def create(self, dataset_name: str, directory_path: str) -> Directory:
        """Create a folder and its missing parents; an existing folder is returned as is."""
        body = self._transport.request_json(
            "POST",
            f"{_API_PATH}/",
            json={"dataset": dataset_name, "directory_path": directory_path},
        )
        return parse_model(Directory, _unwrap(body))

    def rename(self, dataset_name: str, directory_path: str, new_name: str) -> Directory:
        """Rename a folder's last segment; descendants and contained images move along.

        Raises ``ConflictError`` when a sibling already has ``new_name``.
        """
        body = self._transport.request_json(
            "PATCH",
            _route(dataset_name, directory_path, "/rename"),
            json={"new_name": new_name},
        )
        return parse_model(Directory, _unwrap(body))


def _unwrap(body: Any) -> Any:
    return data_of(body, required=False)
