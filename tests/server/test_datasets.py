"""Datasets over the wire: create, read, list with pagination, update, archive, delete."""

from __future__ import annotations

import concurrent.futures

from starlette.testclient import TestClient

from tests.server.flows import P, create_dataset


def test_a_created_dataset_reads_back_by_name_and_by_id(app_client: TestClient) -> None:
    created = create_dataset(app_client, "cars", description="red ones")
    assert created["annotation_types"] == ["bbox"]
    assert created["image_count"] == 0
    by_name = app_client.get(f"{P}/datasets/cars").json()["data"]
    by_id = app_client.get(f"{P}/datasets/{created['id'].upper()}").json()["data"]
    assert by_name["id"] == by_id["id"] == created["id"]
    assert by_name["description"] == "red ones"
    assert by_name["organization_id"]


def test_a_duplicate_dataset_name_is_a_409_but_names_are_case_sensitive(
    app_client: TestClient,
) -> None:
    create_dataset(app_client, "Cats")
    assert app_client.post(f"{P}/datasets/", json={"name": "Cats"}).status_code == 409
    assert app_client.post(f"{P}/datasets/", json={"name": "cats"}).status_code == 201


def test_bad_dataset_names_are_refused(app_client: TestClient) -> None:
    for name in ("", "a/b", "  "):
        response = app_client.post(f"{P}/datasets/", json={"name": name})
        assert response.status_code in (400, 422), name


def test_a_missing_dataset_is_a_404_for_get_update_and_delete(app_client: TestClient) -> None:
    assert app_client.get(f"{P}/datasets/nope").status_code == 404
    assert app_client.patch(f"{P}/datasets/nope", json={"description": "x"}).status_code == 404
    assert app_client.delete(f"{P}/datasets/nope").status_code == 404
    missing_id = "00000000-0000-0000-0000-000000000000"
    assert app_client.get(f"{P}/datasets/{missing_id}").status_code == 404


def test_listing_is_newest_first_and_pages_report_has_more(app_client: TestClient) -> None:
    for index in range(5):
        create_dataset(app_client, f"ds-{index}")
    first = app_client.get(f"{P}/datasets/", params={"limit": 2, "offset": 0}).json()
    assert [d["name"] for d in first["data"]] == ["ds-4", "ds-3"]
    assert first["pagination"]["has_more"] is True
    last = app_client.get(f"{P}/datasets/", params={"limit": 2, "offset": 4}).json()
    assert [d["name"] for d in last["data"]] == ["ds-0"]
    assert last["pagination"]["has_more"] is False
    again = app_client.get(f"{P}/datasets/", params={"limit": 2, "offset": 0}).json()
    assert again["data"] == first["data"]


def test_a_limit_above_the_cap_is_clamped_not_refused(app_client: TestClient) -> None:
    response = app_client.get(f"{P}/datasets/", params={"limit": 50000})
    assert response.status_code == 200
    assert response.json()["pagination"]["limit"] == 1000


def test_classes_get_palette_colours_and_updates_merge_against_the_base(
    app_client: TestClient,
) -> None:
    created = create_dataset(app_client, "zoo", classes=[{"name": "cat"}, {"name": "dog"}])
    assert [c["color"] for c in created["classes"]] == ["#e6194b", "#3cb44b"]
    base = created["classes"]
    # Another writer adds "bird" after our read.
    app_client.patch(f"{P}/datasets/zoo", json={"classes": [*base, {"name": "bird"}]})
    mine = [base[0], {"name": "fish"}]  # we drop "dog" and add "fish"
    response = app_client.patch(f"{P}/datasets/zoo", json={"classes": mine, "classes_base": base})
    assert response.status_code == 200
    names = [c["name"] for c in response.json()["data"]["classes"]]
    assert names == ["cat", "bird", "fish"]
    assert all(c["color"] for c in response.json()["data"]["classes"])


def test_renaming_onto_an_existing_name_is_a_409(app_client: TestClient) -> None:
    create_dataset(app_client, "one")
    create_dataset(app_client, "two")
    assert app_client.patch(f"{P}/datasets/one", json={"new_name": "two"}).status_code == 409
    renamed = app_client.patch(f"{P}/datasets/one", json={"new_name": "uno"})
    assert renamed.json()["data"]["name"] == "uno"
    assert app_client.get(f"{P}/datasets/one").status_code == 404


def test_archive_hides_from_the_default_list_and_both_directions_are_idempotent(
    app_client: TestClient,
) -> None:
    create_dataset(app_client, "old")
    for _ in range(2):
        archived = app_client.post(f"{P}/datasets/old/archive").json()["data"]
        assert archived["is_archived"] is True
        assert archived["archived_at"]
    names = [d["name"] for d in app_client.get(f"{P}/datasets/").json()["data"]]
    assert "old" not in names
    listed = app_client.get(f"{P}/datasets/", params={"archived": "true"}).json()["data"]
    assert [d["name"] for d in listed] == ["old"]
    for _ in range(2):
        restored = app_client.post(f"{P}/datasets/old/unarchive").json()["data"]
        assert restored["is_archived"] is False
        assert restored["archived_at"] is None


def test_delete_returns_an_enveloped_summary(app_client: TestClient) -> None:
    created = create_dataset(app_client, "gone")
    app_client.post(f"{P}/directories/", json={"dataset": "gone", "directory_path": "/a/b"})
    response = app_client.delete(f"{P}/datasets/gone")
    assert response.status_code == 200
    summary = response.json()["data"]
    assert summary["id"] == created["id"]
    assert summary["deleted"] is True
    assert summary["directories_deleted"] == 2
    assert app_client.get(f"{P}/datasets/gone").status_code == 404


def test_concurrent_reads_of_one_dataset_agree(app_client: TestClient) -> None:
    created = create_dataset(app_client, "busy")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: app_client.get(f"{P}/datasets/busy"), range(32)))
    assert {r.status_code for r in results} == {200}
    assert {r.json()["data"]["id"] for r in results} == {created["id"]}
