"""The labelling workflow of ``client.images``: review, splits (the official SDK's names) and our
extensions, submitting for review and the next image of a queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast
from urllib.parse import quote

from pictograph._answers import data_of, parse_model
from pictograph.errors import ServerError
from pictograph.models import Image, ImageSplit, ImageStatus
from pictograph.protocol import API_PREFIX
from pictograph.resources._base import Resource

Stage = Literal["label", "review"]


def image_route(dataset_name: str, segment: str) -> str:
    """``/images/{dataset}/{dir/filename}``: the per-image routes take a path, never an id."""
    return f"{API_PREFIX}/images/{quote(dataset_name, safe='')}/{quote(segment, safe='/')}"


class ImageWorkflow(Resource):
    """Review, splits and queues; ``image`` is a filename in the root folder, a
    ``dir/filename`` path, or an id."""

    def _segment(self, dataset_name: str, image: str) -> str:
        raise NotImplementedError  # Images resolves ids to paths

    def review(
        self,
        dataset_name: str,
        image: str,
        action: Literal["approve", "request_changes"],
        *,
        note: str | None = None,
    ) -> ImageStatus:
        """``approve`` marks the image ``complete``; ``request_changes`` sends it back to
        ``annotate`` with ``note`` (shown on the image page). Member role or higher. Returns the
        image's new status."""
        body: dict[str, Any] = {"action": action}
        if note is not None:
            body["note"] = note
        answer = self._post(dataset_name, image, "/review", body)
        return cast("ImageStatus", answer.get("status", "complete"))

    def submit_for_review(self, dataset_name: str, image: str) -> ImageStatus:
        """Our extension: status ``review`` (annotator role or higher); refused with
        ``ConflictError`` for an image already complete."""
        answer = self._post(dataset_name, image, "/submit", {})
        return cast("ImageStatus", answer.get("status", "review"))

    def set_split(
        self, dataset_name: str, image: str, split: ImageSplit | None
    ) -> ImageSplit | None:
        """Assign (or clear, ``split=None``) an image's train/val/test split; the split it now
        carries. Member role or higher."""
        answer = self._post(dataset_name, image, "/split", {"split": split})
        return cast("ImageSplit | None", answer.get("split", split))

    def assign_splits(
        self,
        dataset_name: str,
        train: int = 70,
        val: int = 20,
        test: int = 10,
        seed: int = 42,
        mode: Literal["random", "embedding"] = "random",
    ) -> dict[str, int]:
        """Split every non-archived image of the dataset by integer percentages (``val`` and
        ``test`` take their floor, ``train`` the rest), shuffled deterministically by ``seed``:
        the same seed and images give the same split. ``{"processed", "train", "val", "test"}``.
        ``mode="embedding"`` raises ``ConflictError`` (this server keeps no embedding map)."""
        body = {"dataset": dataset_name, "train": train, "val": val, "test": test,
                "seed": seed, "split_mode": mode}  # fmt: skip
        answer = self._transport.request_json(
            "POST", f"{API_PREFIX}/images/assign-splits", json=body
        )
        found = data_of(answer, required=False)
        if not isinstance(found, Mapping):
            raise ServerError("assign-splits answered no counts", response=answer)
        return {key: int(found.get(key) or 0) for key in ("processed", "train", "val", "test")}

    def next_in_queue(
        self,
        dataset_name: str,
        stage: Stage = "label",
        *,
        after: str | None = None,
        folder: str | None = None,
        class_name: str | None = None,
    ) -> Image | None:
        """Our extension: the next image to label (status new or annotate) or to review (status
        review), in folder-path then filename order, after image id ``after``; within
        ``folder`` and its subfolders, holding class ``class_name``. None when the queue holds
        nothing more."""
        params = {"stage": stage, "after": after, "folder": folder, "class_name": class_name}
        answer = self._transport.request_json(
            "GET",
            f"{API_PREFIX}/datasets/{quote(dataset_name, safe='')}/queue/next",
            params={key: value for key, value in params.items() if value is not None},
        )
        found = data_of(answer)
        image = found.get("image") if isinstance(found, Mapping) else None
        return parse_model(Image, image) if image is not None else None

    def _post(self, dataset_name: str, image: str, action: str, body: Any) -> Mapping[str, Any]:
        segment = self._segment(dataset_name, image)
        path = image_route(dataset_name, segment) + action
        answer = data_of(self._transport.request_json("POST", path, json=body), required=False)
        return answer if isinstance(answer, Mapping) else {}
