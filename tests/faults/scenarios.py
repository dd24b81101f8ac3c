"""The fault scenarios, each measured into one table row. ``test_faults.py`` runs them small in
CI; ``make soak`` (``python -m tests.faults.soak``) runs them full size and prints the table."""

from __future__ import annotations

import io
import random
import socket
import subprocess
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from PIL import Image

from pictograph import Client, PictographError
from pictograph._upload.folder_plan import plan_folder
from pictograph.protocol import API_PREFIX
from pictograph.server.service import gc
from pictograph.server.service.context import AppContext
from pictograph.server.service.integrity import check_store
from pictograph.server.settings import ServerSettings
from pictograph.workflows.upload import upload_dataset_from_folder
from tests.faults.proxy import fault_proxy
from tests.images import large_scene, make_image, sha256_of
from tests.served import PICTOGRAPH, Served, create_key, free_port, launch
from tests.server.flows import P

DATASET = "soak"
API = API_PREFIX
COLUMNS = (
    "scenario",
    "runs",
    "faults",
    "files",
    "lost",
    "duplicated",
    "mismatched",
    "orphans after gc",
    "failures",
    "time",
)


@dataclass
class Row:
    """One scenario's outcome: the columns of the soak table."""

    scenario: str
    runs: int
    faults: int
    files: int
    lost: int = 0
    duplicated: int = 0
    mismatched: int = 0
    orphans: int = 0
    failures: int = 0
    seconds: float = 0.0

    def cells(self) -> tuple[str, ...]:
        return (
            self.scenario,
            str(self.runs),
            str(self.faults),
            str(self.files),
            str(self.lost),
            str(self.duplicated),
            str(self.mismatched),
            str(self.orphans),
            str(self.failures),
            f"{self.seconds:.1f} s",
        )

    @property
    def intact(self) -> bool:
        return self.lost == self.duplicated == self.mismatched == self.orphans == 0


def make_folder(root: Path, count: int, seed: int = 0) -> Path:
    """``count`` images in three class folders; every tenth is a PNG over 1 MiB (sent by PUT)."""
    rng = random.Random(seed)
    for index in range(count):
        folder = root / ("cats", "dogs", "birds")[index % 3]
        if index % 10 == 9:
            noise = Image.frombytes("RGB", (640, 640), rng.randbytes(640 * 640 * 3))
            folder.mkdir(parents=True, exist_ok=True)
            noise.save(folder / f"big-{index:05d}.png")
        else:
            make_image(folder / f"img-{index:05d}.jpg", size=(64, 48), seed=seed * 100000 + index)
    return root


@contextmanager
def running_server(home: Path, database_url: str, port: int, *extra: str) -> Iterator[Served]:
    store_args = ("--home", str(home), "--database-url", database_url)
    command = ["serve", "--port", str(port), *store_args, *extra]
    # Generous: a restart after kill -9 on a loaded two-core CI machine can take half a minute.
    with launch(command, f"http://127.0.0.1:{port}", store_args, start_timeout=120) as served:
        yield served


def upload(base_url: str, key: str, folder: Path) -> int:
    """Upload ``folder`` with the SDK's own retries; the number of files that failed."""
    with Client(key, base_url=base_url) as client:
        try:
            report = upload_dataset_from_folder(client, DATASET, folder)
        except PictographError:
            return len(list(folder.rglob("*.*")))  # the whole run failed
    return len(report.failures)


def measure(row: Row, home: Path, database_url: str, folder: Path) -> Row:
    """Fill ``row``'s loss columns (no server may be running): the dataset's images against
    ``folder`` by path and SHA-256, then ``pictograph gc`` and the blobs no image refers to."""
    plan = plan_folder(folder)
    expected = {planned.dataset_path: sha256_of(planned.path) for planned in plan.files}
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT directory_path, filename, sha256 FROM images")
            ).all()
    finally:
        engine.dispose()
    stored: dict[str, list[str]] = {}
    for directory_path, filename, sha256 in rows:
        stored.setdefault(f"{directory_path.rstrip('/')}/{filename}", []).append(sha256)
    row.lost = sum(1 for name in expected if name not in stored)
    row.mismatched = sum(
        1 for name, sha in expected.items() if name in stored and sha not in stored[name]
    )
    # Copies beyond one per file, and images under names the folder does not have.
    row.duplicated = len(rows) - len(stored) + sum(1 for name in stored if name not in expected)
    subprocess.run(
        [PICTOGRAPH, "gc", "--grace", "0", "--home", str(home), "--database-url", database_url],
        check=True,
        capture_output=True,
        timeout=300,
    )
    row.orphans = count_orphans(home, database_url)
    return row


