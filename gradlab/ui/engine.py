"""The simulation process: iterates ``gradlab.core.run`` and answers the window through a pipe.

It imports no Qt. The window's ``SimulationController`` starts it and sends commands; it sends
back deliveries, one at a time: a delivery holds the latest Frame and the per-update scalars of
every update since the previous one, and the next is sent only after the window acknowledged the
last. So frames never queue up however fast the core runs, and no update is lost from the
training curves.

Commands (tuples, first item the verb):
    ("start", run_id, config_dict, paused, edges_frozen, run_path)   supersede the current run
    ("pause",) ("resume",) ("step",)                         step = one more update while paused
    ("freeze", bool)                                         hold the histogram edges still
    ("ack",)                                                 the window took the last delivery
    ("quit",)
Deliveries (dicts): run_id, frame (or None), rows [(iteration, loss, grad_norm,
grad_norm_clipped, clipped)], produced, error, finished, update_s (mean seconds per update).
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from gradlab.core import Config, Frame, HistogramEdges

log = logging.getLogger(__name__)

Row = tuple[int, float, float, float, bool]


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


def serve(conn: Connection) -> None:
    """The process's main loop; returns on ("quit",) or when the window's end of the pipe closes."""
    from gradlab._blas import limit_blas_threads

    limit_blas_threads()
    current: _Run | None = None
    paused = False
    step_credits = 0
    may_send = True  # the window has acknowledged the previous delivery

    while True:
        idle = current is None or not current.running or (paused and step_credits == 0)
        try:
            # While idle, wait for a command; while computing, only look.
            while conn.poll(None if idle else 0):
                command = conn.recv()
                verb = command[0]
                if verb == "start":
                    _, run_id, config_dict, paused, frozen, run_path = command
                    if current is not None:
                        current.frames.close()
                    edges = HistogramEdges()
                    if frozen:
                        edges.freeze()
                    config = Config.from_dict(config_dict)
                    frames = resolve(run_path)(config, histogram_edges=edges)
                    current = _Run(run_id, config, frames, edges)
                    # A run started while paused computes one update, so the change is visible.
                    step_credits = 1 if paused else 0
                elif verb == "pause":
                    paused, step_credits = True, 0
                elif verb == "resume":
                    paused = False
                elif verb == "step":
                    step_credits += 1
                elif verb == "freeze":
                    if current is not None:
                        (current.edges.freeze if command[1] else current.edges.unfreeze)()
                elif verb == "ack":
                    may_send = True
                elif verb == "quit":
                    return
                if may_send and current is not None and current.has_news:
                    conn.send(current.delivery())
                    may_send = False
                idle = current is None or not current.running or (paused and step_credits == 0)
        except (EOFError, OSError):
            return  # the window is gone

        if current is None or idle:
            continue
        started = time.perf_counter()
        try:
            frame = next(current.frames)
        except StopIteration:
            current.finished = True
        except Exception as exc:  # any failure becomes a message in the window, not a dead process
            log.exception("run %d failed", current.run_id)
            current.error = f"{type(exc).__name__}: {exc}"
        else:
            current.compute_s += time.perf_counter() - started
            current.updates += 1
            current.latest = frame
            current.rows.append((frame.iteration, frame.loss, frame.grad_norm, frame.grad_norm_clipped, frame.clipped))
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
