"""Pairs of alike descriptors without comparing every pair: what split leakage
(``leakage.py``) and near-duplicate clusters (``duplicates.py``) both look for.

The 64-bit difference hash is cut into eight bytes, and two images are compared only when one
byte matches. Two hashes differing in at most seven bits always share a byte; half the score is
the hash, so a score ``t`` allows at most ``64 * (2 - 2t)`` differing bits: 7 at 0.94, 6 at 0.95.
No pair at or above a threshold of 0.94 is missed; a lower threshold would miss some.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from pictograph.server.service.descriptors import similarity

#: The least threshold for which banding misses no pair (see the module's docstring).
LEAST_THRESHOLD = 0.94
_BANDS = 8


def alike_pairs(
    known: dict[str, str],
    threshold: float,
    *,
    compared: Callable[[str, str], bool] | None = None,
) -> list[tuple[str, str, float]]:
    """``(a, b, similarity)`` of every two images of ``known`` (id -> descriptor) at least
    ``threshold`` alike, ``a < b``, among the pairs ``compared(a, b)`` accepts (every pair when
    None); candidates share a byte of the hash."""
    buckets: dict[tuple[int, str], list[str]] = {}
    for image_id, descriptor in known.items():
        for band in range(_BANDS):
            buckets.setdefault((band, descriptor[2 * band : 2 * band + 2]), []).append(image_id)
    seen: set[tuple[str, str]] = set()
    found = []
    for members in buckets.values():
        for a, b in itertools.combinations(sorted(members), 2):
            if (a, b) in seen or (compared is not None and not compared(a, b)):
                continue
            seen.add((a, b))
            score = similarity(known[a], known[b])
            if score >= threshold:
                found.append((a, b, score))
    return found
