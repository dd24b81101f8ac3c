"""One export being built: where its rows come from, and the manifest it may write."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pictograph.server.service.context import AppContext, aware
from pictograph.server.service.export_archive import Archive
from pictograph.server.service.export_rows import Selection, images


@dataclass
class Job:
    """One export being built: its row, its source (the dataset row, or for a version the
    dataset as the version froze it: name, classes, annotation types), what it has written."""

    store: AppContext
    export: dict[str, Any]
    dataset: dict[str, Any]
    #: Called once per image: keeps the job's heartbeat, raises when the job must stop.
    beat: Callable[[], None]
    #: The version row exported, None for the live dataset.
    version: dict[str, Any] | None = None
    image_count: int = 0
    annotation_count: int = 0
    #: Annotation types seen in the exported rows (after the class filter).
    types_seen: set[str] = field(default_factory=set)
    _selection: Selection | None = field(default=None, repr=False)

    @property
    def selection(self) -> Selection:
        if self._selection is None:
            self._selection = Selection(
                self.dataset["id"],
                self.export["status_filter"],
                self.export["class_filter"],
                self.version["id"] if self.version else None,
            )
        return self._selection

    def splits(self) -> list[tuple[str, str | None]]:
        """``(member prefix, split folder)`` pairs: one unsplit part, or train/valid/test."""
        if self.export["organize_by_split"]:
            return [(f"{name}/", name) for name in ("train", "valid", "test")]
        return [("", None)]

    def rows(self, split: str | None) -> Iterator[dict[str, Any]]:
        for row in images(self.store, self.selection, split):
            self.beat()
            self.types_seen.update(
                str(a["type"]) for a in row["annotations"] if isinstance(a.get("type"), str)
            )
            yield row

    def classes(self) -> list[dict[str, Any]]:
        """The dataset's classes in their order, after the class filter."""
        keep = self.export["class_filter"]
        return [c for c in self.dataset["classes"] or [] if keep is None or c["name"] in keep]

    def class_names(self) -> list[str]:
        """The exported classes' distinct names, in order. Formats key labels by name, so car
        the box and car the polygon are one category there, their geometry telling them apart."""
        return list(dict.fromkeys(c["name"] for c in self.classes()))

    def annotation_types(self) -> list[str]:
        """The dataset's declared annotation types, then any other type its exported
        annotations hold (a dataset declared ``["bbox"]`` may store polygons)."""
        declared = [str(kind) for kind in self.dataset["annotation_types"] or []]
        return declared + sorted(self.types_seen - set(declared))


def manifest(job: Job, out: Archive, **extra: Any) -> dict[str, Any]:
    """``manifest.json``: what was exported, from what. Nothing in it changes from one build to
    the next (no export id, name or time), so a version's export is the same bytes every time."""
    export, version = job.export, job.version
    created = aware(version["created_at"]) if version else None
    return {
        "format": export["format"],
        "dataset": {"id": job.dataset["id"], "name": job.dataset["name"]},
        "version": None
        if version is None
        else {
            "id": version["id"],
            "name": version["name"],
            "created_at": created.isoformat() if created else None,
        },
        "annotation_types": job.annotation_types(),
        "classes": job.classes(),
        "filters": {
            "class_filter": export["class_filter"],
            "status_filter": export["status_filter"],
            "organize_by_split": bool(export["organize_by_split"]),
            "include_images": bool(export["include_images"]),
        },
        "image_count": job.image_count,
        "annotation_count": job.annotation_count,
        "missing_images": out.missing,
        **extra,
    }
