"""The labelling workflow in a real browser (Chromium via Playwright) against ``pictograph
serve``: splits assigned from the dataset page's form, and the review round trip between an
annotator and a reviewer, every change made by the pages' calls to the developer API."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page

from pictograph import Client
from tests.gallery import test_browser as shared
from tests.gallery.test_browser import captions, open_page, sign_in, upload
from tests.images import make_image
from tests.served import Served

browser = shared.browser  # the fixtures of the gallery's other browser tests
served = shared.served


def _splits(served: Served, key: str, dataset: str) -> dict[str, str | None]:
    with Client(api_key=key, base_url=served.base_url) as client:
        return {i.filename: i.split for i in client.images.list(dataset, limit=1000)}


def _open(page: Page, served: Served, key: str, dataset: str) -> None:
    sign_in(page, served, key)
    page.get_by_role("link", name=dataset, exact=True).click()
    page.wait_for_selector(".status-counts")


def test_splits_80_10_10_from_the_dataset_page_are_the_same_for_a_seed_and_filter_the_view(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    key = served.create_key("acme")
    for n in range(20):
        make_image(tmp_path / "twenty" / f"{n:02}.png", size=(16, 16), seed=n)
    upload(served, key, "twenty", tmp_path / "twenty")
    dialogs: list[str] = []
    page = open_page(browser, dialogs)
    _open(page, served, key, "twenty")

    form = page.locator("form.splits")
    form.locator("input[name=seed]").fill("7")
    form.get_by_role("button", name="Assign splits").click()
    result = form.locator("output")
    result.filter(has_text="20 images").wait_for()
    assert result.inner_text() == "20 images: train 16 · val 2 · test 2"
    first = _splits(served, key, "twenty")
    assert sorted(first.values()) == ["test"] * 2 + ["train"] * 16 + ["val"] * 2  # type: ignore[type-var]

    page.reload()
    form.locator("input[name=seed]").fill("7")
    form.get_by_role("button", name="Assign splits").click()
    result.filter(has_text="20 images").wait_for()
    assert _splits(served, key, "twenty") == first

    page.select_option("select[name=split]", "val")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**split=val**")
    assert sorted(captions(page)) == sorted(n for n, s in first.items() if s == "val")
    assert dialogs == []


def test_an_annotator_submits_a_reviewer_sends_back_with_a_note_then_approves(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    owner = served.create_key("acme")
    for name in ("a.png", "b.png", "c.png"):
        make_image(tmp_path / "work" / name, size=(40, 30))
    upload(served, owner, "work", tmp_path / "work")
    made = {}
    for role in ("annotator", "member"):
        answer = httpx.post(
            f"{served.base_url}/api/v1/api-keys/",
            json={"name": f"{role}-key", "role": role},
            headers={"X-API-Key": owner},
        )
        made[role] = answer.json()["api_key"]
    labeller, reviewer = open_page(browser, []), open_page(browser, [])

    _open(labeller, served, made["annotator"], "work")
    assert labeller.locator("form.splits").count() == 0  # an annotator assigns no splits
    labeller.get_by_role("link", name="Label next").click()
    labeller.wait_for_selector("h1.image-name")
    assert labeller.locator("h1").inner_text() == "a.png"
    image_url = labeller.url
    labeller.get_by_role("button", name="Submit for review").click()
    labeller.wait_for_function("() => document.querySelector('h1').innerText === 'b.png'")

    _open(reviewer, served, made["member"], "work")
    counts = reviewer.locator(".status-counts").inner_text()
    assert "1 review" in counts and "2 new" in counts
    reviewer.get_by_role("link", name="Review next").click()
    reviewer.wait_for_selector("h1.image-name")
    assert reviewer.url == image_url
    reviewer.fill("textarea[name=note]", "the box misses the wheel")
    reviewer.get_by_role("button", name="Request changes").click()
    reviewer.locator(".review-status", has_text="annotate").wait_for()

    labeller.goto(image_url)
    assert labeller.locator(".note-text").inner_text() == "the box misses the wheel"
    assert labeller.locator(".reviewed-by").inner_text() == "member-key"
    labeller.get_by_role("button", name="Submit for review").click()
    labeller.wait_for_function("() => document.querySelector('h1').innerText === 'b.png'")

    reviewer.goto(image_url)
    reviewer.get_by_role("button", name="Approve").click()
    reviewer.wait_for_url("**/datasets/**")  # the review queue is empty: back to the dataset
    counts = reviewer.locator(".status-counts").inner_text()
    assert "1 complete" in counts and "0 review" in counts and "2 new" in counts
    labeller.goto(image_url)
    assert labeller.locator(".review-status").inner_text() == "complete"
    assert labeller.locator(".review-note").count() == 0
