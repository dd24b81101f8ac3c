"""Run a folder upload in a child process that cannot read one of the files.

Root reads every file whatever its mode, so when the tests run as root the child runs under
``setpriv`` without the capabilities that bypass file permissions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.images import make_image

CHILD = """
import json, sys
from pictograph import Client
from pictograph.workflows import upload_dataset_from_folder
with Client() as client:
    report = upload_dataset_from_folder(client, "locked", sys.argv[1])
print(json.dumps({
    "images_uploaded": report.images_uploaded,
    "failures": [[f.path.name, f.reason] for f in report.failures],
}))
"""

WITHOUT_PERMISSION_BYPASS = [
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
    "--",
]


def run_upload_without_read_permission(
    tmp_path: Path, client_env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Upload a folder of two small images, one unreadable, with ``Client()`` configured by
    ``client_env`` (the embedded store under ``tmp_path`` when not given)."""
    folder = tmp_path / "locked"
    make_image(folder / "open.jpg")
    make_image(folder / "locked.jpg").chmod(0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
    env.update(client_env or {"PICTOGRAPH_HOME": str(tmp_path / "home")})
    prefix = WITHOUT_PERMISSION_BYPASS if os.geteuid() == 0 else []
    result = subprocess.run(
        [*prefix, sys.executable, "-c", CHILD, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report
