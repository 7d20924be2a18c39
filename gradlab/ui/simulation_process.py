"""The simulation process: iterates ``gradlab.core.run`` and reports to the window through a pipe.

It imports no Qt. The window's ``SimulationController`` (``gradlab.ui.simulation``) starts it and
sends it ``gradlab.ui.protocol.Wanted``; it answers with that module's reports. Its loop is a small
state machine: idle (no run, paused, run over, or a newer run on the way), it waits for a message;
otherwise it computes one update, then reads what arrived and sends what it can.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from gradlab.core import Frame, HistogramEdges
from gradlab.core.jacobian import JacobianProbe
from gradlab.core.record import UpdateLog
from gradlab.ui import protocol as msg

NICENESS = 5  # scheduling priority below the window's: its thread runs first when both want a core
# The signal with which the window interrupts an update of a superseded run (none on Windows:
# there the window hands the new run to a standby process instead).
INTERRUPT_SIGNAL = getattr(signal, "SIGUSR1", None)
# Ctrl+C in the launching terminal reaches the whole process group; the window decides what it
# means (it quits, and ends this process). Closing that terminal (SIGHUP) likewise.
WINDOW_DECIDES = tuple(getattr(signal, name) for name in ("SIGINT", "SIGHUP") if hasattr(signal, name))
NOT_ENOUGH_MEMORY = "Not enough memory for this run: make the hidden size, the length or the batch smaller."

log = logging.getLogger(__name__)


def _failure(what: str, exc: Exception) -> str:
    """Log ``exc`` (running out of memory is an expected limit, not a bug: one line, no traceback)
    and say it in a line for the window."""
    log.error("%s failed: %r", what, exc, exc_info=not isinstance(exc, MemoryError))
    return NOT_ENOUGH_MEMORY if isinstance(exc, MemoryError) else f"{type(exc).__name__}: {exc}"


class Superseded(Exception):
    """Raised into an update of a run that the window no longer wants."""


@dataclass
class _Run:
    """One run and what of it is still to be sent."""

    run_id: int
    frames: Generator[Frame, None, None]
    edges: HistogramEdges
    jacobian: JacobianProbe
    unsent: UpdateLog = field(default_factory=UpdateLog)
    latest: Frame | None = None
    ended: msg.Ended | None = None  # how it ended, once it has
    end_sent: bool = False
    compute_s: float = 0.0
    updates: int = 0

    @property
    def news(self) -> bool:
        return len(self.unsent) > 0 or (self.ended is not None and not self.end_sent)


class SimulationLoop:
    """The process's state and the transitions that ``Wanted`` and the updates make.

    ``wanted`` (shared memory) holds the run the window wants: when it sends ``INTERRUPT_SIGNAL``,
    an update (or measurement) of another run under way is ended by ``Superseded``."""

    def __init__(self, conn: Connection, wanted: Any) -> None:
        self.conn = conn
        self.wanted = wanted
        self.want: msg.Wanted | None = None  # the last Wanted read
        self.run: _Run | None = None
        self.credits = 0  # updates allowed while paused (steps, and a new run's first)
        self.may_send = True  # the window took the previous Updates
        self.computing = 0  # the run whose update is under way; 0: none
        if INTERRUPT_SIGNAL is not None:
            signal.signal(INTERRUPT_SIGNAL, self._on_interrupt)

    def _on_interrupt(self, signum: int, frame: object) -> None:
        if self.computing and self.wanted.value != self.computing:
            raise Superseded  # between two NumPy calls

    @contextlib.contextmanager
    def _interruptible(self, run: _Run) -> Iterator[None]:
        self.computing = run.run_id
        try:
            yield
        finally:
            self.computing = 0

    @property
    def idle(self) -> bool:
        run, want = self.run, self.want
        return (
            run is None
            or want is None
            or run.ended is not None
            or (want.paused and self.credits == 0)
            or self.wanted.value != run.run_id  # its Wanted is on the way
        )

    def serve(self) -> None:
        """Read, compute, send, until ``Quit`` or until the window's end of the pipe closes."""
        self.conn.send(msg.Ready())
        while self.read(block=self.idle):
            if not self.idle:
                self.compute()
                # What came during the update: the window's Took for the last Updates, most often.
                # Sending before reading it would hold this update until the next one is done, and
                # a slow run would show every other update.
                if not self.read(block=False):
                    return
            self.send_news()
            self.measure_jacobian()  # also asked for while paused: for the update shown

    def read(self, *, block: bool) -> bool:
        """Act on every message that arrived (waiting for one if ``block``); False on ``Quit``."""
        timeout = None if block else 0
        while self.conn.poll(timeout):
            timeout = 0
            message = self.conn.recv()
            if isinstance(message, msg.Quit):
                return False
            if isinstance(message, msg.Took):
                self.may_send = True
            else:
                run = self.apply(message)
                self.conn.send(msg.Heard(run.run_id, run.news))
        return True

    def apply(self, want: msg.Wanted) -> _Run:
        before, self.want = self.want or want, want
        run = self.run
        if run is None or want.run_id != run.run_id:
            run = self.start(want)
        elif want.jacobian_k != before.jacobian_k:
            run.jacobian.request(want.jacobian_k)
        (run.edges.freeze if want.edges_frozen else run.edges.unfreeze)()
        # Pausing a run that has shown nothing yet (or starting one while paused) shows its first update.
        if run.updates == 0 or (want.paused and not before.paused):
            self.credits = int(run.updates == 0)
        self.credits += want.steps
        return run

    def start(self, want: msg.Wanted) -> _Run:
        if self.run is not None:
            self.run.frames.close()
        module_name, _, name = want.run_path.partition(":")
        function = getattr(importlib.import_module(module_name), name)
        edges, jacobian = HistogramEdges(), JacobianProbe(want.config, k=want.jacobian_k)
        self.run = _Run(want.run_id, function(want.config, histogram_edges=edges, jacobian=jacobian), edges, jacobian)
        return self.run

    def compute(self) -> None:
        """One update of the current run (or the way it ended)."""
        run = self.run
        assert run is not None
        started = time.perf_counter()
        try:
            with self._interruptible(run):
                frame = next(run.frames)
        except (Superseded, StopIteration):
            run.ended = msg.Ended(run.run_id)  # superseded: the window drops it by its id
            return
        except Exception as exc:  # a message in the window, not a dead process
            run.ended = msg.Ended(run.run_id, _failure(f"run {run.run_id}", exc))
            return
        run.compute_s += time.perf_counter() - started
        run.updates += 1
        run.latest = frame
        run.unsent.append(frame)
        if frame.final:
            run.ended = msg.Ended(run.run_id)
        if self.want is not None and self.want.paused:
            self.credits -= 1

    def measure_jacobian(self) -> None:
        """While the Jacobian panel is shown: the latest update's singular values, if a measurement
        is due (see ``JacobianProbe``) or the run waits on that update; a failure costs this one."""
        run = self.run
        if run is None or self.wanted.value != run.run_id:
            return
        try:
            with self._interruptible(run):
                spectrum = run.jacobian.measure(latest=self.idle)
        except Superseded:
            return
        except Exception as exc:  # the panel misses one measurement; the run goes on
            _failure(f"run {run.run_id}'s Jacobian", exc)
            return
        if spectrum is not None:
            self.conn.send(msg.JacobianMeasured(run.run_id, spectrum))

    def send_news(self) -> None:
        """The updates not sent yet, if the window took the previous ones; then how the run ended."""
        run = self.run
        if run is None:
            return
        if len(run.unsent) and self.may_send and run.latest is not None:
            self.conn.send(msg.Updates(run.run_id, run.latest, run.unsent, run.compute_s / max(run.updates, 1)))
            run.unsent, self.may_send = UpdateLog(), False
        if run.ended is not None and not run.end_sent and not len(run.unsent):
            self.conn.send(run.ended)
            run.end_sent = True


def settle_process() -> None:
    """One BLAS thread (see ``gradlab._blas``), a priority below the window's (so that its thread
    comes first when both want a core), and the terminal's signals left to the window."""
    from gradlab._blas import limit_blas_threads

    for signum in WINDOW_DECIDES:
        signal.signal(signum, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked by the window while it started this process
        signal.pthread_sigmask(signal.SIG_UNBLOCK, WINDOW_DECIDES)
    limit_blas_threads()
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(NICENESS)


def serve(conn: Connection, wanted: Any) -> None:
    """The process's main function. ``wanted``: a shared integer, the run the window wants."""
    settle_process()
    with contextlib.suppress(EOFError, OSError):  # the window is gone
        SimulationLoop(conn, wanted).serve()
