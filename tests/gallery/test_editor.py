"""The annotation editor of the image page in a real browser (Debian's Chromium driven by
Playwright) against a real ``pictograph serve``: what a person draws is what the SDK and a COCO
export return, in the original image's pixels."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from pictograph import Client
from tests.gallery import test_browser
from tests.gallery.test_browser import open_page, screenshot, sign_in
from tests.served import Served

CLASSES = [{"name": "car", "type": "bbox", "color": "#ff0000"},
           {"name": "sign", "type": "bbox", "color": "#00ff00"}]  # fmt: skip
MARKUP_CLASS = "<img src=x onerror=alert(1)>moto"
LOADED = "#editor[data-loaded=yes][data-ready=yes]"

#: The gallery's browser fixtures: a real `pictograph serve` and Debian's Chromium.
served = test_browser.served
browser = test_browser.browser


def blue_photo(path: Path, size: tuple[int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (20, 40, 160)).save(path, "JPEG", quality=90)
    return path


@pytest.fixture
def roads(served: Served, tmp_path: Path) -> Iterator[tuple[Client, str]]:
    """An owner's client and key of "acme", holding "roads": one 4000x3000 photo, big.jpg."""
    key = served.create_key("acme")
    with Client(api_key=key, base_url=served.base_url) as client:
        client.datasets.create("roads", classes=CLASSES)
        client.images.upload("roads", blue_photo(tmp_path / "big.jpg", (4000, 3000)))
        yield client, key


def open_image(page: Page, served: Served, key: str, client: Client, filename: str) -> None:
    sign_in(page, served, key)
    image = next(i for i in client.images.iter("roads") if i.filename == filename)
    page.goto(f"{served.base_url}/images/{image.id}")
    page.wait_for_selector(LOADED)


def view(page: Page) -> tuple[float, float, float]:
    scale, x, y = (float(v) for v in page.get_attribute("#editor", "data-view").split(","))
    return scale, x, y


def on_screen(page: Page, x: float, y: float) -> tuple[float, float]:
    """Where the original image's pixel (x, y) is in the page."""
    canvas = page.locator("#editor .canvas").bounding_box()
    assert canvas is not None
    scale, left, top = view(page)
    return canvas["x"] + left + x * scale, canvas["y"] + top + y * scale


def in_image(page: Page, x: float, y: float) -> tuple[float, float]:
    """The original image's pixel at the page's point (x, y)."""
    canvas = page.locator("#editor .canvas").bounding_box()
    assert canvas is not None
    scale, left, top = view(page)
    return (x - canvas["x"] - left) / scale, (y - canvas["y"] - top) / scale


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*on_screen(page, *start))
    page.mouse.down()
    page.mouse.move(*on_screen(page, *end), steps=6)
    page.mouse.up()


def click(page: Page, x: float, y: float) -> None:
    page.mouse.click(*on_screen(page, x, y))


def state(page: Page, wanted: str) -> None:
    page.wait_for_selector(f"#editor[data-state={wanted}]")


def errors_of(page: Page) -> list[str]:
    """Console errors and uncaught exceptions (a CSP violation is a console error)."""
    found: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            found.append(message.text)

    def answered(response: Any) -> None:  # a failed request, by URL (browsers ask for a favicon)
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            found.append(f"{response.status} {response.url}")

    page.on("console", console)
    page.on("pageerror", lambda e: found.append(str(e)))
    page.on("response", answered)
    return found


def pixel(page: Page, x: float, y: float) -> tuple[int, int, int]:
    """The colour the page shows at the original image's pixel (x, y)."""
    sx, sy = on_screen(page, x, y)
    shot = page.screenshot(clip={"x": round(sx) - 1, "y": round(sy) - 1, "width": 3, "height": 3})
    with Image.open(io.BytesIO(shot)) as image:
        colours = list(image.convert("RGB").getdata())
    return max(colours, key=lambda c: c[0] - c[2])


