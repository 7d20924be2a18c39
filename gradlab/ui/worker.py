"""Run the simulation in a separate process and hand its frames to the GUI at the display rate.

The core is pure Python and NumPy: in a thread of the GUI process it would hold the GIL for most
of every update, and the GUI thread, which needs the GIL for every Qt call, would stall behind
it (hundreds of ms a frame at T=1000). So the simulation runs in a process of its own
(``gradlab.ui.engine``, no Qt), started once with the "spawn" method; the GUI thread never
computes and the simulation never touches a widget.

``SimulationController`` lives on the GUI thread. A display-rate timer reads the pipe; each
delivery carries the latest Frame of a run and the scalars of every update since the previous
one, and the process sends the next only after this side acknowledged the last, so nothing
queues. Every delivery carries its run id: those of a superseded run are dropped. Commands go
out as one "state" message (the run wanted, paused, steps, frozen edges) with at most one
unanswered: while the process is inside a long update the newest state waits here, so the pipe
never fills and the GUI never blocks on it. A restart does not let the process finish an update
nobody wants: it interrupts it (``engine.Interrupter``, a signal). While the current run's updates
are slow (≥ ``SLOW_UPDATE_S``) a standby process is made ready too: if the interrupted update
is still running ``INTERRUPT_GRACE_S`` later (inside one long NumPy call), or where there is no
such signal (Windows), the busy process is ended and the standby takes the new run.
If the process dies (killed, out of memory), the window is told and the next start uses a new
one. After ``shutdown`` nothing starts again.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from gradlab.core import Config, Frame
from gradlab.core.record import COLUMNS
from gradlab.ui import engine

log = logging.getLogger(__name__)

DISPLAY_INTERVAL_MS = 16  # ~60 Hz: no point handing over frames faster than the screen shows them
# Updates this long (or a first update silent this long) get a standby process ready, for a restart
# whose interruption does not take (see the module's docstring).
SLOW_UPDATE_S = 0.5
# A restart interrupts an update of the previous run that takes longer than this (engine.Interrupter);
# if that update is still running after INTERRUPT_GRACE_S (one long NumPy call), the standby takes over.
INTERRUPT_MIN_S = 0.02
INTERRUPT_GRACE_S = 0.25
QUIT_GRACE_S = 0.1  # at shutdown, how long a process may take to quit before it is terminated
_CONTEXT = multiprocessing.get_context("spawn")  # fork is unsafe in a process that runs Qt threads

_live: set[BaseProcess] = set()


def live_workers() -> list[BaseProcess]:
    """Simulation processes that are still running (for tests and clean shutdown)."""
    for process in list(_live):
        if not process.is_alive():
            process.join(0)
            _live.discard(process)
    return list(_live)


@dataclass(frozen=True)
class UpdateHistory:
    """The values of every update since the previous hand-over, oldest first: one array per
    column of ``gradlab.core.record.COLUMNS``.

    Frames are coalesced for display, but the training curves and the data export need every
    update.
    """

    iteration: np.ndarray  # int64
    loss: np.ndarray
    grad_norm: np.ndarray
    grad_norm_clipped: np.ndarray
    clipped: np.ndarray  # bool
    spectral_radius: np.ndarray
    sigma_max: np.ndarray
    fitted_slope: np.ndarray
    predicted_slope: np.ndarray
    nonfinite: np.ndarray  # str: NonFinite.describe(), "" when all finite

    @staticmethod
    def from_rows(rows: list[tuple]) -> UpdateHistory:
        """From rows in the order of ``COLUMNS`` (``gradlab.core.record.row_of``)."""
        columns = list(zip(*rows)) if rows else [()] * len(COLUMNS)
        return UpdateHistory(
            *(np.asarray(values, dtype=_DTYPES.get(name, np.float64)) for name, values in zip(COLUMNS, columns))
        )

    @staticmethod
    def concatenate(chunks: list[UpdateHistory]) -> UpdateHistory:
        if len(chunks) == 1:
            return chunks[0]
        if not chunks:
            return UpdateHistory.from_rows([])
        return UpdateHistory(*(np.concatenate([getattr(c, name) for c in chunks]) for name in COLUMNS))

    def tail(self, count: int) -> UpdateHistory:
        """The last ``count`` updates."""
        return UpdateHistory(*(getattr(self, name)[len(self) - count :] for name in COLUMNS))

    def __len__(self) -> int:
        return int(self.iteration.size)


_DTYPES = {"iteration": np.int64, "clipped": bool, "nonfinite": str}


@dataclass(frozen=True)
class Delivery:
    """What the GUI gets at one display tick: the latest frame of a run and what led up to it."""

    run_id: int
    config: Config
    frame: Frame | None  # the latest frame; None if only an error or the end arrived
    history: UpdateHistory
    produced: int  # frames produced since the previous delivery (1 = nothing was coalesced)
    error: str = ""  # the simulation raised; the run is over
    finished: bool = False  # the generator ended (its final frame, if any, is ``frame``)


class _Worker:
    """One simulation process and the GUI's end of its pipe."""

    state_in_flight: bool = False  # a "state" message was sent and not yet answered
    ready: bool = False  # the process said hello: its imports are done
    sent_run_id: int = 0  # the run of the last state sent
    acked_run_id: int = 0  # the run of the last state the process has read
    news_after_ack: bool = False  # the process had an undelivered update when it read that state
    heard_at: float = 0.0  # when this side last sent a state or received anything

    def __init__(self) -> None:
        self.conn, child_conn = _CONTEXT.Pipe(duplex=True)
        self.wanted = _CONTEXT.RawValue("q", 0)  # the run this side wants (engine.Interrupter)
        self.process = _CONTEXT.Process(
            target=engine.serve, args=(child_conn, self.wanted), name="gradlab-simulation", daemon=True
        )
        self.process.start()
        child_conn.close()
        _live.add(self.process)

    @property
    def processes(self) -> list[BaseProcess]:
        return [self.process]

    def is_ready(self) -> bool:
        """Has the process finished starting? (Reads its hello if it is there; never blocks.)"""
        if not self.ready:
            try:
                if self.conn.poll() and self.conn.recv()["kind"] == "hello":
                    self.ready = True
            except (EOFError, OSError):
                return False
        return self.ready

    def send(self, *command: object) -> bool:
        try:
            self.conn.send(command)
            return True
        except (OSError, ValueError, BrokenPipeError):
            return False

    def stop(self, grace_s: float, deadline: float) -> bool:
        """Wait ``grace_s`` for the process to act on "quit" (already sent), then end it. True if it
        ended before ``deadline`` (a time.monotonic() value)."""
        grace_end = time.monotonic() + max(0.0, grace_s)
        for process in self.processes:
            process.join(max(0.0, grace_end - time.monotonic()))
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(max(0.0, min(0.3, deadline - time.monotonic())))
        for process in self.processes:
            if process.is_alive():
                process.kill()
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
        self.conn.close()
        return not any(process.is_alive() for process in self.processes)

    def interrupt(self) -> None:
        """Interrupt the update being computed if it is of a run other than ``wanted``. Only once the
        process is ready: before, the signal would end it."""
        if engine.INTERRUPT_SIGNAL is not None and self.ready and self.process.pid is not None:
            with contextlib.suppress(OSError):  # already gone: the next poll reports it
                os.kill(self.process.pid, engine.INTERRUPT_SIGNAL)

    def kill(self) -> None:
        """End the process now (its current update is of a superseded run)."""
        for process in self.processes:
            process.terminate()
        self.conn.close()


