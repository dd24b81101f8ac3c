"""What the command line says, word for word, and the exit status that goes with it."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest

from pictograph.cli.main import START_HERE, cli
from tests.cli.runner import Pictograph, expect, one_error_line
from tests.served import Served, free_port


def every_command(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += every_command(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_pictograph_alone_prints_the_three_commands_a_newcomer_needs(tmp_path: Path) -> None:
    result = expect(Pictograph.embedded(tmp_path)(), 0)
    assert result.stdout.strip() == START_HERE
    for line in (
        "  pictograph upload ./photos --dataset demo    upload a folder",
        "  pictograph serve                             the API and the web gallery",
        "  pictograph download demo ./demo-copy         a dataset back as a folder tree",
    ):
        assert line in result.stdout


@pytest.mark.parametrize("command", every_command(cli), ids=" ".join)
def test_every_help_has_an_example_to_copy(tmp_path: Path, command: tuple[str, ...]) -> None:
    text = expect(Pictograph.embedded(tmp_path)(*command, "--help"), 0).stdout
    example = text.split("Example:\n", 1)[1].splitlines()[0].strip()
    assert example.startswith(" ".join(("pictograph", *command[:1])))


def test_version_and_help_import_neither_the_server_nor_the_http_client() -> None:
    probe = (
        "import sys\n"
        "from pictograph.cli.main import cli\n"
        "for args in (['--version'], ['--help'], ['upload', '--help']):\n"
        "    try:\n"
        "        cli(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('pictograph.server.app', 'fastapi', 'httpx', 'pydantic', 'sqlalchemy', 'rich')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_two_layouts_at_once_are_refused_with_one_line_and_exit_6(
    tmp_path: Path, road_signs: Path
) -> None:
    pictograph = Pictograph.embedded(tmp_path / "home")
    result = expect(
        pictograph("upload", road_signs, "-d", "x", "--flat", "--preserve-structure"), 6
    )
    assert one_error_line(result) == (
        "error: --flat and --preserve-structure cannot be used together: choose one layout"
    )
    assert pictograph.json("datasets", "list") == []


def test_an_empty_dataset_name_is_refused_with_one_line_and_exit_6(
    tmp_path: Path, road_signs: Path
) -> None:
    pictograph = Pictograph.embedded(tmp_path / "home")
    result = expect(pictograph("upload", road_signs, "-d", " "), 6)
    assert one_error_line(result) == (
        "error: --dataset needs a dataset name, e.g. --dataset road-signs"
    )
    for command, name in (
        (("datasets", "show", ""), "NAME"),
        (("images", "list", ""), "DATASET"),
        (("download", "", tmp_path / "out"), "DATASET"),
    ):
        line = one_error_line(expect(pictograph(*command), 6))
        assert line == f"error: {name} needs a dataset name, e.g. road-signs"
    assert pictograph.json("datasets", "list") == []


@pytest.fixture
def no_images(tmp_path: Path) -> Path:
    folder = tmp_path / "no_images"
    folder.mkdir()
    (folder / "a.jfif").write_bytes(b"\xff\xd8\xff")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_a_folder_without_images_exits_4_names_what_it_ignored_and_creates_no_dataset(
    pictograph: Pictograph, no_images: Path
) -> None:
    result = expect(pictograph("upload", no_images, "-d", "empty"), 4)
    assert one_error_line(result) == (
        f"error: no images in {str(no_images)!r} (ignored: 2 files with unsupported "
        "extensions (.jfif, .txt)): nothing uploaded, dataset 'empty' not touched"
    )
    expect(pictograph("datasets", "show", "empty"), 4)


def test_unsupported_files_are_counted_in_the_dry_run_and_the_summary_with_one_total(
    pictograph: Pictograph, road_signs: Path
) -> None:
    (road_signs / "stop" / "a.jfif").write_bytes(b"\xff\xd8\xff")
    (road_signs / "notes.txt").write_text("not an image")
    (road_signs / "stop" / "broken.jpg").write_bytes(b"not a jpeg")
    plan = expect(pictograph("upload", road_signs, "-d", "signs", "--dry-run"), 0).stdout
    assert "ignored: 2 files with unsupported extensions (.jfif, .txt)" in plan
    assert "  notes.txt\n  stop/a.jfif\n" in plan
    assert "7 files (" in plan  # the same total the run reports
    run = expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 10).stdout
    assert "signs: 6 uploaded, 0 skipped, 1 failed of 7 files in " in run
    assert "\nignored: 2 files with unsupported extensions (.jfif, .txt)\n" in run


def test_lists_cut_short_by_the_limit_say_so(pictograph: Pictograph, road_signs: Path) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    expect(pictograph("datasets", "create", "other"), 0)
    shown = expect(pictograph("images", "list", "signs", "--limit", "2"), 0).stdout
    assert shown.splitlines()[-1] == "2 of 6 shown; --limit N or --all"
    every = expect(pictograph("images", "list", "signs", "--limit", "2", "--all"), 0).stdout
    assert "shown;" not in every and every.count(".jpg") + every.count(".png") == 6
    datasets = expect(pictograph("datasets", "list", "-n", "1"), 0).stdout
    assert datasets.splitlines()[-1] == "1 of 2 shown; --limit N or --all"
    assert "shown;" not in expect(pictograph("datasets", "list"), 0).stdout


def test_datasets_show_has_a_root_row_so_the_rows_add_up(
    pictograph: Pictograph, road_signs: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    shown = expect(pictograph("datasets", "show", "signs"), 0).stdout
    rows = [[cell.strip() for cell in line.split("│")] for line in shown.splitlines()]
    counts = {row[0]: int(row[1]) for row in rows if row[0].startswith("/")}
    assert counts == {"/ (root)": 1, "/stop": 3, "/yield": 2}
    assert sum(counts.values()) == 6


def test_keys_list_has_a_header(tmp_path: Path) -> None:
    pictograph = Pictograph.embedded(tmp_path)
    assert expect(pictograph("keys", "list"), 0).stdout == (
        "No keys. Make one with: pictograph keys create\n"
    )
    expect(pictograph("keys", "create", "--name", "laptop"), 0)
    header, _rule, row = [
        [cell.strip() for cell in line.replace("┃", "│").split("│")]
        for line in expect(pictograph("keys", "list"), 0).stdout.splitlines()
    ]
    assert header == ["id", "organisation", "name", "prefix", "created", "state"]
    assert row[1:3] == ["local", "laptop"] and row[-1] == "active"


def test_a_base_url_without_a_key_says_which_option_to_add(tmp_path: Path) -> None:
    result = expect(
        Pictograph.embedded(tmp_path)("--base-url", "http://x:1", "datasets", "list"), 6
    )
    assert one_error_line(result) == (
        "error: --base-url http://x:1 needs an API key: pass --api-key KEY or set "
        "PICTOGRAPH_API_KEY (make one with: pictograph keys create)"
    )


def test_a_server_that_does_not_answer_is_named_with_what_to_check(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    pictograph = Pictograph.served(f"http://127.0.0.1:{port}", "pk_live_" + "0" * 64)
    pictograph.env["PICTOGRAPH_MAX_RETRIES"] = "1"
    line = one_error_line(expect(pictograph("datasets", "list"), 9))
    assert line.startswith(f"error: no answer from http://127.0.0.1:{port} after retrying (")
    assert line.endswith("): check --base-url and that the server is running")


def test_an_image_download_into_a_folder_that_is_not_there_writes_nothing_and_exits_4(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    target = f"{tmp_path}/nonexist/dir/"
    result = expect(pictograph("images", "download", "signs", "stop/001.jpg", target), 4)
    assert one_error_line(result) == f"error: folder {target!r} does not exist; create it first"
    assert not (tmp_path / "nonexist").exists()


def test_a_download_folder_that_cannot_be_made_exits_1_as_documented(
    pictograph: Pictograph, road_signs: Path, tmp_path: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    blocker = tmp_path / "a file"
    blocker.write_text("in the way")
    result = expect(pictograph("download", "signs", blocker / "out"), 1)
    assert one_error_line(result).startswith(
        f"error: cannot create folder {str(blocker / 'out')!r}: "
    )


def test_embedded_json_never_shows_urls_of_a_host_that_does_not_exist(
    pictograph: Pictograph, road_signs: Path
) -> None:
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)
    images = pictograph.json("images", "list", "signs")
    urls = {image["image_url"] for image in images}
    if pictograph.kind == "embedded":
        assert urls == {None}
    else:
        assert all(url.startswith("http://127.0.0.1:") for url in urls)


def test_global_options_work_after_the_command_too(tmp_path: Path, road_signs: Path) -> None:
    home = tmp_path / "home"
    nowhere = Pictograph.embedded(tmp_path / "elsewhere")
    expect(nowhere("upload", road_signs, "-d", "signs", "-q", "--home", home), 0)
    assert [d["name"] for d in nowhere.json("datasets", "list", "--home", home)] == ["signs"]
    assert nowhere.json("datasets", "list") == []


def test_a_base_url_with_the_api_path_still_reaches_the_server(served_instance: Served) -> None:
    key = served_instance.create_key("api-path")
    pictograph = Pictograph.served(f"{served_instance.base_url}/api/v1/developer/", key)
    expect(pictograph("datasets", "create", "reached"), 0)
    assert [d["name"] for d in pictograph.json("datasets", "list")] == ["reached"]


def test_serve_refuses_a_port_out_of_range_before_announcing_anything(tmp_path: Path) -> None:
    result = expect(Pictograph.embedded(tmp_path)("serve", "--port", "99999"), 6)
    assert "99999 is not in the range 0<=x<=65535" in result.stderr
    assert "serving" not in result.output


def test_serve_on_a_port_in_use_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = expect(Pictograph.embedded(tmp_path)("serve", "--port", port), 1)
    assert one_error_line(result) == (
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use): "
        "stop what runs there or pass --port N"
    )
