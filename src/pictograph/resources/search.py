"""``client.search``: images that look alike, and images carrying tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from pictograph._answers import data_of, parse_models
from pictograph.label_models import SimilarImage, SplitLeak, TaggedImage
from pictograph.protocol import API_PREFIX, looks_like_id
from pictograph.resources._base import Resource

_API_PATH = f"{API_PREFIX}/search"


class Search(Resource):
    def by_similarity(
        self,
        dataset_name: str,
        image: str,
        *,
        threshold: float = 0.6,
        limit: int = 50,
        directory_path: str | None = None,
    ) -> list[SimilarImage]:
        """Images of the same folder most like ``image`` (an id, or a filename in the dataset),
        most alike first, the image itself left out."""
        image_id = (
            image if looks_like_id(image) else self._client.images.get(dataset_name, image).id
        )
        params = {"image_id": image_id, "threshold": threshold, "limit": limit,
                  "directory_path": directory_path}  # fmt: skip
        answer = self._transport.request_json("GET", f"{_API_PATH}/similar", params=params)
        return parse_models(SimilarImage, _results(answer))

    def by_tag(
        self,
        *,
        objects: Sequence[str] | None = None,
        scenes: Sequence[str] | None = None,
        attributes: Sequence[str] | None = None,
        dataset_name: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[TaggedImage]:
        """Images carrying every given tag; ``ValueError`` without any tag."""
        if not (objects or scenes or attributes):
            raise ValueError("give at least one tag")
        params = {"objects": list(objects or []) or None, "scenes": list(scenes or []) or None,
                  "attributes": list(attributes or []) or None, "dataset_name": dataset_name,
                  "limit": limit, "offset": offset}  # fmt: skip
        answer = self._transport.request_json("GET", f"{_API_PATH}/by-tags", params=params)
        return parse_models(TaggedImage, _results(answer))

    def split_leaks(self, dataset_name: str, *, threshold: float = 0.95) -> list[SplitLeak]:
        """Near-duplicate images that sit in different splits (images without a split count as
        ``train``), most alike first: check before training on an export by split. Our
        extension; ``threshold`` in [0.94, 1]."""
        path = f"{API_PREFIX}/datasets/{quote(dataset_name, safe='')}/split-leaks"
        answer = self._transport.request_json("GET", path, params={"threshold": threshold})
        return parse_models(SplitLeak, data_of(answer)["pairs"])


def _results(answer: Any) -> Any:
    return answer.get("results", []) if isinstance(answer, dict) else []
