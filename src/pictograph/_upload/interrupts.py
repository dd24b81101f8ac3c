"""Ctrl-C held back while an upload records an answer, so its counts stay exact.

Python raises ``KeyboardInterrupt`` in the main thread between any two bytecodes: between
"this request was submitted" and "remember it", or "this file is counted" and "it landed", a
file that landed would be lost from the report. While :func:`deferred` is in force (an upload
on the main thread, with Python's own SIGINT handler in place), Ctrl-C inside a :func:`held`
block is raised when the block ends; outside one, at once, as usual. Elsewhere both are no-ops.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class _Hold:
    def __init__(self) -> None:
        self.active = False
        self.depth = 0
        self.pending = False

    def on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.depth:
            self.pending = True
        else:
            raise KeyboardInterrupt


_HOLD = _Hold()


@contextmanager
def deferred() -> Iterator[None]:
    """Let :func:`held` blocks hold Ctrl-C back for the length of this block (main thread, and
    only when SIGINT has Python's default handler: a caller's own handler is left alone)."""
    main = threading.current_thread() is threading.main_thread()
    ours = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if not main or _HOLD.active or not ours:
        yield
        return
    _HOLD.active, _HOLD.depth, _HOLD.pending = True, 0, False
    signal.signal(signal.SIGINT, _HOLD.on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _HOLD.active = False


@contextmanager
def held() -> Iterator[None]:
    """Ctrl-C pressed during this block is raised when it ends (see :func:`deferred`)."""
    if not _HOLD.active or threading.current_thread() is not threading.main_thread():
        yield
        return
    _HOLD.depth += 1
    try:
        yield
    finally:
        _HOLD.depth -= 1
        if _HOLD.depth == 0 and _HOLD.pending:
            _HOLD.pending = False
            raise KeyboardInterrupt
