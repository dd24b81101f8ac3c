"""Labelling scenarios driven by the OFFICIAL Pictograph SDK (pictograph==1.69.146), unmodified:
exports, annotations and their importers, batch operations, API keys, organisations, search.

Run like ``scenarios.py``: ``python label_scenarios.py SCENARIO WORKDIR`` with
PICTOGRAPH_BASE_URL and PICTOGRAPH_API_KEY set; asserts as it goes.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
from PIL import Image

from pictograph import Client
from pictograph.exceptions import (
    ApiError,
    AuthError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from pictograph.models import BoundingBox, Point, PolygonAnnotation, PolygonGeometry
from pictograph.models.annotation import BBoxAnnotation

SCENARIOS: dict[str, Callable[[Client, Path], None]] = {}
COLOURS = [
    (200, 30, 30),
    (30, 200, 30),
    (30, 30, 200),
    (200, 200, 30),
    (30, 200, 200),
    (90, 90, 90),
]


def scenario(fn: Callable[[Client, Path], None]) -> Callable[[Client, Path], None]:
    SCENARIOS[fn.__name__] = fn
    return fn


def six_pictures(client: Client, work: Path, name: str) -> list[str]:
    """A dataset ``name`` with classes thing (bbox) and shape (polygon) and six PNGs at the
    root; the image ids, in file order."""
    client.datasets.create(
        name,
        annotation_types=["bbox", "polygon"],
        classes=[{"name": "thing", "type": "bbox"}, {"name": "shape", "type": "polygon"}],
    )
    ids = []
    for index, colour in enumerate(COLOURS):
        path = work / name / f"p{index}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        picture = Image.new("RGB", (120, 90), colour)
        picture.paste((255, 255, 255), (10 * index, 10, 10 * index + 40, 50))
        picture.save(path)
        ids.append(client.images.upload(name, path).id)
    return ids


def thing(x: float, y: float, w: float, h: float) -> BBoxAnnotation:
    return BBoxAnnotation(name="thing", type="bbox", bounding_box=BoundingBox(x=x, y=y, w=w, h=h))


@scenario
def exports(client: Client, work: Path) -> None:
    ids = six_pictures(client, work, "ex")
    client.annotations.save("ex", "p0.png", [thing(10, 10, 50, 50)])
    for fmt in ("pictograph", "coco", "yolo"):
        done = client.exports.create("ex", f"e-{fmt}", format=fmt, wait=True, poll_interval=0.2)
        assert done.status == "completed" and done.format == fmt, done
    try:
        client.exports.create("ex", "e-coco", format="coco")
        raise AssertionError("a taken export name must be a 409")
    except ConflictError:
        pass
    started = client.exports.create("ex", "later", include_images=True, wait=False)
    assert started.status in ("pending", "processing", "completed")
    finished = client.exports.wait_for_completion("ex", "later", poll_interval=0.2, timeout=60)
    assert finished.status == "completed" and finished.image_count == 6
    assert "later" in [e.name for e in client.exports.list(dataset_name="ex")]
    assert client.exports.get("ex", "e-pictograph").status == "completed"
    target = work / "later.zip"
    client.exports.download("ex", "later", target)
    members = zipfile.ZipFile(target).namelist()
    assert "manifest.json" in members and "images/p3.png" in members, members
    manifest = json.loads(zipfile.ZipFile(target).read("manifest.json"))
    assert manifest["annotation_count"] == 1
    by_id = client.exports.get_by_id(finished.id)
    assert by_id.name == "later"
    client.exports.download_by_id(finished.id, work / "by-id.zip")
    assert (work / "by-id.zip").read_bytes() == target.read_bytes()
    client.exports.delete("ex", "e-pictograph")
    try:
        client.exports.get("ex", "e-pictograph")
        raise AssertionError("a deleted export must be a 404")
    except NotFoundError:
        pass
    result = client.exports.bulk_delete([finished.id, ids[0]])
    assert finished.id in result.succeeded, result
    for bad in ({"format": "parquet"}, {"class_filter": ["unicorn"]}):
        refused = None
        try:
            client.exports.create("ex", "bad", wait=False, **bad)  # type: ignore[arg-type]
        except (ValidationError, ApiError) as error:
            refused = error
        assert refused is not None and refused.status_code in (400, 422), (bad, refused)


@scenario
def importers(client: Client, work: Path) -> None:
    """COCO exported by the server, imported back by the SDK's own COCO importer (bulk save)."""
    six_pictures(client, work, "src")
    boxes = {"p1.png": [thing(5, 6, 30, 20)], "p2.png": [thing(1, 2, 3, 4), thing(50, 40, 20, 30)]}
    for filename, saved in boxes.items():
        client.annotations.save("src", filename, saved)
    client.exports.create("src", "coco", format="coco", wait=True, poll_interval=0.2)
    client.exports.download("src", "coco", work / "coco.zip")
    coco = json.loads(zipfile.ZipFile(work / "coco.zip").read("annotations.json"))

    six_pictures(client, work, "dst")
    client.datasets.update("dst", classes=[], classes_base=client.datasets.get("dst").classes)
    report = client.annotations.import_coco("dst", coco)
    assert report.images_saved == 2 and report.annotations_saved == 3, report
    assert "thing" in [c.name for c in client.datasets.get("dst").classes]
    for filename, saved in boxes.items():
        back = client.annotations.get("dst", filename)
        want = sorted((a.bounding_box.x, a.bounding_box.y, a.bounding_box.w, a.bounding_box.h)
                      for a in saved)  # fmt: skip
        got = sorted((a.bounding_box.x, a.bounding_box.y, a.bounding_box.w, a.bounding_box.h)
                     for a in back)  # fmt: skip
        assert got == want, (filename, got, want)

    client.exports.create("src", "yolo", format="yolo", wait=True, poll_interval=0.2)
    client.exports.download("src", "yolo", work / "yolo.zip")
    archive = zipfile.ZipFile(work / "yolo.zip")
    labels = {
        Path(n).name: archive.read(n).decode()
        for n in archive.namelist()
        if n.startswith("labels/")
    }
    yolo_report = client.annotations.import_yolo("dst", labels, ["thing", "shape"])
    assert yolo_report.images_saved == 2 and yolo_report.annotations_saved == 3, yolo_report
    for filename, saved in boxes.items():  # YOLO is normalised: equal to within rounding
        back = client.annotations.get("dst", filename)
        got = sorted(tuple(round(v, 2) for v in (a.bounding_box.x, a.bounding_box.y,
                     a.bounding_box.w, a.bounding_box.h)) for a in back)  # fmt: skip
        want = sorted((a.bounding_box.x, a.bounding_box.y, a.bounding_box.w, a.bounding_box.h)
                      for a in saved)  # fmt: skip
        assert got == want, (filename, got, want)

    renamed = client.annotations.rename_class("dst", "thing", "object")
    assert renamed.annotations_updated == 3 and renamed.images_updated == 2, renamed
    assert {a.name for a in client.annotations.get("dst", "p2.png")} == {"object"}
    current = client.datasets.get("dst").classes
    extra = {"name": "extra", "type": "bbox"}
    client.datasets.update("dst", classes=[*current, extra], classes_base=current)
    merged = client.annotations.merge_class("dst", "object", "extra")
    assert merged.annotations_updated == 3, merged
    assert "object" not in [c.name for c in client.datasets.get("dst").classes]
    deleted = client.annotations.delete_class("dst", "extra", delete_annotations=True)
    assert deleted.annotations_removed == 3, deleted
    assert client.annotations.get("dst", "p2.png") == []


