"""Group commit: concurrent small writes share one transaction.

Each uploaded file ends in a tiny write (a pending row, or its image row). Done one by one, every
file pays for a transaction of its own; the database lock makes them queue anyway. Here the
first caller to arrive becomes the leader: it takes every job queued so far, runs them together
through ``run_group`` (one transaction), hands each caller its own result or error, and repeats
while jobs keep arriving. Followers just wait. No extra thread, no added latency when alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")

#: ``run_group(jobs)`` returns one result or exception per job, in order.
GroupRunner = Callable[[Sequence[Job]], Sequence[Result | Exception]]


@dataclass
class _Ticket(Generic[Job, Result]):
    job: Job
    wake: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    outcome: Result | Exception | None = None


class GroupCommit(Generic[Job, Result]):
    """Runs jobs submitted from many threads in groups; ``submit`` blocks until its group ran.

    Leadership passes on after every group, so no caller serves others for long.
    """

    def __init__(self, run_group: GroupRunner[Job, Result], max_group: int = 64) -> None:
        self._run_group = run_group
        self._max_group = max_group
        self._lock = threading.Lock()
        self._queue: list[_Ticket[Job, Result]] = []
        self._leading = False

    def submit(self, job: Job) -> Result:
        """Run ``job`` in the next group; return its result or raise its error."""
        ticket: _Ticket[Job, Result] = _Ticket(job)
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = True
        if not lead:
            ticket.wake.wait()
        if not ticket.finished:  # we lead (first to arrive, or promoted): our group includes us
            self._lead_one_group()
        if isinstance(ticket.outcome, Exception):
            raise ticket.outcome
        return ticket.outcome  # type: ignore[return-value]

    def _lead_one_group(self) -> None:
        with self._lock:
            group, self._queue = self._queue[: self._max_group], self._queue[self._max_group :]
        try:
            outcomes: Sequence[Result | Exception] = self._run_group([t.job for t in group])
        except Exception as error:  # the whole group failed: every caller gets the error
            outcomes = [error] * len(group)
        for ticket, outcome in zip(group, outcomes, strict=True):
            ticket.outcome, ticket.finished = outcome, True
            ticket.wake.set()
        with self._lock:
            if self._queue:  # hand leadership to the oldest waiter
                self._queue[0].wake.set()
            else:
                self._leading = False
