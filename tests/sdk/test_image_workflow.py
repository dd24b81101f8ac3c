"""``client.images`` review, splits and queues through the embedded client (the real app)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pictograph import Client, ConflictError, DatasetClass
from tests.images import make_image


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    for variable in ("PICTOGRAPH_API_KEY", "PICTOGRAPH_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    with Client(home=tmp_path / "home") as embedded:
        yield embedded


def test_the_queue_submit_review_and_splits_through_the_sdk(client: Client, tmp_path: Path) -> None:
    client.datasets.create("jobs", classes=[DatasetClass(name="car", type="bbox")])
    for folder, name in (("a", "1.png"), ("a", "2.png"), ("b", "3.png")):
        path = make_image(tmp_path / folder / name, size=(20, 20))
        client.images.upload("jobs", str(path), directory_path=f"/{folder}")
    first = client.images.next_in_queue("jobs")
    assert first is not None and (first.directory_path, first.filename) == ("/a", "1.png")
    second = client.images.next_in_queue("jobs", after=first.id)
    assert second is not None and second.filename == "2.png"
    only_b = client.images.next_in_queue("jobs", folder="/b")
    assert only_b is not None and only_b.filename == "3.png"
    assert client.images.next_in_queue("jobs", class_name="car") is None

    assert client.images.submit_for_review("jobs", "a/1.png") == "review"
    assert client.images.next_in_queue("jobs", "review") == client.images.get("jobs", first.id)
    assert client.images.review("jobs", first.id, "request_changes", note="redo") == "annotate"
    client.images.submit_for_review("jobs", "a/1.png")
    assert client.images.review("jobs", "a/1.png", "approve") == "complete"
    with pytest.raises(ConflictError):
        client.images.submit_for_review("jobs", "a/1.png")
    assert client.images.next_in_queue("jobs", "review") is None

    assert client.images.set_split("jobs", "b/3.png", "test") == "test"
    assert client.images.set_split("jobs", "b/3.png", None) is None
    counts = client.images.assign_splits("jobs", train=1, val=1, test=1, seed=3)
    assert counts == {"processed": 3, "train": 1, "val": 1, "test": 1}
    splits = {i.filename: i.split for i in client.images.list("jobs")}
    assert client.images.assign_splits("jobs", 1, 1, 1, seed=3) == counts
    assert {i.filename: i.split for i in client.images.list("jobs")} == splits
    with pytest.raises(ConflictError):
        client.images.assign_splits("jobs", mode="embedding")
