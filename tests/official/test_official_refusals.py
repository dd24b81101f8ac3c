"""Issue 22: the official SDK (PyPI 1.69.146, unmodified) reports why the server refused a file.

Its three-step upload raises ``Upload failed: HTTP 422`` for a refused PUT without reading the
body, so the server takes the bytes' refusal at the PUT (200, ``refused``) and gives it at
register, whose error message the official SDK does print.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.official.test_official_sdk import run_official
from tests.served import Served, serve
from tests.server.flows import stored_files


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def server(database_url: str, home: Path) -> Iterator[Served]:
    with serve(home, database_url) as served:
        yield served


def _printed(stdout: str, label: str) -> str:
    """The rest of the line the scenario printed after ``label``."""
    [line] = [line for line in stdout.splitlines() if line.startswith(f"{label}: ")]
    return line.removeprefix(f"{label}: ")


def _count(database_url: str, table: str, dataset_id: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = sa.text(f"SELECT count(*) FROM {table} WHERE dataset_id = :d")  # noqa: S608
            return int(conn.execute(query, {"d": dataset_id}).scalar_one())
    finally:
        engine.dispose()


def test_the_official_upload_from_directory_says_why_each_bad_file_was_refused(
    server: Served, database_url: str, home: Path, tmp_path: Path
) -> None:
    result = run_official(server, "refused_files", tmp_path / "work", server.create_key("acme"))

    assert result.returncode == 0, result.stdout + result.stderr
    reasons = json.loads(_printed(result.stdout, "reasons"))
    assert sorted(reasons) == ["cut.jpg", "fake.jpg"]
    assert "not a valid image" in reasons["fake.jpg"], reasons
    assert "truncated" in reasons["cut.jpg"], reasons
    assert not any("HTTP 422" in reason for reason in reasons.values()), reasons
    alone = json.loads(_printed(result.stdout, "upload"))
    assert alone.startswith("not a valid image") and "status=422" in alone, alone
    beside = json.loads(_printed(result.stdout, "bulk"))
    assert beside == "not a valid image: cannot identify image file"
    dataset_id = _printed(result.stdout, "dataset")
    assert _count(database_url, "images", dataset_id) == 2
    assert _count(database_url, "pending_uploads", dataset_id) == 0
    assert _count(database_url, "refused_uploads", dataset_id) == 0  # told once, at register
    assert len(stored_files(home / "blobs")) == 2  # the good files' bytes only
