"""Batch operations over the wire: one transaction each, foreign ids refused, collisions handled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pictograph.server.service import keys
from tests.server.flows import P, create_dataset
from tests.server.labelling import labelled_dataset

B = f"{P}/batch/images"


def _two_orgs(make_client: Any, tmp_path: Path) -> tuple[Any, Any]:
    first = make_client(require_api_key=True)
    store = first.app.state.store
    ours = first.__class__(first.app, headers={"X-API-Key": keys.create_key(store, "ours")[1]})
    theirs = first.__class__(first.app, headers={"X-API-Key": keys.create_key(store, "theirs")[1]})
    return ours, theirs


def _names(client: Any, dataset: str, folder: str) -> list[str]:
    answer = client.get(f"{P}/images/", params={"dataset": dataset, "directory_path": folder})
    return sorted(item["filename"] for item in answer.json()["data"])


def test_a_batch_naming_another_organisations_image_lists_it_in_failed_and_does_the_rest(
    make_client: Any, tmp_path: Path
) -> None:
    """Compatibility by default (issue 22): the reference answers 200 with such ids in
    ``failed``; the other organisation's image is never touched."""
    ours, theirs = _two_orgs(make_client, tmp_path)
    mine = labelled_dataset(ours, tmp_path, "mine")
    foreign = labelled_dataset(theirs, tmp_path / "t", "foreign")
    own_id, foreign_id = mine[("/", "a.png")]["id"], foreign[("/", "a.png")]["id"]
    failed = [{"id": foreign_id, "reason": "image not found in dataset 'mine'"}]

    body = {"dataset_name": "mine", "image_ids": [own_id, foreign_id]}
    updated = ours.patch(f"{B}/update", json={**body, "updates": {"status": "complete"}})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["processed"], updated.json()["failed"]) == (1, failed)
    assert updated.json()["success"] is False
    copied = ours.post(f"{B}/copy", json={**body, "target_directory_path": "/copies"}).json()
    assert (copied["processed"], copied["failed"]) == (1, failed)
    moved = ours.post(f"{B}/move", json={**body, "target_directory_path": "/moved"}).json()
    assert (moved["processed"], moved["failed"]) == (1, failed)

    image = ours.get(f"{P}/images/{own_id}/metadata").json()["data"]
    assert (image["status"], image["directory_path"]) == ("complete", "/moved")
    assert _names(ours, "mine", "/copies") == ["a.png"]
    theirs_now = theirs.get(f"{P}/images/{foreign_id}/metadata").json()["data"]
    assert (theirs_now["status"], theirs_now["directory_path"]) == ("new", "/")


def test_a_strict_batch_naming_another_organisations_image_is_a_404_and_touches_nothing(
    make_client: Any, tmp_path: Path
) -> None:
    ours, theirs = _two_orgs(make_client, tmp_path)
    mine = labelled_dataset(ours, tmp_path, "mine")
    foreign = labelled_dataset(theirs, tmp_path / "t", "foreign")
    own_id, foreign_id = mine[("/", "a.png")]["id"], foreign[("/", "a.png")]["id"]

    for method, path, extra in [
        ("PATCH", "update", {"updates": {"status": "complete"}}),
        ("POST", "move", {"target_directory_path": "/moved"}),
        ("POST", "copy", {"target_directory_path": "/copies"}),
        ("POST", "delete", {"permanent": True}),
    ]:
        body = {"dataset_name": "mine", "image_ids": [own_id, foreign_id], "strict": True, **extra}
        answer = ours.request(method, f"{B}/{path}", json=body)
        assert answer.status_code == 404, answer.text
        error = answer.json()["error"]
        assert error["details"]["failed"] == [
            {"id": foreign_id, "reason": "image not found in dataset 'mine'"}
        ]
    image = ours.get(f"{P}/images/{own_id}/metadata").json()["data"]
    assert (image["status"], image["directory_path"]) == ("new", "/")
    assert _names(ours, "mine", "/copies") == []
    theirs_now = theirs.get(f"{P}/images/{foreign_id}/metadata").json()["data"]
    assert (theirs_now["status"], theirs_now["is_archived"]) == ("new", False)


