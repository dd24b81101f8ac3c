"""The labelling workflow over the API: the queues, submit, review with a note, who did it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.server.flows import P
from tests.server.labelling import labelled_dataset
from tests.server.test_authorization import Team

Q = f"{P}/datasets/roads/queue/next"


def _next(client: Any, **params: str) -> tuple[str | None, int]:
    answer = client.get(Q, params=params)
    assert answer.status_code == 200, answer.text
    found = answer.json()["data"]
    image = found["image"]
    place = f"{image['directory_path']}/{image['filename']}" if image else None
    return place, found["remaining"]


def _walk(client: Any, **params: str) -> list[str]:
    """Every image of a queue, following ``after`` from the first."""
    seen: list[str] = []
    after: str | None = None
    while True:
        answer = client.get(Q, params={**params, **({"after": after} if after else {})})
        image = answer.json()["data"]["image"]
        if image is None:
            return seen
        seen.append(f"{image['directory_path']}/{image['filename']}")
        after = image["id"]


def test_the_label_queue_is_in_a_stable_order_and_skips_review_and_complete_images(
    app_client: Any, tmp_path: Path
) -> None:
    labelled_dataset(app_client, tmp_path)
    everything = ["//a.png", "//b.jpg", "//e.png", "/sub/a.png", "/sub/c.png"]
    assert _walk(app_client, stage="label") == everything
    assert _next(app_client) == ("//a.png", 5)

    assert app_client.post(f"{P}/images/roads/a.png/submit").json()["status"] == "review"
    app_client.post(f"{P}/images/roads/sub/a.png/submit")
    app_client.post(f"{P}/images/roads/sub/a.png/review", json={"action": "approve"})
    changes = {"action": "request_changes", "note": "x"}
    app_client.post(f"{P}/images/roads/e.png/submit")
    app_client.post(f"{P}/images/roads/e.png/review", json=changes)  # back to annotate

    assert _walk(app_client, stage="label") == ["//b.jpg", "//e.png", "/sub/c.png"]
    assert _next(app_client, stage="label") == ("//b.jpg", 3)
    assert _walk(app_client, stage="review") == ["//a.png"]
    # "after" an image that has left the queue still continues from its place
    first = app_client.get(f"{P}/images/", params={"dataset": "roads"}).json()["data"]
    a_png = next(i["id"] for i in first if i["filename"] == "a.png" and i["directory_path"] == "/")
    assert _next(app_client, after=a_png) == ("//b.jpg", 3)

    assert _walk(app_client, stage="label", folder="/sub") == ["/sub/c.png"]
    assert _walk(app_client, stage="label", folder="sub") == ["/sub/c.png"]
    assert _walk(app_client, stage="label", class_name="shape") == ["/sub/c.png"]
    assert _walk(app_client, stage="label", class_name="thing") == []
    assert _next(app_client, stage="label", class_name="thing") == (None, 0)

    assert app_client.get(Q, params={"stage": "done"}).status_code == 422
    assert app_client.get(Q, params={"after": "not-an-id"}).status_code == 404
    assert app_client.get(f"{P}/datasets/nope/queue/next").status_code == 404


def test_an_annotator_submits_a_member_reviews_and_each_is_remembered(
    make_client: Any, tmp_path: Path
) -> None:
    team = Team(make_client(require_api_key=True), "acme")
    owner, annotator, member, viewer = (team.by_role[r] for r in ("owner", "annotator",
                                                                   "member", "viewer"))  # fmt: skip
    labelled_dataset(owner, tmp_path)
    image = f"{P}/images/roads/sub/c.png"

    assert viewer.post(f"{image}/submit").status_code == 403
    submitted = annotator.post(f"{image}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "review"
    assert submitted.json()["labelled_by"] == "annotator"
    assert annotator.post(f"{image}/review", json={"action": "approve"}).status_code == 403

    note = {"action": "request_changes", "note": "the polygon misses the left edge"}
    sent_back = member.post(f"{image}/review", json=note).json()
    assert sent_back == {"id": sent_back["id"], "status": "annotate",
                         "review_note": "the polygon misses the left edge"}  # fmt: skip
    store = owner.app.state.store
    from pictograph.server.service import workflow

    state = workflow.review_state(store, sent_back["id"])
    assert (state.status, state.labelled_by, state.reviewed_by) == (
        "annotate",
        "annotator",
        "member",
    )
    assert state.review_note == "the polygon misses the left edge"

    annotator.post(f"{image}/submit")
    assert member.post(f"{image}/review", json={"action": "approve"}).json()["status"] == "complete"
    done = workflow.review_state(store, sent_back["id"])
    assert (done.status, done.review_note, done.reviewed_by) == ("complete", None, "member")
    again = annotator.post(f"{image}/submit")
    assert again.status_code == 409
    counts = workflow.status_counts(store, _org(owner), "roads")
    assert counts == {"new": 4, "annotate": 0, "review": 0, "complete": 1}


def _org(client: Any) -> str:
    return str(client.get(f"{P}/datasets/roads").json()["data"]["organization_id"])
