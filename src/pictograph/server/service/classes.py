"""A dataset's class list: palette colours and the three-way merge used by updates."""

from __future__ import annotations

from typing import Any

from pictograph.errors import ValidationError
from pictograph.models import DatasetClass
from pictograph.server.service.paths import refuse_control

PALETTE = (
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
    "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
    "#808000", "#ffd8b1", "#000075", "#808080",
)  # fmt: skip

ANNOTATION_TYPES = frozenset({"bbox", "box", "polygon", "polyline", "keypoint"})


def stored_classes(classes: list[DatasetClass]) -> list[dict[str, Any]]:
    """Classes as stored JSON; ``ValidationError`` on duplicate names or control characters."""
    seen: set[str] = set()
    for item in classes:
        refuse_control(item.name, "a class name")
        if item.name in seen:
            raise ValidationError(f"class {item.name!r} appears more than once")
        seen.add(item.name)
    return [item.model_dump(mode="json", exclude_none=True) for item in classes]


def with_colours(classes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``classes`` where every class without a colour gets the next unused palette colour."""
    used = {item.get("color") for item in classes}
    free = [colour for colour in PALETTE if colour not in used]
    result = []
    for index, item in enumerate(classes):
        if not item.get("color"):
            colour = free.pop(0) if free else PALETTE[index % len(PALETTE)]
            item = {**item, "color": colour}
        result.append(item)
    return result


def merge_classes(
    current: list[dict[str, Any]], base: list[dict[str, Any]], new: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Apply the writer's change (``base`` -> ``new``, by class name) to the ``current`` list.

    Classes another writer added since ``base`` was read survive; removals and edits apply.
    """
    base_by_name = {item["name"]: item for item in base}
    new_names = {item["name"] for item in new}
    removed = {name for name in base_by_name if name not in new_names}
    result = [item for item in current if item["name"] not in removed]
    position = {item["name"]: index for index, item in enumerate(result)}
    for item in new:
        if base_by_name.get(item["name"]) == item:
            continue
        if item["name"] in position:
            result[position[item["name"]]] = item
        else:
            position[item["name"]] = len(result)
            result.append(item)
    return result


def check_annotation_types(types: list[str]) -> list[str]:
    """``types`` when each is known; ``ValidationError`` otherwise."""
    unknown = [kind for kind in types if kind not in ANNOTATION_TYPES]
    if unknown:
        raise ValidationError(
            f"unknown annotation types {unknown}: expected {sorted(ANNOTATION_TYPES)}"
        )
    return list(types)
