"""The parts of an upload batch's ``multipart/form-data`` body, split in one pass over memory.

A batch body is at most ``MAX_BATCH_BYTES`` (its Content-Length is checked first), so it is
read whole and split at its boundary with ``bytes.find``, which runs in C. Starlette's form
parser (python-multipart) streams it through a state machine in Python and a temporary file
per part: at 32 small photos a request that was a quarter of the server's CPU per file
(py-spy, docs/benchmarks.md). Only the part headers are parsed, by python-multipart's
``parse_options_header``.
"""

from __future__ import annotations

from python_multipart.multipart import parse_options_header
from starlette.requests import Request

from pictograph.errors import LengthRequiredError, PayloadTooLargeError, ValidationError
from pictograph.protocol import MAX_BATCH_BYTES, MAX_BATCH_FILES
from pictograph.server.service.batch_uploads import BatchPart

_CRLF = b"\r\n"
_HEADERS_END = b"\r\n\r\n"


async def read_parts(request: Request, max_parts: int = MAX_BATCH_FILES) -> list[BatchPart]:
    """The parts of an upload batch request: 411 without a Content-Length, 413 over
    ``MAX_BATCH_BYTES`` (both before the body is read), 400 for a body :func:`split_parts`
    refuses."""
    raw_length = request.headers.get("content-length")
    if raw_length is None or not raw_length.isdigit():
        raise LengthRequiredError("an upload batch needs a Content-Length header")
    if int(raw_length) > MAX_BATCH_BYTES:
        raise PayloadTooLargeError(f"an upload batch may carry at most {MAX_BATCH_BYTES} bytes")
    boundary = boundary_of(request.headers.get("content-type", ""))
    return split_parts(await request.body(), boundary, max_parts)


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` content type; 400 when there is none."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary", b"")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise _malformed("an upload batch is a multipart/form-data body with a boundary")
    return boundary


def split_parts(body: bytes, boundary: bytes, max_parts: int = MAX_BATCH_FILES) -> list[BatchPart]:
    """Every part of ``body``, in order, named by its form field (the upload token, or
    ``manifest``), each marked as a file (a part with a filename) or a plain field.

    ``ValidationError`` (400) for a body that is not well-formed multipart, a part that is not
    a form field, or more than ``max_parts`` parts.
    """
    delimiter = b"--" + boundary
    next_part = _CRLF + delimiter
    position = body.find(delimiter)
    if position < 0:
        raise _malformed("the upload batch's body has no part")
    position += len(delimiter)
    parts: list[BatchPart] = []
    while not body.startswith(b"--", position):  # the closing delimiter ends the body
        if not body.startswith(_CRLF, position):
            raise _malformed("the upload batch's body is not well-formed multipart")
        headers_end = body.find(_HEADERS_END, position)
        if headers_end < 0:
            raise _malformed("a part of the upload batch has no end to its headers")
        end = body.find(next_part, headers_end + len(_HEADERS_END))
        if end < 0:
            raise _malformed("the upload batch's body ends inside a part (cut short?)")
        if len(parts) == max_parts:
            raise _malformed(f"at most {MAX_BATCH_FILES} files per upload batch")
        name, is_file = _field_of(body[position + len(_CRLF) : headers_end])
        parts.append(BatchPart(name, body[headers_end + len(_HEADERS_END) : end], is_file))
        position = end + len(next_part)
    return parts


def _field_of(headers: bytes) -> tuple[str, bool]:
    """A part's form field name, and whether it is a file (has a filename)."""
    for line in headers.split(_CRLF):
        field, _, value = line.partition(b":")
        if field.strip().lower() != b"content-disposition":
            continue
        kind, options = parse_options_header(value.strip())
        if kind == b"form-data" and b"name" in options:
            return options[b"name"].decode("utf-8", "replace"), b"filename" in options
        break
    raise _malformed("each part of an upload batch is a named form-data field")


def token_parts(parts: list[BatchPart]) -> list[BatchPart]:
    """``parts`` of a token-named batch: ``ValidationError`` (400) unless each is a file."""
    if not all(part.is_file for part in parts):
        raise _malformed("each part of an upload batch is a file named by its upload token")
    return parts


def manifest_parts(parts: list[BatchPart]) -> tuple[bytes, list[bytes]]:
    """The manifest and the files' bytes of a batch under the API key: a ``manifest`` field
    first, then one file part per manifest entry (``ValidationError`` (400) otherwise)."""
    if not parts or parts[0].name != "manifest" or parts[0].is_file:
        raise _malformed("an upload batch starts with its manifest field")
    files = parts[1:]
    if not all(part.is_file for part in files):
        raise _malformed("after the manifest, each part of an upload batch is a file")
    return parts[0].data, [part.data for part in files]


def _malformed(message: str) -> ValidationError:
    return ValidationError(message, status_code=400)
