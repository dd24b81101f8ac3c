"""The fault suite at CI size (``make soak`` runs it full size and prints the table): after
each fault and a re-run, nothing is lost, duplicated or changed, and ``gc`` leaves no orphan."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import scenarios
from tests.faults.scenarios import Row


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 images in three class folders, four of them PNGs over 1 MiB (the single-file PUT)."""
    return scenarios.make_folder(tmp_path_factory.mktemp("faults") / "images", 40)


def assert_intact(row: Row) -> None:
    assert row.intact, row
    assert row.failures == 0, row


def test_a_server_killed_mid_upload_loses_nothing_after_a_rerun_and_gc_leaves_no_orphans(
    tmp_path: Path, database_url: str, folder: Path
) -> None:
    row = scenarios.kill_during_upload(tmp_path, database_url, folder, kills=1, seed=7)
    assert_intact(row)


# Seeds whose first request draws a fault, so a small run is sure to meet at least one.
@pytest.mark.parametrize(("rate", "seed"), [(0.05, 31), (0.25, 1)])
def test_resets_stalls_and_truncated_bodies_leave_no_failure_after_the_sdks_retries(
    tmp_path: Path, folder: Path, rate: float, seed: int
) -> None:
    database_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    row = scenarios.through_faulty_proxy(tmp_path, database_url, folder, rate, seed=seed)
    assert row.faults > 0
    assert_intact(row)


def test_per_file_uploads_through_25_percent_resets_all_succeed_after_the_sdks_retries(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    # 400 files are 1,200 requests: when a broken connection had only max_retries (3), this run
    # lost 4 files to four resets of one request in a row; now it must lose none.
    folder = scenarios.make_folder(tmp_path_factory.mktemp("resets") / "images", 400)
    database_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    row = scenarios.resets_per_file(tmp_path, database_url, folder, 0.25, seed=1)
    assert row.faults > 300
    assert_intact(row)


def test_four_uploaders_of_one_folder_at_once_store_each_file_once(
    tmp_path: Path, folder: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert_intact(scenarios.concurrent_uploaders(tmp_path, database_url, folder, uploaders=4))


def test_per_file_uploads_from_32_threads_against_20_requests_a_second_all_succeed(
    tmp_path: Path, folder: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert_intact(scenarios.rate_limit_storm(tmp_path, database_url, folder, threads=32))


def test_two_admins_racing_never_leave_an_organisation_without_one(
    tmp_path: Path, database_url: str
) -> None:
    row = scenarios.admins_racing(tmp_path, database_url, organizations=4)
    assert (row.lost, row.failures) == (0, 0), row