def test_a_box_drawn_with_the_mouse_is_saved_in_the_originals_pixels_and_exported(
    served: Served, browser: Browser, roads: tuple[Client, str], tmp_path: Path
) -> None:
    client, key = roads
    page = open_page(browser, dialogs := [])
    errors = errors_of(page)
    open_image(page, served, key, client, "big.jpg")
    assert page.locator("#editor canvas").count() >= 1
    assert page.locator("img.preview").is_hidden()  # one annotated view, not two copies
    scale = view(page)[0]
    assert scale < 0.5  # the 4000 px photo is drawn from its preview, fitted

    page.keyboard.press("r")
    drag(page, (1000, 800), (2200, 1700))
    state(page, "unsaved")
    page.keyboard.press("2")  # the new box is selected: it becomes a "sign"
    page.keyboard.press("Control+s")
    state(page, "saved")

    [saved] = client.annotations.get("roads", "big.jpg")
    box = saved["bounding_box"]
    tolerance = 1 / scale + 0.5  # one screen pixel
    assert saved["name"] == "sign" and saved["type"] == "bbox"
    assert abs(box["x"] - 1000) <= tolerance and abs(box["y"] - 800) <= tolerance
    assert abs(box["x"] + box["w"] - 2200) <= tolerance
    assert abs(box["y"] + box["h"] - 1700) <= tolerance

    page.reload()
    page.wait_for_selector(LOADED)
    red, green, blue = pixel(page, box["x"], box["y"] + box["h"] / 2)  # the left edge, in green
    assert green > 150 and red < 100, (red, green, blue)
    page.keyboard.press("v")
    click(page, box["x"] + box["w"] / 2, box["y"] + box["h"] / 2)  # select it
    page.keyboard.press("ArrowRight")  # nudge by one pixel of the original
    page.keyboard.press("Control+s")
    state(page, "saved")
    [moved] = client.annotations.get("roads", "big.jpg")
    assert moved["bounding_box"] == {**box, "x": box["x"] + 1}  # no drift from the reload

    client.exports.create("roads", "boxes", format="coco", timeout=60, poll_interval=0.2)
    archive = client.exports.download("roads", "boxes", tmp_path / "coco.zip")
    coco = json.loads(zipfile.ZipFile(archive).read("annotations.json"))
    [exported] = coco["annotations"]
    b = moved["bounding_box"]
    assert exported["bbox"] == pytest.approx([b["x"], b["y"], b["w"], b["h"]])
    assert {c["name"] for c in coco["categories"] if c["id"] == exported["category_id"]} == {"sign"}
    assert errors == [] and dialogs == []


def vertices(saved: dict[str, Any]) -> list[tuple[float, float]]:
    return [(p["x"], p["y"]) for p in saved["polygon"]["paths"][0]]


def test_a_polygon_is_drawn_a_vertex_moved_undone_and_redone_and_the_redone_one_saved(
    served: Served, browser: Browser, roads: tuple[Client, str]
) -> None:
    client, key = roads
    page = open_page(browser, [])
    errors = errors_of(page)
    open_image(page, served, key, client, "big.jpg")
    tolerance = 1 / view(page)[0] + 0.5
    corners = [(800, 600), (2000, 500), (2800, 1400), (2000, 2400), (900, 2000)]
    page.keyboard.press("p")
    for x, y in corners:
        click(page, x, y)
    page.keyboard.press("Enter")
    state(page, "unsaved")
    page.keyboard.press("v")  # the new polygon stays selected: its vertices can be dragged
    drag(page, corners[2], (3400, 1500))
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+Shift+z")
    page.keyboard.press("Control+s")
    state(page, "saved")

    [saved] = client.annotations.get("roads", "big.jpg")
    assert saved["type"] == "polygon" and saved["name"] == "car"
    wanted = [*corners[:2], (3400, 1500), *corners[3:]]
    got = vertices(saved)
    assert len(got) == 5
    for (x, y), (gx, gy) in zip(wanted, got, strict=True):
        assert abs(x - gx) <= tolerance and abs(y - gy) <= tolerance, (wanted, got)
    assert errors == []


