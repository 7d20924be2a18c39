"""Termination signals as a clean exit: SIGTERM and SIGHUP (closing the launching terminal) are
raised as ``Stopped``, a KeyboardInterrupt, so that the code that handles Ctrl+C (summarise, save,
stop the processes) handles them too, and the process ends with status 128 + the signal's number.

Standard library only, and imported before anything heavy (NumPy, Qt), so that a signal during
start-up ends the process cleanly too.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

# SIGHUP does not exist on Windows.
TERMINATION_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """A termination signal, raised where the program was, like Ctrl+C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


def raise_on_termination() -> None:
    """SIGTERM and SIGHUP raise Stopped (in the main thread; a no-op elsewhere)."""
    for signum in TERMINATION_SIGNALS:
        try:
            if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup's choice stands
                signal.signal(signum, _raise)
        except ValueError:  # not the main thread
            return


def ignore_interrupts() -> None:
    """From now on Ctrl+C and the termination signals are ignored: the program is already
    finishing because of one, and a second must not break that half-way."""
    for signum in (signal.SIGINT, *TERMINATION_SIGNALS):
        try:
            signal.signal(signum, signal.SIG_IGN)
        except ValueError:
            return


@contextlib.contextmanager
def handlers_restored() -> Iterator[None]:
    """Put the handlers of Ctrl+C and the termination signals back as they were afterwards: the
    command, called in-process (a test, a notebook), must not leave its caller ignoring Ctrl+C,
    nor the caller's children, which inherit an ignored signal."""
    saved = {}
    for signum in (signal.SIGINT, *TERMINATION_SIGNALS):
        with contextlib.suppress(ValueError):
            saved[signum] = signal.getsignal(signum)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:  # None: set from C, not from Python; left alone
                with contextlib.suppress(ValueError, TypeError):  # not the main thread
                    signal.signal(signum, handler)


def exit_status(interrupt: KeyboardInterrupt) -> int:
    """128 + the signal's number, as a shell reports a process ended by it."""
    return 128 + int(getattr(interrupt, "signum", signal.SIGINT))
