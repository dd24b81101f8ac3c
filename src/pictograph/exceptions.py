"""The official SDK's module name for the error classes, so code written for it runs unchanged."""

from pictograph.errors import (
    ApiError,
    AuthError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    PayloadTooLargeError,
    PaymentRequiredError,
    PictographError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
)

__all__ = [
    "ApiError",
    "AuthError",
    "ConfigurationError",
    "ConflictError",
    "ForbiddenError",
    "NetworkError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PictographError",
    "RateLimitError",
    "RequestTimeoutError",
    "ServerError",
    "ValidationError",
]
