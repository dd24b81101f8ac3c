"""Progress of a many-file command, on stderr so that stdout stays a clean report.

On a terminal it is a live rich bar (files, bytes, rate, ETA); in a pipe or a log it is a plain
line every :data:`LINE_INTERVAL` seconds or every tenth of the files, whichever comes first.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from pictograph.cli.output import human_bytes, human_seconds

#: Seconds between two plain progress lines, at most.
LINE_INTERVAL = 5.0
#: Plain lines also come every time another 1/LINE_STEPS of the files is done.
LINE_STEPS = 10


class Meter(Protocol):
    """Something told how many files and bytes are done so far."""

    def update(self, files_done: int, bytes_done: int) -> None: ...


class _Silent:
    def update(self, files_done: int, bytes_done: int) -> None:
        pass


class PlainLines:
    """``upload: 40/100 files (40%), 1.2 MB of 3.0 MB, 650.0 kB/s, ETA 2.8s`` now and then."""

    def __init__(
        self,
        label: str,
        total_files: int,
        total_bytes: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.total_files, self.total_bytes = label, total_files, total_bytes
        self.clock = clock
        self.started = self.last_time = clock()
        self.last_step = 0

    def update(self, files_done: int, bytes_done: int) -> None:
        now = self.clock()
        step = files_done * LINE_STEPS // max(self.total_files, 1)
        finished = files_done >= self.total_files
        if finished or step > self.last_step or now - self.last_time >= LINE_INTERVAL:
            self.last_step, self.last_time = step, now
            click.echo(self.line(files_done, bytes_done, now - self.started), err=True)

    def line(self, files_done: int, bytes_done: int, elapsed: float) -> str:
        """One progress line for this state after ``elapsed`` seconds."""
        percent = 100 * files_done // max(self.total_files, 1)
        rate = bytes_done / elapsed if elapsed > 0 else 0.0
        if files_done >= self.total_files:
            eta = f"done in {human_seconds(elapsed)}"
        elif rate > 0:
            eta = f"ETA {human_seconds((self.total_bytes - bytes_done) / rate)}"
        else:
            eta = "ETA unknown"
        return (
            f"{self.label}: {files_done}/{self.total_files} files ({percent}%), "
            f"{human_bytes(bytes_done)} of {human_bytes(self.total_bytes)}, "
            f"{human_bytes(rate)}/s, {eta}"
        )


class LiveBar:
    """A rich progress bar on the terminal; the bar measures bytes, the text counts files."""

    def __init__(self, progress: Progress, task: TaskID, total_files: int) -> None:
        self.progress, self.task, self.total_files = progress, task, total_files

    def update(self, files_done: int, bytes_done: int) -> None:
        self.progress.update(self.task, completed=bytes_done, files=files_done)


@contextmanager
def progress_meter(
    label: str, total_files: int, total_bytes: int, *, enabled: bool = True
) -> Iterator[Meter]:
    """The right meter for stderr: silent when not ``enabled``, a bar on a terminal, else lines."""
    if not enabled or total_files == 0:
        yield _Silent()
        return
    console = Console(file=sys.stderr)
    if not console.is_terminal:
        yield PlainLines(label, total_files, total_bytes)
        return
    with _rich_progress(console) as progress:
        task = progress.add_task(label, total=total_bytes, files=0, total_files=total_files)
        yield LiveBar(progress, task, total_files)


def _rich_progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files]}/{task.fields[total_files]} files"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