#: Images in folders (two sharing a stem across folders is fine; the importers match by name).
FOLDERED = {"cat/chelsea.jpg": (120, 90), "dog/rex.png": (100, 80), "p0.png": (64, 48)}


def foldered(client: Client, work: Path, name: str, classes: bool) -> None:
    """A dataset ``name`` holding FOLDERED (classes thing/shape, or none for an import)."""
    kinds = [{"name": "thing", "type": "bbox"}, {"name": "shape", "type": "polygon"}]
    client.datasets.create(name, annotation_types=["bbox", "polygon"],
                           classes=kinds if classes else [])  # fmt: skip
    for index, (path, size) in enumerate(FOLDERED.items()):
        target = work / name / path
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, COLOURS[index]).save(target)
        folder = "/" + path.rpartition("/")[0]
        client.images.upload(name, target, directory_path=folder)


def shapes_of(client: Client, dataset: str, path: str, boxes_only: bool) -> list[tuple]:
    """(class, type, x, y, w, h rounded to 2 places, polygon points) of an image's labels; with
    ``boxes_only`` a polygon is its enclosing box (what YOLO and Pascal VOC can hold)."""
    found = []
    for a in client.annotations.get(dataset, path):
        b = a.bounding_box
        box = tuple(round(v, 2) for v in (b.x, b.y, b.w, b.h))
        if a.type == "polygon" and not boxes_only:
            points = tuple((p.x, p.y) for p in a.polygon.paths[0])
            found.append((a.name, "polygon", *box, points))
        else:
            found.append((a.name, "bbox", *box, ()))
    return sorted(found)


