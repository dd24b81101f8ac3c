"""Image bytes in an S3-compatible bucket (``s3://bucket/prefix``), for replicas sharing one store.

Nothing is kept on the replica: a write is spooled (memory, then a temporary file) and in the
bucket before it commits, and ``open`` reads the object from the bucket. Credentials and the
endpoint come from boto3's own chain (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_ENDPOINT_URL_S3``, ``~/.aws``, ...).
"""

from __future__ import annotations

import base64
import hashlib
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any, BinaryIO, cast
from urllib.parse import unquote, urlparse

from pictograph.errors import ConfigurationError, NotFoundError
from pictograph.server.store.blobs import (
    BlobFacts,
    HeldBlob,
    Reserve,
    StoredBlob,
    is_key,
    new_keys,
    validate_key,
    write_all,
)

#: Bytes of a blob held in memory before spooling spills to a temporary file.
_SPOOL = 8 * 1024 * 1024


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=_SPOOL, prefix="pictograph-blob-")


class S3Writer:
    """Spools the bytes; ``commit`` puts them in the bucket before it returns."""

    def __init__(self, store: S3BlobStore) -> None:
        self._store = store
        self._key = store.new_keys(1)[0]
        self._spool = _spool()
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._spool.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def staged(self) -> BinaryIO:
        """The spool itself, from its start; closing the answer leaves the spool open."""
        self._spool.seek(0)
        return cast(BinaryIO, _Borrowed(self._spool))

    def commit(self) -> StoredBlob:
        try:
            self._spool.seek(0)
            self._store.put(self._key, self._spool)
        finally:
            self._spool.close()
        return StoredBlob(key=self._key, size=self.size, sha256=self._hash.hexdigest())

    def abort(self) -> None:
        self._spool.close()


class _Borrowed(io.RawIOBase):
    """A readable, seekable view of a file whose ``close`` leaves the file open."""

    def __init__(self, file: IO[bytes]) -> None:
        super().__init__()
        self._file = file

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        return self._file.read(-1 if size is None else size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()


class S3BlobStore:
    """Blobs as objects ``<prefix><key>`` in ``bucket``."""

    def __init__(self, bucket: str, prefix: str, client: Any, reserve: Reserve) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        self._reserve = reserve

    def writer(self) -> S3Writer:
        return S3Writer(self)

    def write_stream(self, chunks: Iterable[bytes]) -> StoredBlob:
        return write_all(self.writer(), chunks)

    def put(self, key: str, source: IO[bytes]) -> None:
        """Upload ``source`` (from its current position) as the blob ``key``."""
        self.client.upload_fileobj(source, self.bucket, self.object_name(key))

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        target = _spool()
        try:
            self.client.download_fileobj(self.bucket, self.object_name(key), target)
        except ClientError as error:
            target.close()
            if _missing(error):
                raise NotFoundError("blob not found") from None
            raise
        except BaseException:
            target.close()
            raise
        target.seek(0)
        return cast(BinaryIO, target)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_name(key))

    def iter_blobs(self) -> Iterator[HeldBlob]:
        """The blobs under our prefix, with the time each was written (``list_objects_v2``).
        Objects that are not blobs (``derived/`` thumbnails) are not listed; nothing is ever
        spooled to a replica's disk, so there are no temporary files to list."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = str(item["Key"])[len(self.prefix) :]
                if is_key(key):
                    yield HeldBlob(key, item["LastModified"])

    def remove(self, held: HeldBlob) -> None:
        if not held.temporary:
            self.delete(held.key)

    def new_keys(self, count: int) -> list[str]:
        """Fresh blob keys to upload to (we or a client), reserved before they are handed out."""
        keys = new_keys(count)
        self._reserve(keys)
        return keys

    def upload_url(
        self, key: str, *, content_type: str, sha256: str | None, expires_in: int
    ) -> str:
        """A presigned PUT of ``key``, bound to ``content_type`` and, when given, to the bytes'
        SHA-256 (hex): the store refuses a body with another checksum."""
        params = {"Bucket": self.bucket, "Key": self.object_name(key), "ContentType": content_type}
        if sha256 is not None:
            params["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
        return str(
            self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)
        )

    def download_url(
        self, key: str, *, content_type: str, disposition: str | None, expires_in: int
    ) -> str:
        """A presigned GET of ``key`` answered with ``content_type`` (and ``disposition`` as its
        Content-Disposition when given)."""
        params = {
            "Bucket": self.bucket,
            "Key": self.object_name(key),
            "ResponseContentType": content_type,
        }
        if disposition is not None:
            params["ResponseContentDisposition"] = disposition
        return str(
            self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        )

    def facts(self, key: str) -> BlobFacts:
        """Size and verified SHA-256 of ``key`` from a HEAD; ``NotFoundError`` when absent."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(
                Bucket=self.bucket, Key=self.object_name(key), ChecksumMode="ENABLED"
            )
        except ClientError as error:
            if _missing(error):
                raise NotFoundError("blob not found") from None
            raise
        checksum = head.get("ChecksumSHA256")
        sha256 = base64.b64decode(checksum).hex() if isinstance(checksum, str) else None
        return BlobFacts(size=int(head["ContentLength"]), sha256=sha256)

    def derived_url(self, name: str, *, expires_in: int) -> str | None:
        """A presigned GET of the derived object ``name`` (a thumbnail, say: kept under
        ``<prefix>derived/``, apart from the blobs); ``None`` when there is no such object."""
        from botocore.exceptions import ClientError

        target = f"{self.prefix}derived/{name}"
        try:
            self.client.head_object(Bucket=self.bucket, Key=target)
        except ClientError as error:
            if _missing(error):
                return None
            raise
        params = {"Bucket": self.bucket, "Key": target}
        return str(
            self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        )

    def put_derived(self, name: str, data: bytes, content_type: str) -> None:
        """Store the derived object ``name`` (made again from its blob whenever it is lost)."""
        self.client.put_object(
            Bucket=self.bucket,
            Key=f"{self.prefix}derived/{name}",
            Body=data,
            ContentType=content_type,
        )

    def object_name(self, key: str) -> str:
        """The bucket's name for the blob ``key``."""
        return f"{self.prefix}{validate_key(key)}"


def _missing(error: Any) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound")


def from_url(url: str, reserve: Reserve) -> S3BlobStore:
    """The store for ``s3://bucket/prefix``; ``ConfigurationError`` when boto3 is missing or
    the bucket cannot be reached."""
    parsed = urlparse(url)
    if not parsed.netloc:
        raise ConfigurationError(f"an s3:// storage URL names a bucket: {url!r}")
    prefix = unquote(parsed.path).strip("/")
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise ConfigurationError(
            "s3:// storage needs boto3: pip install 'pictograph-selfhosted[s3]'"
        ) from None
    from botocore.config import Config

    client = boto3.client("s3", config=Config(signature_version="s3v4"))
    try:
        client.head_bucket(Bucket=parsed.netloc)
    except (BotoCoreError, ClientError) as error:
        raise ConfigurationError(f"cannot reach S3 bucket {parsed.netloc!r}: {error}") from None
    return S3BlobStore(parsed.netloc, f"{prefix}/" if prefix else "", client, reserve)
