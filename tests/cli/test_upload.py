"""``pictograph upload``: layouts, the JSON report, dry runs, progress and exit statuses."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from pictograph.cli.output import human_bytes
from pictograph.cli.progress import PlainLines, Stopwatch
from tests.cli.runner import Pictograph, expect, one_error_line
from tests.images import make_image
from tests.served import PICTOGRAPH


def paths_in(pictograph: Pictograph, dataset: str) -> set[str]:
    images = pictograph.json("images", "list", dataset, "--limit", "1000")
    return {f"{i['directory_path'].rstrip('/')}/{i['filename']}" for i in images}


def test_upload_by_class_puts_first_level_folders_in_the_dataset_and_exits_0(
    pictograph: Pictograph, road_signs: Path
) -> None:
    result = expect(pictograph("upload", road_signs, "--dataset", "signs"), 0)
    assert "signs: 6 uploaded, 0 skipped, 0 failed of 6 files" in result.stdout
    assert paths_in(pictograph, "signs") == {
        "/stop/001.jpg",
        "/stop/002.jpg",
        "/stop/003.png",
        "/yield/004.jpg",
        "/yield/005.jpg",
        "/006.jpg",
    }


def test_an_explicit_by_class_with_three_workers_uploads_the_same_layout_as_the_default(
    pictograph: Pictograph, road_signs: Path
) -> None:
    result = pictograph("upload", road_signs, "-d", "signs", "--by-class", "--workers", "3")
    assert "signs: 6 uploaded, 0 skipped, 0 failed of 6 files" in expect(result, 0).stdout
    expect(pictograph("upload", road_signs, "-d", "default", "-q"), 0)
    assert paths_in(pictograph, "signs") == paths_in(pictograph, "default")
    assert {path.rsplit("/", 1)[0] for path in paths_in(pictograph, "signs")} == {
        "",
        "/stop",
        "/yield",
    }
    again = pictograph.json("upload", road_signs, "-d", "signs", "--by-class", "-w", "3", "-q")
    assert (again["images_skipped"], again["images_uploaded"], again["failures"]) == (6, 0, [])


def test_the_summary_shows_bytes_transferred_checks_and_elapsed_and_skips_count_no_bytes(
    pictograph: Pictograph, road_signs: Path
) -> None:
    sizes = sum(p.stat().st_size for p in road_signs.rglob("*") if p.suffix in {".jpg", ".png"})
    first = expect(pictograph("upload", road_signs, "-d", "summary", "-q"), 0).stdout
    again = expect(pictograph("upload", road_signs, "-d", "summary", "-q"), 0).stdout

    assert f"Transferred:   {human_bytes(sizes)}, 6 files, " in first
    assert "Checks:        0 files already there, not sent" in first
    assert "Transferred:   0 B, 0 files, 0 B/s, 0 files/s" in again
    assert "Checks:        6 files already there, not sent" in again
    assert "Elapsed time:  " in again
    report = pictograph.json("upload", road_signs, "-d", "summary-json", "-q")
    assert report["bytes_uploaded"] == sizes


def test_flat_and_preserve_structure_choose_where_images_land(
    pictograph: Pictograph, road_signs: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "flat", "--flat", "-q"), 0)
    assert {path.rsplit("/", 1)[0] for path in paths_in(pictograph, "flat")} == {""}
    expect(pictograph("upload", road_signs, "-d", "tree", "--preserve-structure", "-q"), 0)
    assert "/yield/night/005.jpg" in paths_in(pictograph, "tree")


def test_a_corrupt_image_is_listed_with_its_reason_and_the_exit_status_is_10(
    pictograph: Pictograph, road_signs: Path
) -> None:
    (road_signs / "stop" / "broken.jpg").write_bytes(b"this is not a jpeg")
    result = expect(pictograph("upload", road_signs, "--dataset", "signs", "-q"), 10)
    assert "6 uploaded, 0 skipped, 1 failed of 7 files" in result.stdout
    failed = result.stdout.split("Failed:\n", 1)[1]
    assert failed.startswith("  stop/broken.jpg: ") and "image" in failed


def test_the_json_report_carries_every_documented_field(
    pictograph: Pictograph, road_signs: Path
) -> None:
    (road_signs / "yield" / "empty.png").write_bytes(b"")
    first = pictograph("upload", road_signs, "--dataset", "signs", "--json", "-q")
    expect(first, 10)
    report = json.loads(first.stdout)
    assert set(report) == {
        "dataset_name",
        "images_attempted",
        "images_uploaded",
        "images_skipped",
        "bytes_uploaded",
        "changed",
        "replaced",
        "failures",
        "quarantined_earlier",
        "ignored_unsupported",
        "success",
    }
    assert report["quarantined_earlier"] == []  # local files: nothing is checked afterwards
    assert (report["images_attempted"], report["images_uploaded"]) == (7, 6)
    assert report["success"] is False
    [failure] = report["failures"]
    assert failure["path"] == "yield/empty.png" and failure["reason"]  # as the summary shows it

    (road_signs / "yield" / "empty.png").unlink()
    again = pictograph.json("upload", road_signs, "--dataset", "signs", "-q")
    assert again["images_skipped"] == 6 and again["images_uploaded"] == 0
    assert again["failures"] == []


def test_no_skip_existing_makes_names_already_there_failures(
    pictograph: Pictograph, road_signs: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    result = expect(pictograph("upload", road_signs, "-d", "signs", "--no-skip-existing"), 10)
    assert "0 uploaded, 0 skipped, 6 failed" in result.stdout
    assert "already exists" in result.stdout


def test_a_dry_run_prints_the_plan_and_sends_nothing(
    pictograph: Pictograph, road_signs: Path
) -> None:
    make_image(road_signs / "stop" / "deep" / "001.jpg", seed=7)  # collides with stop/001.jpg
    result = expect(pictograph("upload", road_signs, "-d", "signs", "--dry-run"), 0)
    assert "nothing sent" in result.stdout
    assert "/stop" in result.stdout and "/yield" in result.stdout
    assert ".DS_Store" in result.stdout
    assert "stop/deep/001.jpg: collides with stop/001.jpg" in result.stdout

    plan = pictograph.json("upload", road_signs, "-d", "signs", "--dry-run")
    assert plan["folders"] == {"/": 1, "/stop": 3, "/yield": 2}
    assert plan["ignored"] == [".DS_Store"] and len(plan["problems"]) == 1
    expect(pictograph("datasets", "show", "signs"), 4)
    assert pictograph.json("datasets", "list") == []


def test_no_create_on_a_missing_dataset_and_a_missing_folder_exit_4(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    missing = expect(pictograph("upload", road_signs, "-d", "nope", "--no-create"), 4)
    assert "nope" in one_error_line(missing)
    gone = expect(pictograph("upload", tmp_path / "gone", "-d", "signs"), 4)
    assert "does not exist" in one_error_line(gone)


def test_progress_is_plain_lines_on_stderr_when_not_a_terminal(
    pictograph: Pictograph, road_signs: Path
) -> None:
    result = expect(pictograph("upload", road_signs, "--dataset", "signs"), 0)
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("upload: 6/6 files (100%), ")
    assert "done in" in lines[-1]
    assert all(line.startswith("upload: ") for line in lines)
    assert "\x1b[" not in result.stderr  # no terminal control codes in a log
    assert "upload:" not in result.stdout


def test_plain_progress_lines_come_every_tenth_of_the_files_or_every_five_seconds_in_files_a_second(
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = [0.0]
    meter = PlainLines("upload", 1000, 2_000_000, clock=lambda: now[0])
    for done in (1, 2, 3):  # 2 s apart: no tenth done, but the third comes 6 s in
        now[0] += 2.0
        meter.update(done, done * 2000)
    for done in (99, 100, 101):  # a tenth done at 100, at once
        meter.update(done, done * 2000)
    assert capsys.readouterr().err.splitlines() == [
        "upload: 3/1000 files (0%), 6.0 kB of 2.0 MB, 0.5 files/s, ETA 33m14s",
        "upload: 100/1000 files (10%), 200.0 kB of 2.0 MB, 16.7 files/s, ETA 54.0s",
    ]


def test_the_installed_command_uploads_with_plain_progress_and_exit_status_10(
    road_signs: Path, tmp_path: Path
) -> None:
    (road_signs / "bad.jpg").write_text("not an image")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    env["PICTOGRAPH_HOME"] = str(tmp_path / "home")
    run = subprocess.run(
        [PICTOGRAPH, "upload", str(road_signs), "--dataset", "signs"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 10, run.stderr
    assert "upload: 7/7 files (100%)" in run.stderr
    assert "6 uploaded, 0 skipped, 1 failed of 7 files" in run.stdout
    assert "  bad.jpg: " in run.stdout


def test_on_a_terminal_the_progress_is_a_live_bar_and_stdout_stays_plain(
    road_signs: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    env |= {"PICTOGRAPH_HOME": str(tmp_path / "home"), "TERM": "xterm-256color"}
    terminal, attached = pty.openpty()
    try:
        run = subprocess.run(
            [PICTOGRAPH, "upload", str(road_signs), "--dataset", "signs"],
            stdout=subprocess.PIPE,
            stderr=attached,
            text=True,
            env=env,
            timeout=120,
        )
        os.close(attached)
        shown = _read_all(terminal)
    finally:
        os.close(terminal)
    assert run.returncode == 0
    assert "\x1b[" in shown and "6/6 files" in shown and "upload: " not in shown
    assert run.stdout.startswith("signs: 6 uploaded") and "\x1b[" not in run.stdout


def _read_all(fd: int) -> str:
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side of the terminal is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def test_the_last_progress_line_and_the_summary_read_one_stopped_clock(
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = [10.0]
    watch = Stopwatch(lambda: now[0])
    meter = PlainLines("upload", 2, 10, clock=lambda: now[0], stopwatch=watch)
    now[0] = 11.0
    meter.update(1, 5)
    now[0] = 12.5
    meter.update(2, 10)  # the last file: the clock stops here
    now[0] = 14.0  # the summary comes later

    assert watch.stop() == 2.5 and watch.elapsed() == 2.5
    assert capsys.readouterr().err.splitlines()[-1].endswith("done in 2.5s")


def test_the_progress_line_and_the_summary_show_the_same_elapsed_time(
    pictograph: Pictograph, road_signs: Path
) -> None:
    result = expect(pictograph("upload", road_signs, "-d", "timed"), 0)

    found = re.search(r"done in (\S+)$", result.stderr.strip().splitlines()[-1])
    assert found is not None, result.stderr
    assert f"of 6 files in {found.group(1)}\n" in result.stdout
    assert f"Elapsed time:  {found.group(1)}\n" in result.stdout


def test_a_rerun_lists_changed_files_as_not_uploaded_and_replace_changed_replaces_them(
    pictograph: Pictograph, road_signs: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    make_image(road_signs / "stop" / "001.jpg", size=(64, 48), seed=3)

    again = expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0).stdout
    replaced = pictograph("upload", road_signs, "-d", "signs", "-q", "--replace-changed")
    settled = pictograph.json("upload", road_signs, "-d", "signs", "-q")

    assert "signs: 0 uploaded, 6 skipped, 0 failed of 6 files" in again
    assert (
        "Changed:       1 of them changed since they were uploaded, not uploaded "
        "(--replace-changed replaces them)\n"
    ) in again
    assert "Changed, not uploaded:\n  stop/001.jpg\n" in again
    assert "signs: 1 uploaded, 5 skipped, 0 failed of 6 files" in expect(replaced, 0).stdout
    assert "Replaced:      1 changed files replaced their image\n" in replaced.stdout
    assert (settled["images_skipped"], settled["changed"], settled["replaced"]) == (6, [], [])


def test_ctrl_c_during_an_embedded_upload_reports_exactly_what_the_dataset_then_holds(
    tmp_path: Path,
) -> None:
    files = 1500
    original = make_image(tmp_path / "original.png", size=(16, 16))
    for n in range(files):
        folder = tmp_path / "many" / f"class{n % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(original, folder / f"{n:05d}.png")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    env["PICTOGRAPH_HOME"] = str(tmp_path / "home")
    upload = subprocess.Popen(
        [PICTOGRAPH, "upload", str(tmp_path / "many"), "--dataset", "many"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert upload.stderr is not None
    first = upload.stderr.readline()  # the first progress line: a tenth of the files are done
    assert first.startswith("upload: "), first + upload.stderr.read()
    upload.send_signal(signal.SIGINT)
    stdout, stderr = upload.communicate(timeout=120)
    shown = Pictograph.embedded(tmp_path / "home").json("datasets", "show", "many")

    assert upload.returncode == 130, (stdout, stderr)
    landed = shown["image_count"]
    assert 0 < landed < files
    assert stdout.splitlines()[0] == (
        f"many: interrupted: {landed:,} new images landed in the dataset; "
        f"{files - landed:,} of the {files:,} files did not land in this run"
    )
