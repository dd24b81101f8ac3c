"""The gallery's labelling workflow, page by page with real sessions: filters by class, status
and split, labels over thumbnails, classes linking to their images, counts per status, and the
review round trip through the developer API with the page's CSRF token (as workflow.js does)."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import escape

from tests.gallery.conftest import Gallery, TestClient, thumbnails_in
from tests.server import flows

P = flows.P
HOSTILE = '<b>tree</b>"&'


def _dataset(gallery: Gallery) -> tuple[str, Any, dict[str, str]]:
    """An owner key's client and a dataset "cars" of three images: a.png has a car box,
    b.png a polygon of the hostile class, c.png nothing."""
    _, key = gallery.create_key("acme")
    api = gallery.api(key)
    classes = [{"name": "car", "type": "bbox", "color": "#ff0000"},
               {"name": HOSTILE, "type": "polygon", "color": "#00ff00"}]  # fmt: skip
    made = flows.create_dataset(api, "cars", classes=classes)
    ids = dict(zip("abc", gallery.upload(key, "cars", "/", "a.png", "b.png", "c.png"), strict=True))
    ring = [{"x": 1, "y": 1}, {"x": 20, "y": 2}, {"x": 10, "y": 15}]
    box = {"name": "car", "type": "bbox", "bounding_box": {"x": 3, "y": 4, "w": 10, "h": 6}}
    for name, shapes in (
        ("a.png", [box]),
        ("b.png", [{"name": HOSTILE, "type": "polygon", "polygon": {"paths": [ring]}}]),
    ):
        saved = api.post(f"{P}/annotations/cars/{name}", json={"annotations": shapes})
        assert saved.status_code == 200, saved.text
    return str(made["id"]), api, {**ids, "key": key}


def _session(gallery: Gallery, key: str) -> tuple[TestClient, str]:
    """A browser-like client signed in with ``key``, and the CSRF token its pages carry."""
    client = TestClient(gallery.browser.app, follow_redirects=False)
    gallery._clients.append(client)
    assert client.post("/login", data={"api_key": key}).status_code == 303
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/").text)
    assert token is not None
    return client, token.group(1)


def _counts(html: str) -> dict[str, int]:
    found = re.findall(r'<span class="count">(\d+)</span> (\w+)</a>', html)
    return {status: int(n) for n, status in found}


def test_the_view_filters_by_class_status_and_split_and_draws_labels_on_request(
    keyed: Gallery,
) -> None:
    dataset_id, api, ids = _dataset(keyed)
    api.post(f"{P}/images/cars/b.png/submit")
    api.post(f"{P}/images/cars/a.png/split", json={"split": "train"})
    keyed.sign_in(ids["key"])

    def shown(**query: str) -> list[str]:
        page = keyed.browser.get(f"/datasets/{dataset_id}", params=query)
        assert page.status_code == 200
        return sorted(thumbnails_in(page.text))

    assert shown(has_class="car") == [ids["a"]]
    assert shown(lacks_class="car") == sorted([ids["b"], ids["c"]])
    assert shown(has_class=HOSTILE) == [ids["b"]]
    assert shown(has_class="car", lacks_class=HOSTILE) == [ids["a"]]
    assert shown(status="review") == [ids["b"]]
    assert shown(split="train") == [ids["a"]]
    assert shown(split="val") == []

    plain = keyed.browser.get(f"/datasets/{dataset_id}").text
    assert 'class="overlay"' not in plain
    drawn = keyed.browser.get(f"/datasets/{dataset_id}", params={"overlays": "1"}).text
    assert drawn.count('<svg class="overlay" viewBox="0 0 40 30"') == 2  # a and b, not c
    assert '<rect x="3.0" y="4.0" width="10.0" height="6.0" fill="none" stroke="#ff0000"' in drawn
    assert '<polygon points="1,1 20,2 10,15" fill="#00ff00"' in drawn
    assert "<b>tree" not in drawn and escape(HOSTILE) in drawn
    # the toggle survives paging and filtering: the pager and filters keep it
    assert 'name="overlays" value="1" checked' in drawn
    filtered = keyed.browser.get(f"/datasets/{dataset_id}?has_class=car&overlays=1").text
    assert filtered.count('<svg class="overlay"') == 1


def test_classes_link_to_their_images_and_counts_per_status_link_to_theirs(
    keyed: Gallery,
) -> None:
    dataset_id, api, ids = _dataset(keyed)
    api.post(f"{P}/images/cars/a.png/submit")
    keyed.sign_in(ids["key"])
    page = keyed.browser.get(f"/datasets/{dataset_id}").text

    assert _counts(page) == {"new": 2, "annotate": 0, "review": 1, "complete": 0}
    assert f'href="/datasets/{dataset_id}?status=review"' in page
    link = f"/datasets/{dataset_id}?has_class=%3Cb%3Etree%3C/b%3E%22%26"
    assert f'href="{escape(link)}"' in page
    assert thumbnails_in(keyed.browser.get(link).text) == [ids["b"]]
    row = '>car</a></td><td class="muted">bbox</td><td class="num">1</td><td class="num">1</td>'
    assert row in page
    without = keyed.browser.get(f"/datasets/{dataset_id}?lacks_class=car").text
    assert sorted(thumbnails_in(without)) == sorted([ids["b"], ids["c"]])


def test_the_review_round_trip_from_the_pages_shows_the_note_and_moves_the_counts(
    keyed: Gallery,
) -> None:
    dataset_id, owner, ids = _dataset(keyed)
    keys = {}
    for role in ("annotator", "member", "viewer"):
        made = owner.post("/api/v1/api-keys/", json={"name": f"{role}-key", "role": role})
        keys[role] = made.json()["api_key"]
    annotator, annotator_csrf = _session(keyed, keys["annotator"])
    reviewer, reviewer_csrf = _session(keyed, keys["member"])
    viewer, _ = _session(keyed, keys["viewer"])
    image_page = f"/images/{ids['a']}"
    api_image = f"{P}/images/{dataset_id}/a.png"

    page = annotator.get(image_page).text
    assert f'data-api="{api_image}/submit"' in page and "Approve" not in page
    no_token = annotator.post(f"{api_image}/submit")
    assert no_token.status_code == 401
    submitted = annotator.post(f"{api_image}/submit", headers={"X-CSRF-Token": annotator_csrf})
    assert submitted.status_code == 200 and submitted.json()["labelled_by"] == "annotator-key"
    assert _counts(annotator.get(f"/datasets/{dataset_id}").text)["review"] == 1

    page = reviewer.get(image_page).text
    assert f'data-api="{api_image}/review"' in page and "Request changes" in page
    note = {"action": "request_changes", "note": "<i>box</i> too loose"}
    sent_back = reviewer.post(
        f"{api_image}/review", json=note, headers={"X-CSRF-Token": reviewer_csrf}
    )
    assert sent_back.status_code == 200, sent_back.text

    seen = annotator.get(image_page).text
    assert '<span class="note-text">&lt;i&gt;box&lt;/i&gt; too loose</span>' in seen
    assert 'reviewed by <span class="reviewed-by">member-key</span>' in seen
    assert 'labelled by <span class="labelled-by">annotator-key</span>' in seen
    counts = _counts(annotator.get(f"/datasets/{dataset_id}").text)
    assert counts == {"new": 2, "annotate": 1, "review": 0, "complete": 0}

    annotator.post(f"{api_image}/submit", headers={"X-CSRF-Token": annotator_csrf})
    approved = reviewer.post(
        f"{api_image}/review", json={"action": "approve"}, headers={"X-CSRF-Token": reviewer_csrf}
    )
    assert approved.json()["status"] == "complete"
    done = annotator.get(image_page).text
    assert "review-note" not in done and 'class="review-status">complete' in done
    assert "Submit for review" not in done
    counts = _counts(reviewer.get(f"/datasets/{dataset_id}").text)
    assert counts == {"new": 2, "annotate": 0, "review": 0, "complete": 1}

    # the queue pages open the next image of each stage
    to_label = annotator.get(f"/datasets/{dataset_id}/next", params={"stage": "label"})
    assert to_label.headers["location"] == f"/images/{ids['b']}"
    after_c = {"stage": "label", "after": ids["c"]}
    finished = annotator.get(f"/datasets/{dataset_id}/next", params=after_c)
    assert finished.headers["location"] == f"/datasets/{dataset_id}"

    # a viewer sees the counts and the note area but no form that changes anything
    for path in (image_page, f"/datasets/{dataset_id}"):
        html = viewer.get(path).text
        assert "api-form" not in html and "Label next" not in html and "Assign splits" not in html
    assert "Assign splits" in reviewer.get(f"/datasets/{dataset_id}").text
    assert "Assign splits" not in annotator.get(f"/datasets/{dataset_id}").text
