"""The OpenAPI document as the server really answers: every error, 422s included, is the one
error envelope (``{"error": {"code", "message", "details"}, "detail": message}``), not FastAPI's
``{"detail": [...]}`` that the server never sends."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"
_FASTAPI_ERROR_REF = "#/components/schemas/HTTPValidationError"

ERROR_ENVELOPE: dict[str, Any] = {
    "title": "ErrorEnvelope",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        },
        "detail": {"type": "string", "description": "The message again, for older clients."},
    },
}
_ERROR_RESPONSE = {
    "description": "An error, in the error envelope",
    "content": {"application/json": {"schema": {"$ref": ENVELOPE_REF}}},
}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the error envelope on every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            app.openapi_schema = _with_envelope(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_envelope(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["ErrorEnvelope"] = ERROR_ENVELOPE
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {**_ERROR_RESPONSE, "description": "Invalid request"}
            responses.setdefault("default", _ERROR_RESPONSE)
    return document
