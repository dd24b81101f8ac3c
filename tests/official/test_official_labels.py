"""The official SDK (1.69.146), unmodified, drives exports, annotations, batch operations, keys,
organisations and search against a real `pictograph serve`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.official.test_official_sdk import OFFICIAL_PYTHON
from tests.served import Served, serve

SCENARIOS = Path(__file__).with_name("label_scenarios.py")


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path / "home", database_url) as served:
        yield served


@pytest.mark.parametrize(
    "scenario",
    ["exports", "importers", "folder_roundtrip", "batch", "keys", "organizations", "search"],
)
def test_the_official_sdk_drives_each_labelling_call_unmodified(
    server: Served, scenario: str, tmp_path: Path
) -> None:
    assert OFFICIAL_PYTHON.exists(), "run `make install` first: it builds .venv-official"
    # The official SDK runs from its own venv only: no PYTHONPATH may put our package first.
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("PICTOGRAPH_") and k != "PYTHONPATH"}  # fmt: skip
    environment |= {
        "PICTOGRAPH_BASE_URL": server.base_url,
        "PICTOGRAPH_API_KEY": server.create_key("acme"),
    }
    result = subprocess.run(
        [str(OFFICIAL_PYTHON), str(SCENARIOS), scenario, str(tmp_path / "work")],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"scenario {scenario}: ok" in result.stdout
