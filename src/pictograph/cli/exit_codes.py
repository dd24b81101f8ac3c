"""Exit codes of the ``pictograph`` command, mapped from errors in this one place.

They follow the official CLI: 2 auth, 3 forbidden, 4 not found, 5 conflict, 6 invalid input,
7 payment required, 8 rate limited, 9 server or network trouble, 1 anything else.
"""

from __future__ import annotations

from pictograph.errors import (
    ApiError,
    AuthError,
    ConflictError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    ServerError,
    ValidationError,
)

OK = 0
ERROR = 1
UPLOAD_HAD_FAILURES = 10

_BY_CLASS: list[tuple[type[Exception], int]] = [
    (AuthError, 2),
    (ForbiddenError, 3),
    (NotFoundError, 4),
    (ConflictError, 5),
    (ValidationError, 6),
    (PaymentRequiredError, 7),
    (RateLimitError, 8),
    (ServerError, 9),
    (NetworkError, 9),
    (FileNotFoundError, 4),
]


def exit_code_for(error: Exception) -> int:
    """The documented exit status for an error that ended a command."""
    for cls, code in _BY_CLASS:
        if isinstance(error, cls):
            return code
    if isinstance(error, ApiError) and 400 <= error.status_code < 500:
        return 6
    return ERROR
