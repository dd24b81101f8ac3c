"""The gallery's trash page: what the organisation deleted, escaped, with Restore buttons that
call the developer API with the page's CSRF token."""

from __future__ import annotations

import re

from tests.gallery.conftest import Gallery
from tests.server import flows

K = "/api/v1/api-keys/"

HOSTILE = "<img src=x onerror=alert(1)>"


def test_the_trash_page_lists_deleted_datasets_and_images_with_restore_buttons(
    keyed: Gallery,
) -> None:
    _, key = keyed.create_key("acme")
    _, other = keyed.create_key("other")
    api = keyed.api(key)
    gone = flows.create_dataset(api, HOSTILE)
    flows.create_dataset(api, "birds")
    [image_id] = keyed.upload(key, "birds", "/sea", "gull.png")
    assert api.delete(f"{flows.P}/images/birds/sea/gull.png").status_code == 200
    assert api.delete(f"{flows.P}/datasets/{gone['id']}").status_code == 200
    flows.create_dataset(keyed.api(other), "secret")
    assert keyed.api(other).delete(f"{flows.P}/datasets/secret").status_code == 200
    keyed.sign_in(key)

    assert 'href="/trash"' in keyed.browser.get("/").text
    page = keyed.browser.get("/trash")

    assert page.status_code == 200
    html = page.text
    rows = re.findall(r'<tr class="trash-item" data-kind="(\w+)" data-id="([0-9a-f-]+)"', html)
    assert rows == [("dataset", gone["id"]), ("image", image_id)]
    assert "/sea/gull.png" in html and "secret" not in html
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    restore = f'data-restore-url="{flows.P}/trash/datasets/{gone["id"]}/restore"'
    assert restore in html
    assert f'data-restore-url="{flows.P}/trash/images/{image_id}/restore"' in html
    token = re.findall(r'<meta name="csrf-token" content="([0-9a-f]{64})">', html)
    assert len(token) == 1
    assert '<script src="/gallery/trash.js" defer></script>' in html
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    script = keyed.browser.get("/gallery/trash.js").text
    assert 'credentials: "same-origin"' in script and '"X-CSRF-Token"' in script

    # What the button does, with the page's session and token: the row leaves the page.
    restore_url = f"{flows.P}/trash/images/{image_id}/restore"
    assert keyed.browser.post(restore_url).status_code == 401  # no token: refused
    restored = keyed.browser.post(restore_url, headers={"X-CSRF-Token": token[0]})
    assert restored.status_code == 200
    after = keyed.browser.get("/trash").text
    assert image_id not in after and gone["id"] in after


def test_an_empty_trash_says_so_and_needs_a_sign_in(keyed: Gallery) -> None:
    assert keyed.browser.get("/trash").status_code == 303
    _, key = keyed.create_key("acme")
    keyed.sign_in(key)
    assert "The trash is empty." in keyed.browser.get("/trash").text


def test_the_audit_page_shows_admins_who_deleted_what_and_refuses_others(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    api = keyed.api(key)
    viewer_key = api.post(K, json={"name": "<b>look</b>", "role": "viewer"}).json()["api_key"]
    flows.create_dataset(api, "doomed")
    assert api.delete(f"{flows.P}/datasets/doomed").status_code == 200
    keyed.sign_in(key)
    assert 'href="/audit"' in keyed.browser.get("/").text
    page = keyed.browser.get("/audit")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="audit-entry">(.*?)</tr>', page.text, re.S)
    assert any("deleting a dataset" in row and "/datasets/doomed" in row for row in rows)
    assert any("creating an API key" in row for row in rows)
    keyed.browser.post("/logout")
    keyed.sign_in(viewer_key)
    assert 'href="/audit"' not in keyed.browser.get("/").text
    refused = keyed.browser.get("/audit")
    assert refused.status_code == 403 and "deleting a dataset" not in refused.text
    assert "&lt;b&gt;look&lt;/b&gt;" in refused.text  # the key's name, escaped in the header
