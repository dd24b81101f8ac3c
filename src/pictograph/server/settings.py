"""ServerSettings: the server's configuration, resolved once at the edge and frozen."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

#: The environment variable ``pictograph serve`` hands its resolved settings to workers in.
SETTINGS_ENV = "PICTOGRAPH_SERVER_SETTINGS_JSON"


def normalise_database_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` URLs get the psycopg 3 driver; others are unchanged."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


@dataclass(frozen=True)
class RateLimit:
    """``per_second`` requests a second per API key on average, in bursts of up to ``burst``."""

    per_second: float
    burst: int


#: On by default for served instances: generous for people, a brake for runaway scripts.
DEFAULT_RATE_LIMIT = RateLimit(per_second=100.0, burst=200)


@dataclass(frozen=True)
class ServerSettings:
    """Where metadata and bytes live, and the limits the server enforces."""

    home: Path
    database_url: str
    storage_url: str
    require_api_key: bool = False
    max_upload_bytes: int = 200 * 1024 * 1024
    #: Images with more pixels (read from the header, before decoding) are refused with a 422.
    max_image_pixels: int = 150_000_000
    #: Decoded pixel bytes all image checks and thumbnails may hold at once; others wait.
    decode_memory_bytes: int = 1024 * 1024 * 1024
    #: Served connections (``pictograph serve`` only): see docs/operations.md.
    max_header_bytes: int = 64 * 1024
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 60.0
    keep_alive_seconds: int = 5
    max_connections: int = 1000
    #: Sweep for crash litter (temporary files, orphan blobs, stale uploads) at start and then
    #: every this many seconds; 0 (the embedded default): never. ``pictograph serve``: 3600.
    gc_interval_seconds: float = 0.0
    #: What a scheduled sweep leaves alone: anything written less than this many seconds ago
    #: (an upload in flight may not have its row yet).
    gc_grace_seconds: float = 900.0
    #: How long the audit trail keeps an entry; gc removes older ones.
    audit_retention_days: float = 90.0
    #: Days a dataset or image deleted without ``permanent`` stays in the trash, restorable;
    #: gc removes it after.
    trash_retention_days: float = 30.0
    signed_url_ttl_seconds: int = 3600
    public_base_url: str | None = None
    rate_limit_per_second: float = 0.0
    rate_limit_burst: int = DEFAULT_RATE_LIMIT.burst
    redis_url: str | None = None
    #: PostgreSQL connections each process keeps open (``None``: 10); up to three times as many
    #: more are opened under load and closed after.
    database_pool_size: int | None = None

    @property
    def rate_limit(self) -> RateLimit | None:
        """The per-key limit, or None when it is off (embedded mode has none)."""
        if self.rate_limit_per_second <= 0:
            return None
        return RateLimit(self.rate_limit_per_second, max(1, self.rate_limit_burst))

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON-ready data (for handing to worker processes)."""
        return asdict(self) | {"home": str(self.home)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerSettings:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        return cls(**values | {"home": Path(values["home"])})

    def __post_init__(self) -> None:
        object.__setattr__(self, "database_url", normalise_database_url(self.database_url))
        if self.public_base_url is not None:
            object.__setattr__(self, "public_base_url", self.public_base_url.rstrip("/"))

    @classmethod
    def embedded(
        cls, home: Path, *, database_url: str | None = None, storage_url: str | None = None
    ) -> ServerSettings:
        """The zero-set-up default: SQLite and local files under ``home``, no API key."""
        home = Path(home)
        return cls(
            home=home,
            database_url=database_url or f"sqlite:///{home}/pictograph.db",
            storage_url=storage_url or f"file://{home}/blobs",
        )
