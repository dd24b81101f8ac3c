"""Helpers of the labelling tests: a labelled dataset, exports waited for and downloaded."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.images import make_image
from tests.server.flows import P, create_dataset, upload

CLASSES = [{"name": "thing", "type": "bbox"}, {"name": "shape", "type": "polygon"}]


def box(name: str, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {"id": f"{name}-{x}-{y}", "name": name, "type": "bbox",
            "bounding_box": {"x": x, "y": y, "w": w, "h": h}, "confidence": 1.0}  # fmt: skip


def polygon(name: str, points: list[tuple[float, float]]) -> dict[str, Any]:
    ring = [{"x": x, "y": y} for x, y in points]
    return {"id": f"{name}-poly", "name": name, "type": "polygon", "polygon": {"paths": [ring]}}


PLACES = [("/", "a.png"), ("/", "b.jpg"), ("/sub", "c.png"), ("/sub", "a.png"), ("/", "e.png")]


def labelled_dataset(
    client: Any, tmp_path: Path, name: str = "roads", types: tuple[str, ...] = ("bbox", "polygon")
) -> dict[Any, Any]:
    """A dataset with classes thing/shape and five 100x80 images in two folders, three labelled;
    the registered images by (folder, filename)."""
    create_dataset(client, name, classes=CLASSES, annotation_types=list(types))
    made = {}
    for index, (folder, filename) in enumerate(PLACES):
        source = tmp_path / "src" / name / folder.strip("/") / filename
        path = make_image(source, size=(100, 80), seed=index)
        made[(folder, filename)] = upload(client, name, path, directory=folder)
    save(client, name, "a.png", [box("thing", 10, 20, 30, 40), box("thing", 50, 5, 10, 10)])
    save(client, name, "sub/c.png", [polygon("shape", [(10, 10), (60, 10), (60, 50)])])
    square = polygon("shape", [(1, 1), (9, 1), (9, 9), (1, 9)])
    save(client, name, "sub/a.png", [box("thing", 0, 0, 100, 80), square])
    return made


def save(client: Any, dataset: str, path: str, annotations: list[dict[str, Any]]) -> None:
    answer = client.post(f"{P}/annotations/{dataset}/{path}", json={"annotations": annotations})
    assert answer.status_code == 200, answer.text


def wait_for_export(client: Any, dataset: str, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = client.get(f"{P}/exports/{quote(name, safe='')}", params={"dataset": dataset})
        assert answer.status_code == 200, answer.text
        export = answer.json()["data"]
        if export["status"] in ("completed", "failed"):
            return dict(export)
        time.sleep(0.05)
    raise AssertionError(f"export {name} did not finish in {timeout} s")


def create_export(client: Any, dataset: str, name: str, **options: Any) -> dict[str, Any]:
    answer = client.post(f"{P}/exports/", json={"dataset_name": dataset, "name": name, **options})
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"]["status"] in ("pending", "processing", "completed")
    done = wait_for_export(client, dataset, name)
    assert done["status"] == "completed", done
    return done


def download(client: Any, dataset: str, name: str, target: Path) -> Path:
    answer = client.get(f"{P}/exports/{quote(name, safe='')}/download", params={"dataset": dataset})
    assert answer.status_code == 200, answer.text
    url = answer.json()["data"]["download_url"]
    archive = client.get(url, headers={"X-API-Key": ""})
    assert archive.status_code == 200, archive.text
    assert archive.headers["content-type"] == "application/zip"
    target.write_bytes(archive.content)
    return target
