"""The gallery in a real browser: Debian's Chromium driven by Playwright, against a real
``pictograph serve`` holding images uploaded with our SDK."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

from pictograph import Client
from pictograph.workflows import upload_dataset_from_folder
from tests.images import make_image
from tests.served import Served, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The README's screenshots go here, rewritten only when PICTOGRAPH_UPDATE_SCREENSHOT=1, so a
#: test run leaves the checkout clean.
DOCS = Path(__file__).resolve().parents[2] / "docs"
SCRIPT = "<script>alert(1)</script>"
#: Dataset names may not contain "/" (the API refuses them), so the name carries markup without one.
HOSTILE_NAME = "<img src=x onerror=alert(1)><script>alert(2)"
#: Every thumbnail of the page has loaded and decoded into real pixels.
THUMBNAILS_LOADED = """() => {
  const images = [...document.querySelectorAll('.grid img')];
  return images.length > 0 && images.every(img => img.complete && img.naturalWidth > 0);
}"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    home = tmp_path / "home"
    with serve(home, f"sqlite:///{home}/pictograph.db") as running:
        yield running


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `bash .ci/browser` (Debian's chromium package)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def upload(served: Served, key: str, dataset: str, folder: Path, **create: str) -> None:
    with Client(api_key=key, base_url=served.base_url) as client:
        if create:
            client.datasets.create(dataset, **create)
        report = upload_dataset_from_folder(client, dataset, folder)
    assert report.success, report.failures


def open_page(browser: Browser, dialogs: list[str]) -> Page:
    """A page that records (and dismisses) every dialog a script might open."""
    page = browser.new_page(viewport={"width": 1280, "height": 860})

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page


def sign_in(page: Page, served: Served, key: str) -> None:
    page.goto(served.base_url + "/")
    assert page.url == served.base_url + "/login"
    page.fill("#api_key", key)
    page.click("form[action='/login'] button")
    page.wait_for_url(served.base_url + "/")


def test_a_person_signs_in_sees_every_image_opens_a_folder_and_an_image_and_signs_out(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    key = served.create_key("acme")
    source = tmp_path / "pets"
    for n in range(8):
        make_image(source / "cats" / f"cat{n}.jpg", size=(320 + 40 * n, 240), seed=n)
    for n in range(3):
        make_image(source / "dogs" / f"dog{n}.png", size=(200, 300), seed=n)
    upload(served, key, "pets", source)
    dialogs: list[str] = []
    page = open_page(browser, dialogs)

    sign_in(page, served, key)
    assert page.locator(".org-name").inner_text() == "acme"
    assert page.locator(".key-label").inner_text() == "default"
    card = page.locator(".card", has_text="pets")
    assert "11 images · 2 folders" in card.locator(".stats").inner_text()
    assert card.locator(".covers img").count() == 3
    card.get_by_role("link", name="pets", exact=True).click()
    page.wait_for_function(THUMBNAILS_LOADED)
    assert page.locator(".grid img").count() == 11  # every folder at once, not an empty root
    page.locator(".tree a", has_text="cats").click()
    page.wait_for_url("**folder=%2Fcats")
    page.wait_for_function(THUMBNAILS_LOADED)
    widths = page.eval_on_selector_all(".grid img", "imgs => imgs.map(img => img.naturalWidth)")
    assert len(widths) == 8 and all(width > 0 for width in widths)
    assert page.locator("svg.icon").count() > 0 and "\N{FILE FOLDER}" not in page.content()
    page.screenshot(path=str(screenshot("gallery-dataset.png", tmp_path)), full_page=True)

    page.locator(".grid a", has_text="cat0.jpg").click()
    assert page.locator("h1").inner_text() == "cat0.jpg"
    page.wait_for_function("() => document.querySelector('img.preview').naturalWidth > 0")
    assert "320 \N{MULTIPLICATION SIGN} 240 px" in page.locator(".facts").inner_text()
    assert page.get_by_role("link", name="Download original").get_attribute("href")
    page.screenshot(path=str(screenshot("gallery-image.png", tmp_path)), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(served.base_url + "/login")
    page.goto(served.base_url + "/")
    assert page.url == served.base_url + "/login"
    assert dialogs == []


def screenshot(name: str, tmp_path: Path) -> Path:
    """Where a screenshot goes: docs/ with PICTOGRAPH_UPDATE_SCREENSHOT=1, else a temporary file."""
    return DOCS / name if os.environ.get("PICTOGRAPH_UPDATE_SCREENSHOT") else tmp_path / name


def captions(page: Page) -> list[str]:
    return page.locator(".grid .caption").all_inner_texts()


@pytest.fixture
def pets(served: Served, tmp_path: Path) -> str:
    """A key of an organisation holding "pets": 4 cats and 3 dogs of distinct sizes."""
    key = served.create_key("acme")
    source = tmp_path / "pets"
    for n, name in enumerate(["tom", "felix", "garfield", "salem"]):
        make_image(source / "cats" / f"{name}.jpg", size=(40 + 30 * n, 40), seed=n)
    for n, name in enumerate(["rex", "lassie", "snoopy"]):
        make_image(source / "dogs" / f"{name}.png", size=(60, 50 + 25 * n), seed=n)
    upload(served, key, "pets", source)
    return key


def open_dataset(page: Page, served: Served, key: str, name: str) -> None:
    sign_in(page, served, key)
    page.get_by_role("link", name=name, exact=True).click()
    page.wait_for_function(THUMBNAILS_LOADED)


def test_search_by_filename_keeps_its_state_in_the_url(
    served: Served, browser: Browser, pets: str
) -> None:
    page = open_page(browser, [])
    open_dataset(page, served, pets, "pets")
    page.fill("input[name=q]", "SNOOP")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**q=SNOOP**")
    assert captions(page) == ["snoopy.png"]
    shared = page.url
    other = open_page(browser, [])
    sign_in(other, served, pets)
    other.goto(shared)
    assert captions(other) == ["snoopy.png"]
    assert other.locator("input[name=q]").input_value() == "SNOOP"


def test_filters_by_folder_and_by_split_narrow_the_view(
    served: Served, browser: Browser, pets: str
) -> None:
    page = open_page(browser, [])
    open_dataset(page, served, pets, "pets")
    page.select_option("select[name=folder]", "/dogs")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**folder=%2Fdogs**")
    assert sorted(captions(page)) == ["lassie.png", "rex.png", "snoopy.png"]
    set_split(served, "felix.jpg", "val")
    page.goto(page.url.split("?")[0])
    page.select_option("select[name=split]", "val")
    page.get_by_role("button", name="Apply").click()
    assert captions(page) == ["felix.jpg"]


def set_split(served: Served, filename: str, split: str) -> None:
    """Give an image a split (no route sets one yet), in the served store's SQLite file."""
    database = served.store_args[served.store_args.index("--database-url") + 1]
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE images SET split = :s WHERE filename = :f"), {"s": split, "f": filename}
        )
    engine.dispose()


def test_sorting_by_name_and_by_size_orders_the_thumbnails(
    served: Served, browser: Browser, pets: str
) -> None:
    page = open_page(browser, [])
    open_dataset(page, served, pets, "pets")
    page.select_option("select[name=sort]", "name")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**sort=name**")
    assert captions(page) == sorted(captions(page)) and len(captions(page)) == 7
    page.select_option("select[name=sort]", "largest")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**sort=largest**")
    sizes = [
        int(text.split("(")[1].split(" bytes")[0].replace(",", ""))
        for text in image_sizes(page, served)
    ]
    assert sizes == sorted(sizes, reverse=True)


def image_sizes(page: Page, served: Served) -> list[str]:
    """The size line of each image of the view, in the view's order (opened one by one)."""
    links = page.eval_on_selector_all(".grid a", "links => links.map(a => a.href)")
    found = []
    for link in links:
        page.goto(link)
        found.append(page.locator(".facts dd").nth(3).inner_text())
    return found


def test_arrow_keys_step_through_the_view_and_back_returns_to_its_page(
    served: Served, browser: Browser, pets: str
) -> None:
    page = open_page(browser, [])
    open_dataset(page, served, pets, "pets")
    page.select_option("select[name=sort]", "name")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**sort=name**")
    page.locator(".grid a", has_text="lassie.png").click()
    assert page.locator(".position").inner_text() == "3 of 7"
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('h1').innerText === 'rex.png'")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('h1').innerText === 'salem.jpg'")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => document.querySelector('h1').innerText === 'rex.png'")
    assert "sort=name" in page.url
    page.get_by_role("link", name="Back to the list").click()
    assert "sort=name" in page.url and captions(page)[0] == "felix.jpg"


def test_a_dataset_of_2000_images_shows_60_a_page_and_comes_back_to_the_page_it_left(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    key = served.create_key("bulk")
    original = make_image(tmp_path / "original.jpg")
    for n in range(2000):
        folder = tmp_path / "many" / f"class{n % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(original, folder / f"{n:04d}.jpg")
    upload(served, key, "many", tmp_path / "many")
    page = open_page(browser, [])
    sign_in(page, served, key)
    page.get_by_role("link", name="many", exact=True).click()
    assert page.locator(".grid img").count() == 60
    assert "1\N{EN DASH}60 of 2,000" in page.locator(".pager").inner_text()
    page.locator(".pager a[rel=next]").click()
    page.wait_for_url("**page=2")
    assert "61\N{EN DASH}120 of 2,000" in page.locator(".pager").inner_text()
    page.locator(".grid a").nth(5).click()
    assert page.locator(".position").inner_text() == "66 of 2,000"
    page.get_by_role("link", name="Back to the list").click()
    page.wait_for_url("**page=2")


def test_a_dataset_named_with_markup_shows_the_markup_as_text_and_runs_nothing(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    key = served.create_key("acme")
    make_image(tmp_path / "hostile" / "inside" / "a.png")
    upload(served, key, HOSTILE_NAME, tmp_path / "hostile", description=SCRIPT)
    dialogs: list[str] = []
    page = open_page(browser, dialogs)

    sign_in(page, served, key)
    assert page.get_by_text(SCRIPT, exact=True).is_visible()
    link = page.get_by_role("link", name=HOSTILE_NAME, exact=True)
    assert link.is_visible()
    link.click()
    assert page.locator("h1").inner_text() == HOSTILE_NAME
    assert page.title().startswith(HOSTILE_NAME)
    page.locator(".tree a", has_text="inside").click()
    page.wait_for_function(THUMBNAILS_LOADED)
    assert dialogs == []
