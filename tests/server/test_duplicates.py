"""Near-duplicate clusters (``GET $P/datasets/{dataset}/duplicates``, the official
``NearDuplicatesResult``): a resized, re-encoded copy joins its original's cluster, a different
picture joins none; bounds are clamped and reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from tests.images import scene
from tests.server.flows import P, create_dataset, upload
from tests.server.labelling import box, save

OTHERS = 12


def _dataset(client: Any, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """original.png, copy.jpg (70% of its size, JPEG quality 80), ``OTHERS`` different pictures
    and one in /elsewhere; the registered images by filename."""
    create_dataset(client, "near", classes=[{"name": "thing", "type": "bbox"}])
    original = scene(tmp_path / "original.png", seed=1000)
    made = {"original.png": upload(client, "near", original)}
    copy = tmp_path / "copy.jpg"
    with Image.open(original) as picture:
        picture.resize((112, 84)).save(copy, "JPEG", quality=80)
    made["copy.jpg"] = upload(client, "near", copy)
    for seed in range(OTHERS):
        path = scene(tmp_path / f"other-{seed}.png", seed)
        made[path.name] = upload(client, "near", path)
    made["far.png"] = upload(
        client, "near", scene(tmp_path / "far.png", 77), directory="/elsewhere"
    )
    return made


def _duplicates(client: Any, **params: Any) -> dict[str, Any]:
    answer = client.get(f"{P}/datasets/near/duplicates", params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["data"])


def test_a_resized_reencoded_copy_joins_its_originals_cluster_and_a_different_image_none(
    app_client: Any, tmp_path: Path
) -> None:
    made = _dataset(app_client, tmp_path)
    total = OTHERS + 3

    found = _duplicates(app_client)

    [group] = found["groups"]
    assert [m["filename"] for m in group["members"]] == ["original.png", "copy.jpg"]
    assert group["size"] == 2 and 0.95 <= group["max_similarity"] <= 1
    keep = group["members"][0]
    assert keep == {
        "id": made["original.png"]["id"],
        "filename": "original.png",
        "virtual_directory_path": "/",
        "status": "new",
        "annotation_count": 0,
    }
    assert {k: found[k] for k in ("group_count", "duplicate_image_count", "redundant_count",
                                  "analyzed", "total_images", "sample_limit", "sample_capped",
                                  "pairs_capped", "threshold", "directory_path")} == {
        "group_count": 1, "duplicate_image_count": 2, "redundant_count": 1, "analyzed": total,
        "total_images": total, "sample_limit": 1000, "sample_capped": False,
        "pairs_capped": False, "threshold": 0.95, "directory_path": None}  # fmt: skip

    # The one to keep is the most annotated.
    save(app_client, "near", "copy.jpg", [box("thing", 1, 2, 3, 4)])
    [group] = _duplicates(app_client)["groups"]
    assert [(m["filename"], m["annotation_count"]) for m in group["members"]] == [
        ("copy.jpg", 1), ("original.png", 0)]  # fmt: skip

    # Archived images are left out.
    body = {"dataset_name": "near", "image_ids": [made["copy.jpg"]["id"]],
            "updates": {"is_archived": True}}  # fmt: skip
    archived = app_client.patch(f"{P}/batch/images/update", json=body)
    assert archived.status_code == 200, archived.text
    after = _duplicates(app_client)
    assert (after["groups"], after["total_images"]) == ([], total - 1)


def test_bounds_are_clamped_and_reported_and_a_folder_scopes_the_scan(
    app_client: Any, tmp_path: Path
) -> None:
    _dataset(app_client, tmp_path)

    sampled = _duplicates(app_client, sample=2)
    assert (sampled["analyzed"], sampled["sample_limit"], sampled["sample_capped"]) == (2, 2, True)
    assert sampled["group_count"] == 1  # the two oldest: the original and its copy
    assert _duplicates(app_client, sample=10**6)["sample_limit"] == 2000
    loose = _duplicates(app_client, threshold=0.5)
    assert (loose["threshold"], loose["group_count"]) == (0.94, 1)
    assert _duplicates(app_client, max_pairs=0)["pairs_capped"] is False  # clamped to 1
    elsewhere = _duplicates(app_client, directory_path="elsewhere")
    assert (elsewhere["directory_path"], elsewhere["total_images"]) == ("/elsewhere", 1)
    assert elsewhere["groups"] == []
    refused = app_client.get(f"{P}/datasets/near/duplicates", params={"threshold": 2})
    assert refused.status_code == 422
    assert app_client.get(f"{P}/datasets/nope/duplicates").status_code == 404
