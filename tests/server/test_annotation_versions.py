"""No lost update: each image's annotations carry a version; a save of an older one is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.server.flows import P
from tests.server.labelling import box, labelled_dataset

URL = f"{P}/annotations/roads/b.jpg"


def test_a_read_carries_the_version_as_etag_and_each_save_raises_it(
    app_client: Any, tmp_path: Path
) -> None:
    labelled_dataset(app_client, tmp_path)
    first = app_client.get(URL)
    assert first.json()["version"] == 0 and first.headers["etag"] == '"0"'
    saved = app_client.post(URL, json={"annotations": [box("thing", 1, 1, 5, 5)]})
    assert saved.json()["version"] == 1 and saved.headers["etag"] == '"1"'
    assert app_client.get(URL).headers["etag"] == '"1"'
    renamed = app_client.post(
        f"{P}/annotations/rename-class",
        json={"dataset": "roads", "old_name": "thing", "new_name": "object"},
    )
    assert renamed.status_code == 200
    assert app_client.get(URL).json()["version"] == 2  # a class edit is a change too


def test_a_save_from_a_stale_version_is_refused_and_changes_nothing(
    app_client: Any, tmp_path: Path
) -> None:
    labelled_dataset(app_client, tmp_path)
    mine = [box("thing", 1, 1, 5, 5)]
    theirs = [box("thing", 2, 2, 6, 6)]
    assert (
        app_client.post(URL, json={"annotations": mine}, headers={"If-Match": '"0"'}).json()[
            "version"
        ]
        == 1
    )
    late = app_client.post(URL, json={"annotations": theirs}, headers={"If-Match": '"0"'})
    assert late.status_code == 409
    error = late.json()["error"]
    assert error["code"] == "stale_version"
    assert "changed by someone else" in error["message"] and "reload" in error["message"]
    kept = app_client.get(URL).json()
    assert kept["version"] == 1 and kept["annotations"][0]["bounding_box"]["x"] == 1.0
    by_body = app_client.post(URL, json={"annotations": theirs, "version": 0})
    assert by_body.status_code == 409
    assert app_client.post(URL, json={"annotations": theirs, "version": 1}).status_code == 200
    assert app_client.post(URL, json={"annotations": mine}).json()["version"] == 3  # no version
    assert (
        app_client.post(URL, json={"annotations": mine}, headers={"If-Match": "*"}).status_code
        == 200
    )
    bad = app_client.post(URL, json={"annotations": mine}, headers={"If-Match": "yesterday"})
    assert bad.status_code == 422