def test_two_people_editing_one_image_the_later_stale_save_is_refused_and_nothing_lost(
    served: Served, browser: Browser, roads: tuple[Client, str]
) -> None:
    client, key = roads
    first, second = person(browser), person(browser)
    for page in (first, second):
        open_image(page, served, key, client, "big.jpg")
        page.keyboard.press("r")
    drag(first, (100, 100), (900, 900))
    first.keyboard.press("Control+s")
    state(first, "saved")
    drag(second, (2000, 1500), (3000, 2200))
    second.keyboard.press("Control+s")
    state(second, "conflict")

    message = second.locator(".editor-status").inner_text()
    assert "changed by someone else" in message and "reload" in message
    assert second.get_by_role("button", name="Reload").is_visible()
    [kept] = client.annotations.get("roads", "big.jpg")
    assert kept["bounding_box"]["x"] < 200  # the first person's box, intact
    second.get_by_role("button", name="Reload").click()
    state(second, "saved")
    assert second.locator(".class-count").first.inner_text() == "1"  # one "car": the first's box
    assert len(client.annotations.get("roads", "big.jpg")) == 1


def person(browser: Browser) -> Page:
    """A page of a browser context of its own (its own cookies: another person)."""
    return browser.new_context(viewport={"width": 1280, "height": 860}).new_page()


def make_key(client: Client, role: str) -> str:
    return client.api_keys.create(f"a {role}", role=role).api_key


def test_a_viewer_sees_no_edit_controls_and_a_forged_save_is_refused_an_annotator_saves(
    served: Served, browser: Browser, roads: tuple[Client, str]
) -> None:
    client, _ = roads
    viewer = person(browser)
    open_image(viewer, served, make_key(client, "viewer"), client, "big.jpg")
    assert viewer.get_attribute("#editor", "data-state") == "read-only"
    assert (
        viewer.locator(
            "button[data-tool], [data-action=save], form.new-class, form.new-tag"
        ).count()
        == 0
    )
    assert viewer.locator(".class-choice").count() == 2  # the classes are still listed
    viewer.keyboard.press("r")
    drag(viewer, (100, 100), (900, 900))
    assert viewer.get_attribute("#editor", "data-state") == "read-only"
    forged = viewer.evaluate(
        """async () => {
          const csrf = document.querySelector('meta[name="csrf-token"]').content;
          const body = {annotations: [{name: "car", type: "bbox",
                        bounding_box: {x: 1, y: 1, w: 5, h: 5}}]};
          const answer = await fetch("/api/v1/developer/annotations/roads/big.jpg", {
            method: "POST", credentials: "same-origin", body: JSON.stringify(body),
            headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}});
          return answer.status;
        }"""
    )
    assert forged == 403
    assert client.annotations.get("roads", "big.jpg") == []

    annotator = person(browser)
    open_image(annotator, served, make_key(client, "annotator"), client, "big.jpg")
    assert annotator.locator("form.new-class").count() == 0  # classes need a member
    annotator.keyboard.press("r")
    drag(annotator, (100, 100), (900, 900))
    annotator.keyboard.press("Control+s")
    state(annotator, "saved")
    assert [a["name"] for a in client.annotations.get("roads", "big.jpg")] == ["car"]
    annotator.fill("form.new-tag input", "night")
    annotator.locator("form.new-tag button").click()
    annotator.wait_for_selector(".tag-list li[data-tag=night]")
    assert "night" in client.images.get("roads", "big.jpg").tags


def test_a_class_created_in_the_editor_has_its_type_and_untyped_classes_render(
    served: Served, browser: Browser, roads: tuple[Client, str]
) -> None:
    client, key = roads
    page = open_page(browser, dialogs := [])
    errors = errors_of(page)
    open_image(page, served, key, client, "big.jpg")
    page.fill("#new-class-name", MARKUP_CLASS)
    page.select_option("form.new-class select", "polygon")
    page.locator("form.new-class button").click()
    page.wait_for_function("() => document.querySelectorAll('.class-choice').length === 3")
    shown = page.locator(".class-choice[aria-pressed=true] .class-name")
    assert shown.inner_text() == MARKUP_CLASS  # text, never markup
    assert page.locator(".class-list img").count() == 0
    classes = {c.name: c.type for c in client.datasets.get("roads").classes}
    assert classes == {"car": "bbox", "sign": "bbox", MARKUP_CLASS: "polygon"}

    page.keyboard.press("p")  # the new class is the current one: a polygon of it
    for x, y in [(500, 500), (1500, 600), (1000, 1400)]:
        click(page, x, y)
    page.keyboard.press("Enter")
    page.keyboard.press("Control+s")
    state(page, "saved")
    assert [a["name"] for a in client.annotations.get("roads", "big.jpg")] == [MARKUP_CLASS]

    client.datasets.update("roads", classes=[{"name": "cat"}, {"name": "motorcycle"}])
    dataset = client.datasets.get("roads")
    page.goto(f"{served.base_url}/datasets/{dataset.id}")
    assert page.locator(".classes td", has_text="motorcycle").count() == 1  # no 500
    assert errors == [] and dialogs == []


