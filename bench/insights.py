"""`make bench-insights`: server time of ``GET $P/datasets/{ds}/insights`` on a 100,000-image
dataset.

Seeds a store (SQLite under a temporary home, or ``BENCH_INSIGHTS_DATABASE_URL``) with N image
rows inserted in bulk with SQL (one small real JPEG stored once, every row naming it: insights
read no bytes): 100 folders, six sizes of picture, 40% labelled with 1 to 25 annotations each
(boxes, polygons and keypoints of eight classes), labelling stages spread over them. Then drives
the real app in-process (Starlette's test client: no socket, so the time is the server's
handling of the request, middleware, service and SQL) and reports p50 and p95 over
``BENCH_INSIGHTS_SAMPLES`` calls against the 200 ms target.

Writes nothing: prints a Markdown line and table for docs/benchmarks.md, with the load average.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.image_rows import ImageRows  # noqa: E402
from pictograph.server import ServerSettings, create_app  # noqa: E402
from pictograph.server.service.context import AppContext  # noqa: E402
from pictograph.server.store import tables as t  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

COUNT = int(os.environ.get("BENCH_INSIGHTS_IMAGES", "100000"))
SAMPLES = int(os.environ.get("BENCH_INSIGHTS_SAMPLES", "50"))
DATABASE_URL = os.environ.get("BENCH_INSIGHTS_DATABASE_URL")
TARGET_MS = 200
P = "/api/v1/developer"
CLASSES = [("car", "bbox"), ("person", "bbox"), ("sign", "bbox"), ("bike", "bbox"),
           ("road", "polygon"), ("building", "polygon"), ("tree", "polygon"),
           ("joint", "keypoint")]  # fmt: skip
SIZES = [(1920, 1080), (1280, 720), (640, 480), (1080, 1920), (1024, 1024), (800, 600)]
STAGES = ["annotate", "review", "complete"]


def _annotation(rng: random.Random, index: int) -> dict[str, Any]:
    name, kind = rng.choice(CLASSES)
    found: dict[str, Any] = {"id": f"a{index}", "name": name, "type": kind, "confidence": 1.0}
    if kind == "bbox":
        found["bounding_box"] = {"x": rng.randrange(500), "y": rng.randrange(300), "w": 40, "h": 30}
    elif kind == "polygon":
        ring = [{"x": rng.randrange(600), "y": rng.randrange(400)} for _ in range(6)]
        found["polygon"] = {"paths": [ring]}
    else:
        found["keypoints"] = [{"x": rng.randrange(600), "y": rng.randrange(400), "visible": 2}]
    return found


def seed(store: AppContext) -> str:
    """Dataset "big" of ``COUNT`` image rows in the store's default organisation."""
    rng = random.Random(22)
    buffer = io.BytesIO()
    Image.effect_noise((64, 48), 64).convert("RGB").save(buffer, "JPEG", quality=80)
    blob = store.blobs.write_stream([buffer.getvalue()])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with store.read() as conn:
        org = conn.execute(t.organizations.select().where(t.organizations.c.name == "local"))
        org_id = org.one().id
    dataset_id = str(uuid.uuid4())
    classes = [{"name": name, "type": kind} for name, kind in CLASSES]
    with store.write() as conn:
        conn.execute(t.datasets.insert().values(
            id=dataset_id, organization_id=org_id, name="big",
            annotation_types=["bbox", "polygon", "keypoint"], classes=classes, is_public=False,
            is_archived=False, created_at=start, updated_at=start))  # fmt: skip
    writer = ImageRows(store, chunk=5000)
    for index in range(COUNT):
        labelled = rng.random() < 0.4
        annotations = [_annotation(rng, i) for i in range(rng.randint(1, 25))] if labelled else []
        width, height = rng.choice(SIZES)
        stamp = start + timedelta(seconds=index)
        writer.add({"id": str(uuid.uuid4()), "dataset_id": dataset_id,
                     "directory_path": f"/part-{index % 100:03d}",
                     "filename": f"img-{index:06d}.jpg", "file_size": blob.size + index % 5000,
                     "width": width, "height": height, "content_type": "image/jpeg",
                     "sha256": blob.sha256, "blob_key": blob.key,
                     "status": rng.choice(STAGES) if labelled else "new", "split": None,
                     "tags": [], "annotations": annotations,
                     "annotation_count": len(annotations),
                     "min_confidence": 1.0 if annotations else None,
                     "is_archived": index % 50 == 49, "created_at": stamp,
                     "updated_at": stamp})  # fmt: skip
    writer.flush()
    return dataset_id


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        database_url = DATABASE_URL or f"sqlite:///{home / 'metadata.db'}"
        settings = ServerSettings(home=home, database_url=database_url,
                                  storage_url=f"file://{home}/blobs")  # fmt: skip
        with TestClient(create_app(settings), follow_redirects=False) as client:
            started = time.monotonic()
            seed(client.app.state.store)  # type: ignore[attr-defined]
            print(f"seeded {COUNT} images in {time.monotonic() - started:.1f} s", flush=True)
            times = []
            for _ in range(SAMPLES):
                began = time.perf_counter()
                answer = client.get(f"{P}/datasets/big/insights")
                times.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, answer.text[:300]
            health = answer.json()["data"]
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
    load = os.getloadavg()
    backend = "PostgreSQL" if DATABASE_URL and "postgres" in DATABASE_URL else "SQLite"
    print()
    print(f"Measured by `make bench-insights` on {datetime.now(UTC):%Y-%m-%d}: "
          f"{os.cpu_count()} cores, {platform.platform(terse=True)}, Python "
          f"{platform.python_version()}; {backend}; {COUNT:,} images "
          f"({health['total_images']:,} live, {health['annotated_images']:,} labelled, "
          f"{health['total_annotations']:,} annotations); {SAMPLES} calls, in-process (no "
          f"socket); load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} when the run "
          f"ended.")  # fmt: skip
    print()
    print("| request | p50 ms | p95 ms | target | met |")
    print("|---|---|---|---|---|")
    met = "yes" if p95 < TARGET_MS else "no"
    print(f"| GET insights | {p50:.1f} | {p95:.1f} | < {TARGET_MS} ms | {met} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
