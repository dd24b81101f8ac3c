"""The server's answers checked against the models: a mismatch is the server's fault, so a
``ServerError`` naming the model, never a pydantic error."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from pictograph.errors import ServerError

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_model(model: type[ModelT], data: Any) -> ModelT:
    """Validate ``data`` as ``model``; a mismatch is the server's fault, so ``ServerError``."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ServerError(
            f"Backend response did not match expected {model.__name__} schema: {exc}",
            response=data,
        ) from exc


def parse_models(model: type[ModelT], items: Any) -> list[ModelT]:
    """Validate a JSON array as a list of ``model``; anything else is a ``ServerError``."""
    if not isinstance(items, list):
        raise ServerError(
            f"Backend response did not match expected {model.__name__} schema: not a list",
            response=items,
        )
    try:
        return _list_adapter(model).validate_python(items)
    except PydanticValidationError as exc:
        raise ServerError(
            f"Backend response did not match expected {model.__name__} schema: {exc}",
            response=items,
        ) from exc


@functools.cache
def _list_adapter(model: type[ModelT]) -> TypeAdapter[list[ModelT]]:
    """One validator for a whole list: pydantic loops in Rust, not item by item in Python."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def data_of(body: Any, *, required: bool = True) -> Any:
    """The ``data`` member of an enveloped answer (or the bare body when ``required`` is off)."""
    if isinstance(body, Mapping) and "data" in body:
        return body["data"]
    if required:
        raise ServerError(
            "Backend response did not match expected envelope schema: no 'data'", response=body
        )
    return body
