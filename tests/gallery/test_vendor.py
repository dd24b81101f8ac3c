"""The vendored canvas library: pinned, its SHA-256 recorded, licensed, served from our own
origin with a long cache, and shipped in the wheel."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tomllib
from pathlib import Path

from pictograph.server.gallery import vendor
from tests.gallery.conftest import Gallery

ROOT = Path(__file__).resolve().parents[2]


def test_every_vendored_file_matches_its_recorded_sha256_and_carries_its_licence() -> None:
    entries = json.loads(vendor.MANIFEST.read_text(encoding="utf-8"))
    assert set(entries) == {"konva-10.9.1.min.js"}
    for item in vendor.vendored().values():
        assert hashlib.sha256(item.path.read_bytes()).hexdigest() == item.sha256, item.name
        assert item.version in item.name
        licence = (vendor.VENDOR / item.license_file).read_text(encoding="utf-8")
        assert item.license == "MIT" and "MIT License" in licence
    konva = vendor.konva()
    assert f"Konva JavaScript Framework v{konva.version}" in konva.path.read_text(encoding="utf-8")


def test_the_gallery_serves_vendored_files_with_a_year_of_cache_and_nothing_else(
    keyless: Gallery,
) -> None:
    konva = vendor.konva()
    served = keyless.browser.get(f"/gallery/vendor/{konva.name}")
    assert served.status_code == 200 and served.content == konva.path.read_bytes()
    assert served.headers["content-type"].startswith("text/javascript")
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    licence = keyless.browser.get(f"/gallery/vendor/{konva.license_file}")
    assert licence.status_code == 200 and "MIT License" in licence.text
    for name in ("manifest.json", "..%2Feditor.js", "konva.min.js"):
        assert keyless.browser.get(f"/gallery/vendor/{name}").status_code == 404
    editor = keyless.browser.get("/gallery/editor.js")
    assert editor.status_code == 200 and "X-CSRF-Token" in editor.text


def test_the_package_build_takes_the_editor_and_the_vendored_files() -> None:
    """Hatch puts every file under src/pictograph into the wheel unless git ignores it (a wheel
    built from this tree was checked to hold them; building one here would need the network)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel == {"packages": ["src/pictograph"]}
    konva = vendor.konva()
    files = [vendor.VENDOR.parent / "editor.js", konva.path, vendor.VENDOR / konva.license_file,
             vendor.MANIFEST]  # fmt: skip
    assert all(
        path.is_file() and path.is_relative_to(ROOT / "src" / "pictograph") for path in files
    )
    ignored = subprocess.run(
        ["git", "check-ignore", *map(str, files)], cwd=ROOT, capture_output=True, text=True
    )
    assert ignored.returncode == 1 and ignored.stdout == ""  # 1: none of them is ignored
