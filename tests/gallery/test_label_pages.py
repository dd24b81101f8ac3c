"""The gallery shows labels: boxes and polygons drawn over the image with their class names
(escaped), similar images, and a dataset's classes with counts and exports with download links."""

from __future__ import annotations

import re
import time

from tests.gallery.conftest import Gallery
from tests.server import flows

HOSTILE_CLASS = '<script>alert(1)</script>" onload="x'


def test_the_image_page_draws_boxes_and_polygons_with_class_names_escaped(
    keyed: Gallery,
) -> None:
    _, key = keyed.create_key("acme")
    api = keyed.api(key)
    classes = [{"name": "car", "type": "bbox", "color": "#ff0000"},
               {"name": HOSTILE_CLASS, "type": "polygon", "color": 'red" onclick="x'}]  # fmt: skip
    flows.create_dataset(api, "cars", classes=classes)
    first, *others = keyed.upload(key, "cars", "/", "a.png", "b.png", "c.png")
    ring = [{"x": 1, "y": 1}, {"x": 20, "y": 2}, {"x": 10, "y": 15}]
    saved = api.post(f"{flows.P}/annotations/cars/a.png", json={"annotations": [
        {"name": "car", "type": "bbox", "bounding_box": {"x": 3, "y": 4, "w": 10, "h": 6}},
        {"name": HOSTILE_CLASS, "type": "polygon", "polygon": {"paths": [ring]}},
    ]})  # fmt: skip
    assert saved.status_code == 200, saved.text
    keyed.sign_in(key)

    html = keyed.browser.get(f"/images/{first}").text

    assert '<svg viewBox="0 0 40 30"' in html
    assert '<rect x="3.0" y="4.0" width="10.0" height="6.0"' in html and 'stroke="#ff0000"' in html
    assert '<polygon points="1,1 20,2 10,15"' in html
    assert ">car</text>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'onclick="x' not in html and 'stroke="#ffcc00"' in html
    assert "Similar images" in html
    assert all(f'href="/images/{other}"' in html for other in others)


def test_the_dataset_page_lists_classes_with_counts_and_exports_with_download_links(
    keyed: Gallery,
) -> None:
    _, key = keyed.create_key("acme")
    api = keyed.api(key)
    flows.create_dataset(api, "cars", classes=[{"name": "car", "type": "bbox"}])
    ids = keyed.upload(key, "cars", "/", "a.png", "b.png")
    box = {"name": "car", "type": "bbox", "bounding_box": {"x": 1, "y": 1, "w": 5, "h": 5}}
    api.post(f"{flows.P}/annotations/cars/a.png", json={"annotations": [box, box]})
    api.post(f"{flows.P}/annotations/cars/b.png", json={"annotations": [box]})
    api.post(f"{flows.P}/exports/", json={"dataset_name": "cars", "name": "for-training"})
    for _ in range(200):
        state = api.get(f"{flows.P}/exports/for-training", params={"dataset": "cars"})
        if state.json()["data"]["status"] == "completed":
            break
        time.sleep(0.05)
    keyed.sign_in(key)

    page = keyed.browser.get("/").text
    dataset_id = page.split('href="/datasets/')[1].split('"')[0]
    html = keyed.browser.get(f"/datasets/{dataset_id}").text

    row = '>car</a></td><td class="muted">bbox</td><td class="num">3</td><td class="num">2</td>'
    assert row in html
    assert "for-training" in html and "/storage/exports/" in html
    token = html.split("/storage/exports/")[1].split('"')[0]
    archive = keyed.browser.get(f"/storage/exports/{token}")
    assert archive.status_code == 200 and archive.content[:2] == b"PK"
    assert len(ids) == 2


def test_the_dataset_page_renders_classes_stored_without_a_type(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    api = keyed.api(key)
    made = flows.create_dataset(api, "road-signs")
    patched = api.patch(
        f"{flows.P}/datasets/road-signs",
        json={"classes": [{"name": "cat"}, {"name": "motorcycle"}]},
    )
    assert patched.status_code == 200, patched.text
    keyed.sign_in(key)
    page = keyed.browser.get(f"/datasets/{made['id']}")
    assert page.status_code == 200
    row = re.search(r"has_class=motorcycle\">motorcycle</a></td>(.*?)</tr>", page.text)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells[:3] == ["", "0", "0"]  # no type, no instances, no images


def test_the_image_page_offers_edit_controls_by_role(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    flows.create_dataset(keyed.api(key), "cars", classes=[{"name": "car", "type": "bbox"}])
    [image_id] = keyed.upload(key, "cars", "/", "a.png")
    shown = {}
    for role in ("viewer", "annotator", "member"):
        made = keyed.api(key).post("/api/v1/api-keys/", json={"name": role, "role": role})
        keyed.sign_in(made.json()["api_key"])
        shown[role] = keyed.browser.get(f"/images/{image_id}").text
    assert 'data-may-edit="no"' in shown["viewer"] and 'data-tool="box"' not in shown["viewer"]
    assert 'class="new-tag"' not in shown["viewer"]
    assert 'data-may-edit="yes"' in shown["annotator"] and 'data-tool="box"' in shown["annotator"]
    assert 'class="new-tag"' in shown["annotator"] and 'class="new-class"' not in shown["annotator"]
    assert 'class="new-class"' in shown["member"]
    assert all('<script src="/gallery/editor.js" defer>' in html for html in shown.values())


def test_a_version_page_shows_what_was_frozen_read_only(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    api = keyed.api(key)
    made = flows.create_dataset(api, "frozen", classes=[{"name": "cat", "type": "box"}])
    ids = keyed.upload(key, "frozen", "/pets", "a.png", "b.png")
    box = {"name": "cat", "type": "bbox", "bounding_box": {"x": 1, "y": 1, "w": 5, "h": 5}}
    saved = api.post(f"{flows.P}/annotations/frozen/pets/a.png", json={"annotations": [box]})
    assert saved.status_code == 200, saved.text
    version = api.post(f"{flows.P}/datasets/frozen/versions", json={"name": "v1"})
    assert version.status_code == 201, version.text
    gone = api.delete(f"{flows.P}/images/frozen/pets/b.png", params={"permanent": "true"})
    assert gone.status_code == 200
    renamed = api.post(
        f"{flows.P}/annotations/rename-class",
        json={"dataset": "frozen", "old_name": "cat", "new_name": "feline"},
    )
    assert renamed.status_code == 200
    keyed.sign_in(key)
    dataset_page = keyed.browser.get(f"/datasets/{made['id']}").text
    link = re.search(r'class="version-link" href="([^"]+)">v1</a>', dataset_page)
    assert link is not None
    page = keyed.browser.get(link.group(1))
    assert page.status_code == 200 and "read-only" in page.text
    rows = re.findall(r'<tr class="version-image">(.*?)</tr>', page.text, re.S)
    assert len(rows) == 2
    assert "/pets/a.png" in rows[0] and "cat" in rows[0] and f"/images/{ids[0]}/" in rows[0]
    assert "/pets/b.png" in rows[1] and "not in the live dataset now" in rows[1]
    assert "feline" not in page.text
    assert "<form" not in page.text.split("</header>")[1]  # nothing to change
