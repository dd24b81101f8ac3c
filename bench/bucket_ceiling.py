"""S_K, the bucket's ceiling for S: presigned PUTs of a folder's files straight to the bucket,
no Pictograph server anywhere. The URLs are made beforehand (boto3, outside the clock); the PUTs
run through one pooled httpx client with as many in flight as our SDK keeps against a bucket
(``PUTS_PER_WORKER`` x 8 workers), as S does.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from pictograph._upload.direct import PUTS_PER_WORKER
from pictograph.protocol import content_type_for

#: The in-flight PUTs of S: our SDK's default 8 workers, ``PUTS_PER_WORKER`` PUTs each.
IN_FLIGHT = 8 * PUTS_PER_WORKER


def presigned_puts(folder: Path, s3: Any, bucket: str) -> dict[str, Any]:
    """PUT every JPEG under ``folder`` to its own presigned URL, made by the boto3 client
    ``s3`` for ``bucket``; seconds, files, bytes."""
    files = sorted(folder.rglob("*.jpg"))  # the bench sets are JPEGs, as bench/worker.py reads
    run = uuid.uuid4().hex
    urls = [
        s3.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": bucket,
                "Key": f"ceiling/{run}/{path.relative_to(folder).as_posix()}",
                "ContentType": content_type_for(path),
            },
            ExpiresIn=3600,
        )
        for path in files
    ]
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    with httpx.Client(limits=limits, timeout=120) as client:

        def put(job: tuple[Path, str]) -> int:
            path, url = job
            data = path.read_bytes()
            headers = {"Content-Type": content_type_for(path)}
            client.put(url, content=data, headers=headers).raise_for_status()
            return len(data)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
            sent = sum(pool.map(put, zip(files, urls, strict=True)))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "files": len(files), "bytes": sent}
