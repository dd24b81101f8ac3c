"""`make bench-s3-client`: what boto3 costs a replica per object for the two S3 calls of a direct
upload, against a lean client doing the same work.

Per uploaded object a replica on ``s3://`` storage makes a presigned PUT URL bound to the content
type and the bytes' SHA-256 (``S3BlobStore.upload_url``, boto3's ``generate_presigned_url``) and,
at registration, a HEAD with ``ChecksumMode=ENABLED`` (``S3BlobStore.facts``). The lean client
keeps boto3's SigV4 code but not its client: botocore's own signers (``S3SigV4QueryAuth`` for the
URL, ``S3SigV4Auth`` for the HEAD) on a bare ``AWSRequest``, the HEAD sent by an ``httpx.Client``
that keeps its connections alive, or by a ``urllib3.PoolManager`` (what botocore itself sends
with; no new dependency). Credentials, region and endpoint come from botocore's chain, as for
boto3.

Starts SeaweedFS (deploy/seaweed.py), puts N objects of 0.5-4 KiB through presigned PUTs with
``x-amz-checksum-sha256`` (half of the URLs made by boto3, half by the lean signer), then times,
in rounds whose order alternates (forward, then reversed, ...): N presigns; N HEADs one after
another; N HEADs from 16 threads. Every client has 16 pooled connections (boto3's default is 10).
Wall time is per object; CPU is ``time.process_time`` of this process (all its threads; SeaweedFS
is another process).

Checked before any figure is printed: with the clock frozen the two clients' URLs are equal byte
for byte; both kinds of URL are accepted with the right body and refused with another; every HEAD
of every timed run, of every client, answers the size and SHA-256 the object was put with; a
missing object is ``NotFoundError`` for every client.

Writes nothing: prints a Markdown line and table for docs/benchmarks.md, with the load average.
Usage: bench/s3_client.py [N] [--rounds R] (N defaults to 2,000, R to 2).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.session  # noqa: E402
import httpx  # noqa: E402
import urllib3  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402

from deploy.seaweed import seaweedfs  # noqa: E402
from pictograph.errors import NotFoundError  # noqa: E402
from pictograph.server.store.blobs import (  # noqa: E402
    BlobFacts,
    new_keys,
    no_reservations,
    validate_key,
)
from pictograph.server.store.s3_blobs import S3BlobStore  # noqa: E402

BUCKET = "pictograph"
PREFIX = "bench/"
THREADS = 16
EXPIRES = 3600
CONTENT_TYPE = "image/jpeg"
LEAN_SIGN = "lean: botocore signer"
LEAN = "lean: signer + httpx"
LEAN_URLLIB3 = "lean: signer + urllib3"


class LeanS3:
    """``upload_url`` and ``facts`` of ``S3BlobStore`` without a boto3 client: botocore's SigV4
    signers on a bare request, the HEAD sent by httpx with keep-alive. Path-style URLs (what
    boto3 makes for an endpoint given by address, as here)."""

    def __init__(self, bucket: str, prefix: str, *, connections: int, http: str = "httpx") -> None:
        session = botocore.session.get_session()
        self.prefix = prefix
        self._region = session.get_config_variable("region")
        self._credentials = session.get_credentials()
        endpoint = os.environ["AWS_ENDPOINT_URL_S3"].rstrip("/")
        self._base = f"{endpoint}/{quote(bucket)}/"
        self._head_signer = botocore.auth.S3SigV4Auth(self._credentials, "s3", self._region)
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self._http = httpx.Client(limits=limits, timeout=30)
        self._pool = urllib3.PoolManager(maxsize=connections, retries=False, timeout=30)
        self._send = self._httpx if http == "httpx" else self._urllib3

    def _url(self, key: str) -> str:
        return self._base + quote(self.prefix + validate_key(key), safe="/~")

    def upload_url(
        self, key: str, *, content_type: str, sha256: str | None, expires_in: int
    ) -> str:
        headers = {"Content-Type": content_type}
        if sha256 is not None:
            headers["x-amz-checksum-sha256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
        request = AWSRequest(method="PUT", url=self._url(key), headers=headers)
        signer = botocore.auth.S3SigV4QueryAuth(
            self._credentials, "s3", self._region, expires=expires_in
        )
        signer.add_auth(request)
        return str(request.url)

    def facts(self, key: str) -> BlobFacts:
        request = AWSRequest(
            method="HEAD", url=self._url(key), headers={"x-amz-checksum-mode": "ENABLED"}
        )
        self._head_signer.add_auth(request)
        status, headers = self._send(str(request.url), dict(request.headers.items()))
        if status == 404:
            raise NotFoundError("blob not found")
        if status != 200:
            raise RuntimeError(f"HEAD answered {status}")
        checksum = headers.get("x-amz-checksum-sha256")
        sha256 = base64.b64decode(checksum).hex() if checksum else None
        return BlobFacts(size=int(headers["content-length"]), sha256=sha256)

    def _httpx(self, url: str, headers: dict[str, str]) -> tuple[int, Any]:
        response = self._http.head(url, headers=headers)
        return response.status_code, response.headers

    def _urllib3(self, url: str, headers: dict[str, str]) -> tuple[int, Any]:
        response = self._pool.request("HEAD", url, headers=headers)
        return response.status, response.headers

    def close(self) -> None:
        self._http.close()
        self._pool.clear()


def boto3_store() -> S3BlobStore:
    """The store a replica builds (``s3_blobs.from_url``), its pool sized for 16 threads."""
    config = Config(signature_version="s3v4", max_pool_connections=THREADS)
    return S3BlobStore(BUCKET, PREFIX, boto3.client("s3", config=config), no_reservations)


def put_objects(
    http: httpx.Client, pool: ThreadPoolExecutor, urls: Sequence[str], bodies: Sequence[bytes]
) -> None:
    def put(index: int) -> None:
        checksum = base64.b64encode(hashlib.sha256(bodies[index]).digest()).decode()
        headers = {"Content-Type": CONTENT_TYPE, "x-amz-checksum-sha256": checksum}
        answer = http.put(urls[index], content=bodies[index], headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(f"PUT refused: {answer.status_code} {answer.text[:300]}")

    list(pool.map(put, range(len(urls))))


def check(
    boto: S3BlobStore, leans: list[LeanS3], http: httpx.Client, keys: list[str], hashes: list[str]
) -> None:
    """The clients do the same work: equal URLs at one instant, URLs the store honours and binds
    to the checksum, a missing object answered alike."""
    frozen = dt.datetime(2026, 12, 5, 12, 0, 0)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=frozen):
        for key, sha in zip(keys, hashes, strict=True):
            made = [
                store.upload_url(key, content_type=CONTENT_TYPE, sha256=sha, expires_in=EXPIRES)
                for store in (boto, *leans)
            ]
            if len(set(made)) != 1:
                raise AssertionError("presigned URLs differ:\n" + "\n".join(made))
    for store in (boto, *leans):
        key = new_keys(1)[0]
        body = b"the bytes that were announced"
        url = store.upload_url(
            key,
            content_type=CONTENT_TYPE,
            sha256=hashlib.sha256(body).hexdigest(),
            expires_in=EXPIRES,
        )
        checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
        headers = {"Content-Type": CONTENT_TYPE, "x-amz-checksum-sha256": checksum}
        wrong = http.put(url, content=b"other bytes", headers=headers)
        if wrong.status_code < 400:
            raise AssertionError(f"a body with another checksum was taken: {wrong.status_code}")
        try:
            store.facts(key)
        except NotFoundError:
            pass
        else:
            raise AssertionError(f"{type(store).__name__}: a refused object has facts")


Run = Callable[[], list[Any]]


def measure(
    runs: dict[str, Run], rounds: int, verify: Callable[[list[Any]], None]
) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds summed over ``rounds``, the clients' order alternating."""
    totals = {name: (0.0, 0.0) for name in runs}
    names = list(runs)
    for index in range(rounds):
        for name in names if index % 2 == 0 else names[::-1]:
            wall, cpu = time.perf_counter(), time.process_time()
            results = runs[name]()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            verify(results)
            totals[name] = (totals[name][0] + wall, totals[name][1] + cpu)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=2000, help="objects (2,000)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per measurement (2)")
    args = parser.parse_args()
    count, rounds = args.count, args.rounds
    rng = random.Random(23)
    bodies = [rng.randbytes(rng.randint(512, 4096)) for _ in range(count)]
    hashes = [hashlib.sha256(body).hexdigest() for body in bodies]
    keys = new_keys(count)
    expected = [BlobFacts(len(b), h) for b, h in zip(bodies, hashes, strict=True)]
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="bench-s3-client-") as work,
        seaweedfs(Path(work) / "seaweedfs", BUCKET, "bench-s3-client") as server,
    ):
        os.environ.update(server.env)
        boto = boto3_store()
        lean = LeanS3(BUCKET, PREFIX, connections=THREADS)
        lean_urllib3 = LeanS3(BUCKET, PREFIX, connections=THREADS, http="urllib3")
        limits = httpx.Limits(max_connections=THREADS, max_keepalive_connections=THREADS)
        with httpx.Client(limits=limits, timeout=30) as http, ThreadPoolExecutor(THREADS) as pool:
            urls = [
                (boto if i % 2 == 0 else lean).upload_url(
                    key, content_type=CONTENT_TYPE, sha256=sha, expires_in=EXPIRES
                )
                for i, (key, sha) in enumerate(zip(keys, hashes, strict=True))
            ]
            put_objects(http, pool, urls, bodies)
            check(boto, [lean, lean_urllib3], http, keys, hashes)
            signers: dict[str, Any] = {"boto3": boto, LEAN_SIGN: lean}
            heads: dict[str, Any] = {"boto3": boto, LEAN: lean, LEAN_URLLIB3: lean_urllib3}
            for store in heads.values():  # warm all: first calls load models, open sockets
                for key in keys[:20]:
                    store.facts(key)

            def presign(store: Any) -> Run:
                return lambda: [
                    store.upload_url(key, content_type=CONTENT_TYPE, sha256=sha, expires_in=EXPIRES)
                    for key, sha in zip(keys, hashes, strict=True)
                ]

            def head(store: Any) -> Run:
                return lambda: [store.facts(key) for key in keys]

            def head_threads(store: Any) -> Run:
                return lambda: list(pool.map(store.facts, keys))

            def same_facts(results: list[Any]) -> None:
                if results != expected:
                    raise AssertionError("a HEAD answered other facts than the object's")

            def urls_made(results: list[Any]) -> None:
                if len(results) != count or not all(u.startswith("http") for u in results):
                    raise AssertionError("presign made no URL")

            table = {
                "presign PUT URL": measure(
                    {n: presign(s) for n, s in signers.items()}, rounds, urls_made
                ),
                "HEAD + checksum, sequential": measure(
                    {n: head(s) for n, s in heads.items()}, rounds, same_facts
                ),
                f"HEAD + checksum, {THREADS} threads": measure(
                    {n: head_threads(s) for n, s in heads.items()}, rounds, same_facts
                ),
            }
        lean.close()
        lean_urllib3.close()
    elapsed = time.perf_counter() - started
    load = os.getloadavg()
    done = count * rounds
    print(
        f"Measured by `make bench-s3-client` on {dt.datetime.now(dt.UTC):%Y-%m-%d}: "
        f"{os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}, "
        f"boto3 {boto3.__version__}, httpx {httpx.__version__}, urllib3 {urllib3.__version__}; "
        f"SeaweedFS (`weed mini`) on loopback; N = {count} objects of 0.5-4 KiB, {rounds} rounds "
        f"(order alternating); {elapsed:.0f} s in all; load average {load[0]:.1f} / "
        f"{load[1]:.1f} / {load[2]:.1f} when the run ended."
    )
    print()
    print(
        "| operation | client | wall µs/object | CPU µs/object | CPU s per N "
        "| wall vs boto3 | CPU vs boto3 |"
    )
    print("|---|---|---|---|---|---|---|")
    for operation, totals in table.items():
        base_wall, base_cpu = totals["boto3"]
        for client, (wall, cpu) in totals.items():
            print(
                f"| {operation} | {client} | {wall / done * 1e6:.0f} | {cpu / done * 1e6:.0f} "
                f"| {cpu / rounds:.2f} | {wall / base_wall:.2f} | {cpu / base_cpu:.2f} |"
            )
    print()
    print(
        "CPU: time.process_time of the bench process (all threads; SeaweedFS not included). "
        "Checked: equal presigned URLs at one instant; every client's URL taken with the right "
        "body and refused with another; every timed HEAD answered the size and SHA-256 put; a "
        "missing object NotFoundError."
    )


if __name__ == "__main__":
    main()
