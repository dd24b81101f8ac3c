"""``client.trash``: what was deleted without ``permanent``: list, restore, purge."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pictograph._answers import data_of, parse_model, parse_models
from pictograph.models import Dataset, Image, TrashItem
from pictograph.protocol import API_PREFIX
from pictograph.resources._base import OffsetPager, Resource

_API_PATH = f"{API_PREFIX}/trash"


def _item(kind: str, item_id: str, suffix: str = "") -> str:
    return f"{_API_PATH}/{kind}/{quote(item_id, safe='')}{suffix}"


class Trash(Resource):
    """Datasets and images deleted without ``permanent``: restorable, with bytes and labels,
    until ``expires_at`` (the server's retention, 30 days by default); gc removes them after."""

    def list(self, *, limit: int = 100, offset: int = 0) -> list[TrashItem]:
        """One page of the trash, most recently deleted first."""
        return parse_models(TrashItem, self._page(offset, limit).get("data", []))

    def iter(self, *, page_size: int = 100, max_total: int | None = None) -> OffsetPager[TrashItem]:
        """Everything in the trash, ``page_size`` at a time, stopping after ``max_total``."""
        return OffsetPager(
            self._page,
            lambda raw: parse_model(TrashItem, raw),
            page_size=page_size,
            max_total=max_total,
        )

    def _page(self, offset: int, limit: int) -> dict[str, Any]:
        params = {"limit": limit, "offset": offset}
        body = self._transport.request_json("GET", _API_PATH, params=params)
        return dict(body) if isinstance(body, dict) else {}

    def restore_dataset(self, dataset_id: str, new_name: str | None = None) -> Dataset:
        """Bring a dataset back with its images, folders and labels; ``ConflictError`` when a
        live dataset has its name (give ``new_name``)."""
        body = {"new_name": new_name} if new_name is not None else {}
        answer = self._transport.request_json(
            "POST", _item("datasets", dataset_id, "/restore"), json=body
        )
        return parse_model(Dataset, data_of(answer))

    def restore_image(self, image_id: str) -> Image:
        """Bring an image back (no longer archived); ``ConflictError`` when its path is taken."""
        answer = self._transport.request_json("POST", _item("images", image_id, "/restore"))
        return parse_model(Image, data_of(answer))

    def purge_dataset(self, dataset_id: str) -> dict[str, Any]:
        """Remove a trashed dataset and its bytes now, for good; the server's summary."""
        summary = data_of(self._transport.request_json("DELETE", _item("datasets", dataset_id)))
        return dict(summary) if isinstance(summary, dict) else {}

    def purge_image(self, image_id: str) -> dict[str, Any]:
        """Remove a trashed image and its bytes now, for good."""
        summary = data_of(self._transport.request_json("DELETE", _item("images", image_id)))
        return dict(summary) if isinstance(summary, dict) else {}
