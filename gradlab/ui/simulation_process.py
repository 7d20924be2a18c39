"""The simulation process: iterates ``gradlab.core.run`` and reports to the window through a pipe.

It imports no Qt. The window's ``SimulationController`` (``gradlab.ui.simulation``) starts it and
sends it the commands of ``gradlab.ui.protocol``; it answers with that module's reports. Its loop
is a small state machine: idle (no run, paused, run over, or a newer run on the way), it waits for
a command; otherwise it computes one update, then reads what arrived and sends what it can.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import os
import signal
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from gradlab.core import Frame, HistogramEdges
from gradlab.core.jacobian import JacobianProbe, JacobianSpectrum
from gradlab.core.record import UpdateLog
from gradlab.ui import protocol as msg

NICENESS = 5  # scheduling priority below the window's: its thread runs first when both want a core
# The signal with which the window interrupts an update of a superseded run (none on Windows:
# there the window hands the new run to a standby process instead).
INTERRUPT_SIGNAL = getattr(signal, "SIGUSR1", None)
# Ctrl+C in the launching terminal reaches the whole process group; the window decides what it
# means (it quits, and ends this process). Closing that terminal (SIGHUP) likewise.
WINDOW_DECIDES = tuple(getattr(signal, name) for name in ("SIGINT", "SIGHUP") if hasattr(signal, name))

log = logging.getLogger(__name__)


def resolve(path: str) -> Callable[..., Generator[Frame, None, None]]:
    """``"package.module:function"`` -> the function (the run generator; tests inject others)."""
    module_name, _, name = path.partition(":")
    return getattr(importlib.import_module(module_name), name)  # type: ignore[no-any-return]


def takes_jacobian(function: Callable[..., object]) -> bool:
    """Does the run generator take the Jacobian panel's probe (``gradlab.core.run`` does; a test's
    stand-in may not)?"""
    try:
        return "jacobian" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


NOT_ENOUGH_MEMORY = "Not enough memory for this run: make the hidden size, the length or the batch smaller."


class Superseded(Exception):
    """Raised into an update of a run that the window no longer wants."""


class Interrupter:
    """Ends an update of a superseded run at once instead of letting it finish.

    The window writes the id of the run it wants into ``wanted`` (shared memory) and sends
    ``INTERRUPT_SIGNAL``; if the update being computed belongs to another run, the handler raises
    ``Superseded`` into it (between two NumPy calls).
    """

    def __init__(self, wanted: Any) -> None:
        self.wanted = wanted
        self.computing = 0  # the run whose update is being computed; 0: none
        if INTERRUPT_SIGNAL is not None:
            signal.signal(INTERRUPT_SIGNAL, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.computing and self.wanted.value != self.computing:
            raise Superseded


@dataclass
class _Run:
    """One run and what of it is still to be sent."""

    run_id: int
    frames: Generator[Frame, None, None]
    edges: HistogramEdges
    jacobian: JacobianProbe
    unsent: UpdateLog = field(default_factory=UpdateLog)
    latest: Frame | None = None
    ended: msg.Failed | msg.Finished | None = None  # how it ended, once it has
    end_sent: bool = False
    compute_s: float = 0.0
    updates: int = 0

    @property
    def running(self) -> bool:
        return self.ended is None

    @property
    def news(self) -> bool:
        return len(self.unsent) > 0 or (self.ended is not None and not self.end_sent)


class SimulationLoop:
    """The process's state and the transitions the commands and the updates make."""

    def __init__(self, conn: Connection, wanted: Any = None) -> None:
        self.conn = conn
        self.wanted = wanted
        self.interrupter = Interrupter(wanted) if wanted is not None else None
        self.run: _Run | None = None
        self.paused = False
        self.credits = 0  # updates allowed while paused (Step, and a run started while paused)
        self.may_send = True  # the window took the previous Updates
        self.frozen = False
        self.jacobian_k: int | None = None  # the Jacobian panel's k while it is shown

    @property
    def idle(self) -> bool:
        run = self.run
        return (
            run is None
            or not run.running
            or (self.paused and self.credits == 0)
            or (self.wanted is not None and self.wanted.value != run.run_id)  # its Start is on the way
        )

    def serve(self) -> None:
        """Read, compute, send, until ``Quit`` or until the window's end of the pipe closes."""
        self.conn.send(msg.Ready())
        while self.read(block=self.idle):
            self.send_news()
            if not self.idle:
                self.compute()
                self.send_news()
            self.measure_jacobian()

    # ---- commands -----------------------------------------------------------------------------
    def read(self, *, block: bool) -> bool:
        """Act on every message that arrived (waiting for one if ``block``); False on ``Quit``."""
        while self.conn.poll(None if block else 0):
            message = self.conn.recv()
            if isinstance(message, msg.Quit):
                return False
            if isinstance(message, msg.Took):
                self.may_send = True
            else:
                self.apply(message)
                self.conn.send(msg.Heard(self.run.run_id if self.run else 0, self.run is not None and self.run.news))
            self.send_news()
            self.measure_jacobian()  # asked for while paused: the update shown, before waiting again
            block = self.idle
        return True

    def apply(self, command: msg.Command) -> None:
        if isinstance(command, msg.Start):
            self.start(command)
        elif isinstance(command, msg.Pause):
            # A run started just before still shows its first update, so that the change is visible.
            fresh = self.run is not None and self.run.updates == 0
            self.paused, self.credits = True, int(fresh)
        elif isinstance(command, msg.Resume):
            self.paused = False
        elif isinstance(command, msg.Step):
            self.credits += command.updates
        elif isinstance(command, msg.FreezeEdges):
            self.frozen = command.frozen
            if self.run is not None:
                (self.run.edges.freeze if self.frozen else self.run.edges.unfreeze)()
        elif isinstance(command, msg.MeasureJacobian):
            self.jacobian_k = command.k
            if self.run is not None:
                self.run.jacobian.request(command.k)

    def start(self, command: msg.Start) -> None:
        if self.run is not None:
            self.run.frames.close()
        edges = HistogramEdges()
        if self.frozen:
            edges.freeze()
        jacobian = JacobianProbe(command.config, k=self.jacobian_k)
        function = resolve(command.run_path)
        options = {"jacobian": jacobian} if takes_jacobian(function) else {}
        frames = function(command.config, histogram_edges=edges, **options)
        self.run = _Run(command.run_id, frames, edges, jacobian)
        self.credits = 1 if self.paused else 0  # a run started while paused shows one update

    # ---- updates ------------------------------------------------------------------------------
    def compute(self) -> None:
        """One update of the current run (or the way it ended)."""
        run = self.run
        assert run is not None
        started = time.perf_counter()
        try:
            frame = self._next_frame(run)
        except Superseded:
            run.ended, run.end_sent = msg.Finished(run.run_id), True  # nobody waits for its frames
            return
        except StopIteration:
            run.ended = msg.Finished(run.run_id)
            return
        except MemoryError:  # an expected limit, not a bug: one line in the log, no traceback
            log.error("run %d: not enough memory", run.run_id)
            run.ended = msg.Failed(run.run_id, NOT_ENOUGH_MEMORY)
            return
        except Exception as exc:  # any failure becomes a message in the window, not a dead process
            log.exception("run %d failed", run.run_id)
            run.ended = msg.Failed(run.run_id, f"{type(exc).__name__}: {exc}")
            return
        run.compute_s += time.perf_counter() - started
        run.updates += 1
        run.latest = frame
        run.unsent.append(frame)
        if frame.final:
            run.ended = msg.Finished(run.run_id)
        if self.paused:
            self.credits -= 1

    def _next_frame(self, run: _Run) -> Frame:
        if self.interrupter is None:
            return next(run.frames)
        self.interrupter.computing = run.run_id
        try:
            return next(run.frames)
        finally:
            self.interrupter.computing = 0

    def measure_jacobian(self) -> None:
        """While the Jacobian panel is shown: the singular values of the latest update's Jacobian,
        if one is due (see ``JacobianProbe``) or if the run waits on it (paused, or over), sent at
        once. Interrupted like an update when its run is superseded; a failure costs this
        measurement only."""
        run = self.run
        if run is None or (self.wanted is not None and self.wanted.value != run.run_id):
            return
        spectrum: JacobianSpectrum | None = None
        if self.interrupter is not None:
            self.interrupter.computing = run.run_id
        try:
            spectrum = run.jacobian.measure(latest=self.idle)
        except Superseded:
            return
        except MemoryError:
            log.error("run %d: not enough memory for the Jacobian", run.run_id)
        except Exception:  # the panel misses one measurement; the run goes on
            log.exception("run %d: the Jacobian failed", run.run_id)
        finally:
            if self.interrupter is not None:
                self.interrupter.computing = 0
        if spectrum is not None:
            self.conn.send(msg.JacobianMeasured(run.run_id, spectrum))

    def send_news(self) -> None:
        """Send the updates not sent yet if the window took the previous ones; then how the run
        ended, once all its updates are sent."""
        run = self.run
        if run is None:
            return
        if len(run.unsent) and self.may_send and run.latest is not None:
            seconds = run.compute_s / run.updates if run.updates else 0.0
            self.conn.send(msg.Updates(run.run_id, run.latest, run.unsent, seconds))
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


def serve(conn: Connection, wanted: Any = None) -> None:
    """The process's main function. ``wanted``: a shared integer, the run the window wants (see
    ``Interrupter``)."""
    settle_process()
    with contextlib.suppress(EOFError, OSError):  # the window is gone
        SimulationLoop(conn, wanted).serve()
