"""Progress of a many-file command, on stderr so that stdout stays a clean report.

On a terminal it is a live rich bar (files, bytes, rate, ETA); in a pipe or a log it is a plain
line every :data:`LINE_INTERVAL` seconds or every tenth of the files, whichever comes first.

The rate is files a second over the whole run, not bytes: a file skipped because it is already
there counts as done without a byte sent, so a byte rate would claim speeds no link has.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import click

from pictograph.cli.output import human_bytes, human_seconds
from pictograph.sizes import files_rate

#: Seconds between two plain progress lines, at most.
LINE_INTERVAL = 5.0
#: Plain lines also come every time another 1/LINE_STEPS of the files is done.
LINE_STEPS = 10


class Stopwatch:
    """The one clock of a command: the progress line and the closing summary both read it, and
    the first :meth:`stop` (the last file done, or the summary) fixes the elapsed time both
    show."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()
        self._stopped: float | None = None

    def elapsed(self) -> float:
        """Seconds since the start, or up to the stop once stopped."""
        end = self._stopped if self._stopped is not None else self.clock()
        return end - self.started

    def stop(self) -> float:
        """Stop (the first call only) and return the elapsed seconds."""
        if self._stopped is None:
            self._stopped = self.clock()
        return self.elapsed()


class Meter(Protocol):
    """Something told how many files and bytes are done so far."""

    def update(self, files_done: int, bytes_done: int) -> None: ...


class _Silent:
    def update(self, files_done: int, bytes_done: int) -> None:
        pass


class PlainLines:
    """``upload: 40/100 files (40%), 1.2 MB of 3.0 MB, 12.5 files/s, ETA 4.8s`` now and then."""

    def __init__(
        self,
        label: str,
        total_files: int,
        total_bytes: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        stopwatch: Stopwatch | None = None,
    ) -> None:
        self.label, self.total_files, self.total_bytes = label, total_files, total_bytes
        self.clock = clock
        self.stopwatch = stopwatch or Stopwatch(clock)
        self.last_time = clock()
        self.last_step = 0

    def update(self, files_done: int, bytes_done: int) -> None:
        now = self.clock()
        step = files_done * LINE_STEPS // max(self.total_files, 1)
        finished = files_done >= self.total_files
        if finished or step > self.last_step or now - self.last_time >= LINE_INTERVAL:
            self.last_step, self.last_time = step, now
            elapsed = self.stopwatch.stop() if finished else self.stopwatch.elapsed()
            click.echo(self.line(files_done, bytes_done, elapsed), err=True)

    def line(self, files_done: int, bytes_done: int, elapsed: float) -> str:
        """One progress line for this state after ``elapsed`` seconds."""
        percent = 100 * files_done // max(self.total_files, 1)
        rate = files_done / elapsed if elapsed > 0 else 0.0
        if files_done >= self.total_files:
            eta = f"done in {human_seconds(elapsed)}"
        elif rate > 0:
            eta = f"ETA {human_seconds((self.total_files - files_done) / rate)}"
        else:
            eta = "ETA unknown"
        return (
            f"{self.label}: {files_done}/{self.total_files} files ({percent}%), "
            f"{human_bytes(bytes_done)} of {human_bytes(self.total_bytes)}, "
            f"{files_rate(rate)}, {eta}"
        )


@contextmanager
def progress_meter(
    label: str,
    total_files: int,
    total_bytes: int,
    *,
    enabled: bool = True,
    stopwatch: Stopwatch | None = None,
) -> Iterator[Meter]:
    """The right meter for stderr: silent when not ``enabled``, a bar on a terminal, else lines
    (timed by ``stopwatch`` when given, so a summary after them shows the same time)."""
    if not enabled or total_files == 0:
        yield _Silent()
        return
    from rich.console import Console  # rich is imported only for a command that shows progress

    console = Console(file=sys.stderr)
    if not console.is_terminal:
        yield PlainLines(label, total_files, total_bytes, stopwatch=stopwatch)
        return
    from pictograph.cli.live_bar import live_bar

    with live_bar(console, label, total_files, total_bytes) as bar:
        yield bar