_REFERENCED = sa.text("SELECT blob_key FROM images UNION SELECT blob_key FROM exports")


def count_orphans(home: Path, database_url: str) -> int:
    """Files in the blob store (temporary ones included) that no image refers to."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            used = set(
                conn.scalars(
                    sa.text("SELECT blob_key FROM images UNION SELECT blob_key FROM exports")
                )
            )
    finally:
        engine.dispose()
    held = [path for path in (home / "blobs").glob("??/*") if path.is_file()]
    return sum(1 for path in held if path.name not in used)


def kill_during_upload(home: Path, database_url: str, folder: Path, kills: int, seed: int) -> Row:
    """kill -9 the server at a random moment of an upload, ``kills`` times, restarting it each
    time; then one more run must finish with no failures."""
    rng = random.Random(seed)
    started = time.monotonic()
    port = free_port()
    store_args = ("--home", str(home), "--database-url", database_url)
    key = create_key(store_args, "acme")
    row = Row("kill -9 mid-upload", kills + 1, kills, count_files(folder))
    for _ in range(kills):
        with ExitStack() as servers:
            served = servers.enter_context(running_server(home, database_url, port))
            uploader = threading.Thread(target=upload, args=(served.base_url, key, folder))
            uploader.start()
            time.sleep(rng.uniform(0.2, 3.0))
            served.process.kill()
            served.process.wait()
            # Back up on the same port at once: the uploader's retries reach the new process.
            servers.enter_context(running_server(home, database_url, port))
            uploader.join()
    with running_server(home, database_url, port) as served:
        row.failures = upload(served.base_url, key, folder)
    row.seconds = time.monotonic() - started
    return measure(row, home, database_url, folder)


def through_faulty_proxy(
    home: Path, database_url: str, folder: Path, rate: float, seed: int
) -> Row:
    """Every request (API and signed URLs) through a proxy that resets, truncates or stalls
    ``rate`` of its connections; the SDK's retries must leave 0 failures."""
    started = time.monotonic()
    port = free_port()
    store_args = ("--home", str(home), "--database-url", database_url)
    key = create_key(store_args, "acme")
    with fault_proxy(port, rate, seed) as proxy:
        public = ("--public-url", proxy.url)
        with running_server(home, database_url, port, *public):
            failures = upload(proxy.url, key, folder)
            proxy.stop()  # before the server stops: it must not wait on half-sent requests
        faults = proxy.faults
    row = Row(f"proxy faults {rate:.0%}", 1, faults, count_files(folder), failures=failures)
    row.seconds = time.monotonic() - started
    return measure(row, home, database_url, folder)


def resets_per_file(
    home: Path, database_url: str, folder: Path, rate: float, seed: int, threads: int = 8
) -> Row:
    """Per-file ``images.upload`` (pre-flight, PUT, register: three requests a file) through a
    proxy that resets ``rate`` of the requests: the lossy link that beat three retries."""
    started = time.monotonic()
    port = free_port()
    store_args = ("--home", str(home), "--database-url", database_url)
    key = create_key(store_args, "acme")
    with fault_proxy(port, rate, seed, kinds=("reset",)) as proxy:
        with running_server(home, database_url, port, "--public-url", proxy.url):
            failures = per_file_uploads(proxy.url, key, folder, threads)
            proxy.stop()
        faults = proxy.faults
    row = Row(f"resets {rate:.0%}, per-file", 1, faults, count_files(folder), failures=failures)
    row.seconds = time.monotonic() - started
    return measure(row, home, database_url, folder)


