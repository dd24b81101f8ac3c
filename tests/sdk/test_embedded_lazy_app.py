"""The embedded client builds its server app only when a request needs it: a re-run of an
unchanged folder reads through the in-process channel's service calls and never builds it;
a run that stores images builds it first, so its descriptor worker describes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image as PILImage

from pictograph import Client, ForbiddenError, NotFoundError
from pictograph.server.store import tables as t
from pictograph.workflows import upload_dataset_from_folder

FILES = 4


@pytest.fixture(autouse=True)
def _embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("PICTOGRAPH_API_KEY", "PICTOGRAPH_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)


def folder(tmp_path: Path) -> Path:
    source = tmp_path / "src" / "a"
    source.mkdir(parents=True)
    for i in range(FILES):
        PILImage.new("RGB", (24, 24), (10 * i, 90, 200)).save(source / f"{i}.png")
    return source.parent


def described(client: Client) -> int:
    embedded = client._transport.in_process()
    assert embedded is not None
    with embedded.service.store.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(t.image_descriptors))
        return int(count.scalar_one())


def test_a_first_run_builds_the_app_and_its_images_get_descriptors(tmp_path: Path) -> None:
    with Client(home=tmp_path / "home") as client:
        embedded = client._transport.in_process()
        assert embedded is not None and not embedded.app_built
        report = upload_dataset_from_folder(client, "d", folder(tmp_path))
        assert report.images_uploaded == FILES
        assert embedded.app_built
        deadline = time.monotonic() + 60
        while described(client) < FILES:
            assert time.monotonic() < deadline, "the descriptor worker did not describe them"
            time.sleep(0.05)


_RERUN = """
import json, sys
from pictograph import Client
from pictograph.workflows import upload_dataset_from_folder
with Client(home=sys.argv[1]) as client:
    report = upload_dataset_from_folder(client, "d", sys.argv[2])
    built = client._transport.in_process().app_built
print(json.dumps({
    "skipped": report.images_skipped, "uploaded": report.images_uploaded, "built": built,
    "server_app_imported": "pictograph.server.app" in sys.modules,
    "fastapi_imported": "fastapi" in sys.modules,
}))
"""


def test_a_rerun_of_an_unchanged_folder_never_builds_the_app(tmp_path: Path) -> None:
    source = folder(tmp_path)
    with Client(home=tmp_path / "home") as client:
        assert upload_dataset_from_folder(client, "d", source).images_uploaded == FILES
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    run = subprocess.run(
        [sys.executable, "-c", _RERUN, str(tmp_path / "home"), str(source)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1]) == {
        "skipped": FILES,
        "uploaded": 0,
        "built": False,
        "server_app_imported": False,
        "fastapi_imported": False,
    }


def test_a_rerun_that_finds_a_new_file_builds_the_app_to_store_it(tmp_path: Path) -> None:
    source = folder(tmp_path)
    with Client(home=tmp_path / "home") as client:
        upload_dataset_from_folder(client, "d", source)
    PILImage.new("RGB", (24, 24), (1, 2, 3)).save(source / "a" / "new.png")
    with Client(home=tmp_path / "home") as client:
        report = upload_dataset_from_folder(client, "d", source)
        embedded = client._transport.in_process()
        assert embedded is not None and embedded.app_built
    assert (report.images_uploaded, report.images_skipped) == (1, FILES)


def test_closing_a_client_that_never_built_the_app_releases_the_store(tmp_path: Path) -> None:
    with Client(home=tmp_path / "home") as client:
        upload_dataset_from_folder(client, "d", folder(tmp_path))
    client = Client(home=tmp_path / "home")
    embedded = client._transport.in_process()
    assert embedded is not None
    assert upload_dataset_from_folder(client, "d", tmp_path / "src").images_skipped == FILES
    pool = embedded.service.store.engine.pool
    assert pool.checkedin() >= 1  # the re-run's reads left pooled connections
    client.close()
    assert not embedded.app_built
    assert embedded.service.store.engine.pool.checkedin() == 0  # disposed
    with Client(home=tmp_path / "home") as again:  # the home is free for the next client
        assert again.datasets.get("d").image_count == FILES


def test_the_channel_reads_under_the_rules_of_the_routes_it_stands_for(tmp_path: Path) -> None:
    from dataclasses import replace

    from pictograph._upload.in_process import InProcessChannel

    with Client(home=tmp_path / "home") as client:
        embedded = client._transport.in_process()
        assert embedded is not None
        channel = InProcessChannel(client._transport, embedded)
        with pytest.raises(NotFoundError):
            channel.dataset("missing")
        client.datasets.create("d")
        assert channel.dataset("d").name == "d"
        assert channel.folder_digest("d").count == 0
        channel._principal = replace(channel._principal, role="nobody")
        with pytest.raises(ForbiddenError, match="reading a dataset"):
            channel.dataset("d")
        with pytest.raises(ForbiddenError, match="names digest"):
            channel.folder_digest("d")
