"""Who is looking at a gallery page: the session cookie, signing in and out, same-origin posts."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response

from pictograph.errors import AuthError
from pictograph.server.api.deps import get_store
from pictograph.server.service import policy, sessions
from pictograph.server.service.organizations import ensure_organization, signed_in_as

COOKIE = sessions.COOKIE


@dataclass(frozen=True)
class Viewer:
    """The organisation pages act for; ``signed_in`` is False when the server needs no key.

    ``organization`` and ``key_label`` name them in the page header.
    """

    organization_id: str
    signed_in: bool
    organization: str = ""
    key_label: str | None = None
    #: The signed-in key's role (``service.policy.ROLES``); pages hide what it may not do.
    role: str = "owner"
    #: Sent by the page's scripts in ``X-CSRF-Token`` with their API writes.
    csrf_token: str = ""

    def may(self, least: str) -> bool:
        """Whether this viewer's role is at least ``least``."""
        return policy.rank(self.role) >= policy.rank(least)


def current_viewer(request: Request) -> Viewer | None:
    """The viewer of this request, or None when a sign-in is needed (none, expired, revoked)."""
    store = get_store(request)
    if not store.settings.require_api_key:
        organization_id = ensure_organization(store)
        return Viewer(organization_id, False, signed_in_as(store, organization_id, None)[0])
    token = request.cookies.get(COOKIE)
    try:
        principal = sessions.principal_of(store, token)
    except AuthError:
        return None
    assert token is not None
    name, label = signed_in_as(store, principal.organization_id, principal.key_id)
    csrf = sessions.csrf_token(store, token)
    return Viewer(principal.organization_id, True, name, label, principal.role, csrf)


def _secure(request: Request) -> bool:
    base = get_store(request).settings.public_base_url or ""
    return request.url.scheme == "https" or base.startswith("https://")


def keep_session(response: Response, request: Request, token: str) -> None:
    """Set the session cookie: HttpOnly, SameSite=Lax, Secure when served over HTTPS."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=sessions.SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def end_session(response: Response, request: Request) -> None:
    """Clear the session cookie."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))


def same_origin(request: Request) -> bool:
    """Whether a form POST came from our own pages (guards sign-in and sign-out against CSRF).

    Browsers send ``Origin`` (else ``Referer``) on form posts; it must name the host the request
    came to, or the configured public base URL. Clients that send neither are let through:
    the SameSite cookie already keeps other sites' posts unauthenticated.
    """
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True
    allowed = {request.headers.get("host", "")}
    base = get_store(request).settings.public_base_url
    if base:
        allowed.add(urlsplit(base).netloc)
    return source != "null" and urlsplit(source).netloc in allowed
