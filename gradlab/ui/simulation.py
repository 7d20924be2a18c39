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
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from gradlab.core import Config, Frame
from gradlab.core.jacobian import JacobianSpectrum
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

_live: set[BaseProcess] = set()


def live_processes() -> list[BaseProcess]:
    """Simulation processes that are still running (for tests and clean shutdown)."""
    for process in list(_live):
        if not process.is_alive():
            process.join(0)
            _live.discard(process)
    return list(_live)


# What a command makes obsolete in the outbox (see SimulationController._queue).
_SUPERSEDES: dict[type, tuple[type, ...]] = {
    msg.Start: (msg.Start, msg.Step),
    msg.Pause: (msg.Pause, msg.Resume, msg.Step),
    msg.Resume: (msg.Pause, msg.Resume, msg.Step),
    msg.Step: (msg.Step,),
    msg.FreezeEdges: (msg.FreezeEdges,),
    msg.MeasureJacobian: (msg.MeasureJacobian,),
}


@dataclass(frozen=True)
class Delivery:
    """What the GUI gets at a display tick: a run's latest frame and every update since the last."""

    run_id: int
    config: Config
    frame: Frame | None
    history: UpdateLog
    produced: int  # updates since the previous delivery (1 = nothing was coalesced)


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
    unanswered = 0  # commands sent and not Heard yet
    heard_run_id = 0  # the run it had when it last answered a command
    news_after_heard = False  # it had unsent updates when it last answered
    heard_at = 0.0  # time.monotonic() when a command was last sent or a report received

    def __init__(self) -> None:
        self.conn, child_conn = _CONTEXT.Pipe(duplex=True)
        self.wanted = _CONTEXT.RawValue("q", 0)  # the run the window wants (Interrupter)
        self.process = _CONTEXT.Process(
            target=simulation_process.serve, args=(child_conn, self.wanted), name="gradlab-simulation", daemon=True
        )
        with _window_signals_blocked():
            self.process.start()
        child_conn.close()
        _live.add(self.process)

    def is_ready(self) -> bool:
        """Has the process finished starting? (Reads its Ready if it is there; never blocks.)"""
        with contextlib.suppress(EOFError, OSError):
            if not self.ready and self.conn.poll():
                self.ready = isinstance(self.conn.recv(), msg.Ready)
        return self.ready

    def send(self, message: object) -> bool:
        try:
            self.conn.send(message)
            return True
        except (OSError, ValueError):
            return False

    def send_commands(self, commands: list[msg.Command]) -> None:
        for command in commands:
            self.unanswered += self.send(command)
        self.heard_at = time.monotonic()

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
        for end, wait_s in ((self.process.terminate, 0.3), (self.process.kill, deadline - time.monotonic())):
            if self.process.is_alive():
                end()
                self.process.join(max(0.0, min(wait_s, deadline - time.monotonic())))
        self.conn.close()
        return not self.process.is_alive()

    def kill(self) -> None:
        """End it now (its current update is of a superseded run)."""
        self.process.terminate()
        self.conn.close()


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

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        display_interval_ms: int = DISPLAY_INTERVAL_MS,
        run_path: str = msg.RUN_PATH,
    ) -> None:
        super().__init__(parent)
        self.run_path = run_path  # the run generator in the simulation process (tests inject failures)
        self._run_ids = itertools.count(1)
        self._run_id = 0
        self._config: Config | None = None
        self._process: _Process | None = None
        self._standby: _Process | None = None  # a warm process, ready while the current run is slow
        self._dying: list[_Process] = []
        self._outbox: list[msg.Command] = []  # commands waiting for the previous ones' answers
        self._paused = False
        self._edges_frozen = False
        self._jacobian_k: int | None = None
        self._jacobian: JacobianSpectrum | None = None  # arrived since the last tick
        self._running = False
        self._closed = False
        self._update_s = 0.0  # the current run's mean seconds per update, as last reported
        self._started_at = 0.0  # time.monotonic() of the current run's start
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(display_interval_ms)
        self._timer.timeout.connect(self.poll)

    # ---- state ------------------------------------------------------------------------------
    @property
    def run_id(self) -> int:
        """Id of the current run (0 before the first)."""
        return self._run_id

    @property
    def config(self) -> Config | None:
        return self._config

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def running(self) -> bool:
        return self._running

    @property
    def edges_frozen(self) -> bool:
        return self._edges_frozen

    @property
    def jacobian_k(self) -> int | None:
        """The k the Jacobian panel asks for (None: hidden, nothing is computed)."""
        return self._jacobian_k

    @property
    def caught_up(self) -> bool:
        """The simulation process has read every command and all it had computed before reading
        them has arrived here: while paused, the picture is final."""
        process = self._process
        return (
            process is not None
            and process.ready
            and not process.unanswered
            and not self._outbox
            and not process.news_after_heard
        )

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
            return self._run_id
        interrupt = self._process is not None and self._busy(INTERRUPT_MIN_S)
        if INTERRUPT_SIGNAL is None and self._busy() and self._standby is not None and self._standby.is_ready():
            self._retire_process()
        self._run_id, self._config = next(self._run_ids), config
        self._running, self._update_s, self._started_at = True, 0.0, time.monotonic()
        self._jacobian = None  # the previous run's, not shown yet
        if self._process is None:
            self._take_fresh_process()
        else:
            self._queue(msg.Start(self._run_id, config, self.run_path))
            self._process.wanted.value = self._run_id
            self._flush()
            if interrupt:
                self._process.interrupt()
        if not self._timer.isActive():
            self._timer.start()
        log.debug("run %d started: %s", self._run_id, config)
        self.started.emit(self._run_id, config)
        return self._run_id

    def reset(self) -> int:
        """Start the current Config again from its initial weights."""
        if self._config is None:
            raise RuntimeError("reset before any run was started")
        return self.start(self._config)

    def pause(self) -> None:
        self._set_paused(True)

    def resume(self) -> None:
        self._set_paused(False)

    def toggle_pause(self) -> None:
        self._set_paused(not self._paused)

    def step(self) -> None:
        """Pause (if playing) and compute exactly one more update."""
        self._set_paused(True)
        self._queue(msg.Step())
        self._flush()

    def set_edges_frozen(self, frozen: bool) -> None:
        """Hold the histogram bin edges still (also for runs started later)."""
        self._edges_frozen = frozen
        self._queue(msg.FreezeEdges(frozen))
        self._flush()

    def measure_jacobian(self, k: int | None) -> None:
        """Have the simulation measure the Jacobian ∂h_T/∂h_{T−k} a few times a second, for this run
        and later ones (``jacobian_measured``); None: stop (the panel is hidden). A k beyond a run's
        length is taken as its length; k < 1 or not a whole number raises ValueError."""
        command = msg.MeasureJacobian(k)  # refuses a bad k here, in the window, with one message
        self._jacobian_k = k
        self._queue(command)
        self._flush()

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
            return
        reports, died = process.receive()
        news = self._take(process, reports)
        if not died:
            self._flush()
            self._replace_if_stuck(process)
        self._emit(news)
        if self._jacobian is not None:
            spectrum, self._jacobian = self._jacobian, None
            self.jacobian_measured.emit(spectrum)
        if died:
            self._process_died()

    # ---- internals --------------------------------------------------------------------------
    def _set_paused(self, paused: bool) -> None:
        if paused == self._paused:
            return
        self._paused = paused
        self._queue(msg.Pause() if paused else msg.Resume())
        self._flush()
        self.paused_changed.emit(paused)

    def _queue(self, command: msg.Command) -> None:
        """Add ``command`` to the outbox, coalesced with what is there: a Start supersedes the
        Start and the Steps before it, a pause or resume the pauses, resumes and Steps before it,
        Steps add up."""
        if isinstance(command, msg.Step):
            command = msg.Step(command.updates + sum(c.updates for c in self._outbox if isinstance(c, msg.Step)))
        superseded = _SUPERSEDES[type(command)]
        self._outbox = [c for c in self._outbox if not isinstance(c, superseded)] + [command]

    def _flush(self) -> None:
        """Send the outbox once the commands sent before are answered (the pipe must never fill)."""
        process = self._process
        if process is not None and not process.unanswered and self._outbox:
            commands, self._outbox = self._outbox, []
            process.send_commands(commands)

    def _take(self, process: _Process, reports: list[msg.Report]) -> list[msg.Updates | msg.Failed | msg.Finished]:
        """Book the process's reports; the news of the current run, oldest first."""
        news: list[msg.Updates | msg.Failed | msg.Finished] = []
        for report in reports:
            process.heard_at = time.monotonic()
            if isinstance(report, msg.Ready):
                process.ready = True
            elif isinstance(report, msg.Heard):
                process.unanswered = max(0, process.unanswered - 1)
                process.heard_run_id, process.news_after_heard = report.run_id, report.news
            elif isinstance(report, msg.JacobianMeasured):  # beside the updates: says nothing of them
                if report.run_id == self._run_id:
                    self._jacobian = report.spectrum
            else:
                process.news_after_heard = False
                if isinstance(report, msg.Updates):
                    process.send(msg.Took())
                if report.run_id == self._run_id:
                    news.append(report)
        return news

    def _emit(self, news: list[msg.Updates | msg.Failed | msg.Finished]) -> None:
        updates = [n for n in news if isinstance(n, msg.Updates)]
        if updates and self._config is not None:
            self._update_s = updates[-1].seconds_per_update or self._update_s
            history = updates[0].updates
            for more in updates[1:]:
                history.add(more.updates)
            self.yielded.emit(Delivery(self._run_id, self._config, updates[-1].frame, history, len(history)))
        for end in news:
            if isinstance(end, (msg.Failed, msg.Finished)):
                self._running = False
                if isinstance(end, msg.Failed):
                    self.errored.emit(end.run_id, end.message)
                self.finished.emit(end.run_id)

    def _busy(self, seconds: float = SLOW_UPDATE_S) -> bool:
        """The process is inside an update of the current run that takes long (>= ``seconds``)."""
        process = self._process
        if process is None or not process.ready or not self._running or (self._paused and not process.unanswered):
            return False  # still starting up, nothing to compute, or waiting paused: not busy
        return self._update_s >= seconds or time.monotonic() - process.heard_at >= seconds

    def _replace_if_stuck(self, process: _Process) -> None:
        """Keep a standby ready while the run is slow; hand it the run if the busy process is still
        inside an update of a superseded run after the grace."""
        if not self._busy():
            return
        if self._standby is None:
            self._standby = _Process()
            return
        grace_s = INTERRUPT_GRACE_S if INTERRUPT_SIGNAL is not None else 0.0
        stuck = process.heard_run_id != self._run_id and time.monotonic() - self._started_at >= grace_s
        if stuck and self._standby.is_ready():
            self._retire_process()
            self._take_fresh_process()

    def _take_fresh_process(self) -> None:
        """Make the standby (or a new process) the current one, told everything from the start."""
        assert self._config is not None
        self._process, self._standby = self._standby or _Process(), None
        self._process.wanted.value = self._run_id
        self._outbox = [msg.FreezeEdges(True)] if self._edges_frozen else []
        self._outbox += [msg.Pause()] if self._paused else []
        self._outbox += [msg.MeasureJacobian(self._jacobian_k)] if self._jacobian_k is not None else []
        self._outbox.append(msg.Start(self._run_id, self._config, self.run_path))
        self._flush()

    def _retire_process(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._dying.append(self._process)
            self._process = None

    def _process_died(self) -> None:
        code = None
        if self._process is not None:
            self._process.process.join(0.5)
            code = self._process.process.exitcode
        self._retire_process()
        self._running = False
        message = f"The simulation process stopped unexpectedly (exit code {code})."
        log.error(message)
        self.errored.emit(self._run_id, message)
        self.finished.emit(self._run_id)
