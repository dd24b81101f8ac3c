"""Group commit: jobs from many threads run in shared groups, each caller gets its own outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from pictograph.server.service.group_commit import GroupCommit


def test_concurrent_jobs_share_groups_and_each_gets_its_own_result() -> None:
    groups: list[int] = []

    def run_group(jobs: Sequence[int]) -> list[int | Exception]:
        groups.append(len(jobs))
        time.sleep(0.01)  # a transaction takes a while, so others queue meanwhile
        return [job * 10 if job % 7 else ValueError(f"job {job} refused") for job in jobs]

    committer: GroupCommit[int, int] = GroupCommit(run_group)

    def submit(job: int) -> int | str:
        try:
            return committer.submit(job)
        except ValueError as error:
            return str(error)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(submit, range(1, 201)))

    assert results == [n * 10 if n % 7 else f"job {n} refused" for n in range(1, 201)]
    assert sum(groups) == 200
    assert len(groups) < 100  # grouped, not one transaction per job


def test_a_group_that_fails_as_a_whole_fails_each_of_its_callers_and_the_next_one_runs() -> None:
    calls = threading.Lock()
    seen: list[Sequence[str]] = []

    def run_group(jobs: Sequence[str]) -> list[str | Exception]:
        with calls:
            seen.append(jobs)
        if "boom" in jobs:
            raise RuntimeError("database went away")
        return [job.upper() for job in jobs]

    committer: GroupCommit[str, str] = GroupCommit(run_group)
    with pytest.raises(RuntimeError, match="went away"):
        committer.submit("boom")
    assert committer.submit("fine") == "FINE"