@scenario
def folder_roundtrip(client: Client, work: Path) -> None:
    """Our COCO, YOLO and Pascal VOC exports of images in folders (boxes and polygons), imported
    back by this SDK's own importers onto fresh datasets: the same labels (issue 21, finding 4)."""
    foldered(client, work, "src", classes=True)
    ring = [Point(x=50, y=10), Point(x=90, y=10), Point(x=90, y=60), Point(x=50, y=60)]
    shape = PolygonAnnotation(name="shape", polygon=PolygonGeometry(paths=[ring]))
    client.annotations.save("src", "cat/chelsea.jpg", [thing(10, 10, 30, 20), shape])
    client.annotations.save("src", "dog/rex.png", [thing(1, 2, 3, 4)])
    for fmt in ("coco", "yolo", "pascal_voc"):
        client.exports.create("src", fmt, format=fmt, wait=True, poll_interval=0.2)
        client.exports.download("src", fmt, work / f"{fmt}.zip")
        archive = zipfile.ZipFile(work / f"{fmt}.zip")
        members = archive.namelist()
        target = f"dst-{fmt}"
        foldered(client, work, target, classes=False)
        if fmt == "coco":
            coco = json.loads(archive.read("annotations.json"))
            report = client.annotations.import_coco(target, coco)
        elif fmt == "yolo":
            yaml_lines = archive.read("data.yaml").decode().splitlines()
            names = json.loads(next(x for x in yaml_lines if x.startswith("names:"))[6:])
            labels = {Path(n).name: archive.read(n).decode() for n in members
                      if n.startswith("labels/")}  # fmt: skip
            report = client.annotations.import_yolo(target, labels, names)
        else:
            xml = {n: archive.read(n).decode() for n in members if n.endswith(".xml")}
            by_image = {text.split("<filename>")[1].split("</filename>")[0]: text
                        for text in xml.values()}  # fmt: skip
            report = client.annotations.import_pascal_voc(target, by_image)
        assert not report.failures and not report.unmatched_files, (fmt, report)
        for path in FOLDERED:
            boxes_only = fmt != "coco"
            want = shapes_of(client, "src", path, boxes_only)
            got = shapes_of(client, target, path, boxes_only)
            assert got == want, (fmt, path, got, want)


@scenario
def batch(client: Client, work: Path) -> None:
    ids = six_pictures(client, work, "bt")
    assert client.batch.update("bt", ids[:2], status="review").processed == 2
    moved = client.batch.move("bt", ids[:1], target_directory_path="/moved")
    assert moved.processed == 1 and "/moved" in moved.affected_directories
    copied = client.batch.copy("bt", ids[:1], target_directory_path="/copies")
    assert copied.processed == 1
    again = client.batch.copy("bt", ids[:1], target_directory_path="/copies")
    assert again.renamed == 1
    names = sorted(i.filename for i in client.images.list("bt", directory_path="/copies"))
    assert names == ["p0-1.png", "p0.png"], names
    client.datasets.create("bt-2")
    other = client.batch.copy_to_dataset("bt", ids[1:3], "bt-2", target_directory_path="/in")
    assert other.processed == 2 and other.target_dataset == "bt-2"
    archived = client.batch.delete("bt", ids[:2])
    assert archived.processed == 2 and archived.operation == "archived"
    assert client.batch.update("bt", ids[:2], is_archived=False).processed == 2
    gone = client.batch.delete("bt", ids[5:], permanent=True)
    assert gone.operation == "deleted"
    # As the reference does: ids that are not images of the dataset are answered one by one.
    stale = client.batch.update("bt", ids[5:], status="new")
    assert stale.processed == 0 and [f.id for f in stale.failed] == ids[5:], stale


