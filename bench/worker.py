"""One measured run in its own process: prints a JSON line with time, volume and peak RSS.

python bench/worker.py walk FOLDER
python bench/worker.py embedded FOLDER HOME
python bench/worker.py http FOLDER BASE_URL API_KEY
python bench/worker.py baseline FOLDER BASE_URL API_KEY WORKERS
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def walk(folder: Path) -> dict[str, Any]:
    files = size = 0
    stack = [folder]
    while stack:
        for entry in os.scandir(stack.pop()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                stack.append(Path(entry.path))
            else:
                files += 1
                size += entry.stat().st_size
    return {"files": files, "bytes": size}


def ours(folder: Path, **client_args: str) -> dict[str, Any]:
    from pictograph import Client
    from pictograph.workflows import upload_dataset_from_folder

    with Client(**client_args) as client:  # type: ignore[arg-type]
        report = upload_dataset_from_folder(client, "bench", folder)
    return {
        "uploaded": report.images_uploaded,
        "skipped": report.images_skipped,
        "failed": len(report.failures),
    }


def baseline(folder: Path, base_url: str, key: str, workers: int) -> dict[str, Any]:
    """A plain loop PUTting the files' bytes to signed URLs with urllib3 (URLs fetched untimed)."""
    import urllib3

    files = sorted(folder.rglob("*.jpg"))
    urls = _signed_urls(base_url, key, files)
    pool = urllib3.PoolManager(maxsize=workers)

    def put(pair: tuple[Path, str]) -> int:
        path, url = pair
        reply = pool.request(
            "PUT", url, body=path.read_bytes(), headers={"Content-Type": "image/jpeg"}
        )
        return int(reply.status)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as executor:
        statuses = list(executor.map(put, zip(files, urls, strict=True)))
    return {"seconds": time.perf_counter() - started, "failed": sum(s != 200 for s in statuses)}


def _signed_urls(base_url: str, key: str, files: list[Path]) -> list[str]:
    import httpx

    headers = {"X-API-Key": key}
    api = f"{base_url}/api/v1/developer"
    httpx.post(f"{api}/datasets/", json={"name": "baseline"}, headers=headers).raise_for_status()
    urls: list[str] = []
    for start in range(0, len(files), 500):
        batch = files[start : start + 500]
        images = [
            {
                "filename": f.name,
                "directory_path": "/" + f.parent.name,
                "content_type": "image/jpeg",
            }
            for f in batch
        ]
        reply = httpx.post(
            f"{api}/images/bulk-upload-url",
            json={"dataset": "baseline", "images": images},
            headers=headers,
            timeout=60,
        )
        reply.raise_for_status()
        urls += [entry["upload_url"] for entry in reply.json()["data"]["upload_urls"]]
    return urls


def main() -> None:
    kind, folder = sys.argv[1], Path(sys.argv[2])
    started = time.perf_counter()
    if kind == "walk":
        result = walk(folder)
    elif kind == "embedded":
        os.environ["PICTOGRAPH_HOME"] = sys.argv[3]
        result = ours(folder)
    elif kind == "http":
        result = ours(folder, base_url=sys.argv[3], api_key=sys.argv[4])
    elif kind == "baseline":
        result = baseline(folder, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        raise SystemExit(f"unknown kind {kind}")
    result.setdefault("seconds", time.perf_counter() - started)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
