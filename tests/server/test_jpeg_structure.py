"""JPEGs are checked by their structure, not by decoding their scan: whatever is cut short or
broken in its markers is still refused, with a reason, and nothing of it is stored."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image
from starlette.testclient import TestClient

from tests.server.flows import P, create_dataset


def _photo(seed: int = 0, size: tuple[int, int] = (300, 300)) -> bytes:
    """A JPEG with photo-like detail (smooth gradients plus noise), not a solid colour."""
    rng = random.Random(seed)
    noise = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    Image.blend(gradient, noise, 0.3).save(out, "JPEG", quality=85)
    return out.getvalue()


def _scan_start(data: bytes) -> int:
    return data.index(b"\xff\xda") + 2 + int.from_bytes(data[data.index(b"\xff\xda") + 2 :][:2])


def _broken(data: bytes) -> dict[str, bytes]:
    scan = _scan_start(data)
    middle = (scan + len(data)) // 2
    return {
        "cut.jpg": data[: len(data) * 2 // 3],
        "no_end.jpg": data[:-2],
        "bad_marker.jpg": data[:middle] + b"\xff\x10" + data[middle + 2 :],
        "bad_length.jpg": data[:4] + b"\xff\xf0" + data[6:],  # APP0 says 65,520 bytes
    }


def test_broken_jpegs_in_a_batch_are_refused_and_a_good_one_is_kept(
    app_client: TestClient, blob_root: Path
) -> None:
    create_dataset(app_client, "jpegs")
    good = _photo()
    files = {"good.jpg": good, **_broken(good)}
    images = [
        {"filename": name, "directory_path": "/", "content_type": "image/jpeg"} for name in files
    ]
    body = {"dataset": "jpegs", "images": images, "register_on_upload": True}
    plan = app_client.post(f"{P}/images/bulk-upload-url", json=body).json()["data"]
    parts = [
        (entry["upload_url"].rsplit("/", 1)[-1], (name, data, "image/jpeg"))
        for entry, (name, data) in zip(plan["upload_urls"], files.items(), strict=True)
    ]

    results = app_client.post(plan["upload_batch"]["url"], files=parts).json()["data"]["results"]

    assert results[0]["image"]["width"] == 300 and results[0]["image"]["height"] == 300
    for name, result in zip(list(files)[1:], results[1:], strict=True):
        assert result["error"]["status"] == 422, name
        assert "truncated or corrupt" in result["error"]["message"], name
    stored = [p for p in blob_root.rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].read_bytes() == good  # no temporary file left either


def test_a_broken_jpeg_put_alone_is_refused(app_client: TestClient, blob_root: Path) -> None:
    create_dataset(app_client, "put")
    for name, data in _broken(_photo(seed=1)).items():
        body = {"dataset": "put", "filename": name, "content_type": "image/jpeg"}
        url = app_client.post(f"{P}/images/upload-url", json=body).json()["data"]["upload_url"]
        response = app_client.put(url, content=data, headers={"content-type": "image/jpeg"})
        # A three-step URL: the PUT says it refused the bytes, register gives the 422 (issue 22).
        assert response.status_code == 200, name
        assert "truncated or corrupt" in response.json()["refused"]["message"], name
        registered = app_client.post(
            f"{P}/images/register", json={"dataset": "put", "filename": name}
        )
        assert registered.status_code == 422, name
        assert "truncated or corrupt" in registered.json()["error"]["message"], name
    assert [p for p in blob_root.rglob("*") if p.is_file()] == []
