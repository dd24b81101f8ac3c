"""Gallery sign-in sessions: a signed token naming an API key and its organisation.

The token carries the key's id and organisation, never the key itself, and is checked against
the key table on every use, so revoking the key ends every session opened with it.
"""

from __future__ import annotations

import hmac
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

from pictograph.errors import AuthError
from pictograph.server.service import keys
from pictograph.server.service.context import AppContext

#: The cookie the session token travels in (the gallery's pages and their API calls).
COOKIE = "pictograph_session"
#: How long a session lasts before the key has to be entered again.
SESSION_SECONDS = 14 * 24 * 3600
_SALT = "pictograph-gallery-session"


def _serializer(store: AppContext) -> URLSafeTimedSerializer:
    # The storage signer's secret with a salt of its own: a signed URL token never passes as a
    # session, nor a session as a signed URL.
    return URLSafeTimedSerializer(store.signer.secret_key, salt=_SALT)


def open_session(store: AppContext, raw_key: str) -> str:
    """A session token for the active key ``raw_key``; ``AuthError`` for a wrong or revoked key."""
    principal = keys.authenticate(store, raw_key)
    return _serializer(store).dumps({"key": principal.key_id, "org": principal.organization_id})


def principal_of(store: AppContext, token: str | None) -> keys.Principal:
    """Who the session ``token`` acts for.

    Raises ``AuthError`` when the token is missing, forged, expired, or its key was revoked.
    """
    if not token:
        raise AuthError("not signed in")
    try:
        data: Any = _serializer(store).loads(token, max_age=SESSION_SECONDS)
    except BadData:
        raise AuthError("session is invalid or expired") from None
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        raise AuthError("session is invalid")
    principal = keys.principal_of_key(store, data["key"])
    if principal is None or principal.organization_id != data.get("org"):
        raise AuthError("the session's API key was revoked")
    return principal


def csrf_token(store: AppContext, session_token: str) -> str:
    """The token a signed-in page sends in ``X-CSRF-Token`` with its API writes: derived from
    the session, so another site (which cannot read our pages or cookie) cannot know it."""
    digest = hmac.new(store.signer.secret_key, b"csrf\0" + session_token.encode(), "sha256")
    return digest.hexdigest()


def csrf_matches(store: AppContext, session_token: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(csrf_token(store, session_token), sent)
