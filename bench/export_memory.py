"""`make bench-export`: how much a 20,000-image export grows the server's memory.

Seeds a store with N images (one small real JPEG stored N times, two boxes each) straight
through the metadata tables and the blob store, so the run measures the export and not 20,000
uploads; starts `pictograph serve` on it; asks for a COCO export with the images included, then
makes a version of the dataset (`POST .../versions`) and asks for a YOLO export of that version,
split by split, with the images; samples the server's resident memory (VmRSS of the process and
its children) every 50 ms while each runs. Prints each one's time, baseline, peak and growth;
exits 1 when a growth is >= 100 MB.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.image_rows import ImageRows  # noqa: E402
from pictograph.server.service import keys  # noqa: E402
from pictograph.server.service.context import AppContext  # noqa: E402
from pictograph.server.settings import ServerSettings  # noqa: E402
from pictograph.server.store import tables as t  # noqa: E402
from tests.served import serve  # noqa: E402

COUNT = int(os.environ.get("BENCH_EXPORT_IMAGES", "20000"))
LIMIT_MB = 100
P = "/api/v1/developer"


def seed(home: Path, database_url: str) -> str:
    """Create organisation, dataset and ``COUNT`` images; return an API key."""
    settings = ServerSettings(home=home, database_url=database_url,
                              storage_url=f"file://{home}/blobs")  # fmt: skip
    store = AppContext.open(settings)
    _, raw_key = keys.create_key(store, "bench")
    buffer = io.BytesIO()
    Image.effect_noise((64, 48), 64).convert("RGB").save(buffer, "JPEG", quality=80)
    picture = buffer.getvalue()
    stamp = datetime.now(UTC)
    with store.read() as conn:
        org = conn.execute(t.organizations.select()).first()
    assert org is not None
    dataset_id = str(uuid.uuid4())
    classes = [{"name": "thing", "type": "bbox", "color": "#e6194b"}]
    with store.write() as conn:
        conn.execute(t.datasets.insert().values(
            id=dataset_id, organization_id=org.id, name="big", annotation_types=["bbox"],
            classes=classes, is_public=False, is_archived=False, created_at=stamp,
            updated_at=stamp))  # fmt: skip
    boxes = [{"id": f"b{i}", "name": "thing", "type": "bbox", "confidence": 1.0,
              "attributes": [], "bounding_box": {"x": 4 * i, "y": 3, "w": 10, "h": 8}}
             for i in range(2)]  # fmt: skip
    writer = ImageRows(store, chunk=1000)
    for index in range(COUNT):
        blob = store.blobs.write_stream([picture])
        writer.add({"id": str(uuid.uuid4()), "dataset_id": dataset_id,
                     "directory_path": f"/part-{index // 1000:03d}",
                     "filename": f"img-{index:06d}.jpg", "file_size": blob.size, "width": 64,
                     "height": 48, "content_type": "image/jpeg", "sha256": blob.sha256,
                     "blob_key": blob.key, "status": "new", "split": None, "tags": [],
                     "annotations": boxes, "annotation_count": 2, "min_confidence": 1.0,
                     "is_archived": False, "created_at": stamp,
                     "updated_at": stamp})  # fmt: skip
    writer.flush()
    store.close()
    return raw_key


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children, in MB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


class Sampler:
    """The server's peak resident memory while a block runs, over its baseline before it."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self.baseline = self.peak = rss_mb(pid)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss_mb(self._pid))
            time.sleep(0.05)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def report(self, what: str, elapsed: float) -> float:
        growth = self.peak - self.baseline
        print(f"{what} in {elapsed:.1f} s; server RSS: baseline {self.baseline:.1f} MB, "
              f"peak {self.peak:.1f} MB, growth {growth:.1f} MB (limit {LIMIT_MB} MB)")  # fmt: skip
        return growth


def run_export(client: httpx.Client, pid: int, body: dict[str, object]) -> tuple[bool, float]:
    """Ask for the export ``body`` and wait for it: (completed, memory growth in MB)."""
    with Sampler(pid) as sampler:
        started = time.monotonic()
        client.post(f"{P}/exports/", json=body).raise_for_status()
        while True:
            answer = client.get(f"{P}/exports/{body['name']}", params={"dataset": "big"})
            export = answer.json()["data"]
            if export["status"] in ("completed", "failed"):
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
    what = (f"export {body['name']} ({body['format']}) {export['status']}: "
            f"{export['image_count']} images, {export['annotation_count']} annotations, "
            f"{(export['file_size'] or 0) / 1e6:.1f} MB ZIP")  # fmt: skip
    return export["status"] == "completed", sampler.report(what, elapsed)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        database_url = f"sqlite:///{home / 'metadata.db'}"
        started = time.monotonic()
        key = seed(home, database_url)
        print(f"seeded {COUNT} images in {time.monotonic() - started:.1f} s")
        with serve(home, database_url, "--rate-limit", "0") as served:
            client = httpx.Client(base_url=served.base_url, headers={"X-API-Key": key},
                                  timeout=600)  # fmt: skip
            client.get(f"{P}/datasets/")  # warm the process up before the baseline
            pid = served.process.pid
            live = {"dataset_name": "big", "name": "all", "format": "coco",
                    "include_images": True}  # fmt: skip
            results = [run_export(client, pid, live)]
            with Sampler(pid) as sampler:
                started = time.monotonic()
                made = client.post(f"{P}/datasets/big/versions", json={"name": "v1"})
                made.raise_for_status()
                elapsed = time.monotonic() - started
            count = made.json()["data"]["image_count"]
            growths = [sampler.report(f"version v1 of {count} images made", elapsed)]
            frozen = {"dataset_name": "big", "name": "v1-yolo", "format": "yolo", "version": "v1",
                      "include_images": True, "organize_by_split": True}  # fmt: skip
            results.append(run_export(client, pid, frozen))
    growths += [growth for _, growth in results]
    return 0 if all(ok for ok, _ in results) and max(growths) < LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
