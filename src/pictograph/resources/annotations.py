"""``client.annotations``: an image's annotations, bulk saves, class edits, COCO/YOLO imports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pictograph._answers import data_of, parse_model
from pictograph.label_import import ImageIndex, ImportPlan, from_coco, from_yolo, read_coco
from pictograph.label_models import BulkSaveResult, SaveResult, VersionedAnnotations
from pictograph.protocol import API_PREFIX
from pictograph.resources._base import Resource

_API_PATH = f"{API_PREFIX}/annotations"
#: Most images one bulk save may carry (the server's cap).
BULK_CAP = 200


def _route(dataset_name: str, image: str) -> str:
    return f"{_API_PATH}/{quote(dataset_name, safe='')}/{quote(image.lstrip('/'), safe='/')}"


class Annotations(Resource):
    """Annotations are plain dicts in the wire format (``bbox``, ``polygon``, ``polyline``,
    ``keypoint``); an image is named by its path in the dataset (``sub/a.png``)."""

    def get(self, dataset_name: str, image: str) -> list[dict[str, Any]]:
        answer = self._transport.request_json("GET", _route(dataset_name, image))
        return list(answer.get("annotations", []))

    def get_with_version(self, dataset_name: str, image: str) -> VersionedAnnotations:
        """The image's annotations and their version, for a save that must not overwrite a
        change made after this read (``save(..., version=found.version)``)."""
        answer = self._transport.request_json("GET", _route(dataset_name, image))
        return parse_model(VersionedAnnotations, answer)

    def save(
        self,
        dataset_name: str,
        image: str,
        annotations: Sequence[Mapping[str, Any]],
        *,
        version: int | None = None,
    ) -> SaveResult:
        """Replace the image's annotations. ``ValidationError`` for an unknown class (400) or a
        bad shape (422). With ``version`` (from ``get_with_version`` or a previous save's
        ``SaveResult.version``), ``ConflictError`` when someone changed them since; nothing is
        saved then."""
        body: dict[str, Any] = {"annotations": [dict(item) for item in annotations]}
        if version is not None:
            body["version"] = version
        answer = self._transport.request_json("POST", _route(dataset_name, image), json=body)
        return parse_model(SaveResult, answer)

    def delete(self, dataset_name: str, image: str) -> int:
        """Remove every annotation of the image; how many there were."""
        answer = self._transport.request_json("DELETE", _route(dataset_name, image))
        return int(answer.get("deleted_count", 0))

    def bulk_save(self, saves: Mapping[str, Sequence[Mapping[str, Any]]]) -> BulkSaveResult:
        """Replace the annotations of many images by id, ``BULK_CAP`` per request; an unknown
        id or refused annotation fails that image alone (``failed``)."""
        result = BulkSaveResult()
        items = list(saves.items())
        for start in range(0, len(items), BULK_CAP):
            chunk = items[start : start + BULK_CAP]
            body = {"saves": [{"image_id": i, "annotations": [dict(a) for a in anns]}
                              for i, anns in chunk]}  # fmt: skip
            answer = self._transport.request_json("POST", f"{_API_PATH}/bulk", json=body)
            part = parse_model(BulkSaveResult, answer)
            result.saved.extend(part.saved)
            result.failed.extend(part.failed)
        return result

    def rename_class(self, dataset_name: str, old_name: str, new_name: str) -> dict[str, Any]:
        body = {"dataset": dataset_name, "old_name": old_name, "new_name": new_name}
        return dict(data_of(self._transport.request_json(
            "POST", f"{_API_PATH}/rename-class", json=body), required=False))  # fmt: skip

    def merge_class(self, dataset_name: str, source_name: str, target_name: str) -> dict[str, Any]:
        body = {"dataset": dataset_name, "source_name": source_name, "target_name": target_name}
        return dict(data_of(self._transport.request_json(
            "POST", f"{_API_PATH}/merge-class", json=body), required=False))  # fmt: skip

    def delete_class(
        self,
        dataset_name: str,
        name: str,
        *,
        class_type: str | None = None,
        delete_annotations: bool = False,
    ) -> dict[str, Any]:
        body = {"dataset": dataset_name, "name": name, "class_type": class_type,
                "delete_annotations": delete_annotations}  # fmt: skip
        return dict(data_of(self._transport.request_json(
            "POST", f"{_API_PATH}/delete-class", json=body), required=False))  # fmt: skip

    def import_coco(self, dataset_name: str, coco: str | Path | Mapping[str, Any]) -> ImportPlan:
        """Save a COCO file's boxes and polygons onto the dataset's images (missing classes
        are added first); the plan carried out, with files that matched no image."""
        if isinstance(coco, Mapping):
            document, source = dict(coco), "COCO document"
        else:
            document, source = read_coco(Path(coco)), str(coco)
        plan = from_coco(document, self._index(dataset_name), source)
        return self._carry_out(dataset_name, plan)

    def import_yolo(self, dataset_name: str, folder: str | Path) -> ImportPlan:
        """Save a YOLO folder's boxes (``data.yaml`` or ``classes.txt`` + ``labels/*.txt``)."""
        return self._carry_out(dataset_name, from_yolo(Path(folder), self._index(dataset_name)))

    def _index(self, dataset_name: str) -> ImageIndex:
        return ImageIndex(self._client.images.iter(dataset_name, page_size=1000))

    def _carry_out(self, dataset_name: str, plan: ImportPlan) -> ImportPlan:
        dataset = self._client.datasets.get(dataset_name)
        have = [c.model_dump(mode="json", exclude_none=True) for c in dataset.classes]
        missing = [{"name": n, "type": k} for n, k in plan.classes.items()
                   if n not in {c["name"] for c in have}]  # fmt: skip
        if missing:
            self._client.datasets.update(dataset_name, classes=have + missing, classes_base=have)
        outcome = self.bulk_save(plan.saves)
        plan.saved_images = len(outcome.saved)
        plan.saved_annotations = sum(item.new_count for item in outcome.saved)
        plan.failed = [(item.image_id, item.error) for item in outcome.failed]
        return plan
