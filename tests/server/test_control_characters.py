"""A NUL or another control character in anything the server stores as a name (or a NUL in free
text) is a 422 with a message saying so, and nothing is stored, on SQLite and PostgreSQL alike
(PostgreSQL cannot store a NUL in text: it was a 500 there)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pictograph.errors import ValidationError
from pictograph.server.service import keys
from pictograph.server.store import tables as t
from tests.server.flows import P
from tests.server.labelling import CLASSES, box, labelled_dataset

K = "/api/v1/api-keys/"


def _image_id(client: Any) -> str:
    listed = client.get(f"{P}/images/", params={"dataset": "ds", "limit": 10}).json()["data"]
    return str(listed[0]["id"])


def _cases(bad: str) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every route that stores a name, with ``bad`` in that name; a
    body may be a function of the dataset's first image id."""
    ds = {"dataset": "ds"}
    batch = {"dataset_name": "ds"}

    def ids(body: dict[str, Any]) -> Any:
        return lambda image_id: {**body, "image_ids": [image_id]}

    upload = {**ds, "directory_path": "/", "content_type": "image/png"}
    return [
        ("POST", f"{P}/datasets/", {"name": f"new{bad}"}),
        ("POST", f"{P}/datasets/", {"name": "new", "classes": [{"name": f"c{bad}"}]}),
        ("PATCH", f"{P}/datasets/ds", {"new_name": f"renamed{bad}"}),
        ("PATCH", f"{P}/datasets/ds", {"classes": [*CLASSES, {"name": f"c{bad}"}]}),
        ("POST", f"{P}/directories/", {**ds, "directory_path": f"/dir{bad}"}),
        ("PATCH", f"{P}/directories/ds/sub/rename", {"new_name": f"dir{bad}"}),
        ("POST", f"{P}/images/upload-url", {**upload, "filename": f"x{bad}.png"}),
        (
            "POST",
            f"{P}/images/bulk-upload-url",
            {**ds, "images": [{"filename": f"x{bad}.png", "content_type": "image/png"}]},
        ),
        ("POST", f"{P}/exports/", {"dataset_name": "ds", "name": f"export{bad}"}),
        (
            "POST",
            f"{P}/annotations/rename-class",
            {**ds, "old_name": "thing", "new_name": f"t{bad}"},
        ),
        (
            "POST",
            f"{P}/annotations/merge-class",
            {**ds, "source_name": "thing", "target_name": f"t{bad}"},
        ),
        ("POST", f"{P}/images/bulk-tag", ids({**ds, "tags": [f"tag{bad}"]})),
        (
            "PATCH",
            f"{P}/batch/images/update",
            ids({**batch, "updates": {"display_name": f"d{bad}"}}),
        ),
        ("POST", f"{P}/batch/images/move", ids({**batch, "target_directory_path": f"/m{bad}"})),
        ("POST", f"{P}/batch/images/copy", ids({**batch, "target_directory_path": f"/c{bad}"})),
        ("POST", K, {"name": f"key{bad}", "role": "member"}),
        ("PATCH", f"{P}/organizations/me", {"name": f"org{bad}"}),
        ("POST", f"{P}/organizations/invites", {"email": f"a{bad}@example.com"}),
    ]


def _annotation(image_id: str) -> dict[str, Any]:
    labelled = {**box("thing", 1, 1, 5, 5), "attributes": {"note": "a\x00"}}
    return {"saves": [{"image_id": image_id, "annotations": [labelled]}]}


#: Free text (descriptions, readmes, notes, annotations) may hold line breaks and tabs, never a NUL.
TEXT_CASES: list[tuple[str, str, Any]] = [
    ("POST", f"{P}/datasets/", {"name": "new", "description": "a\x00b"}),
    ("PATCH", f"{P}/datasets/ds", {"readme": "# a\n\x00"}),
    ("PATCH", f"{P}/organizations/me", {"description": "a\x00"}),
    ("POST", f"{P}/images/ds/a.png/review", {"action": "reject", "note": "bad\x00"}),
    # Annotations name classes of the dataset (no class name holds a control character); their
    # other strings are free text.
    ("POST", f"{P}/annotations/ds/b.jpg", {"annotations": [box("thing\x00", 1, 1, 5, 5)]}),
    ("POST", f"{P}/annotations/bulk", _annotation),
]


def _snapshot(client: Any) -> dict[str, list[str]]:
    """Every row of every table but the request bookkeeping (idempotency records, when a key
    was last used) and the image descriptors (a cache a background thread fills from the stored
    bytes whenever it gets to them, not data a request writes), as sorted text."""
    engine = client.app.state.store.engine
    skipped = {"idempotency_records", "alembic_version", "image_descriptors"}
    bookkeeping = {t.api_keys.c.last_used_at}
    with engine.connect() as conn:
        return {
            table.name: sorted(
                repr(tuple(row))
                for row in conn.execute(sa.select(*(c for c in table.c if c not in bookkeeping)))
            )
            for table in t.metadata.sorted_tables
            if table.name not in skipped
        }


@pytest.fixture
def owner(make_client: Any, tmp_path: Path) -> Any:
    served = make_client(require_api_key=True)
    raw = keys.create_key(served.app.state.store, "acme")[1]
    client = served.__class__(served.app, headers={"X-API-Key": raw})
    labelled_dataset(client, tmp_path, "ds")
    return client


def _refused(client: Any, method: str, path: str, body: Any) -> dict[str, Any]:
    if callable(body):
        body = body(_image_id(client))
    before = _snapshot(client)
    response = client.request(method, path, json=body)
    assert response.status_code == 422, (method, path, response.status_code, response.text)
    assert _snapshot(client) == before, (method, path)
    return dict(response.json()["error"])


@pytest.mark.parametrize("bad", ["\x00", "\x1b", "\x7f"], ids=["nul", "escape", "delete"])
def test_a_control_character_in_a_stored_name_is_a_422_and_stores_nothing(
    owner: Any, bad: str
) -> None:
    for method, path, body in _cases(bad):
        error = _refused(owner, method, path, body)
        assert error["code"] == "validation_error"
        assert "control character" in error["message"], (path, error["message"])


def test_a_nul_in_free_text_is_a_422_but_line_breaks_are_kept(owner: Any) -> None:
    for method, path, body in TEXT_CASES:
        error = _refused(owner, method, path, body)
        assert "control character" in error["message"], (path, error["message"])
    kept = owner.patch(f"{P}/datasets/ds", json={"description": "# a\n\tb\r\n"})
    assert kept.status_code == 200, kept.text
    assert kept.json()["data"]["description"] == "# a\n\tb\r\n"


def test_a_key_renamed_with_a_nul_is_a_422(owner: Any) -> None:
    made = owner.post(K, json={"name": "fine", "role": "member"}).json()
    error = _refused(owner, "PATCH", f"{K}{made['key_id']}", {"name": "x\x00"})
    assert "control character" in error["message"]


def test_a_key_made_by_the_cli_with_a_control_character_in_its_names_is_refused(
    make_client: Any,
) -> None:
    store = make_client(require_api_key=True).app.state.store
    for organization, name in (("acme", "lap\x1btop"), ("ac\x07me", "laptop")):
        with pytest.raises(ValidationError, match="control character"):
            keys.create_key(store, organization, name)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.api_keys)).scalar() == 0
