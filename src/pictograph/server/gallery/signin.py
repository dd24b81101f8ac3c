"""Signing in to the gallery with an API key, and signing out (both form POSTs)."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from pictograph.errors import AuthError
from pictograph.server.api.deps import get_store
from pictograph.server.gallery.rendering import render
from pictograph.server.gallery.viewer import current_viewer, end_session, keep_session, same_origin
from pictograph.server.service import sessions

router = APIRouter(include_in_schema=False)

#: A sign-in form holds one key; anything much bigger is not our form.
_MAX_FORM = 16 * 1024
_CROSS_SITE = "Sign-in from another site was refused."
_REFUSED = "That API key is not valid, or it has been revoked."


def _home() -> RedirectResponse:
    return RedirectResponse("/", status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    """The sign-in form; straight to the datasets when already signed in or no key is needed."""
    if current_viewer(request) is not None:
        return _home()
    return render("login.html", viewer=None, error=None)


async def _form(request: Request) -> dict[str, str] | None:
    """The URL-encoded form fields, or None when the body is larger than a sign-in form."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the key, keep a session cookie naming it (never the key), go to the datasets."""
    if not same_origin(request):
        return render("login.html", status_code=403, viewer=None, error=_CROSS_SITE)
    store = get_store(request)
    if not store.settings.require_api_key:
        return _home()
    form = await _form(request)
    if form is None:
        return render("login.html", status_code=413, viewer=None, error="That form is too large.")
    try:
        token = await run_in_threadpool(sessions.open_session, store, form.get("api_key", ""))
    except AuthError:
        return render("login.html", status_code=401, viewer=None, error=_REFUSED)
    response = _home()
    keep_session(response, request, token)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """Clear the session cookie and go back to the sign-in form."""
    if not same_origin(request):
        return render("not_found.html", status_code=403, viewer=None)
    response = RedirectResponse("/login", status_code=303)
    end_session(response, request)
    return response
