"""``GET $P/datasets/{dataset}/insights`` on both backends: every figure against what was saved
(an archived image counts for nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command

from pictograph.server.store.database import alembic_config
from tests.images import make_image
from tests.server.flows import P, create_dataset, upload
from tests.server.labelling import box, polygon, save

CLASSES = [{"name": "car", "type": "bbox"}, {"name": "car", "type": "polygon"},
           {"name": "person", "type": "bbox"}, {"name": "road", "type": "polygon"}]  # fmt: skip
#: filename -> (folder, size, annotations, stage)
IMAGES: dict[str, tuple[str, tuple[int, int], list[dict[str, Any]], str]] = {
    "a.png": ("/", (100, 80), [box("car", 1, 1, 5, 5), box("car", 9, 9, 5, 5),
                               box("person", 20, 20, 9, 9)], "complete"),
    "b.png": ("/", (100, 80), [], "new"),
    "c.png": ("/", (80, 100), [polygon("road", [(1, 1), (30, 1), (30, 30)])], "review"),
    "d.png": ("/", (50, 50), [polygon("car", [(1, 1), (9, 1), (9, 9)]), box("car", 2, 2, 4, 4)],
              "annotate"),
    "f.png": ("/sub", (120, 60), [box("person", i, i, 3, 3) for i in range(7)], "annotate"),
    "archived.png": ("/", (300, 10), [box("road", 1, 1, 2, 2)], "complete"),
}  # fmt: skip


def _set(client: Any, ids: list[str], updates: dict[str, Any]) -> None:
    body = {"dataset_name": "health", "image_ids": ids, "updates": updates}
    answer = client.patch(f"{P}/batch/images/update", json=body)
    assert answer.status_code == 200, answer.text


def test_every_figure_of_the_insights_matches_what_was_saved(
    app_client: Any, tmp_path: Path
) -> None:
    create_dataset(app_client, "health", classes=CLASSES, annotation_types=["bbox", "polygon"])
    made = {}
    for name, (folder, size, labels, stage) in IMAGES.items():
        path = make_image(tmp_path / name, size=size)
        made[name] = upload(app_client, "health", path, directory=folder)
        if labels:
            save(app_client, "health", f"{folder.strip('/')}/{name}".lstrip("/"), labels)
        _set(app_client, [made[name]["id"]], {"status": stage})
    _set(app_client, [made["archived.png"]["id"]], {"is_archived": True})
    live = [name for name in IMAGES if name != "archived.png"]

    answer = app_client.get(f"{P}/datasets/health/insights")

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == {
        "total_images": 5,
        "total_annotations": 13,
        "annotated_images": 4,
        "unannotated_images": 1,
        "avg_annotations_per_image": 2.6,
        "total_bytes": sum(made[name]["file_size"] for name in live),
        "status_counts": {"new": 1, "annotate": 2, "review": 1, "complete": 1},
        "class_annotation_counts": {"car": 4, "person": 8, "road": 1},
        # d.png has a car box and a car polygon: one image with a car.
        "class_image_counts": {"car": 2, "person": 2, "road": 1},
        "type_counts": {"bbox": 11, "polygon": 2},
        "annotation_density": {"0": 1, "1": 1, "2-5": 2, "6-10": 1, "11-20": 0, "21+": 0},
        "dimensions": {
            "min_width": 50, "max_width": 120, "avg_width": 90,
            "min_height": 50, "max_height": 100, "avg_height": 74,
            "orientation": {"landscape": 3, "portrait": 1, "square": 1},
            "sizes": [{"w": 100, "h": 80, "count": 2}, {"w": 50, "h": 50, "count": 1},
                      {"w": 80, "h": 100, "count": 1}, {"w": 120, "h": 60, "count": 1}],
            "distinct_size_count": 4,
            "images_with_dimensions": 5,
            "images_missing_dimensions": 0,
        },
        "model_confidence": None,
    }  # fmt: skip
    assert app_client.get(f"{P}/datasets/nope/insights").status_code == 404


def test_an_empty_dataset_has_zero_figures(app_client: Any) -> None:
    create_dataset(app_client, "empty")
    health = app_client.get(f"{P}/datasets/empty/insights").json()["data"]
    assert (health["total_images"], health["avg_annotations_per_image"]) == (0, 0.0)
    assert health["class_annotation_counts"] == {} and health["dimensions"]["sizes"] == []
    assert health["dimensions"]["min_width"] is None
    assert set(health["annotation_density"].values()) == {0}


def test_the_counts_follow_deletes_restores_and_class_edits_and_the_migration_counts_the_same(
    app_client: Any, tmp_path: Path
) -> None:
    create_dataset(app_client, "health", classes=CLASSES, annotation_types=["bbox", "polygon"])
    made = {}
    for name, (folder, size, labels, stage) in IMAGES.items():
        made[name] = upload(app_client, "health", make_image(tmp_path / name, size=size), folder)
        if labels:
            save(app_client, "health", f"{folder.strip('/')}/{name}".lstrip("/"), labels)
        _set(app_client, [made[name]["id"]], {"status": stage})
    _set(app_client, [made["archived.png"]["id"]], {"is_archived": True})
    gone = app_client.post(f"{P}/batch/images/delete", json={"dataset_name": "health",
                           "image_ids": [made["f.png"]["id"]], "permanent": True})  # fmt: skip
    assert gone.status_code == 200, gone.text
    _set(app_client, [made["archived.png"]["id"]], {"is_archived": False})
    body = {"dataset": "health", "old_name": "person", "new_name": "walker"}
    assert app_client.post(f"{P}/annotations/rename-class", json=body).status_code == 200

    health = app_client.get(f"{P}/datasets/health/insights").json()["data"]

    assert (health["total_images"], health["total_annotations"]) == (5, 7)
    assert health["class_annotation_counts"] == {"car": 4, "walker": 1, "road": 2}
    assert health["class_image_counts"] == {"car": 2, "walker": 1, "road": 2}
    assert health["status_counts"] == {"new": 1, "annotate": 1, "review": 1, "complete": 2}
    assert health["dimensions"]["max_width"] == 300
    # Counting again from scratch (the migration's count of existing images) agrees.
    store = app_client.app.state.store
    config = alembic_config()
    with store.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011_editor")
        command.upgrade(config, "head")
        connection.commit()
    assert app_client.get(f"{P}/datasets/health/insights").json()["data"] == health
