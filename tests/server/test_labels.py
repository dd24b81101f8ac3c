"""Labelling routes: bulk saves, checked shapes, SDK-safe reads, class edits, tags, splits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pictograph.server.store import tables as t
from tests.server.flows import P
from tests.server.labelling import CLASSES, box, labelled_dataset, polygon


def test_a_bulk_save_fails_unknown_ids_and_bad_annotations_alone(
    app_client: Any, tmp_path: Path
) -> None:
    made = labelled_dataset(app_client, tmp_path)
    b, e = made[("/", "b.jpg")]["id"], made[("/", "e.png")]["id"]
    saves = [
        {"image_id": b, "annotations": [box("thing", 1, 1, 5, 5)]},
        {"image_id": e, "annotations": [box("unicorn", 1, 1, 5, 5)]},
        {"image_id": "00000000-0000-4000-8000-000000000000", "annotations": []},
        {"image_id": e, "annotations": [box("thing", 1, 1, 0, 5)]},
    ]
    answer = app_client.post(f"{P}/annotations/bulk", json={"saves": saves}).json()
    assert answer["saved"] == [
        {"image_id": b, "previous_count": 0, "new_count": 1, "status": "new", "version": 1}
    ]
    reasons = [item["error"] for item in answer["failed"]]
    assert reasons[0] == "Class 'unicorn' not in project"
    assert reasons[1] == "image not found" and "w > 0" in reasons[2]
    too_many = [{"image_id": b, "annotations": []}] * 201
    assert app_client.post(f"{P}/annotations/bulk", json={"saves": too_many}).status_code == 422


def test_reads_never_carry_keys_or_boxes_the_official_sdk_rejects(
    app_client: Any, tmp_path: Path
) -> None:
    made = labelled_dataset(app_client, tmp_path)
    flat = {"id": "p", "name": "shape", "type": "polyline", "color": "#fff",
            "polyline": {"path": [{"x": 1, "y": 5}, {"x": 9, "y": 5}]},
            "bounding_box": {"x": 1, "y": 5, "w": 8, "h": 0}, "confidence": None}  # fmt: skip
    with app_client.app.state.store.engine.begin() as conn:  # data stored before checks existed
        conn.execute(
            t.images.update()
            .where(t.images.c.id == made[("/", "e.png")]["id"])
            .values(annotations=[flat])
        )
    read = app_client.get(f"{P}/annotations/roads/e.png").json()["annotations"]
    assert read == [{"id": "p", "name": "shape", "type": "polyline",
                     "polyline": {"path": [{"x": 1, "y": 5}, {"x": 9, "y": 5}]}}]  # fmt: skip
    saved = app_client.post(
        f"{P}/annotations/roads/sub/c.png",
        json={"annotations": [polygon("shape", [(0, 0), (4, 0), (4, 3)])]},
    )
    assert saved.status_code == 200
    back = app_client.get(f"{P}/annotations/roads/sub/c.png").json()["annotations"][0]
    assert back["bounding_box"] == {"x": 0.0, "y": 0.0, "w": 4.0, "h": 3.0}
    assert back["confidence"] == 1.0


def test_class_rename_merge_and_delete_rewrite_stored_annotations(
    app_client: Any, tmp_path: Path
) -> None:
    labelled_dataset(app_client, tmp_path)

    def post(route: str, **body: Any) -> Any:
        return app_client.post(f"{P}/annotations/{route}", json={"dataset": "roads", **body})

    renamed = post("rename-class", old_name="thing", new_name="car").json()["data"]
    assert (renamed["images_updated"], renamed["annotations_updated"]) == (2, 3)
    assert post("rename-class", old_name="car", new_name="car").status_code == 409
    assert post("rename-class", old_name="ghost", new_name="x").status_code == 404
    merged = post("merge-class", source_name="shape", target_name="car").json()["data"]
    assert merged["annotations_updated"] == 2
    names = [c["name"] for c in app_client.get(f"{P}/datasets/roads").json()["data"]["classes"]]
    assert names == ["car"]
    counts = app_client.get(f"{P}/datasets/roads/classes").json()["data"]
    assert [(c["name"], c["annotation_count"], c["image_count"]) for c in counts] == [("car", 5, 3)]
    removed = post("delete-class", name="car", class_type=None, delete_annotations=True)
    assert removed.json()["data"]["annotations_removed"] == 5
    images = app_client.get(f"{P}/images/", params={"dataset": "roads"}).json()["data"]
    assert {i["annotation_count"] for i in images} == {0}


def test_tags_review_and_splits_are_stored_and_shown_on_images(
    app_client: Any, tmp_path: Path
) -> None:
    made = labelled_dataset(app_client, tmp_path)
    ids = [image["id"] for image in made.values()]
    tag = {"dataset": "roads", "image_ids": ids[:2], "tags": ["night", "rain"], "add": True}
    assert app_client.post(f"{P}/images/bulk-tag", json=tag).json() == {"processed": 2}
    untag = {**tag, "tags": ["rain"], "add": False}
    app_client.post(f"{P}/images/bulk-tag", json=untag)
    first = app_client.get(f"{P}/images/{ids[0]}/metadata").json()["data"]
    assert first["tags"] == ["night"]

    review = app_client.post(
        f"{P}/images/roads/sub/c.png/review", json={"action": "request_changes", "note": "tight"}
    ).json()
    assert review["status"] == "annotate"
    approve = app_client.post(f"{P}/images/roads/a.png/review", json={"action": "approve"})
    assert approve.json()["status"] == "complete"
    assert (
        app_client.post(f"{P}/images/roads/a.png/split", json={"split": "val"}).json()["split"]
        == "val"
    )
    assert app_client.post(f"{P}/images/roads/a.png/split", json={"split": "x"}).status_code == 422

    body = {"dataset": "roads", "train": 60, "val": 20, "test": 20, "seed": 7}
    first_split = app_client.post(f"{P}/images/assign-splits", json=body).json()
    assert first_split == {"processed": 5, "train": 3, "val": 1, "test": 1}
    with app_client.app.state.store.engine.begin() as conn:
        before = dict(conn.execute(sa.select(t.images.c.id, t.images.c.split)).all())
    app_client.post(f"{P}/images/assign-splits", json=body)
    with app_client.app.state.store.engine.begin() as conn:
        assert dict(conn.execute(sa.select(t.images.c.id, t.images.c.split)).all()) == before
    embedding = app_client.post(
        f"{P}/images/assign-splits", json={**body, "split_mode": "embedding"}
    )
    assert embedding.status_code == 409


def test_a_class_is_its_name_and_its_type(app_client: Any, tmp_path: Path) -> None:
    made = labelled_dataset(app_client, tmp_path, name="kinds")
    both = [{"name": "cat", "type": "box"}, {"name": "cat", "type": "polygon"}]
    answer = app_client.patch(f"{P}/datasets/kinds", json={"classes": [*CLASSES, *both]})
    assert answer.status_code == 200, answer.text
    twice = app_client.patch(f"{P}/datasets/kinds", json={"classes": [*both, both[0]]})
    assert twice.status_code == 422 and "of type box" in twice.json()["error"]["message"]
    square = polygon("cat", [(1, 1), (9, 1), (9, 9)])
    saved = app_client.post(
        f"{P}/annotations/kinds/e.png", json={"annotations": [box("cat", 1, 1, 5, 5), square]}
    )
    assert saved.status_code == 200, saved.text
    point = {"name": "cat", "type": "keypoint", "keypoint": {"x": 1, "y": 1}}
    refused = app_client.post(f"{P}/annotations/kinds/e.png", json={"annotations": [point]})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "Class 'cat' of type keypoint not in project"

    renamed = app_client.post(
        f"{P}/annotations/rename-class",
        json={"dataset": "kinds", "old_name": "cat", "new_name": "feline"},
    )
    assert renamed.status_code == 200 and renamed.json()["data"]["annotations_updated"] == 2
    classes = app_client.get(f"{P}/datasets/kinds").json()["data"]["classes"]
    assert sorted((c["name"], c.get("type")) for c in classes if c["name"] == "feline") == [
        ("feline", "box"),
        ("feline", "polygon"),
    ]
    removed = app_client.post(
        f"{P}/annotations/delete-class",
        json={"dataset": "kinds", "name": "feline", "class_type": "polygon",
              "delete_annotations": True},
    )  # fmt: skip
    assert removed.status_code == 200, removed.text
    kept = app_client.get(f"{P}/annotations/kinds/e.png").json()["annotations"]
    assert [(a["name"], a["type"]) for a in kept] == [("feline", "bbox")]
    assert (
        made[("/", "e.png")]["id"]
        == app_client.get(f"{P}/annotations/kinds/e.png").json()["image_id"]
    )
