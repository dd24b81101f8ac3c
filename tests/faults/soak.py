"""``make soak``: the fault suite at full size, printed as one table.

Every scenario runs on SQLite, the kill scenario on PostgreSQL too. Exit status 1 when any
lost, duplicated, mismatched or orphan cell (or a failure) is not 0.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.faults import scenarios
from tests.faults.scenarios import COLUMNS, Row

POSTGRES_URL = os.environ.get(
    "PICTOGRAPH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FILES = int(os.environ.get("SOAK_FILES", "300"))
KILLS = int(os.environ.get("SOAK_KILLS", "6"))


def main() -> int:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="pictograph-soak-") as scratch:
        root = Path(scratch)
        folder = scenarios.make_folder(root / "images", FILES)
        runs: list[tuple[str, Callable[[Path, str], Row]]] = [
            ("sqlite", lambda h, d: scenarios.kill_during_upload(h, d, folder, KILLS, seed=1)),
            ("postgres", lambda h, d: scenarios.kill_during_upload(h, d, folder, KILLS, seed=2)),
            ("sqlite", lambda h, d: scenarios.through_faulty_proxy(h, d, folder, 0.05, seed=3)),
            ("sqlite", lambda h, d: scenarios.through_faulty_proxy(h, d, folder, 0.25, seed=4)),
            ("sqlite", lambda h, d: scenarios.resets_per_file(h, d, folder, 0.25, seed=5)),
            ("sqlite", lambda h, d: scenarios.concurrent_uploaders(h, d, folder, 2)),
            ("postgres", lambda h, d: scenarios.concurrent_uploaders(h, d, folder, 4)),
            ("sqlite", lambda h, d: scenarios.rate_limit_storm(h, d, folder, 32)),
            ("sqlite", lambda h, d: scenarios.gc_racing_uploads_and_exports(h, d, folder)),
            ("postgres", lambda h, d: scenarios.gc_racing_uploads_and_exports(h, d, folder)),
            ("sqlite", lambda h, d: scenarios.admins_racing(h, d, 12)),
            ("postgres", lambda h, d: scenarios.admins_racing(h, d, 12)),
            ("sqlite", lambda h, d: scenarios.hostile_clients(h, d, 256)),
            ("sqlite", lambda h, d: scenarios.similarity_storm(h, d, FILES)),
        ]
        for index, (engine, scenario) in enumerate(runs):
            home = root / f"run-{index}"
            home.mkdir()
            if engine == "postgres":
                with scenarios.postgres_database(POSTGRES_URL) as database_url:
                    row = scenario(home, database_url)
            else:
                row = scenario(home, f"sqlite:///{home / 'metadata.db'}")
            row.scenario += f" [{engine}]"
            rows.append(row)
            print(" | ".join(row.cells()), file=sys.stderr, flush=True)
    print_table(rows)
    return 0 if all(row.intact and row.failures == 0 for row in rows) else 1


def print_table(rows: list[Row]) -> None:
    cells = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    for number, line in enumerate(cells):
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if number == 0:
            print("-+-".join("-" * width for width in widths))


if __name__ == "__main__":
    sys.exit(main())