@scenario
def keys(client: Client, work: Path) -> None:
    listed = client.api_keys.list()
    assert listed and all(k.id and k.key_prefix for k in listed)
    org = client.organizations.me()
    created = client.api_keys.create("scratch", organization=org.id, role="viewer")
    assert created.api_key.startswith("pk_live_")
    assert client.api_keys.get(created.key_id).name == "scratch"
    assert client.api_keys.update(created.key_id, name="scratch-renamed").name == "scratch-renamed"
    url = f"{os.environ['PICTOGRAPH_BASE_URL']}/api/v1/developer/datasets/"
    as_new = httpx.get(url, headers={"X-API-Key": created.api_key})
    assert as_new.status_code == 200, as_new.text
    assert client.api_keys.update(created.key_id, is_active=False).is_active is False
    assert httpx.get(url, headers={"X-API-Key": created.api_key}).status_code == 401
    assert client.api_keys.update(created.key_id, is_active=True).is_active is True
    client.api_keys.delete(created.key_id)
    assert httpx.get(url, headers={"X-API-Key": created.api_key}).status_code == 401
    with Client(api_key=created.api_key) as revoked:
        try:
            revoked.datasets.list()
            raise AssertionError("a deleted key must be a 401")
        except AuthError:
            pass
    try:
        client.api_keys.get(created.key_id)
        raise AssertionError("a deleted key must be a 404")
    except NotFoundError:
        pass


@scenario
def organizations(client: Client, work: Path) -> None:
    me = client.organizations.me()
    assert me.id and me.name and me.subscription_tier == "enterprise" and me.member_count >= 1
    members = client.organizations.list_members()
    assert members and members[0].user_id and members[0].role == "owner"
    invite = client.organizations.invite(" Ada@Example.com ", role="annotator")
    assert invite.email == "ada@example.com" and invite.status == "pending"
    try:
        client.organizations.invite("ada@example.com")
        raise AssertionError("a second pending invite must be a 409")
    except ConflictError:
        pass
    assert [i.id for i in client.organizations.list_invites(status="pending")] == [invite.id]
    client.organizations.revoke_invite(invite.id)
    for status in ("pending", "accepted", "expired"):
        assert client.organizations.list_invites(status=status) == []
    assert [i.id for i in client.organizations.list_invites(status="revoked")] == [invite.id]
    assert client.organizations.update(description="ours").description == "ours"


@scenario
def search(client: Client, work: Path) -> None:
    ids = six_pictures(client, work, "se")
    client.images.bulk_tag("se", ids[:3], ["person"])
    client.images.bulk_tag("se", ids[1:2], ["bike"])
    tagged = client.search.by_tag(objects=["person"], limit=5)
    assert sorted(i.id for i in tagged) == sorted(ids[:3])
    both = client.search.by_tag(objects=["person"], attributes=["bike"], dataset_name="se")
    assert [i.id for i in both] == [ids[1]]
    found = client.search.by_similarity("se", ids[0], threshold=0.0, limit=3)
    assert len(found) == 3 and ids[0] not in [i.id for i in found]
    assert all(0.0 <= i.similarity <= 1.0 for i in found)
    assert found == sorted(found, key=lambda i: -i.similarity)


def main() -> None:
    name, work = sys.argv[1], Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    with Client() as client:
        SCENARIOS[name](client, work)
    print(f"scenario {name}: ok")


if __name__ == "__main__":
    main()
