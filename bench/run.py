"""`make bench`: upload throughput against ceilings measured in the same run.

K: the least an HTTP endpoint on our stack must do to store the same files durably (ceiling.py).
L: the same work as plain function calls (the embedded ceiling).
A: ours, embedded default.   B: ours against `pictograph serve` on loopback (SQLite, PostgreSQL).
C: the official SDK against the same server (a subset).
S: ours scaled out: deploy/'s three replicas on PostgreSQL + S3 (SeaweedFS) behind HAProxy.
S_K: the bucket's ceiling for S: presigned PUTs of the same files, same concurrency, no server.
E: A and B again on the already-uploaded folder.   F: walking the folder (list + stat).
Every run is its own process, so peak RSS and CPU are that run's; a server's CPU is read from
/proc before and after each run against it. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bucket_ceiling import presigned_puts  # noqa: E402
from bench.inputs import DATA, SETS, folder_for  # noqa: E402
from bench.scaled import scaled_deployment  # noqa: E402
from bench.sockets import SocketMeter  # noqa: E402
from bench.worker import peak_rss_mb  # noqa: E402
from deploy.loopback import io_bytes  # noqa: E402
from tests.conftest import fresh_database  # noqa: E402
from tests.served import free_port, serve  # noqa: E402

OFFICIAL_PYTHON = ROOT / ".venv-official" / "bin" / "python"
WORKER = ROOT / "bench" / "worker.py"
CEILING = ROOT / "bench" / "ceiling.py"
OFFICIAL_WORKER = ROOT / "bench" / "official_worker.py"
NO_LIMIT = ("--rate-limit", "0")
#: K and B run this many times on each set, alternating; the table keeps each one's median.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
#: The official SDK runs on this many files per class folder of the 50 KB set.
OFFICIAL_PER_CLASS = 30


def run(*args: str | Path, python: Path = Path(sys.executable)) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    # Every run starts with nothing left to write back: otherwise the previous run's gigabytes
    # are flushed during this one, and an fsync-bound run (K above all) pays for them.
    os.sync()
    out = subprocess.run(
        [str(python), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=ROOT,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{args[:2]} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def against(pid: int, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``measure()`` plus the CPU the server ``pid`` spent meanwhile and its peak RSS so far."""
    before = server_cpu_s(pid)
    result = measure()
    result["server_cpu_s"] = server_cpu_s(pid) - before
    result["server_peak_rss_mb"] = peak_rss_mb(pid)
    return result


