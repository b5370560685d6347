"""A time limit on a block of Python code, for the rules run on one file."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class Expired(Exception):
    """The block ran past its limit."""


@contextmanager
def time_limit(seconds: float):
    """Raise Expired inside the block once `seconds` have passed.

    A SIGALRM timer: it needs a POSIX system and the main thread (worker processes run
    their tasks there); elsewhere, or with `seconds <= 0`, the block runs unbounded.
    Native code (a parser) is interrupted only when it returns to Python, so libcst is
    bounded by lowering.py's child process instead.
    """
    if seconds <= 0 or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise Expired()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
