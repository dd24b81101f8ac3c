"""upload_dataset_from_folder, line by line of the user's specification.

Every test that takes ``client`` runs four times: on an embedded client and on a client of a real
``pictograph serve`` process, each on SQLite and on PostgreSQL. Both take the one upload path
(pre-flight, register-on-upload tokens, the batch route and PUTs).
"""

from __future__ import annotations

import inspect
import os
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from pictograph import Client, NotFoundError
from pictograph._upload.channel import UploadChannel
from pictograph._upload.folder_plan import plan_folder
from pictograph.protocol import names_digest
from pictograph.workflows import (
    UploadFailure,
    UploadInterrupted,
    UploadReport,
    upload_dataset_from_folder,
    upload_folder,
)
from tests.conftest import fresh_database
from tests.images import FORMATS, make_image, sha256_of
from tests.served import Served, serve


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Served]]:
    """One real server per backend for the module, started on first use; each test gets an
    organisation of its own on it, so tests never see each other's datasets."""
    started: dict[str, Served] = {}
    with ExitStack() as stack:

        def server_for(backend: str) -> Served:
            if backend not in started:
                home = tmp_path_factory.mktemp(f"served-{backend}")
                url = stack.enter_context(fresh_database(backend, home))
                started[backend] = stack.enter_context(serve(home / "home", url))
            return started[backend]

        yield _Lazy(server_for)


class _Lazy(dict[str, Served]):
    def __init__(self, make: Callable[[str], Served]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, backend: str) -> Served:
        return self._make(backend)


