"""Embedded and served are one product: what `pictograph upload` put in a home is what
`pictograph serve` on that home shows, to a key made without --org, in the API and the gallery."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx

from pictograph import Client
from tests.images import make_image
from tests.served import PICTOGRAPH, free_port, launch

P = "/api/v1/developer"


def pictograph(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    done = subprocess.run(
        [PICTOGRAPH, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def test_an_embedded_upload_is_served_to_a_key_made_without_an_organisation(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    photos = tmp_path / "photos"
    for n in range(3):
        make_image(photos / "stop" / f"{n}.jpg", seed=n)
    make_image(photos / "yield" / "y.jpg", seed=9)

    pictograph("--home", str(home), "upload", str(photos), "--dataset", "demo", "-q")
    key = pictograph("--home", str(home), "keys", "create").strip().splitlines()[-1]
    other = pictograph("keys", "create", "--org", "acme", "--home", str(home))
    other_key = other.strip().splitlines()[-1]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = ["--home", str(home), "serve", "--port", str(port)]
    with launch(command, base, ()) as served:
        with Client(api_key=key, base_url=base) as client:
            datasets = client.datasets.list()
            assert [d.name for d in datasets] == ["demo"]
            assert client.datasets.get("demo").image_count == 4
        with Client(api_key=other_key, base_url=base) as outsider:
            assert outsider.datasets.list() == []
            missing = httpx.get(f"{base}{P}/datasets/demo", headers={"X-API-Key": other_key})
            assert missing.status_code == 404

        with httpx.Client(base_url=base, headers={"Origin": base}) as browser:
            signed_in = browser.post("/login", data={"api_key": key})
            assert signed_in.status_code == 303, signed_in.text
            page = browser.get("/")
            assert page.status_code == 200
            assert "demo" in page.text
            assert '<span class="org-name">local</span>' in page.text

    output = served.output()
    assert "organisation local: 1 dataset" in output, output
    assert "organisation acme: 0 datasets" in output, output
