"""The official SDK's upload_from_directory, timed (runs in .venv-official)."""

from __future__ import annotations

import json
import sys
import time

from worker import peak_rss_mb  # bench/worker.py, beside this script

from pictograph import Client

folder, base_url, key = sys.argv[1], sys.argv[2], sys.argv[3]
client = Client(api_key=key, base_url=base_url)
started = time.perf_counter()
report = client.images.upload_from_directory("bench-official", folder)
seconds = time.perf_counter() - started
print(
    json.dumps(
        {
            "seconds": seconds,
            "uploaded": report.images_uploaded,
            "skipped": report.images_skipped,
            "failed": len(report.failures),
            "peak_rss_mb": peak_rss_mb(),
        }
    )
)
