"""Exit codes of the ``pictograph`` command, mapped from errors in this one place.

They follow the official CLI: 2 auth, 3 forbidden, 4 not found, 5 conflict, 6 invalid input,
7 payment required, 8 rate limited, 9 server or network trouble, 1 anything else. Ours add
10 (some files of a many-file command failed; the rest succeeded) and 130 (interrupted). A bad
command line is invalid input (6), so that 2 always means a bad API key.
"""

from __future__ import annotations

import click

from pictograph.errors import (
    ApiError,
    AuthError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    ServerError,
    StoreInUseError,
    ValidationError,
)

OK = 0
ERROR = 1
AUTH = 2
FORBIDDEN = 3
NOT_FOUND = 4
CONFLICT = 5
INVALID = 6
PAYMENT_REQUIRED = 7
RATE_LIMITED = 8
UNAVAILABLE = 9
SOME_FILES_FAILED = 10
INTERRUPTED = 130

_BY_CLASS: list[tuple[type[BaseException], int]] = [
    (AuthError, AUTH),
    (ForbiddenError, FORBIDDEN),
    (NotFoundError, NOT_FOUND),
    (ConflictError, CONFLICT),
    (StoreInUseError, CONFLICT),
    (ValidationError, INVALID),
    (PaymentRequiredError, PAYMENT_REQUIRED),
    (RateLimitError, RATE_LIMITED),
    (ServerError, UNAVAILABLE),
    (NetworkError, UNAVAILABLE),
    (FileNotFoundError, NOT_FOUND),
    (ConfigurationError, INVALID),
    (click.UsageError, INVALID),
    (ValueError, INVALID),
    (KeyboardInterrupt, INTERRUPTED),
]


def exit_code_for(error: BaseException) -> int:
    """The documented exit status for an error that ended a command."""
    for cls, code in _BY_CLASS:
        if isinstance(error, cls):
            return code
    if isinstance(error, ApiError) and 400 <= error.status_code < 500:
        return INVALID
    if isinstance(error, click.ClickException):
        return error.exit_code
    return ERROR


def message_for(error: BaseException) -> str:
    """One line saying what went wrong, without a traceback."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return " ".join(str(message).split())
