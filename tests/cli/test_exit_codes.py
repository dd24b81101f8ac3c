"""Errors end every command with one ``error:`` line and the documented exit status."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from pictograph.cli.exit_codes import exit_code_for
from pictograph.errors import (
    ApiError,
    AuthError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from tests.cli.runner import Pictograph, expect, one_error_line
from tests.images import make_image
from tests.served import PICTOGRAPH, Served


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AuthError("x"), 2),
        (ForbiddenError("x"), 3),
        (NotFoundError("x"), 4),
        (FileNotFoundError("x"), 4),
        (ConflictError("x"), 5),
        (ValidationError("x"), 6),
        (ApiError("x", status_code=418), 6),
        (ConfigurationError("x"), 6),
        (PaymentRequiredError("x"), 7),
        (RateLimitError("x"), 8),
        (ServerError("x"), 9),
        (NetworkError("x"), 9),
        (RuntimeError("x"), 1),
        (KeyboardInterrupt(), 130),
    ],
)
def test_each_error_class_maps_to_its_documented_exit_status(
    error: BaseException, code: int
) -> None:
    assert exit_code_for(error) == code


@pytest.mark.parametrize(
    "command",
    [
        ("datasets", "list"),
        ("datasets", "create", "signs"),
        ("images", "list", "signs"),
        ("download", "signs", "out"),
    ],
)
def test_a_bad_key_exits_2_with_one_line_and_no_traceback(
    served_instance: Served, command: tuple[str, ...]
) -> None:
    pictograph = Pictograph.served(served_instance.base_url, "pk_live_" + "0" * 64)
    result = expect(pictograph(*command), 2)
    assert "error: " in one_error_line(result)


def test_a_server_url_without_a_key_is_invalid_input(served_instance: Served) -> None:
    pictograph = Pictograph.served(served_instance.base_url, "")
    result = expect(pictograph("datasets", "list"), 6)
    assert "API key" in one_error_line(result)


def test_a_bad_command_line_exits_6_not_2_so_2_always_means_a_bad_key(
    pictograph: Pictograph,
) -> None:
    assert expect(pictograph("upload", "--bogus"), 6).stderr.startswith("Usage:")
    expect(pictograph("upload", ".", "--dataset", "x", "--workers", "0"), 6)
    expect(pictograph("no-such-command"), 6)


def test_help_and_version_exit_0_and_list_every_command(pictograph: Pictograph) -> None:
    help_text = expect(pictograph("--help"), 0).stdout
    for command in ("upload", "download", "datasets", "images", "serve", "keys"):
        assert command in help_text
    assert "pictograph, version" in expect(pictograph("--version"), 0).stdout


def test_ctrl_c_during_an_upload_prints_what_landed_then_exits_130_and_stops_sending(
    served_instance: Served, tmp_path: Path
) -> None:
    files = 1500
    original = make_image(tmp_path / "original.jpg")
    for n in range(files):
        folder = tmp_path / "many" / f"class{n % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(original, folder / f"{n:05d}.jpg")
    key = served_instance.create_key("interrupted")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    command = [PICTOGRAPH, "--base-url", served_instance.base_url, "--api-key", key]
    upload = subprocess.Popen(
        [*command, "upload", str(tmp_path / "many"), "--dataset", "many"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert upload.stderr is not None
    first = upload.stderr.readline()  # the first progress line: a tenth of the files are done
    assert first.startswith("upload: "), first + upload.stderr.read()
    upload.send_signal(signal.SIGINT)
    stdout, stderr = upload.communicate(timeout=60)

    assert upload.returncode == 130, (stdout, stderr)
    assert stderr.strip() == "error: interrupted"
    shown = Pictograph.served(served_instance.base_url, key).json("datasets", "show", "many")
    landed = shown["image_count"]
    assert 0 < landed < files
    assert stdout.splitlines() == [
        f"many: interrupted: {landed:,} new images landed in the dataset; "
        f"{files - landed:,} of the {files:,} files did not land in this run",
        "Run the same command again to send the rest: what is already there is skipped.",
    ]
