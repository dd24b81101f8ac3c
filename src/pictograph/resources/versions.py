"""``client.versions``: freeze a dataset under a name, list, read and delete its versions (our
extension, ``$P/datasets/{dataset}/versions``). Export one with
``client.exports.create(..., version=NAME)``."""

from __future__ import annotations

import builtins
from urllib.parse import quote

from pictograph._answers import data_of, parse_model, parse_models
from pictograph.label_models import DatasetVersion
from pictograph.protocol import API_PREFIX
from pictograph.resources._base import Resource


class Versions(Resource):
    """Dataset versions: rows frozen without copying image bytes."""

    def create(
        self, dataset_name: str, name: str, *, description: str | None = None
    ) -> DatasetVersion:
        """Freeze the dataset's images, labels, classes and splits as version ``name``.

        ``ConflictError`` when the dataset has a version of that name, ``NotFoundError`` for an
        unknown dataset, ``ValidationError`` for a bad name.
        """
        body = {"name": name, "description": description}
        answer = self._transport.request_json("POST", _path(dataset_name), json=body)
        return parse_model(DatasetVersion, data_of(answer))

    def list(self, dataset_name: str) -> builtins.list[DatasetVersion]:
        """The dataset's versions, newest first."""
        answer = self._transport.request_json("GET", _path(dataset_name))
        return parse_models(DatasetVersion, data_of(answer))

    def get(self, dataset_name: str, name: str) -> DatasetVersion:
        """One version (by name or id), with its image count per split."""
        answer = self._transport.request_json("GET", _path(dataset_name, name))
        return parse_model(DatasetVersion, data_of(answer))

    def delete(self, dataset_name: str, name: str) -> None:
        """Delete the version and its exports (the live dataset is untouched)."""
        self._transport.request_json("DELETE", _path(dataset_name, name))


def _path(dataset_name: str, name: str | None = None) -> str:
    base = f"{API_PREFIX}/datasets/{quote(dataset_name, safe='')}/versions"
    return base if name is None else f"{base}/{quote(name, safe='')}"