def against_replicas(pids: list[int], measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``against`` for several server processes: their CPU summed, the largest peak RSS, and
    the bytes they moved meanwhile: over TCP (every connection, bench/sockets.py) and, apart,
    what ``/proc/PID/io`` counts (rchar + wchar: files, and the HTTP server's sockets only)."""
    cpu, io = sum(map(server_cpu_s, pids)), sum(map(io_bytes, pids))
    with SocketMeter(pids) as tcp:
        result = measure()
    result["server_cpu_s"] = sum(map(server_cpu_s, pids)) - cpu
    result["server_peak_rss_mb"] = max(map(peak_rss_mb, pids))
    result["replica_tcp_bytes"] = tcp.total
    result["replica_io_bytes"] = sum(map(io_bytes, pids)) - io
    return result


def measure_scaled(folder: Path, scratch: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """S: the worker B runs, against deploy/'s load balancer, on a deployment of its own; and
    S_K: the same files PUT straight to the same bucket, no server (bench/bucket_ceiling.py)."""
    with scaled_deployment(scratch) as found:
        key = found.create_key("bench")
        pids = [replica.process.pid for replica in found.replicas]
        scaled = against_replicas(pids, lambda: run(WORKER, "http", folder, found.url, key))
        scaled |= background_check(pids, found.database_url)
        os.sync()
        return scaled, presigned_puts(folder, found.s3_client(), found.bucket)


def background_check(pids: list[int], database_url: str) -> dict[str, Any]:
    """After S: the replicas' background check of what S registered on the bucket's checksum
    (each object read whole once, off the request): its TCP bytes and how long until no image
    is left unchecked (10 minutes at most)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    unchecked = sa.text("SELECT count(*) FROM images WHERE unchecked")
    started = time.perf_counter()
    with SocketMeter(pids) as tcp:
        while time.perf_counter() - started < 600:
            with engine.connect() as conn:
                left = conn.execute(unchecked).scalar_one()
            if not left:
                break
            time.sleep(0.5)
    engine.dispose()
    return {"check_tcp_bytes": tcp.total, "check_s": time.perf_counter() - started,
            "unchecked_left": left}  # fmt: skip


@contextmanager
def ceiling_server(root: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(CEILING), str(root), str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(300):
            try:
                httpx.get(url)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(30)


def subset(folder: Path, per_class: int) -> Path:
    """Hard links to the first ``per_class`` files of each class folder (cheap, same bytes)."""
    target = folder.parent / f"{folder.name}-subset{per_class}"
    if not target.exists():
        for cls in sorted(p for p in folder.iterdir() if p.is_dir()):
            (target / cls.name).mkdir(parents=True)
            for path in sorted(cls.iterdir())[:per_class]:
                os.link(path, target / cls.name / path.name)
    return target


def measure_set(name: str, scratch: Path, *, full: bool) -> dict[str, Any]:
    """Every run on set ``name``; ``full`` adds K, L, B on PostgreSQL and C, and runs K and B
    ``ROUNDS`` times, alternating, keeping each one's median run (the ratios' noise on this
    machine is larger than most changes worth measuring)."""
    folder = folder_for(name)
    results: dict[str, Any] = {}
    run(WORKER, "walk", folder)  # warm the page cache, as for every run after it
    results["F"] = run(WORKER, "walk", folder)
    rounds = ROUNDS if full else 1
    ceilings, served = [], []
    for round_ in range(rounds):
        if full:
            with ceiling_server(scratch / f"K{round_}") as (url, pid):
                ceilings.append(against(pid, partial(run, WORKER, "ceiling-http", folder, url)))
        database = f"sqlite:///{scratch}/served{round_}.db"
        with serve(scratch / f"served{round_}", database, *NO_LIMIT) as server:
            key, pid = server.create_key("bench"), server.process.pid
            http = ("http", folder, server.base_url, key)
            served.append(against(pid, partial(run, WORKER, *http)))
            if round_ == rounds - 1:
                results["E_B"] = against(pid, partial(run, WORKER, *http))
                if full and name == "50KB":
                    small = subset(folder, OFFICIAL_PER_CLASS)
                    official = (OFFICIAL_WORKER, small, server.base_url, key)
                    results["C"] = against(pid, partial(run, *official, python=OFFICIAL_PYTHON))
                    results["C"]["files"] = sum(1 for _ in small.rglob("*.jpg"))
                    results["C"]["bytes"] = sum(p.stat().st_size for p in small.rglob("*.jpg"))
    if full:
        results["K"] = median_of(ceilings)
        results["L"] = run(WORKER, "ceiling-local", folder, scratch / "L")
    home = scratch / "embedded"
    results["A"] = run(WORKER, "embedded", folder, home)
    results["E_A"] = run(WORKER, "embedded", folder, home)
    results["B"] = median_of(served)
    if full:
        with (
            fresh_database("postgres", scratch) as url,
            serve(scratch / "served-pg", url, *NO_LIMIT) as server,
        ):
            key, pid = server.create_key("bench"), server.process.pid
            http = ("http", folder, server.base_url, key)
            results["B_pg"] = against(pid, partial(run, WORKER, *http))
        if name == "50KB":
            results["S"], results["S_K"] = measure_scaled(folder, scratch / "scaled")
        results["B"]["round_ratios"] = [
            k["seconds"] / b["seconds"] for k, b in zip(ceilings, served, strict=True)
        ]
    results = {run_name: results[run_name] for run_name in LABELS if run_name in results}
    files, size = results["F"]["files"], results["F"]["bytes"]
    for result in results.values():
        result.setdefault("files", files)
        result.setdefault("bytes", size)
        result["files_per_s"] = result["files"] / result["seconds"]
        result["mb_per_s"] = result["bytes"] / 1e6 / result["seconds"]
    return results


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median time (the slower middle one of an even count)."""
    return sorted(runs, key=lambda result: result["seconds"])[len(runs) // 2]


LABELS = {
    "F": "F walk (list + stat)",
    "K": "K ceiling: durable HTTP endpoint",
    "L": "L ceiling: function calls",
    "A": "A ours, embedded",
    "E_A": "E re-run of A",
    "B": "B ours, served, SQLite",
    "E_B": "E re-run of B",
    "C": "C official SDK, served (subset)",
    "B_pg": "B ours, served, PostgreSQL",
    "S": "S ours, 3 replicas + HAProxy, PostgreSQL + S3",
    "S_K": "S_K ceiling: presigned PUTs to the bucket",
}


def ratios(sets: dict[str, dict[str, Any]]) -> list[tuple[str, float, str, bool]]:
    out: list[tuple[str, float, str, bool]] = []

    def at_least(label: str, value: float, target: float) -> None:
        out.append((label, value, f">= {target:g}", value >= target))

    for name, unit in (("50KB", "files_per_s"), ("300KB", "files_per_s"), ("3MB", "mb_per_s")):
        data, shown = sets[name], unit.replace("_per_s", "/s").replace("mb", "MB")
        # Each round's B against the K run just before it; the median of those pairs.
        paired = data["B"]["round_ratios"]
        spread = " / ".join(f"{ratio:.2f}" for ratio in paired)
        label = f"B/K {shown} ({name}; median of rounds {spread})"
        at_least(label, sorted(paired)[len(paired) // 2], 0.7)
        at_least(f"A/L {shown} ({name})", data["A"][unit] / data["L"][unit], 0.5)
        at_least(f"B on PostgreSQL/K {shown} ({name})", data["B_pg"][unit] / data["K"][unit], 0.7)
    small = sets["50KB"]
    at_least("B/C files/s (50KB)", small["B"]["files_per_s"] / small["C"]["files_per_s"], 10)
    scaled = small["S"]["files_per_s"] / small["S_K"]["files_per_s"]
    at_least("S/S_K files/s (50KB)", scaled, 0.7)
    out += bytes_through_replicas(small["S"])
    for name in ("50KB", "50k"):
        data = sets[name]
        limit = 2 * data["F"]["seconds"] + 1
        for run_name in ("E_A", "E_B"):
            seconds = data[run_name]["seconds"]
            label = f"{run_name} s / (2F+1 s) ({data['F']['files']} files)"
            out.append((label, seconds / limit, "<= 1", seconds <= limit))
    fifty = sets["50k"]
    for label, run_name, key in (
        ("A client", "A", "peak_rss_mb"),
        ("B client", "B", "peak_rss_mb"),
        ("B server", "B", "server_peak_rss_mb"),
    ):
        growth = fifty[run_name][key] - small[run_name][key]
        out.append((f"peak RSS growth {label} 5k->50k files (MB)", growth, "< 100", growth < 100))
    return out


def _met(target: str, ok: bool) -> str:
    return "-" if target == "-" else "yes" if ok else "no"


def bytes_through_replicas(scaled: dict[str, Any]) -> list[tuple[str, float, str, bool]]:
    """The ratio-table lines of S: the replicas' bytes as a share of the images' bytes."""
    lines = []
    for key, how in (("replica_tcp_bytes", "TCP"), ("replica_io_bytes", "/proc/PID/io")):
        share = 100 * scaled[key] / scaled["bytes"]
        label = f"share of bytes through replicas (%) (50KB, S, {how})"
        lines.append((label, share, "< 5", share < 5))
    if "check_tcp_bytes" in scaled:  # the full check after the run: not the target's, told
        share = 100 * scaled["check_tcp_bytes"] / scaled["bytes"]
        label = "  then the background check, off the request (%) (TCP)"
        lines.append((label, share, "-", True))
    return lines


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; server and client on one "
        f"machine over loopback; local-file blobs; load average {load:.1f} when the run ended"
    )


def _ms(seconds: float | None, files: int) -> str:
    return "-" if seconds is None else f"{1000 * seconds / files:.2f}"


def report(sets: dict[str, dict[str, Any]], checks: list[tuple[str, float, str, bool]]) -> str:
    sizes = ", ".join(
        f"{name}: {count:,} files of {w}x{h}" for name, (count, _, (w, h), _, _) in SETS.items()
    )
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}: {machine()}.",
        f"Sets (photo-like JPEGs, bench/inputs.py): {sizes}.",
        "",
        "| set | run | files | seconds | files/s | MB/s | client CPU ms/file "
        "| server CPU ms/file | client peak RSS MB | server peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, results in sets.items():
        for run_name, r in results.items():
            server_rss = r.get("server_peak_rss_mb")
            client_rss = r.get("peak_rss_mb")  # S_K runs in the bench runner: not its own
            lines.append(
                f"| {name} | {LABELS[run_name]} | {r['files']} | {r['seconds']:.2f} | "
                f"{r['files_per_s']:.0f} | {r['mb_per_s']:.1f} | "
                f"{_ms(r.get('cpu_s'), r['files'])} | {_ms(r.get('server_cpu_s'), r['files'])} | "
                f"{'-' if client_rss is None else f'{client_rss:.0f}'} | "
                f"{'-' if server_rss is None else f'{server_rss:.0f}'} |"
            )
    lines += ["", "| ratio | value | target | met |", "|---|---|---|---|"]
    lines += [
        f"| {label} | {value:.2f} | {target} | {_met(target, ok)} |"
        for label, value, target, ok in checks
    ]
    return "\n".join(lines) + "\n"


NOTES = """
K is the ceiling for B: `bench/ceiling.py`, an endpoint on our server's stack (uvicorn, Starlette,
python-multipart) that receives the same requests (up to 64 files and 16 MiB per multipart request
for files up to 1 MiB, a PUT per larger file, 8 requests in flight), hashes each file, writes a
request's files into one of 256 folders (as our store does), `fdatasync`s each, `fsync`s the folder
and only then answers, a PUT's body written and hashed while it arrives (until this round K buffered
PUTs and wrote every file into one folder, and B beat it on 300 KB and 3 MB files: no ceiling); no
image check, token or database. L is the ceiling for A: the same storing as function calls, two
threads a core. C runs on a subset of the 50KB set (the official SDK makes a request per step of
every file). CPU per file includes the client's imports and start-up; a server's CPU is read from
/proc before and after each run against it. A runs client and server in one process, so its CPU is
all in the client column.

S is the scaled-out deployment of docs/deploying.md, started by `deploy/loopback.py` in the same
run on the whole 50KB set: three `pictograph serve` replicas on a PostgreSQL schema of their own,
Redis, SeaweedFS (`weed mini`) as the S3 store and HAProxy in front; the same worker as B uploads
through HAProxy, so each file is a presigned PUT straight to SeaweedFS (32 in flight), and
each 100 of them that arrived a bulk-register. S_K, its ceiling, PUTs the same files to presigned
URLs of the same bucket made beforehand, 32 in flight through one httpx client, with no
Pictograph server at all (`bench/bucket_ceiling.py`). Its server columns are the three replicas' CPU
summed and the largest peak RSS; SeaweedFS, HAProxy and PostgreSQL run on the same two cores
but are in no column. "Share of
bytes through replicas" sets what the three replicas moved during S against the set's bytes
(the issue's target: under 5%), counted two ways. TCP: every byte sent and received on their
connections (clients through HAProxy, the bucket, PostgreSQL, Redis), from the kernel's
per-connection counters sampled every 0.1 s (`bench/sockets.py`). /proc/PID/io: rchar +
wchar, which sees the HTTP server's sockets and files but not the connections a replica opens
itself (boto3, libpq and redis-py use send()/recv(), which it does not count); it is the
lower figure. Register trusts the checksum the bucket verified for a PUT bound to a SHA-256
(one HEAD per object, no byte read); every object is then read whole once by a replica's
background check, off the request, after the run: "then the background check" counts its TCP
bytes, measured until no image is left unchecked.

Each run starts after `sync`, so no run pays for writing back the one before it. K and B run
`BENCH_ROUNDS` times (3) on each set, alternating; their rows are the runs of median time, and
B/K is the median of each round's B against the K run just before it.

The machine is shared with other engineers' test runs (see the load average above): absolute
figures move by +/-25% or more from run to run; the ratios compare runs of the same minutes.

## Where the time goes (py-spy --gil on the server during B, 50KB set)

B is bound by the server process's interpreter: its CPU per file is about its wall time per
file. After this round (the batch body split in C instead of Starlette's form parser, which was
a quarter of it; one folder sync per group), a small photo costs the server about 0.8 ms:
registration (insert, folders, the image's answer) ~18%, the image check (header by Pillow,
JPEG structure) ~16%, uvicorn's protocol and our middleware and routing ~18%, the pre-flight
(signed tokens and their answer) ~8%, splitting the body ~9%, JSON ~6%, writing and syncing
~4%. K does only the receiving, hashing and syncing (about 0.35 ms a file), so B/K on small
files stays near 0.5 unless a file costs the server half of what it does now; no single part
is big enough for that. A runs client and server in one interpreter: its CPU per file is B's
client plus B's server (~1.1 ms at 50 KB) against L's 0.3-0.4 ms of plain function calls, so
A/L cannot pass about 0.3 while embedded uploads take the same requests as served ones (issue
9's one path). The embedded re-run (E_A) is mostly start-up: importing the SDK (~0.25 s) and
building the in-process app (~0.45 s: FastAPI and the routes' pydantic models), then the
folder plan (~0.17 s for 50,000 files) and one names-digest request.

Since then (2026-12-02, evening): a JPEG's structure check finds its scan's end and any bad
marker in one regex pass (127 -> 62 us for a 50 KB photo), upload tokens are signed without
itsdangerous's zlib step (create + verify 93 -> 71 us), a group's blob keys come from one
`urandom` call, and the client counts the bytes it sent instead of `stat`-ing every file again.
Together about 0.1-0.15 ms of the server's ~1 ms per small file. Two `make bench` runs of the
same code twenty minutes apart (one round each) gave B/K (50KB) 0.45 and 0.69, B/K (300KB) 0.61
and 0.74, E_A (50,000 files) 1.19 and 1.05 of its budget: on this machine a single run cannot
tell a 10% change from noise, hence the rounds: K and B now run three times each, alternating,
and B/K is the median of the rounds' ratios (`BENCH_ROUNDS`), each round's shown beside it.
Until this round the client peak RSS column was `ru_maxrss`, which Linux carries across `execve`
from the bench runner: the workers reported at least the runner's own peak (up to 244 MB), so
"growth 5k -> 50k" read 108-150 MB; it is now each worker's own `VmHWM`.
"""


#: The line in docs/benchmarks.md after which the file is not ours: other benchmarks' sections
#: and notes, kept as they are.
KEEP = "<!-- make bench writes everything above this line; what follows is kept as it is -->"


def kept_after(path: Path) -> str:
    """The part of ``path`` from the ``KEEP`` line on (with it), or the line alone."""
    text = path.read_text() if path.exists() else ""
    at = text.find(KEEP)
    return "\n" + (text[at:] if at >= 0 else KEEP + "\n")


def main() -> None:
    started = time.perf_counter()
    DATA.mkdir(parents=True, exist_ok=True)
    # Nothing is deleted until the end: on this machine's ext4, creating files for about a
    # minute after thousands were deleted is 10-20x slower, which would be measured instead.
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=DATA))
    try:
        sets = {
            name: measure_set(name, scratch / name, full=name != "50k")
            for name in ("50KB", "300KB", "3MB", "50k")
        }
        text = report(sets, ratios(sets))
        written = ROOT / "docs" / "benchmarks.md"
        written.write_text(text + NOTES + kept_after(written))
        print(text)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"bench took {time.perf_counter() - started:.0f} s; written to docs/benchmarks.md")


if __name__ == "__main__":
    main()
