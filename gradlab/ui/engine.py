"""The simulation process: iterates ``gradlab.core.run`` and answers the window through a pipe.

It imports no Qt. The window's ``SimulationController`` starts it and sends commands; it sends
back deliveries, one at a time: a delivery holds the latest Frame and the per-update scalars of
every update since the previous one, and the next is sent only after the window acknowledged the
last. So frames never queue up however fast the core runs, and no update is lost from the
training curves.

Messages to the process (tuples), never more than one of each kind unanswered, so that the pipe
never fills while the process is inside a long update and the window never blocks on it:
    ("state", seq, run_id, config_dict, run_path, paused, step_total, edges_frozen)
        what the window wants now: a new run_id starts a new run; step_total counts the Step
        presses so far (while paused each new one allows one more update). Answered at once
        with {"kind": "state", "seq": seq, "news": bool} as soon as it is read (between two
        updates); "news": an update computed before is still to be delivered.
    ("ack",)   the window took the last delivery
    ("quit",)
Once its imports are done the process says {"kind": "hello"}. Deliveries ({"kind": "delivery", ...}):
run_id, frame (or None), rows (one per update, the
values of gradlab.core.record.COLUMNS), produced, error, finished, update_s (mean seconds per
update).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from gradlab.core import Config, Frame, HistogramEdges
from gradlab.core.record import row_of

NICENESS = 5  # scheduling priority below the window's: its thread runs first when both want a core
# The signal with which the window interrupts an update of a superseded run (none on Windows:
# there the window hands the new run to a standby process instead).
INTERRUPT_SIGNAL = getattr(signal, "SIGUSR1", None)

log = logging.getLogger(__name__)

Row = tuple  # one update's values in the order of gradlab.core.record.COLUMNS


def resolve(path: str) -> Callable[..., Iterator[Frame]]:
    """``"package.module:function"`` -> the function (the run generator; tests inject others)."""
    module_name, _, name = path.partition(":")
    return getattr(importlib.import_module(module_name), name)


@dataclass
class _Run:
    run_id: int
    config: Config
    frames: Iterator[Frame]
    edges: HistogramEdges
    rows: list[Row] = field(default_factory=list)
    latest: Frame | None = None
    produced: int = 0
    error: str = ""
    finished: bool = False
    compute_s: float = 0.0
    updates: int = 0
    ended_reported: bool = False  # the delivery saying the run ended was sent

    @property
    def running(self) -> bool:
        return not (self.finished or self.error)

    @property
    def has_news(self) -> bool:
        return self.produced > 0 or (not self.running and not self.ended_reported)

    def delivery(self) -> dict[str, Any]:
        news = {
            "kind": "delivery",
            "run_id": self.run_id,
            "frame": self.latest,
            "rows": self.rows,
            "produced": self.produced,
            "error": self.error,
            "finished": self.finished,
            "update_s": self.compute_s / self.updates if self.updates else 0.0,
        }
        self.rows, self.latest, self.produced = [], None, 0
        self.ended_reported = not self.running
        return news


def settle_process() -> None:
    """One BLAS thread (see ``gradlab._blas``) and a priority below the window's, so that its
    thread comes first when both want a core."""
    from gradlab._blas import limit_blas_threads

    limit_blas_threads()
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(NICENESS)


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


def serve(conn: Connection, wanted: Any = None) -> None:
    """The process's main loop; returns on ("quit",) or when the window's end of the pipe closes.
    ``wanted``: a shared integer, the run the window wants (see ``Interrupter``)."""
    settle_process()
    interrupter = Interrupter(wanted) if wanted is not None else None
    try:
        conn.send({"kind": "hello"})  # imports done: ready for a run
    except (EOFError, OSError):
        return
    current: _Run | None = None
    paused = False
    step_credits = 0
    steps_seen = 0
    may_send = True  # the window has acknowledged the previous delivery

    def is_idle() -> bool:
        return (
            current is None
            or not current.running
            or (paused and step_credits == 0)
            or (wanted is not None and wanted.value != current.run_id)  # its state is on the way
        )

    while True:
        idle = is_idle()
        try:
            # While idle, wait for a message; while computing, only look.
            while conn.poll(None if idle else 0):
                message = conn.recv()
                verb = message[0]
                if verb == "state":
                    _, seq, run_id, config_dict, run_path, want_paused, step_total, frozen = message
                    if current is None or run_id != current.run_id:
                        if current is not None:
                            current.frames.close()
                        edges = HistogramEdges()
                        config = Config.from_dict(config_dict)
                        frames = resolve(run_path)(config, histogram_edges=edges)
                        current = _Run(run_id, config, frames, edges)
                        # A run started while paused computes one update, so the change is visible.
                        step_credits = 1 if want_paused else 0
                    elif want_paused and not paused:
                        step_credits = 0
                    else:
                        step_credits += max(0, step_total - steps_seen)
                    paused, steps_seen = want_paused, step_total
                    (current.edges.freeze if frozen else current.edges.unfreeze)()
                    # "news": a delivery computed before this state is still to come
                    conn.send({"kind": "state", "seq": seq, "news": current.has_news})
                elif verb == "ack":
                    may_send = True
                elif verb == "quit":
                    return
                if may_send and current is not None and current.has_news:
                    conn.send(current.delivery())
                    may_send = False
                idle = is_idle()
        except (EOFError, OSError):
            return  # the window is gone

        if current is None or idle:
            continue
        started = time.perf_counter()
        try:
            if interrupter is not None:
                interrupter.computing = current.run_id
            try:
                frame = next(current.frames)
            finally:
                if interrupter is not None:
                    interrupter.computing = 0
        except Superseded:
            current.finished = current.ended_reported = True  # nobody waits for its frames
            continue
        except StopIteration:
            current.finished = True
        except Exception as exc:  # any failure becomes a message in the window, not a dead process
            log.exception("run %d failed", current.run_id)
            current.error = f"{type(exc).__name__}: {exc}"
        else:
            current.compute_s += time.perf_counter() - started
            current.updates += 1
            current.latest = frame
            current.rows.append(row_of(frame))
            current.produced += 1
            current.finished = frame.final
            if paused:
                step_credits -= 1
        if may_send and current.has_news:
            try:
                conn.send(current.delivery())
            except (EOFError, OSError):
                return
            may_send = False
