"""Run ``gradlab.core.run(config)`` off the GUI thread and hand its frames over at the display rate.

One worker thread per run. The thread only iterates the core's generator and posts each Frame
into a latest-frame-wins ``Mailbox``; it never touches a widget. On the GUI thread,
``SimulationController`` polls the mailbox of the *current* run with a display-rate timer and
emits what it found, so frames never queue up, and frames of a superseded run are never seen.

Why a thread per run rather than one long-lived worker: the core can only be interrupted between
two updates, and one update at T=1000 takes ~0.1 s. A restart therefore does not wait for the old
run's update to finish: the new run starts at once, and the old thread drops its last frame and
exits. Why ``threading.Thread(daemon=True)`` rather than ``QThread``: an update at T=5000 can
outlast the 1 s we allow for closing the window; a daemon thread lets the process exit anyway,
whereas destroying a running QThread aborts the process.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from gradlab.core import Config, Frame, HistogramEdges, run

log = logging.getLogger(__name__)

DISPLAY_INTERVAL_MS = 16  # ~60 Hz: no point handing over frames faster than the screen shows them

_live_lock = threading.Lock()
_live_threads: set[threading.Thread] = set()


def live_worker_threads() -> list[threading.Thread]:
    """Worker threads that are still running (for tests and clean shutdown)."""
    with _live_lock:
        return [t for t in _live_threads if t.is_alive()]


@dataclass(frozen=True)
class UpdateHistory:
    """The per-update scalars of every update since the previous hand-over, oldest first.

    Frames are coalesced for display, but the training curves need every update.
    """

    iteration: np.ndarray  # int64
    loss: np.ndarray
    grad_norm: np.ndarray
    grad_norm_clipped: np.ndarray
    clipped: np.ndarray  # bool

    @staticmethod
    def from_rows(rows: list[tuple[int, float, float, float, bool]]) -> UpdateHistory:
        if not rows:
            empty = np.empty(0)
            return UpdateHistory(
                np.empty(0, np.int64), empty, empty.copy(), empty.copy(), np.empty(0, bool)
            )
        iteration, loss, grad, grad_clipped, clipped = zip(*rows)
        return UpdateHistory(
            np.asarray(iteration, np.int64),
            np.asarray(loss, np.float64),
            np.asarray(grad, np.float64),
            np.asarray(grad_clipped, np.float64),
            np.asarray(clipped, bool),
        )

    def __len__(self) -> int:
        return int(self.iteration.size)


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


class Mailbox:
    """A one-slot, latest-wins hand-over between one worker thread and the GUI thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._rows: list[tuple[int, float, float, float, bool]] = []
        self._produced = 0
        self._error = ""
        self._finished = False
        self._dirty = False

    def post_frame(self, frame: Frame) -> None:
        row = (
            frame.iteration,
            frame.loss,
            frame.grad_norm,
            frame.grad_norm_clipped,
            frame.clipped,
        )
        with self._lock:
            self._frame = frame
            self._rows.append(row)
            self._produced += 1
            self._dirty = True

    def post_error(self, message: str) -> None:
        with self._lock:
            self._error = message
            self._dirty = True

    def post_finished(self) -> None:
        with self._lock:
            self._finished = True
            self._dirty = True

    def take(self, run_id: int, config: Config) -> Delivery | None:
        """Everything posted since the last take, or None if nothing was."""
        with self._lock:
            if not self._dirty:
                return None
            frame, rows, produced = self._frame, self._rows, self._produced
            error, finished = self._error, self._finished
            self._frame, self._rows, self._produced, self._dirty = None, [], 0, False
            self._error = ""
        return Delivery(
            run_id=run_id,
            config=config,
            frame=frame,
            history=UpdateHistory.from_rows(rows),
            produced=produced,
            error=error,
            finished=finished,
        )


