"""Client configuration: explicit argument > ``PICTOGRAPH_*`` environment > default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from pictograph.errors import ConfigurationError

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_HOME = "~/.pictograph"
EMBEDDED_BASE_URL = "http://embedded.pictograph"

Mode = Literal["embedded", "http"]
T = TypeVar("T")
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class ClientSettings:
    """Everything a :class:`~pictograph.Client` needs, resolved once at construction."""

    mode: Mode
    base_url: str
    api_key: str | None
    timeout: float
    max_retries: int
    home: Path
    #: Embedded mode only: where the in-process store keeps metadata and bytes (None: under home).
    database_url: str | None = None
    storage_url: str | None = None


def resolve_settings(
    api_key: str | None = None,
    *,
    base_url: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    home: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientSettings:
    """Merge arguments, environment and defaults into a :class:`ClientSettings`.

    Raises ``ConfigurationError`` for a non-positive timeout, a negative retry count, a value
    in the environment that is not a number, or a base URL given without an API key.
    """
    env = os.environ if environ is None else environ
    key = _first(api_key, env.get("PICTOGRAPH_API_KEY"))
    key = key.strip() if key is not None else None
    key = key or None
    url = _first(base_url, env.get("PICTOGRAPH_BASE_URL"))
    url = url.strip().rstrip("/") if url is not None else None
    url = url or None
    resolved_timeout = _number(timeout, env, "PICTOGRAPH_TIMEOUT", DEFAULT_TIMEOUT, float)
    retries = _number(max_retries, env, "PICTOGRAPH_MAX_RETRIES", DEFAULT_MAX_RETRIES, int)
    if not resolved_timeout > 0:
        raise ConfigurationError(f"timeout must be > 0, got {resolved_timeout!r}")
    if retries < 0:
        raise ConfigurationError(f"max_retries must be >= 0, got {retries!r}")
    home_path = Path(_first(home, env.get("PICTOGRAPH_HOME")) or DEFAULT_HOME).expanduser()
    if key is None and url is None:
        return ClientSettings(
            "embedded",
            EMBEDDED_BASE_URL,
            None,
            resolved_timeout,
            retries,
            home_path,
            env.get("PICTOGRAPH_DATABASE_URL") or None,
            env.get("PICTOGRAPH_STORAGE_URL") or None,
        )
    if key is None:
        raise ConfigurationError("no API key: pass api_key= or set PICTOGRAPH_API_KEY")
    if url is None:
        raise ConfigurationError("no base URL: pass base_url= or set PICTOGRAPH_BASE_URL")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base_url must start with http:// or https://, got {url!r}")
    return ClientSettings("http", url, key, resolved_timeout, retries, home_path)


def _first(explicit: T | None, from_env: T | None) -> T | None:
    return explicit if explicit is not None else from_env


def _number(explicit: N | None, env: Mapping[str, str], name: str, default: N, kind: type[N]) -> N:
    if explicit is not None:
        return explicit
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return kind(raw.strip())
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
