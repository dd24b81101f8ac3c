"""Split leakage (issue 21): near-duplicate images in different splits are listed, over the API,
the SDK and the CLI (and before a CLI export by split); images in one split are not."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

from PIL import Image

from pictograph.client import Client
from pictograph.protocol import API_PREFIX
from pictograph.server.service.descriptors import similarity
from pictograph.server.service.leakage import LEAST_THRESHOLD, leaking_pairs
from tests.cli.runner import Pictograph, expect
from tests.server.flows import P, create_dataset, upload

#: name -> (seed of its pixels, split): a.png, copy.png and nosplit.png are the same picture.
PICTURES = {"a.png": (0, "train"), "copy.png": (0, "val"), "nosplit.png": (0, None),
            "other.png": (7, "test")}  # fmt: skip


def _picture(path: Path, seed: int) -> Path:
    """A picture with structure (random rectangles): a flat colour has no shape to compare."""
    rng = random.Random(seed)
    image = Image.new("RGB", (96, 64), (rng.randrange(256), rng.randrange(256), 0))
    for _ in range(8):
        x, y = rng.randrange(80), rng.randrange(48)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        image.paste(colour, (x, y, x + rng.randrange(8, 40), y + rng.randrange(8, 30)))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def _pictures(tmp_path: Path) -> dict[str, Path]:
    return {name: _picture(tmp_path / "src" / name, seed) for name, (seed, _) in PICTURES.items()}


def test_near_duplicates_in_different_splits_are_listed_and_those_in_one_split_are_not(
    app_client: Any, tmp_path: Path
) -> None:
    create_dataset(app_client, "roads")
    for name, path in _pictures(tmp_path).items():
        upload(app_client, "roads", path)
        if PICTURES[name][1]:
            body = {"split": PICTURES[name][1]}
            assert app_client.post(f"{P}/images/roads/{name}/split", json=body).status_code == 200

    answer = app_client.get(f"{P}/datasets/roads/split-leaks")

    assert answer.status_code == 200, answer.text
    found = answer.json()["data"]
    pairs = sorted(tuple(sorted((i["path"], i["split"]) for i in p["images"]))
                   for p in found["pairs"])  # fmt: skip
    # nosplit.png counts as train, like a.png: that pair is not a leak.
    assert pairs == [(("a.png", "train"), ("copy.png", "val")),
                     (("copy.png", "val"), ("nosplit.png", "train"))]  # fmt: skip
    assert all(p["similarity"] == 1.0 for p in found["pairs"])
    assert (
        app_client.get(f"{P}/datasets/roads/split-leaks", params={"threshold": 0.5}).status_code
        == 422
    )
    assert app_client.get(f"{P}/datasets/nope/split-leaks").status_code == 404


def test_the_sdk_and_the_cli_list_leaks_and_an_export_by_split_warns_first(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    with Client(home=home) as client:
        client.datasets.create("roads")
        for name, path in _pictures(tmp_path).items():
            client.images.upload("roads", path)
            if PICTURES[name][1]:
                route = f"{API_PREFIX}/images/roads/{name}/split"
                client._transport.request_json("POST", route, json={"split": PICTURES[name][1]})
        leaks = client.search.split_leaks("roads")
        assert sorted(sorted(i.path for i in leak.images) for leak in leaks) == [
            ["a.png", "copy.png"], ["copy.png", "nosplit.png"]]  # fmt: skip

    pictograph = Pictograph.embedded(home)
    listed = expect(pictograph("leaks", "roads"), 0)
    assert "leak: a.png (train) and copy.png (val) are 100% alike" in listed.stderr
    assert "2 pairs of near-duplicates across splits." in listed.stdout
    exported = expect(pictograph("export", "roads", "--format", "yolo", "--by-split",
                                 "-o", tmp_path / "y.zip"), 0)  # fmt: skip
    assert exported.stderr.count("leak: ") == 2
    quiet = expect(pictograph("export", "roads", "--format", "yolo", "--by-split", "--name", "q",
                              "--no-leak-check", "-o", tmp_path / "q.zip"), 0)  # fmt: skip
    assert "leak: " not in quiet.stderr


def test_comparing_only_hashes_that_share_a_byte_misses_no_pair_at_the_least_threshold() -> None:
    """Against every pair compared: descriptors a few bits apart, colours near or far."""
    rng = random.Random(21)
    known, splits = {}, {}
    for index in range(300):
        base = rng.getrandbits(64) if index % 10 == 0 else int(known[f"{index - 1:03}"][:16], 16)
        for _ in range(rng.randrange(0, 9)):
            base ^= 1 << rng.randrange(64)
        colour = bytes(rng.randrange(250, 256) for _ in range(48)).hex()
        known[f"{index:03}"] = f"{base:016x}{colour}"
        splits[f"{index:03}"] = rng.choice(["train", "val", "test"])
    for threshold in (LEAST_THRESHOLD, 0.95, 0.99):
        every = {
            (a, b)
            for a, b in itertools.combinations(sorted(known), 2)
            if splits[a] != splits[b] and similarity(known[a], known[b]) >= threshold
        }
        found = {(a, b) for a, b, _ in leaking_pairs(known, splits, threshold)}
        assert found == every and every, threshold