@dataclass
class _RunState:
    """What the GUI thread asks of one worker thread; guarded by ``cond``."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    paused: bool = False
    step_credits: int = 0
    stop: bool = False


class SimulationRun:
    """One run of one Config on its own worker thread."""

    def __init__(
        self,
        run_id: int,
        config: Config,
        *,
        paused: bool = False,
        edges_frozen: bool = False,
    ) -> None:
        self.run_id = run_id
        self.config = config
        self.mailbox = Mailbox()
        self.edges = HistogramEdges()
        if edges_frozen:
            # Frozen before the first frame: the first frame's automatic edges become the fixed ones.
            self.edges.freeze()
        self._state = _RunState(paused=paused, step_credits=1 if paused else 0)
        self._thread = threading.Thread(
            target=self._loop, name=f"gradlab-worker-{run_id}", daemon=True
        )

    # ---- called from the GUI thread ---------------------------------------------------------
    def start(self) -> None:
        with _live_lock:
            _live_threads.add(self._thread)
        self._thread.start()

    def pause(self) -> None:
        with self._state.cond:
            self._state.paused = True
            self._state.step_credits = 0

    def resume(self) -> None:
        with self._state.cond:
            self._state.paused = False
            self._state.cond.notify_all()

    def step(self) -> None:
        """While paused, allow exactly one more update."""
        with self._state.cond:
            self._state.step_credits += 1
            self._state.cond.notify_all()

    def request_stop(self) -> None:
        with self._state.cond:
            self._state.stop = True
            self._state.cond.notify_all()

    def join(self, timeout_s: float) -> bool:
        """Wait for the thread to end; True if it did."""
        if self._thread.ident is None:
            return True
        self._thread.join(max(0.0, timeout_s))
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # ---- the worker thread ------------------------------------------------------------------
    def _may_continue(self) -> bool:
        """Block while paused; False once a stop was requested."""
        state = self._state
        with state.cond:
            while not state.stop and state.paused and state.step_credits == 0:
                state.cond.wait()
            if state.stop:
                return False
            if state.paused:
                state.step_credits -= 1
            return True

    def _loop(self) -> None:
        generator = None
        try:
            generator = run(self.config, histogram_edges=self.edges)
            while self._may_continue():
                try:
                    frame = next(generator)
                except StopIteration:
                    self.mailbox.post_finished()
                    break
                if self._state.stop:
                    break  # superseded while computing: nobody wants this frame
                self.mailbox.post_frame(frame)
                if frame.final:
                    self.mailbox.post_finished()
                    break
                # Hand the GIL over for a moment so the GUI thread never waits a whole switch
                # interval behind a run of small, fast updates.
                time.sleep(0)
        except Exception as exc:  # any failure of the simulation becomes a message in the window
            log.exception("run %d failed", self.run_id)
            self.mailbox.post_error(f"{type(exc).__name__}: {exc}")
        finally:
            if generator is not None:
                try:
                    generator.close()
                except Exception:  # closing a broken generator must not hide the first error
                    log.exception("run %d: closing the generator failed", self.run_id)
            with _live_lock:
                _live_threads.discard(threading.current_thread())


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
        self, parent: QObject | None = None, *, display_interval_ms: int = DISPLAY_INTERVAL_MS
    ) -> None:
        super().__init__(parent)
        self._run_ids = itertools.count(1)
        self._current: SimulationRun | None = None
        self._retired: list[SimulationRun] = []
        self._paused = False
        self._edges_frozen = False
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(display_interval_ms)
        self._timer.timeout.connect(self.poll)

    # ---- state ------------------------------------------------------------------------------
    @property
    def run_id(self) -> int:
        """Id of the current run (0 before the first)."""
        return self._current.run_id if self._current else 0

    @property
    def config(self) -> Config | None:
        """The Config the current run uses."""
        return self._current.config if self._current else None

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def running(self) -> bool:
        return self._current is not None and self._current.alive

    # ---- commands ---------------------------------------------------------------------------
    def start(self, config: Config) -> int:
        """Start ``config`` as a new run, superseding the current one. Returns the new run id.

        While paused the new run computes one update (so the new setting is visible) and waits.
        """
        self._retire_current()
        run_id = next(self._run_ids)
        self._current = SimulationRun(
            run_id, config, paused=self._paused, edges_frozen=self._edges_frozen
        )
        self._current.start()
        if not self._timer.isActive():
            self._timer.start()
        log.debug("run %d started: %s", run_id, config)
        self.run_started.emit(run_id, config)
        return run_id

    def reset(self) -> int:
        """Start the current Config again from its initial weights."""
        config = self.config
        if config is None:
            raise RuntimeError("reset before any run was started")
        return self.start(config)

    def play(self) -> None:
        self._set_paused(False)

    def pause(self) -> None:
        self._set_paused(True)

    def toggle_play(self) -> None:
        self._set_paused(not self._paused)

    def step(self) -> None:
        """Pause (if playing) and compute exactly one more update."""
        self._set_paused(True)
        if self._current is not None:
            self._current.step()

    def set_edges_frozen(self, frozen: bool) -> None:
        """Hold the histogram bin edges still (also for runs started later)."""
        self._edges_frozen = frozen
        if self._current is not None:
            if frozen:
                self._current.edges.freeze()
            else:
                self._current.edges.unfreeze()

    def shutdown(self, timeout_s: float = 0.8) -> bool:
        """Stop every worker thread; True if all ended within ``timeout_s``."""
        self._timer.stop()
        self._retire_current()
        deadline = time.monotonic() + timeout_s
        for old in self._retired:
            old.join(deadline - time.monotonic())
        self._retired = [r for r in self._retired if r.alive]
        if self._retired:
            log.warning(
                "%d worker thread(s) still finishing an update at shutdown", len(self._retired)
            )
        return not self._retired

    # ---- GUI-thread side of the hand-over ---------------------------------------------------
    def poll(self) -> Delivery | None:
        """Take what the current run posted since the last tick and emit it (display timer)."""
        current = self._current
        if current is None:
            return None
        delivery = current.mailbox.take(current.run_id, current.config)
        if delivery is None:
            return None
        if delivery.frame is not None or len(delivery.history):
            self.delivered.emit(delivery)
        if delivery.error:
            self.errored.emit(delivery.run_id, delivery.error)
        if delivery.finished or delivery.error:
            self.finished.emit(delivery.run_id)
        return delivery

    # ---- internals --------------------------------------------------------------------------
    def _set_paused(self, paused: bool) -> None:
        if paused == self._paused:
            return
        self._paused = paused
        if self._current is not None:
            if paused:
                self._current.pause()
            else:
                self._current.resume()
        self.paused_changed.emit(paused)

    def _retire_current(self) -> None:
        if self._current is not None:
            self._current.request_stop()
            self._retired.append(self._current)
            self._current = None
        self._retired = [r for r in self._retired if r.alive]