def per_file_uploads(base_url: str, key: str, folder: Path, threads: int) -> int:
    """``images.upload`` of each file of ``folder`` from ``threads`` threads; the failures."""
    files = sorted(path for path in folder.rglob("*.*") if path.is_file())
    with Client(key, base_url=base_url) as client:
        client.datasets.create(DATASET)

        def one(path: Path) -> bool:
            try:
                client.images.upload(DATASET, path, directory_path="/" + path.parent.name)
                return True
            except PictographError:
                return False

        with ThreadPoolExecutor(threads) as pool:
            return sum(1 for ok in pool.map(one, files) if not ok)


def concurrent_uploaders(home: Path, database_url: str, folder: Path, uploaders: int) -> Row:
    """``uploaders`` clients upload the same folder to the same dataset at once; a re-run must
    then finish with no failures, and nothing may be duplicated."""
    started = time.monotonic()
    store_args = ("--home", str(home), "--database-url", database_url)
    key = create_key(store_args, "acme")
    with running_server(home, database_url, free_port()) as served:
        with ThreadPoolExecutor(uploaders) as pool:
            list(pool.map(lambda _: upload(served.base_url, key, folder), range(uploaders)))
        failures = upload(served.base_url, key, folder)
    row = Row(f"{uploaders} uploaders at once", uploaders + 1, 0, count_files(folder))
    row.failures = failures
    row.seconds = time.monotonic() - started
    return measure(row, home, database_url, folder)


def gc_racing_uploads_and_exports(
    home: Path, database_url: str, folder: Path, exports: int = 3
) -> Row:
    """``gc`` with grace 0 sweeping again and again while a folder is uploaded and ``exports``
    exports are built; lost counts files and export archives (downloaded and opened after)."""
    started = time.monotonic()
    store_args = ("--home", str(home), "--database-url", database_url)
    key = create_key(store_args, "acme")
    stop = threading.Event()
    sweeps = 0

    def sweep_again_and_again() -> None:
        nonlocal sweeps
        store = AppContext.open(ServerSettings.embedded(home, database_url=database_url))
        try:
            while not stop.is_set():
                gc.sweep(store, grace=timedelta(0))
                sweeps += 1
        finally:
            store.close()

    with running_server(home, database_url, free_port(), "--gc-interval", "0") as served:
        sweeper = threading.Thread(target=sweep_again_and_again)
        sweeper.start()
        with httpx.Client(base_url=served.base_url, headers={"X-API-Key": key}) as http:
            try:
                uploader = threading.Thread(target=upload, args=(served.base_url, key, folder))
                uploader.start()
                names = _export_while(http, uploader, exports)
                uploader.join()
                failures = upload(served.base_url, key, folder)
                names += _export_while(http, None, 1)
                time.sleep(1.0)  # sweeps after every export finished
            finally:
                stop.set()
                sweeper.join()
            lost_archives = sum(1 for name in names if not _archive_downloads(http, name))
    # Its faults are the sweeps that ran during the uploads and exports.
    row = Row(f"gc --grace 0 loop, uploads + {len(names)} exports", 2, sweeps, count_files(folder))
    row.failures = failures
    row.seconds = time.monotonic() - started
    measure(row, home, database_url, folder)
    store = AppContext.open(ServerSettings.embedded(home, database_url=database_url))
    try:
        checked = check_store(store)
    finally:
        store.close()
    row.lost += len(checked.missing) + lost_archives
    row.mismatched += len(checked.mismatched)
    return row


def _export_while(http: httpx.Client, uploader: threading.Thread | None, count: int) -> list[str]:
    """Start ``count`` exports of the dataset, spread over the upload (once the dataset exists);
    their names."""
    names: list[str] = []
    while len(names) < count:
        name = f"e-{uuid.uuid4().hex[:8]}"
        made = http.post(f"{P}/exports/", json={"dataset_name": DATASET, "name": name})
        if made.status_code == 201:
            names.append(name)
        elif uploader is not None and not uploader.is_alive():
            break
        time.sleep(0.3)
    return names