def test_a_move_onto_a_taken_name_renames_unless_failing_is_asked_for(
    app_client: Any, tmp_path: Path
) -> None:
    """The official SDK documents auto-renaming; ``duplicate_handling: "fail"`` is our option."""
    made = labelled_dataset(app_client, tmp_path)
    root_a = made[("/", "a.png")]["id"]
    body = {"dataset_name": "roads", "image_ids": [root_a], "target_directory_path": "/sub"}
    refused = app_client.post(f"{B}/move", json={**body, "duplicate_handling": "fail"})
    assert refused.status_code == 409
    assert "nothing was moved" in refused.json()["error"]["message"]
    assert _names(app_client, "roads", "/") == ["a.png", "b.jpg", "e.png"]

    renamed = app_client.post(f"{B}/move", json=body).json()
    assert (renamed["processed"], renamed["renamed"]) == (1, 1)
    assert renamed["affected_directories"] == ["/", "/sub"]
    assert _names(app_client, "roads", "/sub") == ["a-1.png", "a.png", "c.png"]
    moved = app_client.get(f"{P}/images/{root_a}/metadata").json()["data"]
    assert moved["annotation_count"] == 2


@pytest.mark.parametrize(
    ("rule", "names", "failed"),
    [
        ("rename", ["a-1.png", "a.png", "c.png"], 0),
        ("skip", ["a.png", "c.png"], 1),
        ("overwrite", ["a.png", "c.png"], 0),
    ],
)
def test_copies_get_new_ids_and_follow_the_duplicate_rule(
    app_client: Any, tmp_path: Path, rule: str, names: list[str], failed: int
) -> None:
    made = labelled_dataset(app_client, tmp_path)
    source = made[("/", "a.png")]
    body = {"dataset_name": "roads", "image_ids": [source["id"]],
            "target_directory_path": "/sub", "duplicate_handling": rule,
            "copy_annotations": True}  # fmt: skip
    result = app_client.post(f"{B}/copy", json=body).json()
    assert len(result["failed"]) == failed and result["success"] is (failed == 0)
    assert _names(app_client, "roads", "/sub") == names
    if rule != "skip":
        listed = app_client.get(
            f"{P}/images/", params={"dataset": "roads", "directory_path": "/sub"}
        )
        copies = [i for i in listed.json()["data"] if i["sha256"] == source["sha256"]]
        assert len(copies) == 1 and copies[0]["id"] != source["id"]
        assert copies[0]["annotation_count"] == 2


def test_copy_to_another_dataset_carries_labels_and_adds_missing_classes(
    app_client: Any, tmp_path: Path
) -> None:
    made = labelled_dataset(app_client, tmp_path)
    create_dataset(app_client, "empty")
    ids = [made[("/sub", "a.png")]["id"]]
    body = {"dataset_name": "roads", "image_ids": ids, "target_dataset_name": "empty",
            "target_directory_path": "/x/y"}  # fmt: skip
    result = app_client.post(f"{B}/copy-to-dataset", json=body).json()
    assert result["target_dataset"] == "empty" and result["operation"] == "copied"
    assert result["classes_added"] == ["thing", "shape"]
    classes = app_client.get(f"{P}/datasets/empty").json()["data"]["classes"]
    assert [c["name"] for c in classes] == ["thing", "shape"]
    copied = app_client.get(f"{P}/annotations/empty/x/y/a.png").json()
    assert len(copied["annotations"]) == 2


def test_archive_restore_and_status_updates_report_what_they_touched(
    app_client: Any, tmp_path: Path
) -> None:
    made = labelled_dataset(app_client, tmp_path)
    ids = [made[("/", "a.png")]["id"], made[("/sub", "c.png")]["id"]]
    base = {"dataset_name": "roads", "image_ids": ids}
    archived = app_client.post(f"{B}/delete", json={**base, "permanent": False}).json()
    assert archived["operation"] == "archived" and archived["processed"] == 2
    assert _names(app_client, "roads", "/") == ["b.jpg", "e.png"]
    restored = app_client.patch(f"{B}/update", json={**base, "updates": {"is_archived": False}})
    assert restored.json()["processed"] == 2
    bad = app_client.patch(f"{B}/update", json={**base, "updates": {"status": "done"}})
    assert bad.status_code == 400 and "complete" in bad.json()["error"]["message"]
    done = app_client.patch(f"{B}/update", json={**base, "updates": {"status": "complete"}})
    assert done.json() == {"success": True, "processed": 2, "failed": [],
                           "affected_directories": ["/", "/sub"], "renamed": 0,
                           "operation": None}  # fmt: skip
