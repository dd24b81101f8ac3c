"""Fixtures of the command-line tests: the same commands on the embedded store and a server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.runner import Pictograph
from tests.images import make_image
from tests.served import Served, serve


@pytest.fixture(scope="session")
def served_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One ``pictograph serve`` for the session; each test gets its own organisation."""
    home = tmp_path_factory.mktemp("served")
    with serve(home, f"sqlite:///{home / 'metadata.db'}") as served:
        yield served


@pytest.fixture(params=["embedded", "served"])
def pictograph(
    request: pytest.FixtureRequest, tmp_path: Path, served_instance: Served
) -> Pictograph:
    """The command line on a fresh embedded store, or on the server with a new organisation."""
    if request.param == "embedded":
        return Pictograph.embedded(tmp_path / "home")
    key = served_instance.create_key(f"org-{uuid.uuid4().hex[:8]}")
    return Pictograph.served(served_instance.base_url, key)


@pytest.fixture
def road_signs(tmp_path: Path) -> Path:
    """Two class folders, a root image, a nested folder and a hidden file: 6 images."""
    root = tmp_path / "road_signs"
    for name in ("001.jpg", "002.jpg", "003.png"):
        make_image(root / "stop" / name)
    make_image(root / "yield" / "004.jpg")
    make_image(root / "yield" / "night" / "005.jpg")
    make_image(root / "006.jpg")
    (root / ".DS_Store").write_bytes(b"\0\0")
    return root