@pytest.fixture(
    params=[
        pytest.param((door, backend), id=f"{door}-{backend}", marks=marks)
        for door in ("embedded", "served")
        for backend, marks in (("sqlite", ()), ("postgres", pytest.mark.postgres))
    ]
)
def client(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    servers: dict[str, Served],
) -> Iterator[Client]:
    door, backend = request.param
    for name in ("PICTOGRAPH_API_KEY", "PICTOGRAPH_BASE_URL", "PICTOGRAPH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    if door == "embedded":
        with fresh_database(backend, tmp_path) as url:
            monkeypatch.setenv("PICTOGRAPH_DATABASE_URL", url)
            with Client(home=tmp_path / "home") as embedded:
                yield embedded
        return
    served = servers[backend]
    key = served.create_key(f"org-{uuid.uuid4().hex[:12]}")
    with Client(api_key=key, base_url=served.base_url) as remote:
        assert remote.mode == "http"
        yield remote


@pytest.fixture
def road_signs(tmp_path: Path) -> Path:
    """The layout table of the specification, plus a nested folder."""
    root = tmp_path / "road_signs"
    make_image(root / "stop" / "001.jpg")
    make_image(root / "stop" / "002.jpg")
    make_image(root / "yield" / "003.jpg")
    make_image(root / "004.jpg")
    make_image(root / "stop" / "night" / "005.jpg")
    return root


def paths_in(client: Client, dataset: str) -> set[str]:
    images = client.images.list(dataset, limit=1000)
    return {f"{(i.directory_path or '/').rstrip('/')}/{i.filename}" for i in images}


def test_the_signature_and_defaults_are_exactly_the_specified_ones() -> None:
    parameters = inspect.signature(upload_dataset_from_folder).parameters
    defaults = {name: p.default for name, p in parameters.items()}
    assert list(parameters) == [
        "client",
        "dataset_name",
        "folder",
        "organize_by_class",
        "parallel",
        "max_workers",
        "skip_existing",
        "create_if_missing",
        "progress",
    ]
    assert defaults["organize_by_class"] is True
    assert defaults["parallel"] is True
    assert defaults["max_workers"] == 8
    assert defaults["skip_existing"] is True
    assert defaults["create_if_missing"] is True
    assert defaults["progress"] is None
    keyword_only = [n for n, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert keyword_only == list(parameters)[3:]


def test_a_hundred_images_upload_then_a_rerun_skips_all_hundred(
    client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "hundred"
    for n in range(100):
        make_image(folder / ("stop" if n % 2 else "yield") / f"{n:03d}.jpg")

    first = upload_dataset_from_folder(client, "road-signs", folder)
    assert first.images_uploaded == 100 and first.images_skipped == 0
    assert first.images_attempted == 100 and first.failures == [] and first.success

    second = upload_dataset_from_folder(client, "road-signs", folder)
    assert second.images_uploaded == 0 and second.images_skipped == 100
    assert second.failures == [] and second.success is False
    assert client.datasets.get("road-signs").image_count == 100


def test_a_rerun_trusts_the_names_digest_only_while_it_matches_the_folder(
    client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    for n in range(3):
        make_image(folder / "cats" / f"{n}.png", seed=n)
    upload_dataset_from_folder(client, "digest", folder)
    found = UploadChannel(client._transport).folder_digest("digest")
    count, digest = found.count, found.names_sha256
    assert count == 3 and digest == names_digest([("/cats", f"{n}.png") for n in range(3)])

    make_image(folder / "dogs" / "new.png")  # the digest no longer matches: every name is asked
    changed = upload_dataset_from_folder(client, "digest", folder)
    assert (changed.images_uploaded, changed.images_skipped, changed.failures) == (1, 3, [])
    unchanged = upload_dataset_from_folder(client, "digest", folder)
    assert (unchanged.images_uploaded, unchanged.images_skipped, unchanged.failures) == (0, 4, [])
    assert UploadChannel(client._transport).folder_digest("digest").count == 4


def test_a_rerun_skips_files_whose_local_names_are_nfd_and_stored_names_nfc(
    client: Client, tmp_path: Path
) -> None:
    # macOS writes "café" decomposed (NFD); the server stores names in NFC.
    folder = tmp_path / "photos"
    make_image(
        folder / unicodedata.normalize("NFD", "crème") / unicodedata.normalize("NFD", "café.png")
    )
    make_image(folder / "plain" / "x.png")
    first = upload_dataset_from_folder(client, "accents", folder)
    assert (first.images_uploaded, first.failures) == (2, [])
    assert paths_in(client, "accents") == {"/crème/café.png", "/plain/x.png"}  # NFC literals

    # The names digest matches the folder, so the re-run needs no pre-flight at all.
    planned = [(f.directory_path, f.filename) for f in plan_folder(folder).files]
    found = UploadChannel(client._transport).folder_digest("accents")
    assert (found.count, found.names_sha256) == (2, names_digest(planned))
    again = upload_dataset_from_folder(client, "accents", folder)
    assert (again.images_uploaded, again.images_skipped, again.failures) == (0, 2, [])
    assert paths_in(client, "accents") == {"/crème/café.png", "/plain/x.png"}


def test_a_local_name_in_nfc_and_in_nfd_is_one_dataset_name_and_the_second_a_collision(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "photos"
    make_image(folder / "c" / "café.png", seed=1)
    make_image(folder / "c" / unicodedata.normalize("NFD", "café.png"), seed=2)
    plan = plan_folder(folder)
    assert [(f.directory_path, f.filename) for f in plan.files] == [("/c", "café.png")]
    (problem,) = plan.problems
    assert "both map to /c/café.png" in problem.reason


def test_first_level_folders_become_virtual_folders_and_nested_ones_collapse(
    client: Client, road_signs: Path
) -> None:
    report = upload_dataset_from_folder(client, "road-signs", road_signs)

    assert report.images_uploaded == 5
    assert paths_in(client, "road-signs") == {
        "/stop/001.jpg",
        "/stop/002.jpg",
        "/stop/005.jpg",
        "/yield/003.jpg",
        "/004.jpg",
    }
    folders = {d.full_path: d.image_count for d in client.directories.list("road-signs")}
    assert folders == {"/stop": 3, "/yield": 1}


def test_organize_by_class_false_puts_every_file_at_the_root(
    client: Client, road_signs: Path
) -> None:
    report = upload_dataset_from_folder(client, "flat", road_signs, organize_by_class=False)

    assert report.images_uploaded == 5
    assert paths_in(client, "flat") == {"/001.jpg", "/002.jpg", "/003.jpg", "/004.jpg", "/005.jpg"}
    assert client.directories.list("flat") == []


def test_every_supported_extension_uploads_and_downloads_byte_for_byte(
    client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "formats"
    for suffix in FORMATS:
        make_image(folder / "all" / f"image{suffix}")
    make_image(folder / "all" / "upper.JPG", "JPEG")
    make_image(folder / "all" / "notes.txt.heif", "HEIF")  # .heif is not a folder suffix
    (folder / "all" / "readme.txt").write_text("not an image")

    report = upload_dataset_from_folder(client, "formats", folder)

    assert report.failures == []
    assert report.images_uploaded == len(FORMATS) + 1
    for source in sorted((folder / "all").iterdir()):
        if source.suffix.lower() not in FORMATS:
            continue
        target = tmp_path / "out" / source.name
        client.images.download("formats", f"all/{source.name}", target)
        assert sha256_of(target) == sha256_of(source), source.name
    heic = client.images.get("formats", "image.heic")
    assert (heic.width, heic.height) == (32, 24)
    assert heic.content_type == "image/heic"


def test_skip_existing_false_records_each_existing_file_as_a_conflict_failure(
    client: Client, road_signs: Path
) -> None:
    upload_dataset_from_folder(client, "road-signs", road_signs)

    report = upload_dataset_from_folder(client, "road-signs", road_signs, skip_existing=False)

    assert report.images_uploaded == 0 and report.images_skipped == 0
    assert len(report.failures) == 5 and report.success is False
    assert all("conflict" in f.reason and "already exists" in f.reason for f in report.failures)


def test_create_if_missing_false_raises_not_found_and_creates_nothing(
    client: Client, road_signs: Path
) -> None:
    with pytest.raises(NotFoundError):
        upload_dataset_from_folder(client, "absent", road_signs, create_if_missing=False)

    assert [d.name for d in client.datasets.list()] == []


def test_a_missing_folder_or_a_file_in_its_place_raises_file_not_found(
    client: Client, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        upload_dataset_from_folder(client, "ds", tmp_path / "nowhere")
    a_file = make_image(tmp_path / "single.jpg")
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        upload_dataset_from_folder(client, "ds", a_file)
    assert client.datasets.list() == []


def test_an_empty_folder_returns_a_report_that_is_not_a_success(
    client: Client, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()

    report = upload_dataset_from_folder(client, "empty", tmp_path / "empty")

    assert report == UploadReport("empty", 0, 0, 0, [])
    assert report.success is False


def test_success_requires_no_failures_and_at_least_one_upload(tmp_path: Path) -> None:
    failure = UploadFailure(path=tmp_path / "x.jpg", reason="broken")
    assert UploadReport("d", 1, 1, 0, []).success is True
    assert UploadReport("d", 2, 1, 0, [failure]).success is False
    assert UploadReport("d", 1, 0, 1, []).success is False
    assert UploadReport("d", 0, 0, 0, []).success is False


def test_bad_files_fail_with_clear_reasons_while_every_other_file_uploads(
    client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    good = make_image(folder / "good" / "fine.jpg", size=(64, 64))
    truncated = folder / "bad" / "truncated.jpg"
    truncated.parent.mkdir(parents=True)
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    (folder / "bad" / "empty.png").write_bytes(b"")
    (folder / "bad" / "notes.jpg").write_text("this is a text file, not a JPEG\n")
    make_image(folder / "bad" / "really_a_png.jpg", "PNG")
    make_image(folder / "good" / "also_fine.webp")

    seen: list[tuple[int, int, str | None]] = []
    report = upload_dataset_from_folder(
        client, "mixed", folder, progress=lambda d, t, f: seen.append((d, t, f))
    )

    assert report.images_attempted == 6 and report.images_uploaded == 2
    reasons = {f.path.name: f.reason for f in report.failures}
    assert set(reasons) == {"truncated.jpg", "empty.png", "notes.jpg", "really_a_png.jpg"}
    assert "truncated" in reasons["truncated.jpg"] or "corrupt" in reasons["truncated.jpg"]
    assert "empty" in reasons["empty.png"]
    assert "not a valid image" in reasons["notes.jpg"]
    assert "PNG" in reasons["really_a_png.jpg"]
    assert paths_in(client, "mixed") == {"/good/fine.jpg", "/good/also_fine.webp"}
    assert [d for d, _, _ in seen] == list(range(1, 7))


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions are needed")
def test_an_unreadable_file_is_a_failure_and_the_rest_upload(tmp_path: Path) -> None:
    from tests.unreadable import run_upload_without_read_permission

    report = run_upload_without_read_permission(tmp_path)

    assert report["images_uploaded"] == 1
    assert report["failures"] == [["locked.jpg", "cannot read file: permission denied"]]


def test_progress_fires_once_per_file_on_the_calling_thread_including_failures(
    client: Client, road_signs: Path
) -> None:
    (road_signs / "stop" / "broken.jpg").write_bytes(b"\xff\xd8 nope")
    calls: list[tuple[int, int, str | None, int]] = []

    def on_progress(done: int, total: int, filename: str | None) -> None:
        calls.append((done, total, filename, threading.get_ident()))

    report = upload_dataset_from_folder(
        client, "road-signs", road_signs, max_workers=4, progress=on_progress
    )

    assert len(report.failures) == 1 and report.images_uploaded == 5
    assert [c[0] for c in calls] == [1, 2, 3, 4, 5, 6]
    assert {c[1] for c in calls} == {6}
    assert sorted(str(c[2]) for c in calls) == sorted(
        ["001.jpg", "002.jpg", "003.jpg", "004.jpg", "005.jpg", "broken.jpg"]
    )
    assert {c[3] for c in calls} == {threading.get_ident()}


def test_parallel_false_uploads_everything_on_the_calling_thread(
    client: Client, road_signs: Path
) -> None:
    report = upload_dataset_from_folder(client, "serial", road_signs, parallel=False)
    assert report.images_uploaded == 5 and report.success


def test_files_that_map_to_the_same_dataset_path_are_failures_naming_each_other(
    client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "collide"
    make_image(folder / "stop" / "a" / "x.jpg", seed=1)
    make_image(folder / "stop" / "b" / "x.jpg", seed=2)
    make_image(folder / "stop" / "x.jpg", seed=3)

    report = upload_dataset_from_folder(client, "collide", folder)

    assert report.images_uploaded == 1 and report.images_attempted == 3
    assert sorted(str(f.path.relative_to(folder)) for f in report.failures) == [
        "stop/b/x.jpg",
        "stop/x.jpg",
    ]
    assert all("collides with stop/a/x.jpg" in f.reason for f in report.failures)
    assert all("/stop/x.jpg" in f.reason for f in report.failures)


def test_hidden_entries_and_macos_debris_are_ignored(client: Client, tmp_path: Path) -> None:
    folder = tmp_path / "debris"
    make_image(folder / "cat" / "real.jpg")
    make_image(folder / ".ipynb_checkpoints" / "real-checkpoint.jpg")
    make_image(folder / "cat" / ".hidden.jpg")
    (folder / "cat" / "._real.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    make_image(folder / "__MACOSX" / "cat" / "real.jpg")

    report = upload_dataset_from_folder(client, "debris", folder)

    assert report.images_attempted == 1 and report.success
    assert paths_in(client, "debris") == {"/cat/real.jpg"}


def test_symlinks_never_loop_and_never_silently_leave_the_folder(
    client: Client, tmp_path: Path
) -> None:
    outside = make_image(tmp_path / "outside" / "secret.jpg")
    folder = tmp_path / "linked"
    make_image(folder / "cat" / "inside.jpg")
    (folder / "cat" / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "cat" / "escape.jpg").symlink_to(outside)
    (folder / "elsewhere").symlink_to(outside.parent, target_is_directory=True)
    (folder / "cat" / "dangling.jpg").symlink_to(tmp_path / "missing.jpg")
    (folder / "dog").mkdir()
    (folder / "dog" / "alias.jpg").symlink_to(folder / "cat" / "inside.jpg")

    report = upload_dataset_from_folder(client, "linked", folder)

    assert paths_in(client, "linked") == {"/cat/inside.jpg", "/dog/alias.jpg"}
    reasons = {f.path.name: f.reason for f in report.failures}
    assert set(reasons) == {"loop", "escape.jpg", "elsewhere", "dangling.jpg"}
    assert "loops back" in reasons["loop"]
    assert "outside the folder" in reasons["escape.jpg"]
    assert "outside the folder" in reasons["elsewhere"]
    assert "broken symbolic link" in reasons["dangling.jpg"]


def test_upload_from_directory_shares_the_implementation_and_can_preserve_structure(
    client: Client, road_signs: Path
) -> None:
    report = client.images.upload_from_directory("deep", road_signs, preserve_structure=True)

    assert report.images_uploaded == 5
    assert "/stop/night/005.jpg" in paths_in(client, "deep")
    again = upload_dataset_from_folder(client, "deep", road_signs)
    assert again.images_uploaded == 1 and again.images_skipped == 4  # only 005 lands elsewhere


def test_same_named_files_in_different_folders_collide_when_flat_and_progress_counts_them(
    client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "flat"
    make_image(folder / "a" / "x.jpg", seed=1)
    make_image(folder / "a" / "y.jpg", seed=2)
    make_image(folder / "b" / "x.jpg", seed=3)
    make_image(folder / "c" / "d" / "x.jpg", seed=4)
    (folder / "b" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    seen: list[tuple[int, int, str | None]] = []

    report = upload_dataset_from_folder(
        client,
        "flat",
        folder,
        organize_by_class=False,
        progress=lambda done, total, name: seen.append((done, total, name)),
    )

    assert (report.images_attempted, report.images_uploaded, report.images_skipped) == (5, 2, 0)
    reasons = {f.path.relative_to(folder).as_posix(): f.reason for f in report.failures}
    assert set(reasons) == {"b/x.jpg", "c/d/x.jpg", "b/gone.jpg"}
    for collided in ("b/x.jpg", "c/d/x.jpg"):
        assert "collides with a/x.jpg" in reasons[collided] and "/x.jpg" in reasons[collided]
    assert "broken symbolic link" in reasons["b/gone.jpg"]
    assert paths_in(client, "flat") == {"/x.jpg", "/y.jpg"}
    assert client.images.get("flat", "x.jpg").sha256 == sha256_of(folder / "a" / "x.jpg")
    assert [done for done, _, _ in seen] == [1, 2, 3, 4, 5]
    assert {total for _, total, _ in seen} == {5}
    assert sorted(str(name) for _, _, name in seen) == [
        "gone.jpg",
        "x.jpg",
        "x.jpg",
        "x.jpg",
        "y.jpg",
    ]


def test_small_files_are_grouped_within_the_advertised_limits_and_large_ones_go_alone(
    tmp_path: Path,
) -> None:
    from pictograph._upload.engine import BATCH_FILE_LIMIT, request_groups
    from pictograph._upload.folder_plan import plan_folder
    from pictograph._upload.wire import UploadBatch, UploadSlot

    folder = tmp_path / "set"
    for n in range(43):
        make_image(folder / "small" / f"{n}.png", seed=n)
    (folder / "large").mkdir()
    (folder / "large" / "huge.jpg").write_bytes(b"\xff" * (BATCH_FILE_LIMIT + 1))
    files = plan_folder(folder, organize_by_class=True).files
    slot = UploadSlot(upload_url="http://h/storage/upload/t", filename="x", directory_path="/")
    items = [(planned, slot) for planned in files]
    (folder / "small" / "0.png").unlink()  # gone before it was sent: it goes alone, to fail

    groups, singles = request_groups(
        items, UploadBatch(url="http://h/b", max_files=20, max_bytes=2**20)
    )
    no_route = request_groups(items, None)

    assert [len(group) for group in groups] == [20, 20, 2]
    assert sorted(planned.filename for planned, _ in singles) == ["0.png", "huge.jpg"]
    assert no_route == ([], items)


@pytest.mark.parametrize("permanent", [False, True], ids=["to-trash", "permanent"])
def test_a_dataset_deleted_mid_upload_fails_every_file_in_flight_and_skips_none(
    client: Client, tmp_path: Path, permanent: bool
) -> None:
    folder = tmp_path / "many"
    # More requests than workers (batches carry up to 64 files), so some wait when one answers.
    for n in range(640):
        make_image(folder / f"class{n % 3}" / f"{n:03d}.png", size=(16, 16), seed=n)
    deleted: list[int] = []

    def delete_after_the_first_file(done: int, total: int, filename: str | None) -> None:
        if not deleted:
            deleted.append(done)
            client.datasets.delete("doomed", permanent=permanent)

    report = upload_dataset_from_folder(
        client, "doomed", folder, max_workers=4, progress=delete_after_the_first_file
    )

    assert deleted == [1]
    assert report.images_skipped == 0
    assert report.images_uploaded + len(report.failures) == 640
    assert report.failures, "every file had landed before the delete: nothing was in flight"
    reasons = {failure.reason for failure in report.failures}
    assert all("dataset was deleted" in reason for reason in reasons), reasons
    assert client.datasets.list() == [] or "doomed" not in {d.name for d in client.datasets.list()}


def test_failure_reasons_are_the_errors_own_words_without_a_status_or_the_path(
    client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "pets"
    make_image(folder / "cat" / "real.jpg")
    (folder / "cat" / "fake.jpg").write_text("not a picture\n")

    report = upload_dataset_from_folder(client, "pets", folder)

    assert [(f.path, f.reason) for f in report.failures] == [
        (folder / "cat" / "fake.jpg", "not a valid image: cannot identify image file")
    ]


class _StopAt:
    """A progress callback that presses Ctrl-C when ``at`` files are done."""

    def __init__(self, at: int) -> None:
        self.at = at

    def __call__(self, done: int, total: int, filename: str | None) -> None:
        if done == self.at:
            raise KeyboardInterrupt


def test_an_interrupted_upload_reports_exactly_the_files_the_server_confirmed(
    client: Client, tmp_path: Path
) -> None:
    original = make_image(tmp_path / "original.png", size=(16, 16))
    folder = tmp_path / "many"
    # Several pre-flights' worth (500 files each, up to 64 a request): most never start.
    for n in range(1200):
        (folder / f"c{n % 3}").mkdir(parents=True, exist_ok=True)
        (folder / f"c{n % 3}" / f"{n:04d}.png").write_bytes(original.read_bytes())

    with pytest.raises(UploadInterrupted) as stopped:
        upload_folder(
            client,
            "many",
            folder,
            organize_by_class=True,
            preserve_structure=False,
            parallel=True,
            max_workers=4,
            skip_existing=True,
            create_if_missing=True,
            progress=_StopAt(40),
        )

    report = stopped.value.report
    assert 40 <= report.images_uploaded < 1200
    assert report.images_uploaded == client.datasets.get("many").image_count
    assert not stopped.value.removed_dataset


def test_an_upload_stopped_before_any_file_landed_leaves_no_dataset_it_created(
    client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "few"
    make_image(folder / "a.png")
    (folder / "broken.png").symlink_to(tmp_path / "nowhere.png")  # fails before any sending
    client.datasets.create("kept")

    runs = {}
    for name in ("fresh", "kept"):
        with pytest.raises(UploadInterrupted) as stopped:
            upload_dataset_from_folder(client, name, folder, progress=_StopAt(1))
        runs[name] = stopped.value

    assert runs["fresh"].report.images_uploaded == 0 and runs["fresh"].removed_dataset
    with pytest.raises(NotFoundError):
        client.datasets.get("fresh")
    assert not runs["kept"].removed_dataset  # not created by the run: left as it was
    assert client.datasets.get("kept").image_count == 0


def _bmp(path: Path, colour: tuple[int, int, int]) -> Path:
    """An uncompressed image: its size depends on its dimensions only, never on its pixels."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (20, 10), colour).save(path, "BMP")
    return path


def test_files_changed_since_they_were_uploaded_are_listed_and_replaced_only_when_asked(
    client: Client, tmp_path: Path
) -> None:
    folder = tmp_path / "signs"
    same = _bmp(folder / "same.bmp", (10, 20, 30))
    resized = make_image(folder / "resized.png", size=(16, 16))
    recoloured = _bmp(folder / "recoloured.bmp", (200, 0, 0))
    upload_dataset_from_folder(client, "signs", folder)
    before = {image.filename: image.id for image in client.images.list("signs")}
    make_image(resized, size=(32, 32), seed=9)  # another size
    _bmp(recoloured, (0, 0, 200))  # the same size, other pixels

    rerun = upload_dataset_from_folder(client, "signs", folder)
    replaced = upload_folder(
        client,
        "signs",
        folder,
        organize_by_class=True,
        preserve_structure=False,
        parallel=True,
        max_workers=8,
        skip_existing=True,
        create_if_missing=True,
        progress=None,
        replace_changed=True,
    )
    after = {image.filename: image for image in client.images.list("signs")}
    settled = upload_dataset_from_folder(client, "signs", folder)

    assert (rerun.images_uploaded, rerun.images_skipped, rerun.failures) == (0, 3, [])
    assert sorted(rerun.changed) == sorted([resized, recoloured])
    assert (replaced.images_uploaded, replaced.images_skipped) == (2, 1)
    assert sorted(replaced.replaced) == sorted([resized, recoloured]) and not replaced.changed
    assert after["resized.png"].sha256 == sha256_of(resized)
    assert after["recoloured.bmp"].sha256 == sha256_of(recoloured)
    assert after["resized.png"].id != before["resized.png"]  # a new image
    with pytest.raises(NotFoundError):  # the old one is gone for good, with any labels
        client.images.get("signs", before["resized.png"])
    assert after["same.bmp"].id == before["same.bmp"] and same.exists()
    assert (settled.images_skipped, settled.changed) == (3, [])
