"""Archive names for an image and the label file beside it, unique across one export.

A label file is named after its image's stem, so two images of one folder differing only by
suffix (``a.jpg``, ``a.webp``) would share one. The later one (exports run in path order, so
always the same one) is renamed in the archive, its suffix kept in its name (``a_webp.webp``);
the formats that write a manifest list every renamed image there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath


class Places:
    """``place(image member)`` -> ``(image member, label member)``, both unique in the export."""

    def __init__(self, label_of: Callable[[str], str]) -> None:
        self._label_of = label_of
        self._images: set[str] = set()
        self._labels: set[str] = set()
        #: archive member -> the member the image would have had, for every renamed image.
        self.renamed: dict[str, str] = {}

    def place(self, wanted: str) -> tuple[str, str]:
        image, label = wanted, self._label_of(wanted)
        pure = PurePosixPath(wanted)
        tag = pure.suffix.lstrip(".")
        attempt = 1
        while image in self._images or label in self._labels:
            extra = f"_{attempt}" if attempt > 1 else ""
            image = str(pure.with_name(f"{pure.stem}_{tag}{extra}{pure.suffix}"))
            label = self._label_of(image)
            attempt += 1
        if image != wanted:
            self.renamed[image] = wanted
        self._images.add(image)
        self._labels.add(label)
        return image, label


def beside(suffix: str) -> Callable[[str], str]:
    """A label named like its image with ``suffix`` instead of the image's (LabelMe)."""
    return lambda image: str(PurePosixPath(image).with_suffix(suffix))
