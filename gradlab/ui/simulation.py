"""The window's side of the simulation: a controller that runs Configs in a process of its own
and hands their frames to the GUI thread at the display rate.

A process, not a thread: the core's per-step loop holds the GIL (NumPy releases it only inside
large calls), and a GUI thread waiting for the GIL stalls. So the simulation runs in
``gradlab.ui.simulation_process`` (no Qt), started with "spawn" (fork is unsafe beside Qt's
threads), and the two sides talk in the messages of ``gradlab.ui.protocol``.

A restart never waits for the update under way: it is interrupted (a signal), or, if it is still
running ``INTERRUPT_GRACE_S`` later (inside one long NumPy call) or there is no such signal
(Windows), its process is ended and a standby, made ready while the run's updates are slow, takes
the new run. A superseded run's updates are dropped by their run id. A process that dies is
reported, and the next start uses a new one.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from multiprocessing.process import BaseProcess

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from gradlab.core import Config, Frame
from gradlab.core.record import UpdateLog
from gradlab.ui import protocol as msg
from gradlab.ui import simulation_process
from gradlab.ui.simulation_process import INTERRUPT_SIGNAL, WINDOW_DECIDES

log = logging.getLogger(__name__)

DISPLAY_INTERVAL_MS = 16  # ~60 Hz: no point handing over frames faster than the screen shows them
# Updates this long (or a first update silent this long) get a standby process ready, for a restart
# whose interruption does not take (see the module's docstring).
SLOW_UPDATE_S = 0.5
# A restart interrupts an update of the previous run that takes longer than this; if that update
# is still running after INTERRUPT_GRACE_S (one long NumPy call), the standby takes over.
INTERRUPT_MIN_S = 0.02
INTERRUPT_GRACE_S = 0.25
QUIT_GRACE_S = 0.1  # at quit, how long a process may take to end before it is terminated
_CONTEXT = multiprocessing.get_context("spawn")
PROCESS_NAME = "gradlab-simulation"


def live_processes() -> list[BaseProcess]:
    """Simulation processes that are still running (for tests and clean shutdown)."""
    return [process for process in multiprocessing.active_children() if process.name == PROCESS_NAME]


@dataclass(frozen=True)
class Delivery:
    """What the GUI gets at a display tick: a run's latest frame and every update since the last."""

    run_id: int
    config: Config
    frame: Frame | None
    history: UpdateLog


@contextlib.contextmanager
def _window_signals_blocked() -> Iterator[None]:
    """Hold back Ctrl+C and SIGHUP while a process starts: it inherits them blocked, so that its
    start-up (importing NumPy) cannot be interrupted before it ignores them. Not lost here."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, WINDOW_DECIDES)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, WINDOW_DECIDES)


class _Process:
    """One simulation process and the window's end of its pipe."""

    ready = False  # it said Ready: its imports are done
    awaiting = False  # a Wanted was sent and not Heard yet
    heard_run_id = 0  # the run it had when it last answered
    news = False  # it had unsent updates when it last answered, and they have not arrived yet
    heard_at = 0.0  # time.monotonic() when a Wanted was last sent or a report received

    def __init__(self) -> None:
        self.conn, child_conn = _CONTEXT.Pipe(duplex=True)
        self.wanted = _CONTEXT.RawValue("q", 0)  # the run the window wants (see SimulationLoop)
        self.process = _CONTEXT.Process(
            target=simulation_process.serve, args=(child_conn, self.wanted), name=PROCESS_NAME, daemon=True
        )
        try:
            with _window_signals_blocked():
                self.process.start()
        finally:
            child_conn.close()

    def is_ready(self) -> bool:
        """Has the process finished starting? (Reads its Ready if it is there; never blocks.)"""
        with contextlib.suppress(EOFError, OSError):
            if not self.ready and self.conn.poll():
                self.ready = isinstance(self.conn.recv(), msg.Ready)
        return self.ready

    def send(self, message: msg.Wanted | msg.Took | msg.Quit) -> bool:
        try:
            self.conn.send(message)
            return True
        except (OSError, ValueError):  # it is gone: the next poll reports it
            return False

    def receive(self) -> tuple[list[msg.Report], bool]:
        """Every report that arrived, and whether the process is gone."""
        reports: list[msg.Report] = []
        try:
            while self.conn.poll():
                reports.append(self.conn.recv())
        except (EOFError, OSError):
            return reports, True
        return reports, False

    def interrupt(self) -> None:
        """Interrupt an update of a run other than ``wanted`` (once ready: before, it would die)."""
        if INTERRUPT_SIGNAL is not None and self.ready and self.process.pid is not None:
            with contextlib.suppress(OSError):  # already gone: the next poll reports it
                os.kill(self.process.pid, INTERRUPT_SIGNAL)

    def stop(self, grace_s: float, deadline: float) -> bool:
        """Wait ``grace_s`` for it to act on Quit, then end it; True if it ended by ``deadline``."""
        self.process.join(max(0.0, grace_s))
        if self.process.is_alive():  # SIGKILL: it may be stopped (SIGSTOP), or ignore SIGTERM
            self.process.kill()
            self.process.join(max(0.0, deadline - time.monotonic()))
        self.conn.close()
        return not self.process.is_alive()


