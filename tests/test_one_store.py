"""One store, one default organisation: what the embedded commands made, a served key sees.

The README's two steps on a fresh home: ``pictograph upload`` (embedded), then
``pictograph --home H keys create`` (no --org) and ``pictograph --home H serve``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.images import make_image
from tests.served import PICTOGRAPH, _clean_env, free_port, launch

P = "/api/v1/developer"


def run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PICTOGRAPH, *(str(arg) for arg in args)],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=120,
    )


def test_embedded_uploads_are_served_to_a_key_made_without_org_on_the_same_home(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    photos = tmp_path / "photos"
    make_image(photos / "stop" / "001.jpg")
    make_image(photos / "002.jpg")
    uploaded = run("--home", home, "upload", photos, "--dataset", "demo", "-q")
    assert uploaded.returncode == 0, uploaded.stderr
    made = run("--home", home, "keys", "create")
    assert made.returncode == 0, made.stderr
    assert "for organisation 'local'" in made.stdout
    key = made.stdout.strip().splitlines()[-1]
    other = run("--home", home, "keys", "create", "--org", "acme").stdout.strip().splitlines()[-1]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with launch(["--home", str(home), "serve", "--port", str(port)], base, ()) as served:
        listed = httpx.get(f"{base}{P}/datasets/", headers={"X-API-Key": key}).json()
        isolated = httpx.get(f"{base}{P}/datasets/", headers={"X-API-Key": other}).json()
        with httpx.Client(base_url=base) as browser:
            browser.post("/login", data={"api_key": key}, headers={"origin": base})
            gallery = browser.get("/").text
    announced = [line.rstrip() for line in served.output().splitlines()[:3]]
    assert announced[0].endswith(f"on {base}")
    assert announced[1:] == ["  organisation acme: 0 datasets", "  organisation local: 1 dataset"]
    assert [d["name"] for d in listed["data"]] == ["demo"]
    assert listed["data"][0]["image_count"] == 2
    assert isolated["data"] == []
    assert "demo" in gallery and '<span class="org-name">local</span>' in gallery


def test_keys_and_serve_honour_the_global_home_and_write_nothing_elsewhere(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fake_user_home = tmp_path / "user"
    fake_user_home.mkdir()
    env = _clean_env() | {"HOME": str(fake_user_home)}
    made = subprocess.run(
        [PICTOGRAPH, "--home", str(home), "keys", "create", "--org", "acme"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert (home / "pictograph.db").is_file()
    assert list(fake_user_home.iterdir()) == []