def _archive_downloads(http: httpx.Client, name: str, timeout: float = 120.0) -> bool:
    """Whether export ``name`` completes and its archive downloads as a readable ZIP."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = http.get(f"{P}/exports/{name}", params={"dataset": DATASET}).json()["data"]
        if found["status"] == "failed":
            return False
        if found["status"] == "completed":
            link = http.get(f"{P}/exports/{name}/download", params={"dataset": DATASET})
            if link.status_code != 200:
                return False
            archive = http.get(link.json()["data"]["download_url"], headers={"X-API-Key": ""})
            try:
                with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
                    return archive.status_code == 200 and opened.testzip() is None
            except zipfile.BadZipFile:
                return False
        time.sleep(0.1)
    return False


def rate_limit_storm(home: Path, database_url: str, folder: Path, threads: int) -> Row:
    """Per-file ``images.upload`` from ``threads`` threads against a 20 requests/s limit."""
    started = time.monotonic()
    store_args = ("--home", str(home), "--database-url", database_url)
    key = create_key(store_args, "acme")
    limits = ("--rate-limit", "20", "--rate-burst", "20")
    with running_server(home, database_url, free_port(), *limits) as served:
        failures = per_file_uploads(served.base_url, key, folder, threads)
    row = Row(f"429 storm ({threads} threads, 20 req/s)", 1, 0, count_files(folder))
    row.failures = failures
    row.seconds = time.monotonic() - started
    return measure(row, home, database_url, folder)


_KEYS = "/api/v1/api-keys/"


def admins_racing(home: Path, database_url: str, organizations: int) -> Row:
    """In each of ``organizations`` organisations, two admin keys deactivate each other at the
    same moment; "lost" counts organisations left without an active admin or owner key."""
    started = time.monotonic()
    store_args = ("--home", str(home), "--database-url", database_url)
    owners = [create_key(store_args, f"race-{n}") for n in range(organizations)]
    row = Row(f"two admins racing ({organizations} organisations)", organizations, organizations, 0)
    with running_server(home, database_url, free_port()) as served:
        for owner in owners:
            orphaned, errors = _race_once(served.base_url, owner, store_args)
            row.lost += orphaned
            row.failures += errors
    row.seconds = time.monotonic() - started
    return row


def _race_once(base_url: str, owner: str, store_args: Sequence[str]) -> tuple[int, int]:
    """Two admins (the owner's key revoked) deactivate each other at once: (1 when no admin or
    owner key is left active else 0, answers >= 500)."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        made = [
            http.post(_KEYS, json={"name": n, "role": "admin"}, headers={"X-API-Key": owner})
            for n in ("a", "b")
        ]
        admins = [(m.json()["key_id"], m.json()["api_key"]) for m in made]
        own_id = http.get(_KEYS, headers={"X-API-Key": owner}).json()["api_keys"][0]["id"]
        # An admin cannot remove an owner's key: the store's own command line does.
        subprocess.run(
            [PICTOGRAPH, "keys", "revoke", own_id, *store_args], check=True, capture_output=True
        )
        barrier = threading.Barrier(2)

        def deactivate(me: str, other: str) -> int:
            barrier.wait()
            answer = http.patch(
                f"{_KEYS}{other}", json={"is_active": False}, headers={"X-API-Key": me}
            )
            return answer.status_code

        with ThreadPoolExecutor(2) as pool:
            codes = list(
                pool.map(deactivate, [admins[0][1], admins[1][1]], [admins[1][0], admins[0][0]])
            )
        left = [http.get(_KEYS, headers={"X-API-Key": key}) for _, key in admins]
    managers = [
        k
        for answer in left
        if answer.status_code == 200
        for k in answer.json()["api_keys"]
        if k["is_active"] and k["role"] in ("admin", "owner")
    ]
    return (0 if managers else 1), sum(1 for code in codes if code >= 500)


