"""The one error hierarchy, named as the official Pictograph SDK names it.

Every HTTP error carries its wire ``code`` and HTTP ``status``. The server turns an error into
the error envelope in one handler; the SDK turns the envelope back into the same class in one
function (:func:`error_from_response`); the CLI maps classes to exit codes in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "AuthError",
    "ConfigurationError",
    "ConflictError",
    "ForbiddenError",
    "InsufficientStorageError",
    "LengthRequiredError",
    "NetworkError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PictographError",
    "RateLimitError",
    "RequestTimeoutError",
    "ServerError",
    "StoreInUseError",
    "ValidationError",
    "error_class_for_status",
    "error_from_response",
    "parse_retry_after",
]


class PictographError(Exception):
    """Base class for every error raised by Pictograph."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(PictographError):
    """The client or server is misconfigured (bad URL, bad option)."""


class StoreInUseError(PictographError):
    """Another ``pictograph serve`` or ``gc`` holds this SQLite home (one writer per home)."""


class NetworkError(PictographError):
    """A request failed before producing a response (DNS, TCP, reset)."""


class RequestTimeoutError(NetworkError):
    """A request exceeded its configured timeout."""


class ApiError(PictographError):
    """An HTTP-level error: the server answered with a non-2xx status."""

    status: ClassVar[int] = 400
    code: str | None = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.status_code = status_code if status_code is not None else type(self).status
        self.details: dict[str, Any] = dict(details or {})
        self.request_id = request_id
        self.response = response


class AuthError(ApiError):
    """401: the API key is missing, wrong or revoked."""

    status = 401
    code = "unauthorized"


class PaymentRequiredError(ApiError):
    """402: a quota or credit limit was reached (never raised by a self-hosted server)."""

    status = 402
    code = "payment_required"


class ForbiddenError(ApiError):
    """403: the credentials are valid but not allowed to do this (or a signed URL is bad)."""

    status = 403
    code = "forbidden"


class NotFoundError(ApiError):
    """404: the dataset, image, folder or route does not exist for this organisation."""

    status = 404
    code = "not_found"


class ValidationError(ApiError):
    """400/422: the request or the uploaded bytes were refused; ``field_errors`` says why."""

    status = 422
    code = "validation_error"

    @property
    def field_errors(self) -> list[dict[str, Any]]:
        errors = self.details.get("errors")
        return list(errors) if isinstance(errors, list) else []


class LengthRequiredError(ValidationError):
    """411: a body that must declare its size did not (our upload batch route needs one)."""

    status = 411
    code = "length_required"


class ConflictError(ApiError):
    """409: the name is taken (dataset name, or folder + filename in a dataset)."""

    status = 409
    code = "conflict"


class PayloadTooLargeError(ApiError):
    """413: the body is larger than the server accepts."""

    status = 413
    code = "payload_too_large"


class RateLimitError(ApiError):
    """429: too many requests; ``retry_after`` says how many seconds to wait."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx, or a 2xx whose body is not what the protocol promises."""

    status = 500
    code = "internal_error"


class InsufficientStorageError(ServerError):
    """507: the server's storage is full (no space left, or over its quota); nothing was kept."""

    status = 507
    code = "insufficient_storage"


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthError,
    402: PaymentRequiredError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    411: LengthRequiredError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitError,
    507: InsufficientStorageError,
}


def error_class_for_status(status: int) -> type[ApiError]:
    """The exception class the official SDK raises for an HTTP status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if 500 <= status <= 599 else ApiError


def error_from_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> ApiError:
    """Decode an error envelope (or any legacy body) into the matching exception."""
    headers = headers or {}
    envelope = body.get("error") if isinstance(body, Mapping) else None
    envelope = envelope if isinstance(envelope, Mapping) else {}
    code = envelope.get("code") if isinstance(envelope.get("code"), str) else None
    details = envelope.get("details") if isinstance(envelope.get("details"), Mapping) else {}
    cls = error_class_for_status(status)
    kwargs: dict[str, Any] = {
        "code": code or None,
        "status_code": status,
        "details": details,
        "request_id": headers.get("x-request-id"),
        "response": body,
    }
    message = _message_of(body, status)
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=parse_retry_after(headers), **kwargs)
    return cls(message, **kwargs)


def _message_of(body: Any, status: int) -> str:
    if isinstance(body, Mapping):
        envelope = body.get("error")
        message = envelope.get("message") if isinstance(envelope, Mapping) else None
        if isinstance(message, str) and message:
            return message
        if isinstance(body.get("detail"), str):
            return str(body["detail"])
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return f"HTTP {status}"


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date), clamped at 0."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    # Imported here: email is costly to import, and every ``pictograph`` command imports us.
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