class SimulationController(QObject):
    """Starts, pauses, steps, restarts and stops runs; delivers the current run's frames.

    Lives on the GUI thread. ``delivered`` is emitted at most once per display tick, and only
    with frames of the current run.
    """

    delivered = Signal(object)  # Delivery
    run_started = Signal(int, object)  # run id, Config
    errored = Signal(int, str)  # run id, message
    finished = Signal(int)  # run id
    paused_changed = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        display_interval_ms: int = DISPLAY_INTERVAL_MS,
        run_path: str = "gradlab.core:run",
    ) -> None:
        super().__init__(parent)
        self.run_path = run_path  # "module:function" of the run generator (tests inject failures)
        self._run_ids = itertools.count(1)
        self._run_id = 0
        self._config: Config | None = None
        self._worker: _Worker | None = None
        self._standby: _Worker | None = None  # a warm process, ready while the current run is slow
        self._dying: list[_Worker] = []
        self._paused = False
        self._step_total = 0  # Step presses so far; the process turns new ones into updates
        self._edges_frozen = False
        self._running = False
        self._closed = False
        self._state_seq = 0
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
        """The Config the current run uses."""
        return self._config

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def running(self) -> bool:
        return self._running

    @property
    def caught_up(self) -> bool:
        """The simulation process has read the latest state (run, pause, steps) and all it had
        computed before reading it has arrived here: while paused, the picture is final."""
        worker = self._worker
        return (
            worker is not None
            and worker.ready
            and not worker.state_in_flight
            and not self._state_dirty
            and not worker.news_after_ack
        )

    @property
    def worker_pid(self) -> int | None:
        """Process id of the simulation process running the current run (None before the first)."""
        return self._worker.process.pid if self._worker is not None else None

    @property
    def edges_frozen(self) -> bool:
        """The histogram bin edges are held still (for this and later runs)."""
        return self._edges_frozen

    # ---- commands ---------------------------------------------------------------------------
    def start(self, config: Config) -> int:
        """Start ``config`` as a new run, superseding the current one. Returns the new run id.

        While paused the new run computes one update (so the new setting is visible) and waits.
        Never blocks: a process inside a long update is replaced, not waited for.
        """
        if self._closed:
            log.debug("start after shutdown ignored")
            return self._run_id
        interrupt = self._worker is not None and self._busy(INTERRUPT_MIN_S)
        if (
            engine.INTERRUPT_SIGNAL is None
            and self._worker is not None
            and self._busy()
            and self._standby is not None
            and self._standby.is_ready()
        ):
            self._retire_worker(kill=True)
        if self._worker is None:
            self._worker, self._standby = self._standby or _Worker(), None
        run_id = next(self._run_ids)
        self._run_id, self._config = run_id, config
        self._running, self._update_s, self._started_at = True, 0.0, time.monotonic()
        self._push_state()
        if interrupt and self._worker is not None:
            self._worker.interrupt()
        if not self._timer.isActive():
            self._timer.start()
        log.debug("run %d started: %s", run_id, config)
        self.run_started.emit(run_id, config)
        return run_id

    def reset(self) -> int:
        """Start the current Config again from its initial weights."""
        if self._config is None:
            raise RuntimeError("reset before any run was started")
        return self.start(self._config)

    def play(self) -> None:
        self._set_paused(False)

    def pause(self) -> None:
        self._set_paused(True)

    def toggle_play(self) -> None:
        self._set_paused(not self._paused)

    def step(self) -> None:
        """Pause (if playing) and compute exactly one more update."""
        self._paused_changed_to(True)
        self._step_total += 1
        self._push_state()

    def set_edges_frozen(self, frozen: bool) -> None:
        """Hold the histogram bin edges still (also for runs started later)."""
        self._edges_frozen = frozen
        self._push_state()

    def shutdown(self, timeout_s: float = 0.8) -> bool:
        """Stop the simulation process(es); True if all ended within ``timeout_s``.

        A process inside a long update cannot read "quit": after a short grace it is terminated
        (it holds nothing worth saving), so closing the window never waits for an update.
        """
        self._timer.stop()
        self._closed = True
        deadline = time.monotonic() + timeout_s
        workers = [w for w in (self._worker, self._standby, *self._dying) if w is not None]
        self._worker, self._standby, self._dying, self._running = None, None, [], False
        for worker in workers:
            worker.send("quit")
        grace = min(QUIT_GRACE_S, timeout_s / 2)
        ended = [worker.stop(min(grace, deadline - time.monotonic()), deadline) for worker in workers]
        return all(ended)

    # ---- GUI-thread side of the hand-over ---------------------------------------------------
    def poll(self) -> Delivery | None:
        """Take what arrived since the last tick and emit it (called by the display timer)."""
        self._reap()
        worker = self._worker
        if worker is None:
            return None
        news: list[dict] = []
        died = False
        try:
            while worker.conn.poll():
                message = worker.conn.recv()
                worker.heard_at = time.monotonic()
                if message["kind"] == "hello":
                    worker.ready = True
                    continue
                if message["kind"] == "state":
                    worker.state_in_flight = False
                    worker.acked_run_id = worker.sent_run_id
                    worker.news_after_ack = message["news"]
                    continue
                news.append(message)
                worker.news_after_ack = False
                worker.send("ack")
        except (EOFError, OSError):
            died = True  # what arrived before is still shown
        if not died and not worker.state_in_flight and self._state_dirty:
            self._push_state()
        if not died and self._busy():
            if self._standby is None:
                self._standby = _Worker()  # ready for a restart that must not wait for this update
            elif (
                worker.acked_run_id != self._run_id
                and self._standby.is_ready()
                and time.monotonic() - self._started_at >= (INTERRUPT_GRACE_S if engine.INTERRUPT_SIGNAL else 0.0)
            ):
                # The process is still inside an update of a superseded run: move on without it.
                self._retire_worker(kill=True)
                self._worker, self._standby = self._standby, None
                self._push_state()
                return None
        current = [n for n in news if n["run_id"] == self._run_id]
        if not current:
            if died:
                self._worker_died()
            return None
        delivery = _merge(current, self._config)
        self._update_s = current[-1]["update_s"] or self._update_s
        if delivery.frame is not None or len(delivery.history):
            self.delivered.emit(delivery)
        if delivery.error:
            self.errored.emit(delivery.run_id, delivery.error)
        if delivery.finished or delivery.error:
            self._running = False
            self.finished.emit(delivery.run_id)
        if died:
            self._worker_died()
        return delivery

    # ---- internals --------------------------------------------------------------------------
    def _set_paused(self, paused: bool) -> None:
        if self._paused_changed_to(paused):
            self._push_state()

    def _paused_changed_to(self, paused: bool) -> bool:
        if paused == self._paused:
            return False
        self._paused = paused
        self.paused_changed.emit(paused)
        return True

    _state_dirty = False

    def _push_state(self) -> None:
        """Send what the window wants now, unless a state message is still unanswered: then the
        newest state goes out when the answer comes (so the pipe never fills up)."""
        worker = self._worker
        if worker is None or self._config is None:
            return
        worker.wanted.value = self._run_id
        if worker.state_in_flight:
            self._state_dirty = True
            return
        self._state_seq += 1
        state = (
            "state",
            self._state_seq,
            self._run_id,
            self._config.to_dict(),
            self.run_path,
            self._paused,
            self._step_total,
            self._edges_frozen,
        )
        if worker.send(*state):
            worker.state_in_flight, worker.heard_at = True, time.monotonic()
            worker.sent_run_id = self._run_id
        self._state_dirty = False

    def _busy(self, seconds: float = SLOW_UPDATE_S) -> bool:
        """The process is inside an update of the current run that takes long (≥ ``seconds``)."""
        worker = self._worker
        if worker is None or not worker.ready or not self._running or (self._paused and not worker.state_in_flight):
            return False  # still starting up, nothing to compute, or waiting paused: not busy
        return self._update_s >= seconds or time.monotonic() - worker.heard_at >= seconds

    def _retire_worker(self, *, kill: bool) -> None:
        if self._worker is None:
            return
        if kill:
            self._worker.kill()
        self._dying.append(self._worker)
        self._worker = None

    def _reap(self) -> None:
        self._dying = [w for w in self._dying if any(p.is_alive() for p in w.processes)]
        live_workers()

    def _worker_died(self) -> None:
        worker = self._worker
        code = None
        if worker is not None:
            worker.process.join(0.5)
            code = worker.process.exitcode
        self._retire_worker(kill=True)
        self._running = False
        message = f"The simulation process stopped unexpectedly (exit code {code})."
        log.error(message)
        self.errored.emit(self._run_id, message)
        self.finished.emit(self._run_id)


def _merge(news: list[dict], config: Config | None) -> Delivery:
    """One Delivery from the deliveries of one run that arrived within a tick (oldest first)."""
    rows = [row for n in news for row in n["rows"]]
    frame: Frame | None = next((n["frame"] for n in reversed(news) if n["frame"] is not None), None)
    assert config is not None
    return Delivery(
        run_id=news[-1]["run_id"],
        config=config,
        frame=frame,
        history=UpdateHistory.from_rows(rows),
        produced=sum(n["produced"] for n in news),
        error=next((n["error"] for n in news if n["error"]), ""),
        finished=any(n["finished"] for n in news),
    )
