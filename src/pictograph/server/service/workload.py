"""Expensive work on one object (decoding an image for its descriptor or a rendition), bounded.

One computation per object key is in flight at a time: later callers for the same key wait for
its result instead of decoding again. At most ``slots`` computations run in the process at once
and at most ``per_organization`` for one organisation, so a burst of requests from one
organisation neither multiplies the work nor takes every core. A caller whose client has left
(``wanted()`` turns false) starts nothing more: it stops waiting and raises ``ClientGone``; a
computation already running finishes (its result is stored, and others may be waiting for it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

#: Whether the client that asked for the work is still there.
Wanted = Callable[[], bool]

#: Seconds between looks at ``wanted()`` while waiting for a slot or another's computation.
_CHECK_EVERY = 0.25


def always() -> bool:
    """``Wanted`` of work nobody can cancel (the background worker, tests)."""
    return True


class ClientGone(Exception):
    """The client that asked for this work has disconnected: nothing more is started for it."""


class _Abandoned(Exception):
    """The caller computing a key left before it started; a waiter computes it itself."""


class Workload:
    """Single-flight per key, bounded overall and per organisation (one per ``AppContext``)."""

    def __init__(self, slots: int | None = None, per_organization: int = 1) -> None:
        #: Half the cores by default: the other half keeps answering everything else.
        self.slots = slots if slots is not None else max(1, (os.cpu_count() or 2) // 2)
        self.per_organization = per_organization
        self._turn = threading.Condition()
        self._running = 0
        self._by_organization: dict[str, int] = {}
        self._flights: dict[str, Future[Any]] = {}

    def run(
        self,
        key: str,
        compute: Callable[[], T],
        *,
        organization: str | None = None,
        wanted: Wanted = always,
    ) -> T:
        """``compute()``'s result for ``key``: computed here (within the bounds), or the result
        of the computation of ``key`` already in flight. ``ClientGone`` when ``wanted()`` turns
        false before this caller's computation started or while it waits for another's."""
        while True:
            with self._turn:
                flight = self._flights.get(key)
                mine = flight is None
                if flight is None:
                    flight = self._flights[key] = Future()
            if not mine:
                try:
                    result: T = _result(flight, wanted)
                except _Abandoned:
                    continue
                return result
            return self._compute(key, flight, compute, organization, wanted)

    def _compute(
        self,
        key: str,
        flight: Future[Any],
        compute: Callable[[], T],
        organization: str | None,
        wanted: Wanted,
    ) -> T:
        try:
            self._enter(organization, wanted)
        except BaseException:
            with self._turn:
                del self._flights[key]
            flight.set_exception(_Abandoned())
            raise
        try:
            result = compute()
        except BaseException as error:
            flight.set_exception(error)
            raise
        else:
            flight.set_result(result)
            return result
        finally:
            with self._turn:
                del self._flights[key]
                self._running -= 1
                if organization is not None:
                    left = self._by_organization.pop(organization) - 1
                    if left:
                        self._by_organization[organization] = left
                self._turn.notify_all()

    def _enter(self, organization: str | None, wanted: Wanted) -> None:
        """Wait for a slot (overall and the organisation's); ``ClientGone`` if the client left."""
        with self._turn:
            while not self._room(organization):
                if not wanted():
                    raise ClientGone("the client disconnected")
                self._turn.wait(_CHECK_EVERY)
            self._running += 1
            if organization is not None:
                self._by_organization[organization] = self._by_organization.get(organization, 0) + 1

    def _room(self, organization: str | None) -> bool:
        if self._running >= self.slots:
            return False
        return organization is None or (
            self._by_organization.get(organization, 0) < self.per_organization
        )


def _result(flight: Future[T], wanted: Wanted) -> T:
    """The result of another caller's computation, waited for while the client is there."""
    while True:
        try:
            return flight.result(timeout=_CHECK_EVERY)
        except TimeoutError:
            if not wanted():
                raise ClientGone("the client disconnected") from None
