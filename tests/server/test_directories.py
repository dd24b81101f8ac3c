"""Virtual folders: bare arrays and objects, creation, counts, stats, rename and delete rules."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from tests.images import make_image
from tests.server.flows import P, create_dataset, upload


def _folder(client: TestClient, dataset: str, path: str) -> dict[str, object]:
    body = {"dataset": dataset, "directory_path": path}
    response = client.post(f"{P}/directories/", json=body)
    assert response.status_code in (200, 201), response.text
    return dict(response.json()["data"])


def _paths(client: TestClient, dataset: str, **params: str) -> list[str]:
    response = client.get(f"{P}/directories/{dataset}", params=params)
    assert isinstance(response.json(), list)
    return [folder["full_path"] for folder in response.json()]


def test_create_makes_parents_and_is_idempotent(app_client: TestClient) -> None:
    create_dataset(app_client, "tree")
    first = _folder(app_client, "tree", "a/b/c")
    again = _folder(app_client, "tree", "/a/b/c/")
    assert first["id"] == again["id"]
    assert first["name"] == "c"
    assert _paths(app_client, "tree") == ["/a", "/a/b", "/a/b/c"]


def test_creating_the_root_is_a_400(app_client: TestClient) -> None:
    create_dataset(app_client, "root")
    response = app_client.post(f"{P}/directories/", json={"dataset": "root", "directory_path": "/"})
    assert response.status_code == 400


def test_list_with_parent_path_gives_direct_children_and_empty_means_root(
    app_client: TestClient,
) -> None:
    create_dataset(app_client, "kids")
    for path in ("/a/x", "/a/y", "/b"):
        _folder(app_client, "kids", path)
    assert _paths(app_client, "kids", parent_path="") == ["/a", "/b"]
    assert _paths(app_client, "kids", parent_path="/a") == ["/a/x", "/a/y"]
    assert _paths(app_client, "kids", parent_path="a") == ["/a/x", "/a/y"]


def test_uploads_create_folders_and_counts_exclude_archived_images(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "counts")
    upload(app_client, "counts", make_image(tmp_path / "1.png"), "/train/cars")
    upload(app_client, "counts", make_image(tmp_path / "2.png"), "/train/cars")
    upload(app_client, "counts", make_image(tmp_path / "3.png"), "/train")
    app_client.delete(f"{P}/images/counts/train/cars/2.png")
    tree = app_client.get(f"{P}/directories/counts/tree").json()
    assert isinstance(tree, list)
    assert [(n["full_path"], n["image_count"], n["nested_image_count"]) for n in tree] == [
        ("/train", 1, 2)
    ]
    child = tree[0]["children"][0]
    assert (child["full_path"], child["image_count"], child["nested_image_count"]) == (
        "/train/cars",
        1,
        1,
    )


def test_stats_are_a_bare_object_and_root_stats_use_a_double_slash(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "stats")
    a = upload(app_client, "stats", make_image(tmp_path / "1.png"), "/a")
    b = upload(app_client, "stats", make_image(tmp_path / "2.png"), "/a/b")
    root = app_client.get(f"{P}/directories/stats//stats", params={"include_subdirectories": True})
    assert root.status_code == 200
    assert root.json()["total_images"] == 2
    assert root.json()["total_size_bytes"] == a["file_size"] + b["file_size"]
    assert root.json()["directories_by_status"] == {"new": 2}
    flat = app_client.get(
        f"{P}/directories/stats/a/stats", params={"include_subdirectories": "false"}
    ).json()
    assert (flat["total_images"], flat["total_directories"]) == (1, 1)
    deep = app_client.get(f"{P}/directories/stats/a/stats").json()
    assert (deep["total_images"], deep["total_directories"]) == (2, 2)
    assert app_client.get(f"{P}/directories/stats/zzz/stats").status_code == 404


def test_a_folder_named_tree_does_not_shadow_the_tree_route(app_client: TestClient) -> None:
    create_dataset(app_client, "names")
    _folder(app_client, "names", "/tree")
    assert isinstance(app_client.get(f"{P}/directories/names/tree").json(), list)
    stats = app_client.get(f"{P}/directories/names/tree/stats")
    assert stats.status_code == 200
    assert stats.json()["total_directories"] == 1


def test_rename_rewrites_descendants_and_image_paths(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "ren")
    upload(app_client, "ren", make_image(tmp_path / "x.png"), "/old/inner")
    renamed = app_client.patch(f"{P}/directories/ren/old/rename", json={"new_name": "new"})
    assert renamed.status_code == 200
    assert renamed.json()["data"]["full_path"] == "/new"
    assert _paths(app_client, "ren") == ["/new", "/new/inner"]
    images = app_client.get(f"{P}/images/", params={"dataset": "ren"}).json()["data"]
    assert images[0]["directory_path"] == "/new/inner"
    assert app_client.get(f"{P}/images/ren/new/inner/x.png").status_code == 200


def test_renaming_onto_a_sibling_is_a_409_and_unknown_folders_404(app_client: TestClient) -> None:
    create_dataset(app_client, "sib")
    _folder(app_client, "sib", "/a")
    _folder(app_client, "sib", "/b")
    assert (
        app_client.patch(f"{P}/directories/sib/a/rename", json={"new_name": "b"}).status_code == 409
    )
    assert (
        app_client.patch(f"{P}/directories/sib/z/rename", json={"new_name": "y"}).status_code == 404
    )
    bad = app_client.patch(f"{P}/directories/sib/a/rename", json={"new_name": "x/y"})
    assert bad.status_code in (400, 422)


def test_delete_rules_404_then_400_for_subfolders_or_images_then_cascade_moves_up(
    app_client: TestClient, tmp_path: Path
) -> None:
    create_dataset(app_client, "del")
    upload(app_client, "del", make_image(tmp_path / "x.png"), "/a/b")
    assert (
        app_client.delete(f"{P}/directories/del/zzz", params={"cascade": False}).status_code == 404
    )
    assert app_client.delete(f"{P}/directories/del/a", params={"cascade": True}).status_code == 400
    assert (
        app_client.delete(f"{P}/directories/del/a/b", params={"cascade": False}).status_code == 400
    )
    assert (
        app_client.delete(f"{P}/directories/del/a/b", params={"cascade": True}).status_code == 200
    )
    images = app_client.get(f"{P}/images/", params={"dataset": "del"}).json()["data"]
    assert images[0]["directory_path"] == "/a"
    assert _paths(app_client, "del") == ["/a"]


def test_another_datasets_folders_are_not_reachable(app_client: TestClient) -> None:
    assert app_client.get(f"{P}/directories/unknown").status_code == 404
    assert app_client.get(f"{P}/directories/unknown/tree").status_code == 404