def test_a_person_labels_ten_images_in_a_row_with_the_keyboard_for_all_but_drawing(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    key = served.create_key("acme")
    with Client(api_key=key, base_url=served.base_url) as client:
        client.datasets.create("roads", classes=CLASSES)
        for n in range(10):
            client.images.upload("roads", blue_photo(tmp_path / f"{n:02d}.jpg", (640, 480)))
        page = open_page(browser, dialogs := [])
        errors = errors_of(page)
        sign_in(page, served, key)
        dataset = client.datasets.get("roads")
        page.goto(f"{served.base_url}/datasets/{dataset.id}?sort=name")
        page.locator(".grid a").first.click()
        page.wait_for_selector(LOADED)
        page.keyboard.press("r")
        for n in range(10):
            assert page.locator("h1").inner_text() == f"{n:02d}.jpg"
            drag(page, (100 + n * 10, 100), (300 + n * 10, 250))
            page.keyboard.press("2" if n % 2 else "1")
            if n < 9:
                page.keyboard.press("d")  # saves, then the next image
                page.wait_for_function(
                    f"() => document.querySelector('h1').innerText === '{n + 1:02d}.jpg'"
                )
                page.wait_for_selector(LOADED)
                page.keyboard.press("n")  # draw again with the last tool
        page.keyboard.press("Control+s")
        state(page, "saved")
        for n in range(10):
            [saved] = client.annotations.get("roads", f"{n:02d}.jpg")
            assert saved["name"] == ("sign" if n % 2 else "car")
            assert abs(saved["bounding_box"]["x"] - (100 + n * 10)) <= 3
        assert errors == [] and dialogs == []


def test_leaving_with_unsaved_work_warns_and_refused_shapes_are_explained(
    served: Served, browser: Browser, roads: tuple[Client, str]
) -> None:
    client, key = roads
    page = open_page(browser, dialogs := [])
    open_image(page, served, key, client, "big.jpg")
    page.keyboard.press("r")
    click(page, 1000, 1000)  # a click is not a box: nothing is added
    assert "needs a width and a height" in page.locator(".editor-status").inner_text()
    assert page.get_attribute("#editor", "data-state") == "saved"
    drag(page, (1000, 1000), (1500, 1400))
    state(page, "unsaved")
    page.locator("a.back").click()  # the dialog is dismissed: the page stays
    assert dialogs and page.locator("h1").inner_text() == "big.jpg"
    # Another writer removes the class meanwhile: the save is refused with the API's message.
    client.datasets.update("roads", classes=[{"name": "sign", "type": "bbox"}])
    page.keyboard.press("Control+s")
    page.wait_for_selector("#editor[data-message]")
    assert "Class 'car' not in project" in page.locator(".editor-status").inner_text()
    assert page.get_attribute("#editor", "data-state") == "unsaved"
    assert client.annotations.get("roads", "big.jpg") == []


def test_screenshots_of_the_editor_on_a_desktop_and_a_phone(
    served: Served, browser: Browser, roads: tuple[Client, str], tmp_path: Path
) -> None:
    client, key = roads
    box = {"name": "car", "type": "bbox", "bounding_box": {"x": 600, "y": 700, "w": 1300, "h": 900}}
    ring = [
        {"x": 2300, "y": 600},
        {"x": 3500, "y": 800},
        {"x": 3300, "y": 2200},
        {"x": 2400, "y": 2000},
    ]
    sign = {"name": "sign", "type": "polygon", "polygon": {"paths": [ring]}}
    client.annotations.save("roads", "big.jpg", [box, sign])
    for name, size in (("editor.png", (1280, 860)), ("editor-phone.png", (390, 844))):
        page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        open_image(page, served, key, client, "big.jpg")
        canvas = page.locator("#editor .canvas").bounding_box()
        assert canvas is not None and canvas["width"] <= size[0]
        assert page.locator(".class-choice").count() == 2
        page.screenshot(path=str(screenshot(name, tmp_path)), full_page=True)


def test_boxes_move_resize_and_delete_and_polygon_vertices_are_added_and_removed(
    served: Served, browser: Browser, roads: tuple[Client, str]
) -> None:
    client, key = roads
    box = {"name": "car", "type": "bbox", "bounding_box": {"x": 400, "y": 400, "w": 800, "h": 600}}
    spare = {
        "name": "sign",
        "type": "bbox",
        "bounding_box": {"x": 3000, "y": 300, "w": 500, "h": 500},
    }
    ring = [{"x": 2000, "y": 1800}, {"x": 3000, "y": 1800}, {"x": 3000, "y": 2600}]
    shape = {"name": "sign", "type": "polygon", "polygon": {"paths": [ring]}}
    client.annotations.save("roads", "big.jpg", [box, spare, shape])
    page = open_page(browser, [])
    errors = errors_of(page)
    open_image(page, served, key, client, "big.jpg")
    tolerance = 1 / view(page)[0] + 0.5

    drag(page, (800, 700), (1000, 900))  # move the box by (200, 200)
    drag(page, (1400, 1200), (1800, 1500))  # the moved box is selected: its corner resizes it
    click(page, 3250, 550)
    page.keyboard.press("Delete")  # the spare box goes
    click(page, 2700, 2000)  # select the polygon, then double-click its top edge
    page.mouse.dblclick(*on_screen(page, 2500, 1800))
    page.mouse.move(*on_screen(page, 3000, 2600))
    page.keyboard.down("Alt")
    page.mouse.click(*on_screen(page, 3000, 2600))  # Alt+click removes a vertex
    page.keyboard.up("Alt")
    page.keyboard.press("Control+s")
    state(page, "saved")

    saved = {a["type"]: a for a in client.annotations.get("roads", "big.jpg")}
    assert set(saved) == {"bbox", "polygon"}  # the spare box is gone
    b = saved["bbox"]["bounding_box"]
    for got, wanted in zip((b["x"], b["y"], b["w"], b["h"]), (600, 600, 1200, 900), strict=True):
        assert abs(got - wanted) <= 2 * tolerance, b
    points = vertices(saved["polygon"])
    assert len(points) == 3 and (3000, 2600) not in points
    assert any(abs(x - 2500) <= tolerance and abs(y - 1800) <= tolerance for x, y in points)
    assert errors == []


def test_the_wheel_zooms_at_the_pointer_quickly_and_deep_zoom_draws_from_the_original(
    served: Served, browser: Browser, roads: tuple[Client, str]
) -> None:
    client, key = roads
    page = open_page(browser, [])
    errors = errors_of(page)
    open_image(page, served, key, client, "big.jpg")
    assert page.get_attribute("#editor", "data-source") is None  # the 1280 px preview
    fitted = view(page)[0]
    under = tuple(float(round(v)) for v in on_screen(page, 2000, 1500))
    before = in_image(page, *under)
    page.mouse.move(*under)
    took = page.evaluate(
        """([x, y]) => {
          const canvas = document.querySelector('#editor .canvas canvas:last-child');
          const started = performance.now();
          for (let i = 0; i < 30; i += 1) {
            canvas.dispatchEvent(new WheelEvent('wheel', {deltaY: -100, clientX: x, clientY: y,
                                                          bubbles: true, cancelable: true}));
          }
          return performance.now() - started;
        }""",
        list(under),
    )
    scale = view(page)[0]
    assert scale > fitted * 50  # 30 steps of 15%
    assert took < 3000, f"30 zoom steps took {took:.0f} ms"
    after = in_image(page, *under)  # the pixel under the pointer stays there
    near = 1 / fitted  # one screen pixel before the zoom (the page's sub-pixel layout)
    assert abs(after[0] - before[0]) < near and abs(after[1] - before[1]) < near, (before, after)
    page.wait_for_selector("#editor[data-source=original]")
    page.keyboard.press("0")
    assert view(page)[0] == pytest.approx(fitted)
    assert errors == []
