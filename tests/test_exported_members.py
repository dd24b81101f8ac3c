"""The public surface is exactly what ``__all__`` says, in both directions (as httpx checks)."""

from __future__ import annotations

import ast
import importlib
import inspect
import types

import pytest

import pictograph
import pictograph.errors
import pictograph.exceptions


def public_names(module: types.ModuleType) -> set[str]:
    """Names the module's own top level defines (classes, functions, assignments), not imports,
    that do not start with ``_``."""
    tree = ast.parse(inspect.getsource(module))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize(
    "name",
    [
        "pictograph.errors",
        "pictograph.protocol",
        "pictograph._upload.engine",
    ],
)
def test_a_module_exports_exactly_what_it_defines(name: str) -> None:
    module = importlib.import_module(name)
    assert set(module.__all__) == public_names(module)


def test_exceptions_re_exports_the_error_module_exactly() -> None:
    assert pictograph.exceptions.__all__ == pictograph.errors.__all__
    for name in pictograph.errors.__all__:
        assert getattr(pictograph.exceptions, name) is getattr(pictograph.errors, name)
    exported = {n for n in vars(pictograph.exceptions) if not n.startswith("_")}
    assert exported == set(pictograph.errors.__all__)


def test_every_error_class_is_exported_from_the_package() -> None:
    classes = {
        name
        for name, value in vars(pictograph.errors).items()
        if inspect.isclass(value) and issubclass(value, Exception)
    }
    assert classes <= set(pictograph.__all__)
    assert classes <= set(pictograph.errors.__all__)


def test_every_name_the_package_exports_resolves_and_nothing_public_is_unlisted() -> None:
    for name in pictograph.__all__:
        assert getattr(pictograph, name) is not None
    defined = {
        name
        for name, value in vars(pictograph).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", "").startswith("pictograph")
    }
    assert defined <= set(pictograph.__all__)


def test_a_411_decodes_to_its_named_error() -> None:
    error = pictograph.errors.error_from_response(
        411, {"error": {"code": "length_required", "message": "needs a Content-Length"}}
    )
    assert type(error) is pictograph.errors.LengthRequiredError
    assert error.status_code == 411 and isinstance(error, pictograph.ValidationError)
