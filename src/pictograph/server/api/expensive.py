"""Running a request whose work may be expensive (similarity search, renditions) off the event
loop without starving other requests.

Such a request waits on the event loop, not on a thread, until its organisation has fewer than
``PER_ORGANIZATION`` of its kind running (searches and renditions queue apart, so a burst of
searches does not hold up the gallery's thumbnails), then runs on a thread of its own pool of
``THREADS`` (not the pool every other synchronous route uses, so a burst of them never holds
the threads a listing needs). The work gets a ``wanted()`` that turns false once the client has
disconnected; ``service/workload.py`` then starts nothing more for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.lowlevel import RunVar
from fastapi import Request

from pictograph.server.service.workload import ClientGone, Wanted

T = TypeVar("T")

#: Expensive requests of one organisation running at once (the rest wait on the event loop).
PER_ORGANIZATION = 2
#: Threads for expensive requests of all organisations together.
THREADS = 8

_GATES: RunVar[dict[tuple[str, str], anyio.CapacityLimiter]] = RunVar("pictograph_expensive_gates")
_THREADS: RunVar[anyio.CapacityLimiter] = RunVar("pictograph_expensive_threads")


async def run_expensive(
    request: Request, kind: str, organization: str, work: Callable[[Wanted], T]
) -> T:
    """``work(wanted)`` on a thread, within the bounds of the organisation's requests of this
    ``kind`` and the overall bound.

    ``ClientGone`` when the client left before the work started (or from ``work`` itself)."""
    gates = _gates()
    gate = gates.setdefault((kind, organization), anyio.CapacityLimiter(PER_ORGANIZATION))
    try:
        async with gate:
            if await request.is_disconnected():
                raise ClientGone("the client disconnected")
            return await anyio.to_thread.run_sync(work, _wanted(request), limiter=_threads())
    finally:
        if gate.borrowed_tokens == 0 and gate.statistics().tasks_waiting == 0:
            gates.pop((kind, organization), None)  # an organisation seen once keeps no gate


def _wanted(request: Request) -> Wanted:
    """Whether the client is still there, asked from the work's thread (cheap: no waiting)."""

    def wanted() -> bool:
        return not anyio.from_thread.run(request.is_disconnected)

    return wanted


def _gates() -> dict[tuple[str, str], anyio.CapacityLimiter]:
    """This event loop's gates, one per kind and organisation with requests in progress."""
    try:
        return _GATES.get()
    except LookupError:
        gates: dict[tuple[str, str], anyio.CapacityLimiter] = {}
        _GATES.set(gates)
        return gates


def _threads() -> anyio.CapacityLimiter:
    try:
        return _THREADS.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(THREADS)
        _THREADS.set(limiter)
        return limiter
