"""The README's Python snippets run as written: "Upload a folder from Python", then "Label, export,
train", against an embedded client, in a folder laid out as the README's table shows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.images import make_image

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(section: str) -> list[str]:
    """The ```python blocks of the README section titled ``section``."""
    text = (ROOT / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.S)


def test_the_readme_links_a_contract_that_is_in_the_repository() -> None:
    text = (ROOT / "README.md").read_text()
    assert "../shared" not in text
    assert "(docs/upload-contract.md)" in text
    assert (ROOT / "docs" / "upload-contract.md").read_text().startswith("#")


def test_the_label_export_train_snippet_runs_as_written_on_a_fresh_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "road_signs"
    for name in ("stop/001.jpg", "stop/002.jpg", "004.jpg"):
        make_image(folder / name, size=(64, 64))
    coco = {
        "images": [{"id": 1, "file_name": "stop/002.jpg", "width": 64, "height": 64}],
        "categories": [{"id": 1, "name": "stop"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 30, 20]}],
    }
    (tmp_path / "labels.json").write_text(json.dumps(coco))
    script = "\n".join(
        python_blocks("Upload a folder from Python") + python_blocks("Label, export, train")
    )
    assert "client.annotations.save" in script and "by_similarity" in script

    env = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    env |= {"HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 uploaded, 0 skipped" in result.stdout
    with zipfile.ZipFile(tmp_path / "v1-yolo.zip") as archive:
        labels = {n: archive.read(n).decode() for n in archive.namelist() if n.endswith(".txt")}
    # YOLO mirrors the dataset's folders: <split>/labels/<folder>/<stem>.txt
    saved = {name.rsplit("/labels/", 1)[-1]: text for name, text in labels.items()}
    assert saved["stop/001.txt"].startswith("0 ")
    assert saved["stop/002.txt"].startswith("0 ")