class SimulationController(QObject):
    """Starts, pauses, steps, restarts and ends runs; delivers the current run's frames.

    Lives on the GUI thread. ``yielded`` is emitted at most once per display tick, and only with
    updates of the current run.
    """

    started = Signal(int, object)  # run id, Config
    yielded = Signal(object)  # Delivery
    errored = Signal(int, str)  # run id, message
    finished = Signal(int)  # run id
    paused_changed = Signal(bool)
    jacobian_measured = Signal(object)  # JacobianSpectrum of the current run (while asked for)

    def __init__(self, parent: QObject | None = None, *, run_path: str = msg.RUN_PATH) -> None:
        super().__init__(parent)
        self.run_path = run_path  # the run generator in the simulation process (tests inject failures)
        self._run_ids = itertools.count(1)
        # What the window wants; sent whenever it changed and the previous one was answered. Run 0's
        # config stands for none (no process exists before the first start).
        self._wanted = msg.Wanted(0, Config())
        self._changed = False
        self._process: _Process | None = None
        self._standby: _Process | None = None  # a warm process, ready while the current run is slow
        self._dying: list[_Process] = []
        self._start_error = ""  # why the last process could not be started
        self._running = False
        self._closed = False
        self._update_s = 0.0  # the current run's mean seconds per update, as last reported
        self._started_at = 0.0  # time.monotonic() of the current run's start
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(DISPLAY_INTERVAL_MS)
        self._timer.timeout.connect(self.poll)

    # ---- state ------------------------------------------------------------------------------
    @property
    def run_id(self) -> int:
        """Id of the current run (0 before the first)."""
        return self._wanted.run_id

    @property
    def config(self) -> Config | None:
        return self._wanted.config if self._wanted.run_id else None

    @property
    def paused(self) -> bool:
        return self._wanted.paused

    @property
    def running(self) -> bool:
        return self._running

    @property
    def edges_frozen(self) -> bool:
        return self._wanted.edges_frozen

    @property
    def jacobian_k(self) -> int | None:
        """The k the Jacobian panel asks for (None: hidden, nothing is computed)."""
        return self._wanted.jacobian_k

    @property
    def caught_up(self) -> bool:
        """The simulation process has read what the window wants and all it had computed before
        has arrived here: while paused, the picture is final."""
        process = self._process
        return process is not None and process.ready and not (process.awaiting or self._changed or process.news)

    @property
    def process_pid(self) -> int | None:
        """Process id of the current run's simulation process."""
        return self._process.process.pid if self._process is not None else None

    @property
    def processes(self) -> list[BaseProcess]:
        """The processes in use: the current run's and a standby's (for tests and diagnostics)."""
        return [p.process for p in (self._process, self._standby) if p is not None]

    # ---- verbs ------------------------------------------------------------------------------
    def start(self, config: Config) -> int:
        """Start ``config`` as a new run (returned: its id), superseding the current one. While
        paused it computes one update (the new setting shows) and waits. Never blocks."""
        if self._closed:
            log.debug("start after quit ignored")
            return self.run_id
        interrupt = self._process is not None and self._busy(INTERRUPT_MIN_S)
        if INTERRUPT_SIGNAL is None and self._busy() and self._standby is not None and self._standby.is_ready():
            self._retire_process()
        self._running, self._update_s, self._started_at = True, 0.0, time.monotonic()
        self._want(run_id=next(self._run_ids), config=config, steps=0, run_path=self.run_path)
        if self._process is None:
            self._take_fresh_process()
        elif interrupt:
            self._process.interrupt()
        if not self._timer.isActive():
            self._timer.start()
        log.debug("run %d started: %s", self.run_id, config)
        self.started.emit(self.run_id, config)
        return self.run_id

    def reset(self) -> int:
        """Start the current Config again from its initial weights."""
        if self.config is None:
            raise RuntimeError("reset before any run was started")
        return self.start(self.config)

    def pause(self) -> None:
        self._set_paused(True)

    def resume(self) -> None:
        self._set_paused(False)

    def step(self) -> None:
        """Pause (if playing) and compute exactly one more update."""
        self._set_paused(True)
        self._want(steps=self._wanted.steps + 1)

    def set_edges_frozen(self, frozen: bool) -> None:
        """Hold the histogram bin edges still (also for runs started later)."""
        self._want(edges_frozen=frozen)

    def measure_jacobian(self, k: int | None) -> None:
        """Have the simulation measure the Jacobian ∂h_T/∂h_{T−k} a few times a second, for this run
        and later ones (``jacobian_measured``); None: stop (the panel is hidden). A k beyond a run's
        length is taken as its length; k < 1 or not a whole number raises ValueError here."""
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"k: {k!r} must be a whole number of steps ≥ 1 (or None: hidden)")
        self._want(jacobian_k=k)

    def quit(self, timeout_s: float = 0.8) -> bool:
        """End the simulation processes; True if all ended within ``timeout_s``. One inside a long
        update cannot read Quit: after a short grace it is terminated (it holds nothing of value)."""
        self._timer.stop()
        self._closed = True
        deadline = time.monotonic() + timeout_s
        processes = [p for p in (self._process, self._standby, *self._dying) if p is not None]
        self._process, self._standby, self._dying, self._running = None, None, [], False
        for process in processes:
            process.send(msg.Quit())
        grace = min(QUIT_GRACE_S, timeout_s / 2)
        return all([process.stop(min(grace, deadline - time.monotonic()), deadline) for process in processes])

    # ---- GUI-thread side of the hand-over ---------------------------------------------------
    def poll(self) -> None:
        """Take what arrived since the last tick and emit it (called by the display timer)."""
        live_processes()
        self._dying = [p for p in self._dying if p.process.is_alive()]
        process = self._process
        if process is None:
            if self._running:  # no process could be started for this run
                self._end_run(msg.Ended(self.run_id, self._start_error))
            return
        reports, died = process.receive()
        news: list[msg.Updates | msg.Ended] = []
        spectrum = None
        for report in reports:
            process.heard_at = time.monotonic()
            if isinstance(report, msg.Ready):
                process.ready = True
            elif isinstance(report, msg.Heard):
                process.awaiting, process.heard_run_id, process.news = False, report.run_id, report.news
            elif isinstance(report, msg.JacobianMeasured):  # beside the updates: says nothing of them
                spectrum = report.spectrum if report.run_id == self.run_id else spectrum
            else:
                process.news = False
                if isinstance(report, msg.Updates):
                    process.send(msg.Took())
                if report.run_id == self.run_id:
                    news.append(report)
        if not died:
            self._send_wanted()
            self._replace_if_stuck(process)
        self._deliver([n for n in news if isinstance(n, msg.Updates)])
        if spectrum is not None:
            self.jacobian_measured.emit(spectrum)
        for end in news:
            if isinstance(end, msg.Ended):
                self._end_run(end)
        if died:
            self._process_died(process)

    # ---- internals --------------------------------------------------------------------------
    def _set_paused(self, paused: bool) -> None:
        if paused != self.paused:
            self._want(paused=paused, steps=0)
            self.paused_changed.emit(paused)

    def _want(self, **changes: object) -> None:
        self._wanted = replace(self._wanted, **changes)  # type: ignore[arg-type]
        self._changed = True
        self._send_wanted()

    def _send_wanted(self) -> None:
        """Send what the window wants once the previous Wanted is answered (the pipe must never fill)."""
        process = self._process
        if process is None:
            return
        process.wanted.value = self.run_id  # at once: an update of another run can now be interrupted
        if self._changed and not process.awaiting:
            process.awaiting = process.send(self._wanted)
            process.heard_at = time.monotonic()
            self._wanted, self._changed = replace(self._wanted, steps=0), False

    def _deliver(self, updates: list[msg.Updates]) -> None:
        if updates:
            self._update_s = updates[-1].seconds_per_update or self._update_s
            history = updates[0].updates
            for more in updates[1:]:
                history.add(more.updates)
            self.yielded.emit(Delivery(self.run_id, self._wanted.config, updates[-1].frame, history))

    def _end_run(self, end: msg.Ended) -> None:
        self._running = False
        if end.error is not None:
            self.errored.emit(end.run_id, end.error)
        self.finished.emit(end.run_id)

    def _busy(self, seconds: float = SLOW_UPDATE_S) -> bool:
        """The process is inside an update of the current run that takes long (>= ``seconds``)."""
        process = self._process
        if process is None or not process.ready or not self._running or (self.paused and not process.awaiting):
            return False  # still starting up, nothing to compute, or waiting paused: not busy
        return self._update_s >= seconds or time.monotonic() - process.heard_at >= seconds

    def _replace_if_stuck(self, process: _Process) -> None:
        """Keep a standby ready while the run is slow; hand it the run if the busy process is still
        inside an update of a superseded run after the grace."""
        if not self._busy():
            return
        if self._standby is None:
            with contextlib.suppress(OSError):  # no standby: a restart waits for the update instead
                self._standby = _Process()
            return
        grace_s = INTERRUPT_GRACE_S if INTERRUPT_SIGNAL is not None else 0.0
        stuck = process.heard_run_id != self.run_id and time.monotonic() - self._started_at >= grace_s
        if stuck and self._standby.is_ready():
            self._retire_process()
            self._take_fresh_process()

    def _take_fresh_process(self) -> None:
        """Make the standby (or a new process) the current one and tell it everything."""
        try:
            self._process, self._standby = self._standby or _Process(), None
        except OSError as exc:  # no process, no pipe: the next poll says so
            log.error("the simulation process could not start: %s", exc)
            self._start_error = f"The simulation process could not start ({exc.strerror or exc})."
            return
        self._changed = True
        self._send_wanted()

    def _retire_process(self) -> None:
        if self._process is not None:
            self._process.process.terminate()
            self._process.conn.close()
            self._dying.append(self._process)
            self._process = None

    def _process_died(self, process: _Process) -> None:
        process.process.join(0.5)
        code = process.process.exitcode
        self._retire_process()
        if process.ready:
            error = f"The simulation process stopped unexpectedly (exit code {code})."
        else:
            error = f"The simulation process could not start (exit code {code})."
        log.error(error)
        self._end_run(msg.Ended(self.run_id, error))
