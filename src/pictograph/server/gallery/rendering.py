"""The gallery's Jinja2 templates (always autoescaped), their filters, and page responses."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi.responses import HTMLResponse

from pictograph.sizes import human_bytes

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLESHEET = TEMPLATES / "gallery.css"

KEYS_SCRIPT = TEMPLATES / "keys.js"
#: The trash page's script: its Restore buttons call the developer API with ``fetch``.
TRASH_SCRIPT = TEMPLATES / "trash.js"
WORKFLOW_SCRIPT = TEMPLATES / "workflow.js"
EDITOR_SCRIPT = Path(__file__).resolve().parent / "static" / "editor.js"

#: Pages run only our own script files, never inline script, so even markup that slipped
#: through escaping could not execute; scripts may call our own API (connect-src).
PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def moment(value: datetime | None) -> str:
    """A timestamp as ``2025-01-31 14:05 UTC``; an em dash when unknown."""
    if value is None:
        return "\N{EM DASH}"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def count(value: int) -> str:
    """``10000`` -> ``"10,000"``."""
    return f"{value:,}"


@functools.cache
def _environment() -> jinja2.Environment:
    # Imported here: jinja2 comes with the server extra, and embedded mode never renders pages.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filesize=human_bytes, moment=moment, count=count)
    return env


def render(template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` rendered with ``context``, with the gallery's security headers."""
    html = _environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
