"""`make bench-labelling`: server time of the labelling loop on a 20,000-image dataset.

Seeds a store (SQLite under a temporary home) with N images straight through the metadata tables
and the blob store (one small real JPEG stored N times, so setup measures nothing of uploads):
20 folders of 1,000 images; the first quarter labelled (two boxes each), of which some are in
review and some complete. Then drives the real app in-process (Starlette's test client: no
socket, so the time is the server's handling of each request, middleware, service, SQL and
template rendering) and reports p50 and p95 over ``BENCH_LABELLING_SAMPLES`` requests of:

- the gallery's image page (labels drawn, review block, similar images of its folder; each
  folder opened once before, so its image descriptors exist, as on a store in use),
- the gallery's dataset page (thumbnails, counts per status, classes with counts),
- "next image to label" (first of the queue, after a given image, by folder, by class),
- an annotation save (three boxes replacing an image's labels).

Writes nothing: prints a Markdown table for docs/benchmarks.md, with the load average.
"""

from __future__ import annotations

import io
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.image_rows import ImageRows  # noqa: E402
from pictograph.server import ServerSettings, create_app  # noqa: E402
from pictograph.server.service.context import AppContext  # noqa: E402
from pictograph.server.store import tables as t  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

COUNT = int(os.environ.get("BENCH_LABELLING_IMAGES", "20000"))
SAMPLES = int(os.environ.get("BENCH_LABELLING_SAMPLES", "200"))
FOLDER_SIZE = 1000
P = "/api/v1/developer"


def seed(store: AppContext) -> tuple[str, list[dict[str, Any]]]:
    """Dataset "big" of ``COUNT`` images in the store's default organisation; its rows."""
    buffer = io.BytesIO()
    Image.effect_noise((64, 48), 64).convert("RGB").save(buffer, "JPEG", quality=80)
    picture = buffer.getvalue()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with store.read() as conn:
        org = conn.execute(t.organizations.select().where(t.organizations.c.name == "local"))
        org_id = org.one().id
    dataset_id = str(uuid.uuid4())
    classes = [{"name": "car", "type": "bbox", "color": "#e6194b"},
               {"name": "person", "type": "bbox", "color": "#3cb44b"}]  # fmt: skip
    with store.write() as conn:
        conn.execute(t.datasets.insert().values(
            id=dataset_id, organization_id=org_id, name="big", annotation_types=["bbox"],
            classes=classes, is_public=False, is_archived=False, created_at=start,
            updated_at=start))  # fmt: skip
    labelled = COUNT // 4
    writer = ImageRows(store, chunk=1000)
    every: list[dict[str, Any]] = []
    for index in range(COUNT):
        blob = store.blobs.write_stream([picture])
        name = "car" if index % 2 else "person"
        boxes = [{"id": f"b{i}", "name": name, "type": "bbox", "confidence": 1.0,
                  "attributes": [], "bounding_box": {"x": 4 * i, "y": 3, "w": 10, "h": 8}}
                 for i in range(2)] if index < labelled else []  # fmt: skip
        status = "new"
        if index < labelled:
            status = "complete" if index % 5 < 3 else ("review" if index % 5 == 3 else "annotate")
        stamp = start + timedelta(seconds=index)
        row = {"id": str(uuid.uuid4()), "dataset_id": dataset_id,
               "directory_path": f"/part-{index // FOLDER_SIZE:03d}",
               "filename": f"img-{index:06d}.jpg", "file_size": blob.size, "width": 64,
               "height": 48, "content_type": "image/jpeg", "sha256": blob.sha256,
               "blob_key": blob.key, "status": status, "split": None, "tags": [],
               "annotations": boxes, "annotation_count": len(boxes),
               "min_confidence": 1.0 if boxes else None, "is_archived": False,
               "created_at": stamp, "updated_at": stamp}  # fmt: skip
        writer.add(row)
        every.append(row)
    writer.flush()
    return dataset_id, every


