"""The one HTTP transport: timeouts, retries, backoff, Retry-After, Idempotency-Key, errors."""

from __future__ import annotations

import contextlib
import json as jsonlib
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import httpx

from pictograph._version import __version__
from pictograph.errors import (
    ApiError,
    NetworkError,
    RequestTimeoutError,
    ServerError,
    error_from_response,
    parse_retry_after,
)

if TYPE_CHECKING:
    from pictograph._embedded import EmbeddedTransport

__all__ = ["RETRY_STATUSES", "Transport", "user_agent"]

logger = logging.getLogger("pictograph.transport")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT_HEADER = "Idempotency-Key"
API_KEY_HEADER = "X-API-Key"
MAX_RETRY_AFTER = 120.0
#: Seconds of Retry-After waits (429s) one call sits through before giving up.
RATE_LIMIT_PATIENCE = 300.0
BACKOFF_CAP = 30.0
#: A connection that broke mid-request (reset, cut off, closed before an answer) gets this many
#: times ``max_retries``: a lossy link breaks many, and each retry is safe (writes carry an
#: Idempotency-Key; a signed upload URL names one image, a second copy is a 409). A refused
#: connection, a timeout or an error status keep ``max_retries``.
BROKEN_CONNECTION_FACTOR = 3
TRANSFER_TIMEOUT = 300.0
CHUNK_SIZE = 1024 * 1024
POOL = httpx.Limits(max_connections=64, max_keepalive_connections=32)


def user_agent() -> str:
    """``pictograph-selfhosted/<version>``: the User-Agent of every SDK request."""
    return f"pictograph-selfhosted/{__version__}"


