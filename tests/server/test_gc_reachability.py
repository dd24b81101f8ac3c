"""What the sweep must keep besides images: export archives, and the scratch folder of a build
still running; what it must take: the partial archive a killed build left (issue 19, 1 and 7)."""

from __future__ import annotations

import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pictograph.server.service import gc
from pictograph.server.store import tables as t
from tests.server.labelling import create_export, download, labelled_dataset

NO_GRACE = timedelta(0)


def test_export_archives_survive_a_sweep_with_grace_0_and_still_download(
    app_client: Any, tmp_path: Path
) -> None:
    labelled_dataset(app_client, tmp_path)
    done = [create_export(app_client, "roads", f"e{i}", include_images=True) for i in range(3)]
    store = app_client.app.state.store

    report = gc.sweep(store, grace=NO_GRACE)
    again = gc.sweep(store, grace=NO_GRACE)  # intents settled by the first: rows alone keep them

    assert report.orphan_blobs == [] and again.orphan_blobs == []
    for i, export in enumerate(done):
        archive = download(app_client, "roads", f"e{i}", tmp_path / f"e{i}.zip")
        assert archive.stat().st_size == export["file_size"]
        with zipfile.ZipFile(archive) as opened:
            assert opened.testzip() is None and len(opened.namelist()) > 5


def test_a_killed_builds_partial_archive_is_swept_and_counted_a_running_builds_is_kept(
    app_client: Any, tmp_path: Path
) -> None:
    labelled_dataset(app_client, tmp_path)
    finished = create_export(app_client, "roads", "finished")
    building = create_export(app_client, "roads", "building")
    store = app_client.app.state.store
    with store.engine.begin() as conn:  # a build of attempt 2 is running now (another process)
        conn.execute(
            t.exports.update()
            .where(t.exports.c.id == building["id"])
            .values(status="processing", attempts=2)
        )
    scratch = tmp_path / "tmp"

    def leave(export: dict[str, Any], attempt: int) -> Path:
        folder = scratch / f"export-{export['id']}-{attempt}-x{attempt}yz"
        folder.mkdir(parents=True)
        (folder / "export.zip").write_bytes(b"PK\x03\x04" + b"\0" * 100_000)
        return folder

    killed = leave(finished, 1)  # kill -9 mid-build; the resumed build completed later
    superseded = leave(building, 1)  # an earlier attempt of the job being built now
    running = leave(building, 2)
    unnamed = scratch / "export-abc123"  # from before scratch folders were named
    unnamed.mkdir()

    listed = gc.sweep(store, dry_run=True, grace=NO_GRACE)
    report = gc.sweep(store, grace=NO_GRACE)

    gone = {f"tmp/{folder.name}/" for folder in (killed, superseded, unnamed)}
    assert gone <= set(listed.temporary_files) and gone <= set(report.temporary_files)
    assert f"tmp/{running.name}/" not in report.temporary_files
    assert not killed.exists() and not superseded.exists() and not unnamed.exists()
    assert (running / "export.zip").exists()
    with store.engine.begin() as conn:
        kept = conn.execute(sa.select(sa.func.count()).select_from(t.exports)).scalar_one()
    assert kept == 2