def timed(samples: int, call: Callable[[int], Any]) -> list[float]:
    """Milliseconds of each of ``samples`` calls (each must succeed)."""
    found = []
    for index in range(samples):
        began = time.perf_counter()
        response = call(index)
        found.append((time.perf_counter() - began) * 1000)
        assert response.status_code in (200, 303), (response.status_code, response.text[:300])
    return found


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return statistics.median(values), cuts[18]


def main() -> int:
    picked = random.Random(20)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        settings = ServerSettings(home=home, database_url=f"sqlite:///{home / 'metadata.db'}",
                                  storage_url=f"file://{home}/blobs")  # fmt: skip
        with TestClient(create_app(settings), follow_redirects=False) as client:
            started = time.monotonic()
            dataset_id, rows = seed(client.app.state.store)  # type: ignore[attr-defined]
            print(f"seeded {COUNT} images in {time.monotonic() - started:.1f} s", flush=True)
            # images of three folders; each folder's page opened once first (descriptors made)
            every_folder = sorted({row["directory_path"] for row in rows})
            folders = every_folder[:: max(1, len(every_folder) // 3)][:3]
            pool = [row for row in rows if row["directory_path"] in folders]
            warm = {}
            for name in folders:
                first = next(row for row in pool if row["directory_path"] == name)
                began = time.perf_counter()
                client.get(f"/images/{first['id']}").raise_for_status()
                warm[name] = (time.perf_counter() - began) * 1000
            three = [{"id": f"s{i}", "name": "car", "type": "bbox",
                      "bounding_box": {"x": 2 + i, "y": 2, "w": 12, "h": 9}}
                     for i in range(3)]  # fmt: skip
            calls: dict[str, Callable[[int], Any]] = {
                "gallery image page": lambda i: client.get(f"/images/{picked.choice(pool)['id']}"),
                "gallery dataset page": lambda i: client.get(f"/datasets/{dataset_id}"),
                "next to label (first)": lambda i: client.get(f"{P}/datasets/big/queue/next"),
                "next to label (after an image)": lambda i: client.get(
                    f"{P}/datasets/big/queue/next",
                    params={"after": picked.choice(rows)["id"]},
                ),
                "next to label (in a folder)": lambda i: client.get(
                    f"{P}/datasets/big/queue/next",
                    params={"folder": picked.choice(rows)["directory_path"]},
                ),
                "next to label (by class)": lambda i: client.get(
                    f"{P}/datasets/big/queue/next", params={"class_name": "car"}
                ),
                "annotation save (3 boxes)": lambda i: client.post(
                    f"{P}/annotations/big/{_path(picked.choice(rows))}",
                    json={"annotations": three},
                ),
            }
            results = {name: percentiles(timed(SAMPLES, call)) for name, call in calls.items()}
    load = os.getloadavg()
    print()
    print(f"Measured by `make bench-labelling` on {datetime.now(UTC):%Y-%m-%d}: "
          f"{os.cpu_count()} cores, {platform.platform(terse=True)}, Python "
          f"{platform.python_version()}; SQLite; {COUNT:,} images in {COUNT // FOLDER_SIZE} "
          f"folders, a quarter labelled; {SAMPLES} requests each, in-process (no socket); "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} when the run "
          f"ended.")  # fmt: skip
    print()
    print("| request | p50 ms | p95 ms |")
    print("|---|---|---|")
    for name, (p50, p95) in results.items():
        print(f"| {name} | {p50:.1f} | {p95:.1f} |")
    first_open = ", ".join(f"{ms:.0f}" for ms in warm.values())
    print()
    print(f"First open of an image page in a folder of {FOLDER_SIZE} images (descriptors made "
          f"for the similar images): {first_open} ms.")  # fmt: skip
    return 0


def _path(row: dict[str, Any]) -> str:
    return f"{row['directory_path'].strip('/')}/{row['filename']}"


if __name__ == "__main__":
    raise SystemExit(main())
