"""``pictograph datasets``: list, show, create, delete, and their exit statuses."""

from __future__ import annotations

from pathlib import Path

from tests.cli.runner import Pictograph, expect, one_error_line


def test_datasets_are_created_listed_shown_and_deleted(
    pictograph: Pictograph, road_signs: Path
) -> None:
    created = pictograph.json("datasets", "create", "signs", "--description", "road signs")
    assert created["name"] == "signs" and created["description"] == "road signs"
    expect(pictograph("upload", road_signs, "-d", "signs", "-q"), 0)

    listed = pictograph.json("datasets", "list")
    assert [(d["name"], d["image_count"]) for d in listed] == [("signs", 6)]
    table = expect(pictograph("datasets", "list"), 0).stdout
    assert "signs" in table and "road signs" in table

    shown = pictograph.json("datasets", "show", "signs")
    assert {f["full_path"]: f["image_count"] for f in shown["folders"]} == {
        "/stop": 3,
        "/yield": 2,
    }
    text = expect(pictograph("datasets", "show", "signs"), 0).stdout
    assert "6 images" in text and "/stop" in text

    deleted = expect(pictograph("datasets", "delete", "signs", "--yes"), 0)
    assert "Moved dataset signs (6 images) to the trash" in deleted.stdout
    assert pictograph.json("datasets", "list") == []


def test_creating_a_name_that_exists_exits_5_with_one_error_line(pictograph: Pictograph) -> None:
    expect(pictograph("datasets", "create", "signs"), 0)
    result = expect(pictograph("datasets", "create", "signs"), 5)
    assert "already exists" in one_error_line(result)


def test_an_unknown_dataset_exits_4(pictograph: Pictograph) -> None:
    for command in (("show", "nope"), ("delete", "nope", "--yes")):
        result = expect(pictograph("datasets", *command), 4)
        assert "nope" in one_error_line(result)


def test_delete_without_yes_off_a_terminal_refuses_and_keeps_the_dataset(
    pictograph: Pictograph,
) -> None:
    expect(pictograph("datasets", "create", "signs"), 0)
    result = expect(pictograph("datasets", "delete", "signs"), 6)
    assert "--yes" in result.stderr
    assert [d["name"] for d in pictograph.json("datasets", "list")] == ["signs"]


def test_list_limit_caps_the_number_of_datasets(pictograph: Pictograph) -> None:
    for name in ("a", "b", "c"):
        expect(pictograph("datasets", "create", name), 0)
    assert len(pictograph.json("datasets", "list", "--limit", "2")) == 2
