"""Sizes as people read them, in one unit system everywhere (CLI, progress bars, gallery).

Decimal SI units (1 kB = 1,000 bytes), as rich's progress columns and file managers show them.
"""

from __future__ import annotations


def human_bytes(count: float) -> str:
    """``1234567`` as ``1.2 MB``; under 1,000 bytes as ``512 B``."""
    if abs(count) < 1000:
        return f"{count:.0f} B"
    for unit in ("kB", "MB", "GB"):
        count /= 1000
        if abs(count) < 999.95:
            return f"{count:.1f} {unit}"
    return f"{count / 1000:.1f} TB"


def files_rate(per_second: float) -> str:
    """``12.5 files/s``."""
    return f"{per_second:,.1f} files/s"
