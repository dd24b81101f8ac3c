"""Image bytes in an S3-compatible bucket, for several replicas sharing one store.

Each replica keeps a local cache folder of the blobs it has written or read, so everything that
reads image files (the checks on arrival, thumbnails, downloads) reads a local file; the bucket
is the source of truth. A blob is in the bucket before its write commits, so an image row never
points at bytes only one replica has. Credentials and the endpoint come from boto3's own chain
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL_S3``, ``~/.aws``, ...).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from pictograph.errors import ConfigurationError, NotFoundError
from pictograph.server.store.blobs import (
    HeldBlob,
    LocalBlobStore,
    LocalWriter,
    StoredBlob,
    is_key,
    validate_key,
    write_all,
)


class S3Writer:
    """Writes to the local cache first; ``commit`` uploads to the bucket before it returns."""

    def __init__(self, store: S3BlobStore) -> None:
        self._store = store
        self._local: LocalWriter = store.cache.writer()

    @property
    def size(self) -> int:
        return self._local.size

    def write(self, chunk: bytes) -> None:
        self._local.write(chunk)

    def commit(self) -> StoredBlob:
        blob = self._local.commit()
        try:
            self._store.upload(blob.key)
        except BaseException:
            self._store.cache.delete(blob.key)
            raise
        return blob

    def abort(self) -> None:
        self._local.abort()


class S3BlobStore:
    """Blobs as objects ``<prefix><key>`` in ``bucket``, cached under ``cache``."""

    def __init__(self, bucket: str, prefix: str, cache: Path, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.cache = LocalBlobStore(cache)
        self._client = client

    def writer(self) -> S3Writer:
        return S3Writer(self)

    def write_stream(self, chunks: Iterable[bytes]) -> StoredBlob:
        return write_all(self.writer(), chunks)

    def upload(self, key: str) -> None:
        """Copy the cached blob ``key`` to the bucket."""
        self._client.upload_file(str(self.cache.path(key)), self.bucket, self._object(key))

    def path(self, key: str) -> Path:
        """The cached file of ``key``, fetched from the bucket first when this replica lacks it.

        ``NotFoundError`` when the bucket has no such blob either.
        """
        local = self.cache.path(key)
        if not local.exists():
            self._fetch(key, local)
        return local

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def delete(self, key: str) -> None:
        self.cache.delete(key)
        self._client.delete_object(Bucket=self.bucket, Key=self._object(key))

    def iter_blobs(self) -> Iterator[HeldBlob]:
        """The bucket's blobs under our prefix, then the local cache's leftover temporary files
        (the cache's blobs are copies, not held blobs)."""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = str(item["Key"])[len(self.prefix) :]
                if is_key(key):
                    yield HeldBlob(key, item["LastModified"])
        yield from (held for held in self.cache.iter_blobs() if held.temporary)

    def remove(self, held: HeldBlob) -> None:
        if held.temporary:
            self.cache.remove(held)
        else:
            self.delete(held.key)

    def _object(self, key: str) -> str:
        return f"{self.prefix}{validate_key(key)}"

    def _fetch(self, key: str, local: Path) -> None:
        from botocore.exceptions import ClientError

        local.parent.mkdir(exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".fetch-", suffix=".tmp", dir=local.parent)
        os.close(fd)
        try:
            self._client.download_file(self.bucket, self._object(key), name)
            os.replace(name, local)  # another reader never sees a half-fetched file
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey"):
                raise NotFoundError("blob not found") from None
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)


def open_s3_store(bucket: str, prefix: str, cache: Path) -> S3BlobStore:
    """The store for ``s3://bucket/prefix``; ``ConfigurationError`` when boto3 is missing or
    the bucket cannot be reached."""
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise ConfigurationError(
            "s3:// storage needs boto3: pip install 'pictograph-selfhosted[s3]'"
        ) from None
    client = boto3.client("s3")
    try:
        client.head_bucket(Bucket=bucket)
    except (BotoCoreError, ClientError) as error:
        raise ConfigurationError(f"cannot reach S3 bucket {bucket!r}: {error}") from None
    return S3BlobStore(bucket, prefix, cache, client)
