"""Signing in to the gallery with an API key, the session cookie, signing out, revoked keys."""

from __future__ import annotations

from pictograph.server.service import keys
from tests.gallery.conftest import Gallery
from tests.server import flows

P = flows.P


def test_pages_send_a_visitor_without_a_session_to_the_sign_in_form(keyed: Gallery) -> None:
    for path in ("/", "/datasets/anything", "/images/00000000-0000-0000-0000-000000000000"):
        response = keyed.browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
    form = keyed.browser.get("/login")
    assert form.status_code == 200
    assert 'action="/login"' in form.text and 'name="api_key"' in form.text


def test_signing_in_keeps_an_httponly_samesite_cookie_that_never_holds_the_key(
    keyed: Gallery,
) -> None:
    _, key = keyed.create_key("acme")
    flows.create_dataset(keyed.api(key), "birds")

    response = keyed.browser.post("/login", data={"api_key": key})

    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert key not in cookie and key[len(keys.KEY_PREFIX) :][:16] not in cookie
    page = keyed.browser.get("/")
    assert page.status_code == 200 and "birds" in page.text
    assert 'action="/logout"' in page.text


def test_a_wrong_key_is_refused_and_sets_no_cookie(keyed: Gallery) -> None:
    response = keyed.browser.post("/login", data={"api_key": "pk_live_" + "0" * 64})
    assert response.status_code == 401
    assert "not valid" in response.text
    assert "set-cookie" not in response.headers
    assert keyed.browser.post("/login", data={}).status_code == 401


def test_signing_out_clears_the_cookie_and_pages_ask_to_sign_in_again(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    keyed.sign_in(key)

    response = keyed.browser.post("/logout")

    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "max-age=0" in response.headers["set-cookie"].lower()
    assert keyed.browser.get("/").headers["location"] == "/login"


def test_revoking_the_key_signs_its_sessions_out(keyed: Gallery) -> None:
    key_id, key = keyed.create_key("acme")
    keyed.sign_in(key)
    assert keyed.browser.get("/").status_code == 200

    keys.revoke_key(keyed.store, key_id)

    response = keyed.browser.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "max-age=0" in response.headers["set-cookie"].lower()
    assert keyed.browser.post("/login", data={"api_key": key}).status_code == 401


def test_a_tampered_session_cookie_is_refused(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    keyed.sign_in(key)
    token = keyed.browser.cookies["pictograph_session"]
    keyed.browser.cookies.clear()  # one cookie, the tampered one (whatever domain the jar kept)
    keyed.browser.cookies.set("pictograph_session", token[:-2] + ("A" if token[-2] != "A" else "B"))
    assert keyed.browser.get("/").headers["location"] == "/login"


def test_sign_in_and_sign_out_posted_from_another_site_are_refused(keyed: Gallery) -> None:
    _, key = keyed.create_key("acme")
    evil = {"origin": "https://evil.example"}
    refused = keyed.browser.post("/login", data={"api_key": key}, headers=evil)
    assert refused.status_code == 403 and "set-cookie" not in refused.headers

    keyed.sign_in(key)
    assert keyed.browser.post("/logout", headers=evil).status_code == 403
    assert keyed.browser.get("/").status_code == 200
    same_site = {"origin": "http://testserver"}
    assert keyed.browser.post("/logout", headers=same_site).status_code == 303


def test_a_session_cookie_reads_the_api_but_changes_need_the_pages_csrf_token(
    keyed: Gallery,
) -> None:
    _, key = keyed.create_key("acme")
    keyed.sign_in(key)
    assert keyed.browser.get(f"{P}/datasets/").status_code == 200
    forged = keyed.browser.post(f"{P}/datasets/", json={"name": "forged"})
    assert forged.status_code == 401 and "X-CSRF-Token" in forged.json()["error"]["message"]
    page = keyed.browser.get("/").text
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    made = keyed.browser.post(
        f"{P}/datasets/", json={"name": "from the page"}, headers={"X-CSRF-Token": token}
    )
    assert made.status_code == 201
    keyed.browser.post("/logout")
    assert keyed.browser.get(f"{P}/datasets/").status_code == 401


def test_without_required_keys_the_gallery_acts_for_the_built_in_organisation(
    keyless: Gallery,
) -> None:
    flows.create_dataset(keyless.api(), "local birds")
    page = keyless.browser.get("/")
    assert page.status_code == 200 and "local birds" in page.text
    assert 'action="/logout"' not in page.text
    assert keyless.browser.get("/login").headers["location"] == "/"
