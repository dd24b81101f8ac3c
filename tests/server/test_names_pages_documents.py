"""Finding 7 of the hostile-conditions report: huge offsets, the 422 body against the OpenAPI
document, names that look alike (NFC/NFD, bidi and zero-width characters)."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from starlette.testclient import TestClient

P = "/api/v1/developer"


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    assert app_client.post(f"{P}/datasets/", json={"name": "ds"}).status_code == 201
    return app_client


@pytest.mark.parametrize(
    ("path", "params", "offset"),
    [
        ("/datasets/", {}, "offset"),
        ("/images/", {"dataset": "ds"}, "offset"),
        ("/datasets/ds", {"include_images": "true"}, "images_offset"),
    ],
)
def test_an_offset_past_two_to_the_63_is_a_422_not_a_500(
    client: TestClient, path: str, params: dict[str, Any], offset: str
) -> None:
    for huge in (2**63, 2**64 + 5, 10**30):
        response = client.get(P + path, params={**params, offset: huge})
        assert response.status_code == 422, response.text
        assert "offset must be at most" in response.json()["error"]["message"]
    largest = client.get(P + path, params={**params, offset: 2**63 - 1})
    assert largest.status_code == 200, largest.text


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def conforms(document: dict[str, Any], value: Any, schema: dict[str, Any]) -> bool:
    """A small JSON Schema check, enough for the error envelope's schema."""
    schema = resolve(document, schema)
    if "anyOf" in schema:
        return any(conforms(document, value, option) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind == "object":
        return (
            isinstance(value, dict)
            and all(name in value for name in schema.get("required", []))
            and all(
                conforms(document, value[name], sub)
                for name, sub in schema.get("properties", {}).items()
                if name in value
            )
        )
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "null":
        return value is None
    return True


def test_a_422_body_is_what_the_openapi_document_says_a_422_is(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path, method, kwargs in [
        ("/datasets/", "post", {"json": {"name": 42}}),
        ("/datasets/", "get", {"params": {"limit": "many"}}),
        ("/images/", "get", {"params": {}}),
    ]:
        response = client.request(method, P + path, **kwargs)
        assert response.status_code == 422
        schema = document["paths"][P + path][method]["responses"]["422"]["content"][
            "application/json"
        ]["schema"]
        assert conforms(document, response.json(), schema), response.text
        assert isinstance(response.json()["detail"], str)
    assert "HTTPValidationError" not in str(document)


def test_a_name_in_nfc_and_in_nfd_is_one_image(client: TestClient) -> None:
    nfc = unicodedata.normalize("NFC", "café.jpg")
    nfd = unicodedata.normalize("NFD", "café.jpg")
    assert nfc != nfd
    body = {"dataset": "ds", "directory_path": "/", "content_type": "image/jpeg"}
    first = client.post(f"{P}/images/upload-url", json=body | {"filename": nfc})
    assert first.status_code == 200
    assert first.json()["data"]["filename"] == nfc
    second = client.post(f"{P}/images/upload-url", json=body | {"filename": nfd})
    assert second.json()["data"]["filename"] == nfc  # the same place, spelled one way
    folder = client.post(
        f"{P}/directories/", json={"dataset": "ds", "directory_path": "/" + nfd[:-4]}
    )
    assert folder.status_code in (200, 201)
    assert folder.json()["data"]["full_path"] == "/" + nfc[:-4]
    created = client.post(f"{P}/datasets/", json={"name": unicodedata.normalize("NFD", "Müll")})
    assert created.json()["data"]["name"] == unicodedata.normalize("NFC", "Müll")
    found = client.get(f"{P}/datasets/" + unicodedata.normalize("NFC", "Müll"))
    assert found.status_code == 200


@pytest.mark.parametrize("sneaky", ["\u202e", "\u200b", "\u2066", "\ufeff", "\u200d", "\u061c"])
def test_bidi_controls_and_zero_width_characters_in_names_are_refused_with_a_reason(
    client: TestClient, sneaky: str
) -> None:
    body = {"dataset": "ds", "directory_path": "/", "content_type": "image/jpeg"}
    attempts = [
        client.post(f"{P}/images/upload-url", json=body | {"filename": f"inv{sneaky}oice.jpg"}),
        client.post(f"{P}/directories/", json={"dataset": "ds", "directory_path": f"/a{sneaky}b"}),
        client.post(f"{P}/datasets/", json={"name": f"data{sneaky}set"}),
    ]
    for response in attempts:
        assert response.status_code == 422, response.text
        message = response.json()["error"]["message"]
        assert f"U+{ord(sneaky):04X}" in message and "invisible" in message
    assert [d["name"] for d in client.get(f"{P}/datasets/").json()["data"]] == ["ds"]
