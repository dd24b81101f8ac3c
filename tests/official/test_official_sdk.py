"""The official Pictograph SDK (PyPI 1.69.146), unmodified, against `pictograph serve`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.served import Served, serve

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL_PYTHON = ROOT / ".venv-official" / "bin" / "python"
OUR_PYTHON = ROOT / ".venv" / "bin" / "python"
SCENARIOS = Path(__file__).with_name("scenarios.py")


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path / "home", database_url) as served:
        yield served


def run_official(
    served: Served, scenario: str, work: Path, key: str, python: Path = OFFICIAL_PYTHON, **env: str
) -> subprocess.CompletedProcess[str]:
    assert python.exists(), "run `make install` first: it builds .venv-official"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    if python == OFFICIAL_PYTHON:
        # The official SDK runs from its own venv only: a PYTHONPATH (a worktree's src, say)
        # would put our package, which has the same import name, in its place.
        environment.pop("PYTHONPATH", None)
    environment |= {"PICTOGRAPH_BASE_URL": served.base_url, "PICTOGRAPH_API_KEY": key, **env}
    return subprocess.run(
        [str(python), str(SCENARIOS), scenario, str(work)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize(
    "scenario", ["datasets", "images", "upload_from_directory", "directories", "bad_keys"]
)
def test_the_official_sdk_runs_each_scenario_unmodified(
    server: Served, scenario: str, tmp_path: Path
) -> None:
    result = run_official(server, scenario, tmp_path, server.create_key("acme"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"scenario {scenario}: ok" in result.stdout


@pytest.mark.parametrize(
    "scenario", ["datasets", "images", "upload_from_directory", "directories", "bad_keys"]
)
def test_our_sdk_runs_the_same_scenarios_as_the_official_one(
    server: Served, scenario: str, tmp_path: Path
) -> None:
    result = run_official(server, scenario, tmp_path, server.create_key("acme"), OUR_PYTHON)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"scenario {scenario}: ok" in result.stdout


def test_another_organisations_dataset_is_a_404_for_the_official_sdk(
    server: Served, tmp_path: Path
) -> None:
    import httpx

    owner_key = server.create_key("owner-org")
    created = httpx.post(
        f"{server.base_url}/api/v1/developer/datasets/",
        json={"name": "private-ds"},
        headers={"X-API-Key": owner_key},
    )
    assert created.status_code in (200, 201), created.text

    result = run_official(
        server,
        "isolation",
        tmp_path,
        server.create_key("intruder-org"),
        ISOLATED_DATASET="private-ds",
    )

    assert result.returncode == 0, result.stdout + result.stderr
