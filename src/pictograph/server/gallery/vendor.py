"""Third-party scripts the gallery serves from its own origin (no CDN: pages work offline and
the CSP allows only ``'self'``): each pinned file with its licence, listed with its SHA-256 in
``static/vendor/manifest.json``."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"


@dataclass(frozen=True)
class Vendored:
    """One pinned file: where it came from, its licence file and its recorded SHA-256."""

    name: str
    package: str
    version: str
    license: str
    license_file: str
    sha256: str

    @property
    def path(self) -> Path:
        return VENDOR / self.name


@functools.cache
def vendored() -> dict[str, Vendored]:
    """The manifest's files by name (the only names ``/gallery/vendor/`` serves)."""
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return {
        name: Vendored(
            name,
            entry["package"],
            entry["version"],
            entry["license"],
            entry["license_file"],
            entry["sha256"],
        )
        for name, entry in entries.items()
    }


def servable(name: str) -> Path | None:
    """The file served as ``/gallery/vendor/{name}``: a vendored script or its licence."""
    for item in vendored().values():
        if name in (item.name, item.license_file):
            return VENDOR / name
    return None


def konva() -> Vendored:
    """The canvas library the annotation editor draws with."""
    (found,) = (item for item in vendored().values() if item.package == "konva")
    return found
