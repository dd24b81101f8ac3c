"""The wire conventions every route shares: envelopes, error bodies, slashes, request ids."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.server.flows import P, create_dataset


def test_errors_carry_the_envelope_with_code_message_details_and_legacy_detail(
    app_client: TestClient,
) -> None:
    response = app_client.get(f"{P}/datasets/missing")
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["code"] == "not_found"
    assert "missing" in body["error"]["message"]
    assert body["error"]["details"] == {}
    assert body["detail"] == body["error"]["message"]


def test_every_response_has_a_request_id_header(app_client: TestClient) -> None:
    assert app_client.get(f"{P}/datasets/").headers["x-request-id"]
    assert app_client.get(f"{P}/datasets/missing").headers["x-request-id"]


def test_unknown_routes_give_404_with_the_envelope(app_client: TestClient) -> None:
    response = app_client.get(f"{P}/exports/thing", params={"dataset": "x"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_list_and_create_answer_with_and_without_trailing_slash_never_redirecting(
    app_client: TestClient,
) -> None:
    for path in ("/datasets/", "/datasets"):
        assert app_client.get(f"{P}{path}").status_code == 200
    create_dataset(app_client, "slashy")
    for path in ("/images/", "/images"):
        assert app_client.get(f"{P}{path}", params={"dataset": "slashy"}).status_code == 200
    body = {"dataset": "slashy", "directory_path": "/a"}
    for path in ("/directories/", "/directories"):
        assert app_client.post(f"{P}{path}", json=body).status_code in (200, 201)


def test_request_validation_errors_are_422_with_field_errors(app_client: TestClient) -> None:
    response = app_client.post(f"{P}/datasets/", json={"description": "no name"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["errors"][0]["loc"] == ["body", "name"]
    assert "name" in error["message"]


def test_malformed_json_is_refused_with_the_envelope(app_client: TestClient) -> None:
    response = app_client.post(
        f"{P}/datasets/", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.json()["error"]["message"]


def test_idempotency_key_headers_are_accepted(app_client: TestClient) -> None:
    response = app_client.post(
        f"{P}/datasets/", json={"name": "idem"}, headers={"Idempotency-Key": "a" * 32}
    )
    assert response.status_code == 201
