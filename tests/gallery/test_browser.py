"""The gallery in a real browser: Debian's Chromium driven by Playwright, against a real
``pictograph serve`` holding images uploaded with our SDK."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
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
#: The README's screenshot; rewritten only when PICTOGRAPH_UPDATE_SCREENSHOT=1, so a test run
#: leaves the checkout clean.
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "gallery.png"
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


def test_a_person_signs_in_opens_a_folder_sees_thumbnails_opens_an_image_and_signs_out(
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
    page.get_by_role("link", name="pets", exact=True).click()
    page.locator("a.subfolder", has_text="cats").click()
    page.wait_for_url("**folder=%2Fcats")
    page.wait_for_function(THUMBNAILS_LOADED)
    widths = page.eval_on_selector_all(".grid img", "imgs => imgs.map(img => img.naturalWidth)")
    assert len(widths) == 8 and all(width > 0 for width in widths)
    shot = SCREENSHOT if os.environ.get("PICTOGRAPH_UPDATE_SCREENSHOT") else tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")

    page.locator(".grid a", has_text="cat0.jpg").click()
    assert page.locator("h1").inner_text() == "cat0.jpg"
    page.wait_for_function("() => document.querySelector('img.preview').naturalWidth > 0")
    assert "320 \N{MULTIPLICATION SIGN} 240 px" in page.locator(".facts").inner_text()
    assert page.get_by_role("link", name="Download original").get_attribute("href")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(served.base_url + "/login")
    page.goto(served.base_url + "/")
    assert page.url == served.base_url + "/login"
    assert dialogs == []


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
    page.locator("a.subfolder", has_text="inside").click()
    page.wait_for_function(THUMBNAILS_LOADED)
    assert dialogs == []
