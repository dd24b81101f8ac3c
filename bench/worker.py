"""One measured run in its own process: prints a JSON line with time, volume, CPU and peak RSS.

python bench/worker.py walk FOLDER
python bench/worker.py embedded FOLDER HOME                (A, and its re-run)
python bench/worker.py http FOLDER BASE_URL API_KEY        (B, and its re-run)
python bench/worker.py ceiling-http FOLDER BASE_URL        (K: bench/ceiling.py on BASE_URL)
python bench/worker.py ceiling-local FOLDER ROOT           (L: the same work as function calls)
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

#: What our client does too: files up to 1 MiB (its ``BATCH_FILE_LIMIT``) go in requests of up
#: to ``pictograph.protocol``'s 64 files and 16 MiB (the limits our server advertises), 8 at a
#: time. (Read in ``groups``: the official SDK's worker imports this module, without our SDK.)
SMALL_FILE, REQUESTS_IN_FLIGHT = 1024 * 1024, 8


def peak_rss_mb(pid: int | str = "self") -> float:
    """The peak resident set of process ``pid`` (``VmHWM``). Not ``ru_maxrss``: Linux carries
    that across ``execve`` from the process that spawned us, so every worker would report at
    least the bench runner's own peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


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


def groups(folder: Path) -> Iterator[list[Path]]:
    """The folder's files as our client groups them: small ones together, large ones alone."""
    from pictograph.protocol import MAX_BATCH_BYTES as GROUP_BYTES
    from pictograph.protocol import MAX_BATCH_FILES as GROUP_FILES

    current: list[Path] = []
    used = 0
    for path in sorted(folder.rglob("*.jpg")):
        size = path.stat().st_size
        if size > SMALL_FILE:
            yield [path]
            continue
        if current and (len(current) >= GROUP_FILES or used + size > GROUP_BYTES):
            yield current
            current, used = [], 0
        current.append(path)
        used += size
    if current:
        yield current


def in_parallel(work: Callable[[list[Path]], int], folder: Path, threads: int) -> dict[str, Any]:
    with ThreadPoolExecutor(threads) as pool:
        stored = sum(pool.map(work, groups(folder)))
    return {"uploaded": stored, "skipped": 0, "failed": 0}


def ceiling_http(folder: Path, base_url: str) -> dict[str, Any]:
    import httpx

    client = httpx.Client(base_url=base_url, timeout=120)

    def send(group: list[Path]) -> int:
        if len(group) == 1 and group[0].stat().st_size > SMALL_FILE:
            with group[0].open("rb") as body:
                client.put("/put", content=body).raise_for_status()
            return 1
        files = [(str(n), (p.name, p.read_bytes(), "image/jpeg")) for n, p in enumerate(group)]
        client.post("/batch", files=files).raise_for_status()
        return len(group)

    return in_parallel(send, folder, REQUESTS_IN_FLIGHT)


def ceiling_local(folder: Path, root: Path) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ceiling import store_group

    root.mkdir(parents=True, exist_ok=True)

    def store(group: list[Path]) -> int:
        return len(store_group(root, [path.read_bytes() for path in group]))

    return in_parallel(store, folder, 2 * (os.cpu_count() or 1))


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
    elif kind == "ceiling-http":
        result = ceiling_http(folder, sys.argv[3])
    elif kind == "ceiling-local":
        result = ceiling_local(folder, Path(sys.argv[3]))
    else:
        raise SystemExit(f"unknown kind {kind}")
    result["seconds"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
