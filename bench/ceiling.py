"""The ceilings B and A are measured against: the least work that stores uploads durably.

K (``python bench/ceiling.py ROOT PORT``): an HTTP endpoint on our server's stack (uvicorn,
Starlette, python-multipart) that receives the same requests as our batch route and PUT route,
hashes each file (SHA-256), writes the files of a request into one of 256 folders, makes them
durable in one round (``fdatasync`` each, then ``fsync`` the folder) and only then answers; a PUT's
body is written and hashed while it arrives. No image check, no token, no database. L
(``store_group`` called directly, see ``worker.py``): the same work as plain function calls, the
ceiling of an embedded upload.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from pathlib import Path

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def store_group(root: Path, payloads: list[bytes]) -> list[str]:
    """Write each payload as a new file in a folder of its own under ``root`` (one of 256, so
    concurrent groups do not queue on one folder's sync), make them all durable, return hashes."""
    digests = [hashlib.sha256(payload).hexdigest() for payload in payloads]
    folder = root / secrets.token_hex(1)
    folder.mkdir(exist_ok=True)
    fds = []
    try:
        for payload in payloads:
            fd = os.open(folder / secrets.token_hex(16), os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            fds.append(fd)
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
        for fd in fds:
            os.fdatasync(fd)
    finally:
        for fd in fds:
            os.close(fd)
    sync_folder(folder)
    return digests


class StreamedFile:
    """A large upload written while it arrives (1 MiB at a time, off the event loop) and hashed
    as it goes; durable after ``finish``."""

    def __init__(self, root: Path) -> None:
        self.folder = root / secrets.token_hex(1)
        self.folder.mkdir(exist_ok=True)
        self.fd = os.open(self.folder / secrets.token_hex(16), os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(self.fd, view) :]

    def finish(self) -> str:
        try:
            os.fdatasync(self.fd)
        finally:
            os.close(self.fd)
        sync_folder(self.folder)
        return self.digest.hexdigest()


def sync_folder(root: Path) -> None:
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def app(root: Path) -> Starlette:
    async def batch(request: Request) -> JSONResponse:
        async with request.form(max_files=1000, max_fields=0) as form:
            payloads = [
                await value.read()
                for _, value in form.multi_items()
                if isinstance(value, UploadFile)
            ]
        digests = await anyio.to_thread.run_sync(store_group, root, payloads)
        return JSONResponse({"sha256": digests})

    async def put(request: Request) -> JSONResponse:
        target = await anyio.to_thread.run_sync(StreamedFile, root)
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= 1024 * 1024:
                await anyio.to_thread.run_sync(target.write, bytes(buffer))
                buffer.clear()
        await anyio.to_thread.run_sync(target.write, bytes(buffer))
        return JSONResponse({"sha256": await anyio.to_thread.run_sync(target.finish)})

    routes = [Route("/batch", batch, methods=["POST"]), Route("/put", put, methods=["PUT"])]
    return Starlette(routes=routes)


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    uvicorn.run(app(folder), port=int(sys.argv[2]), log_level="warning", access_log=False)
