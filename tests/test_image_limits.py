"""What one image may cost is bounded before it is decoded: pixels read from the header against
``--max-image-pixels``, and decoded pixels of all uploads together within ``--decode-memory-mb``.
Eight 13,000 x 13,000 PNGs uploaded at once keep the server's peak RSS within its budget."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.images import huge_png
from tests.served import Served, serve
from tests.server.flows import create_dataset, register, upload_url

#: What the server process holds besides the decode budget (Python, the app, buffers).
BASELINE_MIB = 250


@pytest.fixture(scope="module")
def giant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return huge_png(tmp_path_factory.mktemp("giant") / "giant.png", 13000, 13000)


def peak_rss_mib(served: Served) -> float:
    status = Path(f"/proc/{served.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def upload_all(served: Served, giant: Path, count: int) -> list[httpx.Response]:
    key = served.create_key("acme")
    headers = {"X-API-Key": key}
    # Decodes take turns within the budget: on a busy machine the last in line waits minutes.
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=600) as client:
        create_dataset(client, "giants")

        def one(index: int) -> httpx.Response:
            name = f"giant-{index}.png"
            step1 = upload_url(client, "giants", name, "/", "image/png")
            assert step1.status_code == 200, step1.text
            put = client.put(
                step1.json()["data"]["upload_url"],
                content=giant.read_bytes(),
                headers={"content-type": "image/png"},
            )
            if put.status_code != 200:
                return put
            return register(client, "giants", name)

        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(one, range(count)))


def test_an_image_over_the_pixel_limit_is_a_422_naming_the_limit_before_decoding(
    tmp_path: Path, giant: Path
) -> None:
    with serve(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}") as served:
        answers = upload_all(served, giant, 8)
        peak = peak_rss_mib(served)
    print(f"peak RSS {peak:.0f} MiB, answers {[answer.status_code for answer in answers]}")
    for answer in answers:
        assert answer.status_code == 422, answer.text
        message = answer.json()["error"]["message"]
        assert "169,000,000 pixels" in message and "--max-image-pixels" in message
    assert peak < BASELINE_MIB  # nothing was decoded
    assert not list((tmp_path / "blobs").rglob("*-*"))  # no bytes kept


def test_eight_huge_pngs_at_once_are_decoded_within_the_memory_budget(
    tmp_path: Path, giant: Path
) -> None:
    budget_mib = 800  # room for one decoded 13,000 x 13,000 image (645 MiB) at a time
    limits = ("--max-image-pixels", "170000000", "--decode-memory-mb", str(budget_mib))
    with serve(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", *limits) as served:
        answers = upload_all(served, giant, 8)
        peak = peak_rss_mib(served)
    assert [answer.status_code for answer in answers] == [201] * 8
    assert peak < budget_mib + BASELINE_MIB, f"peak RSS {peak:.0f} MiB"
    print(f"peak RSS {peak:.0f} MiB with a {budget_mib} MiB decode budget")


def test_an_image_whose_decoded_pixels_exceed_the_budget_is_a_422_naming_it(
    tmp_path: Path, giant: Path
) -> None:
    limits = ("--max-image-pixels", "170000000", "--decode-memory-mb", "256")
    with serve(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", *limits) as served:
        (answer,) = upload_all(served, giant, 1)
    assert answer.status_code == 422
    assert "--decode-memory-mb" in answer.json()["error"]["message"]
