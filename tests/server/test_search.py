"""Search: a near-duplicate ranks first among 200 others; tags are matched exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from tests.images import scene
from tests.server.flows import P, create_dataset, upload


def test_a_resized_reencoded_copy_ranks_first_among_200_other_images(
    app_client: Any, tmp_path: Path
) -> None:
    create_dataset(app_client, "near")
    original = scene(tmp_path / "original.png", seed=1000)
    query = upload(app_client, "near", original)
    for seed in range(200):
        upload(app_client, "near", scene(tmp_path / f"other-{seed}.png", seed))
    copy = tmp_path / "copy.jpg"
    with Image.open(original) as picture:
        picture.resize((113, 85)).save(copy, "JPEG", quality=70)
    duplicate = upload(app_client, "near", copy)

    answer = app_client.get(
        f"{P}/search/similar", params={"image_id": query["id"], "threshold": 0, "limit": 5}
    ).json()
    results = answer["results"]
    assert results[0]["id"] == duplicate["id"], results[:2]
    assert results[0]["similarity"] > results[1]["similarity"]
    assert query["id"] not in [r["id"] for r in results] and len(results) == 5
    assert all(0 <= r["similarity"] <= 1 for r in results)
    strict = app_client.get(
        f"{P}/search/similar", params={"image_id": query["id"], "threshold": 0.9}
    ).json()["results"]
    assert [r["id"] for r in strict] == [duplicate["id"]]


def test_similarity_of_an_unknown_image_is_a_404(app_client: Any) -> None:
    missing = app_client.get(
        f"{P}/search/similar", params={"image_id": "00000000-0000-4000-8000-000000000000"}
    )
    assert missing.status_code == 404


def test_search_by_tags_needs_every_tag_and_at_least_one(app_client: Any, tmp_path: Path) -> None:
    create_dataset(app_client, "tags")
    ids = [upload(app_client, "tags", scene(tmp_path / f"{i}.png", i))["id"] for i in range(4)]
    tag = {"dataset": "tags", "add": True}
    app_client.post(f"{P}/images/bulk-tag", json={**tag, "image_ids": ids[:3], "tags": ["cat"]})
    app_client.post(f"{P}/images/bulk-tag", json={**tag, "image_ids": ids[1:2], "tags": ["100%"]})
    app_client.post(f"{P}/images/bulk-tag", json={**tag, "image_ids": ids[3:], "tags": ["cats"]})

    def search(**params: Any) -> list[str]:
        found = app_client.get(f"{P}/search/by-tags", params=params).json()["results"]
        return [item["id"] for item in found]

    assert sorted(search(objects=["cat"])) == sorted(ids[:3])
    assert search(objects=["cat"], scenes=["100%"], dataset_name="tags") == [ids[1]]
    assert search(objects=["cat"], limit=1, offset=1) == [sorted(ids[:3], key=ids.index)[1]]
    assert app_client.get(f"{P}/search/by-tags").status_code == 422
    missing = app_client.get(f"{P}/search/by-tags", params={"objects": "x", "dataset_name": "no"})
    assert missing.status_code == 404
