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


#: A box class is stored as ``box`` (the official SDK's word), a box annotation as ``bbox``.
_SAME_KIND = {"bbox": "box"}

ClassKey = tuple[str, str | None]


def kind(type_: str | None) -> str | None:
    """The class type ``type_`` stands for (``bbox`` and ``box`` are one)."""
    return _SAME_KIND.get(type_ or "", type_) if type_ else None


def key_of(item: dict[str, Any]) -> ClassKey:
    """What identifies a class: its name and its type (``car`` the box and ``car`` the polygon
    are two classes); a class stored without a type has ``None``."""
    return (str(item["name"]), kind(item.get("type")))


def admits(classes: list[dict[str, Any]], name: str, annotation_type: str) -> bool:
    """Whether an annotation of ``annotation_type`` may carry class ``name``: a class of that
    name and type exists, or one of that name without a type (it admits every type), or the
    name has just one class (a box drawn for a polygon class, as saves always allowed); when the
    name has several types and none is this one, which class it is would be a guess."""
    keys = [key_of(item) for item in classes if item.get("name") == name]
    return (name, kind(annotation_type)) in keys or (name, None) in keys or len(keys) == 1


def stored_classes(classes: list[DatasetClass]) -> list[dict[str, Any]]:
    """Classes as stored JSON; ``ValidationError`` on a name and type given twice or control
    characters."""
    stored = [item.model_dump(mode="json", exclude_none=True) for item in classes]
    seen: set[ClassKey] = set()
    for item in stored:
        refuse_control(item["name"], "a class name")
        if key_of(item) in seen:
            shown = f" of type {item['type']}" if item.get("type") else ""
            raise ValidationError(f"class {item['name']!r}{shown} appears more than once")
        seen.add(key_of(item))
    return stored


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
    """Apply the writer's change (``base`` -> ``new``, by class name and type) to the
    ``current`` list.

    Classes another writer added since ``base`` was read survive; removals and edits apply.
    """
    base_by_key = {key_of(item): item for item in base}
    new_keys = {key_of(item) for item in new}
    removed = {key for key in base_by_key if key not in new_keys}
    result = [item for item in current if key_of(item) not in removed]
    position = {key_of(item): index for index, item in enumerate(result)}
    for item in new:
        if base_by_key.get(key_of(item)) == item:
            continue
        if key_of(item) in position:
            result[position[key_of(item)]] = item
        else:
            position[key_of(item)] = len(result)
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
