"""`make bench-scaled`: the scaled-out deployment (deploy/: HAProxy, three replicas, PostgreSQL,
Redis, SeaweedFS) next to one replica with local files, measured in the same run.

S1: ours against one `pictograph serve` (SQLite, file://, the batch route), small files.
S2: ours through the load balancer, s3:// storage, presigned PUTs, 32 in flight (8 workers).
S3: the same with 8 PUTs in flight (2 workers).
S4: 2,000 photo-sized images through the load balancer: bytes the replicas moved against the
    images' bytes, over TCP (bench/sockets.py) and as /proc/PID/io rchar + wchar (which misses
    the replicas' own client connections: the bucket, PostgreSQL, Redis), summed over the
    three; and every object in the bucket checked by SHA-256 against its local file.

    python bench/scaled.py [--small N] [--large N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from PIL import Image  # noqa: E402

from bench.sockets import SocketMeter  # noqa: E402
from deploy.loopback import Deployment, deployment, io_bytes  # noqa: E402
from pictograph import Client  # noqa: E402
from pictograph.workflows import upload_dataset_from_folder  # noqa: E402
from tests.conftest import fresh_database  # noqa: E402
from tests.served import serve  # noqa: E402

REDIS_URL = os.environ.get("PICTOGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def small_folder(root: Path, count: int) -> Path:
    """``count`` small PNGs (64x48) in 4 class folders."""
    for n in range(count):
        path = root / f"class{n % 4}" / f"{n}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = random.Random(n)
        Image.new("RGB", (64, 48), (rng.randrange(256), rng.randrange(256), 0)).save(path)
    return root


def photo_folder(root: Path, count: int) -> Path:
    """``count`` photo-sized JPEGs (noise, 480x360, about 150 KB each) in 4 class folders."""
    for n in range(count):
        path = root / f"class{n % 4}" / f"{n}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        noise = random.Random(n).randbytes(480 * 360 * 3)
        Image.frombytes("RGB", (480, 360), noise).save(path, "JPEG", quality=85)
    return root


def timed_upload(base_url: str, key: str, folder: Path, workers: int) -> tuple[float, int]:
    with Client(api_key=key, base_url=base_url) as client:
        started = time.perf_counter()
        report = upload_dataset_from_folder(
            client, f"bench-{uuid.uuid4().hex[:6]}", folder, max_workers=workers
        )
        elapsed = time.perf_counter() - started
    if report.failures or report.images_uploaded != report.images_attempted:
        raise RuntimeError(f"upload incomplete: {report}")
    return elapsed, report.images_uploaded


@contextmanager
def scaled_deployment(work: Path) -> Iterator[Deployment]:
    """deploy/'s three replicas behind HAProxy on a PostgreSQL schema of their own (dropped
    after), Redis and SeaweedFS, with their files under ``work``."""
    with (
        fresh_database("postgres", work) as database_url,
        deployment(work / "deploy", database_url=database_url, redis_url=REDIS_URL) as found,
    ):
        yield found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pictograph-bench-scaled-") as tmp:
        work = Path(tmp)
        small = small_folder(work / "small", args.small)
        photos = photo_folder(work / "photos", args.large)
        rows: list[str] = []

        with serve(work / "single", f"sqlite:///{work / 'single.db'}", "--rate-limit", "0") as one:
            key = one.create_key("bench")
            elapsed, count = timed_upload(one.base_url, key, small, 8)
            rows.append(f"S1 single replica, file://, batch route     {count / elapsed:8.1f} img/s")

        with scaled_deployment(work / "scaled") as found:
            key = found.create_key("bench")
            elapsed, count = timed_upload(found.url, key, small, 8)
            rows.append(
                f"S2 3 replicas + LB, s3://, 32 PUTs in flight {count / elapsed:8.1f} img/s"
            )
            elapsed, count = timed_upload(found.url, key, small, 2)
            rows.append(
                f"S3 3 replicas + LB, s3://, 8 PUTs in flight  {count / elapsed:8.1f} img/s"
            )

            pids = [replica.process.pid for replica in found.replicas]
            before = sum(io_bytes(pid) for pid in pids)
            with SocketMeter(pids) as tcp:
                elapsed, count = timed_upload(found.url, key, photos, 8)
            through = sum(io_bytes(pid) for pid in pids) - before
            files = sorted(photos.rglob("*.jpg"))
            total = sum(path.stat().st_size for path in files)
            mismatched = check_bucket(found, files)
            rows.append(
                f"S4 {count} photos ({total / count / 1024:.0f} KiB each) through the LB: "
                f"{count / elapsed:.1f} img/s, {total / elapsed / 2**20:.1f} MiB/s; replicas "
                f"sent+received over TCP {tcp.total / 2**20:.1f} MiB = "
                f"{100 * tcp.total / total:.2f}%, read+wrote (/proc/PID/io) "
                f"{through / 2**20:.1f} MiB = {100 * through / total:.2f}% of "
                f"{total / 2**20:.1f} MiB of images; objects not matching their file: {mismatched}"
            )
    print("\n".join(rows))


def check_bucket(found: Deployment, files: list[Path]) -> int:
    """How many photos' objects in the bucket differ from their local file (by SHA-256)."""
    engine = sa.create_engine(found.database_url)
    with engine.connect() as connection:
        keys = {
            row.filename: row.blob_key
            for row in connection.execute(sa.text("SELECT filename, blob_key FROM images"))
            if row.filename.endswith(".jpg")
        }
    engine.dispose()
    s3 = found.s3_client()
    mismatched = 0
    for path in files:
        body = s3.get_object(Bucket=found.bucket, Key=f"images/{keys[path.name]}")["Body"].read()
        if hashlib.sha256(body).digest() != hashlib.sha256(path.read_bytes()).digest():
            mismatched += 1
    return mismatched


if __name__ == "__main__":
    main()