def hostile_clients(home: Path, database_url: str, header_mib: int) -> Row:
    """A client sending a ``header_mib`` MiB header and one sending its header slowly, while
    another client's GETs are timed: a GET slower than 1 s counts as a failure."""
    started = time.monotonic()
    store_args = ("--home", str(home), "--database-url", database_url)
    key = create_key(store_args, "acme")
    port = free_port()
    slow_gets = 0
    slowest = 0.0
    with running_server(home, database_url, port, "--header-timeout", "5") as served:
        stop = threading.Event()
        attackers = [
            threading.Thread(target=_huge_header, args=(port, header_mib, stop)),
            threading.Thread(target=_slow_header, args=(port, stop)),
        ]
        for attacker in attackers:
            attacker.start()
        with httpx.Client(base_url=served.base_url, headers={"X-API-Key": key}) as client:
            for _ in range(40):
                began = time.monotonic()
                answered = client.get("/api/v1/developer/datasets/", timeout=10)
                took = time.monotonic() - began
                slowest = max(slowest, took)
                if answered.status_code != 200 or took >= 1.0:
                    slow_gets += 1
                time.sleep(0.05)
        stop.set()
        for attacker in attackers:
            attacker.join(timeout=60)
    label = f"{header_mib} MiB + slow header (slowest GET {slowest:.2f} s)"
    row = Row(label, 1, 2, 0, failures=slow_gets)
    row.seconds = time.monotonic() - started
    return row


def _huge_header(port: int, mib: int, stop: threading.Event) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Huge: ")
            chunk = b"h" * (1024 * 1024)
            for _ in range(mib):
                if stop.is_set():
                    return
                sock.sendall(chunk)
        except OSError:
            return


def _slow_header(port: int, stop: threading.Event) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(b"GET / HTTP/1.1\r\n")
            while not stop.is_set():
                sock.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.5)
        except OSError:
            return


def similarity_storm(
    home: Path, database_url: str, files: int, searches: int = 40, side: int = 2500
) -> Row:
    """``files`` ``side`` x ``side`` PNGs uploaded by one organisation, then ``searches``
    concurrent similarity searches of that folder started at once, while another organisation's
    key lists its datasets every 50 ms. A failure: a search that is not a 200, or another
    organisation's GET taking 1 s or more. The label carries that GET's p99 and the server's
    peak RSS (``VmHWM``)."""
    started = time.monotonic()
    folder = home / "scenes"
    for index in range(files):
        large_scene(folder / f"scene-{index:05d}.png", side, seed=index)
    store_args = ("--home", str(home), "--database-url", database_url)
    acme, globex = create_key(store_args, "acme"), create_key(store_args, "globex")
    port = free_port()
    get_times: list[float] = []
    failures = 0
    with running_server(home, database_url, port) as served:
        assert upload(served.base_url, acme, folder) == 0
        with httpx.Client(base_url=served.base_url, headers={"X-API-Key": acme}) as client:
            listed = client.get(f"{API}/images/", params={"dataset": DATASET, "limit": 1})
            query = listed.json()["data"][0]["id"]
        stop = threading.Event()

        def other_org() -> None:
            with httpx.Client(base_url=served.base_url, headers={"X-API-Key": globex}) as client:
                while not stop.is_set():
                    began = time.monotonic()
                    answered = client.get(f"{API}/datasets/", timeout=600)
                    get_times.append(time.monotonic() - began)
                    if answered.status_code != 200:
                        get_times[-1] = float("inf")
                    time.sleep(0.05)

        def search(_: int) -> int:
            with httpx.Client(base_url=served.base_url, headers={"X-API-Key": acme}) as client:
                params = {"image_id": query, "threshold": 0}
                answered = client.get(f"{API}/search/similar", params=params, timeout=900)
            return answered.status_code

        watcher = threading.Thread(target=other_org)
        watcher.start()
        try:
            with ThreadPoolExecutor(searches) as pool:
                failures += sum(status != 200 for status in pool.map(search, range(searches)))
        finally:
            stop.set()
            watcher.join(timeout=600)
        peak_mib = _peak_rss_mib(served.process.pid)
    failures += sum(took >= 1.0 for took in get_times)
    p99 = sorted(get_times)[max(0, int(len(get_times) * 0.99) - 1)] if get_times else 0.0
    label = (
        f"{searches} concurrent first similarity searches while another organisation is served "
        f"({side}px PNGs; other-org GET p99 {p99:.2f} s, server peak RSS {peak_mib} MiB)"
    )
    row = Row(label, 1, searches, files, failures=failures)
    row.seconds = time.monotonic() - started
    return row


def _peak_rss_mib(pid: int) -> int:
    """The process's peak resident memory (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def count_files(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*.*") if path.is_file())


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A PostgreSQL schema of its own (dropped afterwards), as a database URL."""
    schema = f"soak_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{admin_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


Scenario = Callable[[Path, str], Row]