class Transport:
    """A thread-safe wrapper around one pooled ``httpx.Client`` that speaks the wire protocol."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        backoff_base: float = 1.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        headers = {"User-Agent": user_agent(), "Accept": "application/json"}
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=POOL,
            transport=transport,
        )
        self._inner = transport
        self._base = httpx.URL(self.base_url)
        self._foreign: httpx.Client | None = None
        self._lock = threading.Lock()

    def in_process(self) -> EmbeddedTransport | None:
        """The in-process transport answering this transport's requests with a server this
        process opened (embedded mode), or ``None`` when they go over a socket."""
        if getattr(self._inner, "service", None) is None:
            return None
        from pictograph._embedded import EmbeddedTransport  # an embedded client imported it

        return self._inner if isinstance(self._inner, EmbeddedTransport) else None

    def close(self) -> None:
        """Close the pooled connections (and the in-process app, in embedded mode)."""
        self._client.close()
        with self._lock:
            if self._foreign is not None:
                self._foreign.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ JSON calls

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one logical API call (retried as needed) and return its parsed JSON body.

        Returns ``None`` for 204 or an empty body. Raises the ``ApiError`` subclass the error
        envelope names, ``ServerError`` for a 2xx that is not JSON, ``RequestTimeoutError`` or
        ``NetworkError`` when no response came back.
        """
        method = method.upper()
        headers = self._auth_headers()
        if method in ("POST", "PUT", "PATCH"):
            # One key per logical call, reused by every retry, so the server can deduplicate.
            headers[IDEMPOTENT_HEADER] = uuid.uuid4().hex
        url = self._pin(path)
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}

        def build() -> httpx.Request:
            return self._client.build_request(
                method, url, params=clean_params or None, json=json, headers=headers
            )

        response = self._send(self._client, build)
        return _parse_json(response)

    # ------------------------------------------------------------------ byte transfers

    def download(self, path_or_url: str, dest: Path) -> Path:
        """Stream a GET to ``<dest>.part`` and rename it onto ``dest`` once complete.

        A relative path is an API route and carries the API key; an absolute URL is a signed
        or capability URL and never does. Raises the mapped ``ApiError`` for a status >= 300.
        """
        client, url, headers = self._route_for(path_or_url)
        timeout = httpx.Timeout(self._timeout, read=max(self._timeout, TRANSFER_TIMEOUT))

        def build() -> httpx.Request:
            return client.build_request("GET", url, headers=headers, timeout=timeout)

        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        response = self._send(client, build, stream=True)
        try:
            if not 200 <= response.status_code < 300:
                response.read()
                raise _error_of(response)
            with part.open("wb") as fh:
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    fh.write(chunk)
            part.replace(dest)  # fails when a folder has the name: no .part may stay behind
        except BaseException:
            with contextlib.suppress(OSError):
                part.unlink()
            raise
        finally:
            response.close()
        return dest

    def put_file(
        self,
        url: str,
        path: Path,
        content_type: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """PUT a file to an absolute signed URL, streamed from disk with a fixed Content-Length.

        The API key is never sent. Only 200 and 201 succeed; the parsed JSON body (or ``None``)
        comes back, as is: a 200 whose receipt says ``refused`` (bytes a three-step URL refused)
        is for register to report. Other statuses raise the mapped ``ApiError`` (a 422 from the
        storage endpoint is a ``ValidationError`` carrying the server's message).
        """
        if not url.startswith(("http://", "https://")):
            raise ApiError(f"upload URL must be absolute, got {url!r}")
        client, target, auth = self._route_for(url)
        size = path.stat().st_size
        sent = {"Content-Type": content_type, **(headers or {}), "Content-Length": str(size)}
        headers = {**auth, **sent}
        timeout = httpx.Timeout(
            self._timeout,
            read=max(self._timeout, TRANSFER_TIMEOUT),
            write=max(self._timeout, TRANSFER_TIMEOUT),
        )

        def build() -> httpx.Request:
            # Re-read per attempt, so a retried PUT starts from the first byte. A small file is
            # sent in one piece; a large one streams, never wholly in memory.
            body = path.read_bytes() if size <= CHUNK_SIZE else _file_chunks(path)
            return client.build_request(
                "PUT", target, content=body, headers=headers, timeout=timeout
            )

        response = self._send(client, build)
        if response.status_code not in (200, 201):
            if 200 <= response.status_code < 300:
                raise ApiError(f"Upload failed: HTTP {response.status_code}")
            raise _error_of(response)
        return _json_or_none(response)

    def post_files(
        self,
        url: str,
        parts: Sequence[tuple[str, str, bytes, str]],
        *,
        fields: Mapping[str, str] | None = None,
    ) -> Any:
        """POST several small files as one multipart body: to an absolute signed URL (the API
        key is never sent), or to an API path (it is; no Idempotency-Key: such a route answers a
        retry by what it stored).

        ``parts`` are ``(part name, filename, bytes, content type)``; ``fields`` are plain form
        fields, sent before them. Returns the parsed JSON body; a non-2xx status raises the
        mapped ``ApiError``.
        """
        client, target, headers = self._route_for(url)
        timeout = httpx.Timeout(
            self._timeout,
            read=max(self._timeout, TRANSFER_TIMEOUT),
            write=max(self._timeout, TRANSFER_TIMEOUT),
        )
        files = [(name, (filename, data, mime)) for name, filename, data, mime in parts]

        def build() -> httpx.Request:
            return client.build_request(
                "POST", target, data=fields, files=files, headers=headers, timeout=timeout
            )

        return _parse_json(self._send(client, build))

    # ------------------------------------------------------------------ retries

    def _send(
        self,
        client: httpx.Client,
        build: Callable[[], httpx.Request],
        *,
        stream: bool = False,
    ) -> httpx.Response:
        """Send ``build()``, retrying transport errors and retryable statuses with backoff.

        Answers that say "later" (429, or 409 for a twin request still running, with
        ``Retry-After``) are waited out without using up ``max_retries``, for up to
        ``RATE_LIMIT_PATIENCE`` seconds of waiting in all. A connection broken mid-request may
        be retried up to ``BROKEN_CONNECTION_FACTOR`` times as often, counted apart, so a
        server that breaks connections while it restarts, then refuses them or answers 503,
        still gets ``max_retries`` for those.
        """
        attempt = 0  # retries after a timeout, a refused connection or an error status
        broken = 0  # retries after a connection broke mid-request: a budget of their own
        waited_later = 0.0
        while True:
            last = attempt >= self._max_retries
            request = build()
            try:
                response = client.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                if last:
                    raise RequestTimeoutError(f"{request.method} {request.url}: timed out") from exc
                self._pause(self._backoff(attempt + broken), f"timeout ({exc!r})")
                attempt += 1
                continue
            except httpx.RequestError as exc:
                if isinstance(exc, httpx.ConnectError):
                    given_up = last
                    attempt += 1
                else:
                    given_up = broken >= self._max_retries * BROKEN_CONNECTION_FACTOR
                    broken += 1
                if given_up:
                    raise NetworkError(f"{request.method} {request.url}: {exc!r}") from exc
                self._pause(self._backoff(attempt + broken - 1), f"network error ({exc!r})")
                continue
            later = _later(response)
            if later is not None and waited_later + later <= RATE_LIMIT_PATIENCE:
                # Jitter spreads the clients a limit turned away, so they do not return at once.
                pause = later * random.uniform(1.0, 1.5)
                waited_later += pause
                response.close()
                self._pause(pause, f"HTTP {response.status_code}")
                continue
            if last or response.status_code not in RETRY_STATUSES:
                return response
            wait = self._wait_for(response, attempt + broken)
            if wait is None:
                return response
            response.close()
            self._pause(wait, f"HTTP {response.status_code}")
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        jitter: float = random.uniform(0.75, 1.25)
        return float(min(self._backoff_base * 2 ** min(attempt, 30), BACKOFF_CAP) * jitter)

    def _wait_for(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying ``response``; ``None`` means do not retry."""
        backoff = self._backoff(attempt)
        if response.status_code != 429:
            return backoff
        retry_after = parse_retry_after(response.headers)
        if retry_after is None:
            return backoff
        if retry_after > MAX_RETRY_AFTER:
            return None
        return max(retry_after, backoff)

    def _pause(self, seconds: float, why: str) -> None:
        logger.info("retrying in %.2fs after %s", seconds, why)
        time.sleep(seconds)

    # ------------------------------------------------------------------ routing

    def _auth_headers(self) -> dict[str, str]:
        return {API_KEY_HEADER: self._api_key} if self._api_key else {}

    def _pin(self, path: str) -> str:
        """Keep an authenticated request on the configured host: drop a URL's scheme and host."""
        url = httpx.URL(path)
        if not url.is_absolute_url:
            return path
        if not self._same_origin(url):
            logger.warning("ignoring host %r: the API key only goes to %r", url.host, self._base)
        target = url.raw_path.decode("ascii")
        prefix = self._base.raw_path.decode("ascii").rstrip("/")
        if prefix and target.startswith(prefix + "/"):
            target = target[len(prefix) :]
        return target

    def _route_for(self, path_or_url: str) -> tuple[httpx.Client, str, dict[str, str]]:
        """The client, target and auth headers for a byte transfer (no key on absolute URLs)."""
        url = httpx.URL(path_or_url)
        if not url.is_absolute_url:
            return self._client, path_or_url, self._auth_headers()
        if self._same_origin(url):
            return self._client, path_or_url, {}
        return self._foreign_client(), path_or_url, {}

    def _same_origin(self, url: httpx.URL) -> bool:
        return (url.scheme, url.host, url.port) == (
            self._base.scheme,
            self._base.host,
            self._base.port,
        )

    def _foreign_client(self) -> httpx.Client:
        with self._lock:
            if self._foreign is None:
                self._foreign = httpx.Client(
                    headers={"User-Agent": user_agent()},
                    timeout=httpx.Timeout(self._timeout),
                    follow_redirects=False,
                    limits=POOL,
                )
            return self._foreign


def _later(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait before asking again (429 or a 409 carrying
    ``Retry-After``), or ``None`` when it did not ask for that."""
    if response.status_code not in (409, 429):
        return None
    retry_after = parse_retry_after(response.headers)
    if retry_after is None or retry_after > MAX_RETRY_AFTER:
        return None
    return max(retry_after, 0.1)


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            yield chunk


def _parse_json(response: httpx.Response) -> Any:
    if not 200 <= response.status_code < 300:
        raise _error_of(response)
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except (jsonlib.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ServerError(
            f"Server returned {response.status_code} with a non-JSON body",
            status_code=response.status_code,
            request_id=response.headers.get("x-request-id"),
            response=response.text[:500],
        ) from exc


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (jsonlib.JSONDecodeError, UnicodeDecodeError):
        return None


def _error_of(response: httpx.Response) -> ApiError:
    body: Any
    try:
        body = response.json()
    except (jsonlib.JSONDecodeError, UnicodeDecodeError):
        body = response.text or None
    return error_from_response(response.status_code, body, response.headers)
