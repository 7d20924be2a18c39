"""Computing a phase map's grid: the tasks (a few rows of points each, the first row split so that
it shows early), the pool of local processes that runs them (or any ``concurrent.futures.Executor``),
and the rows as they are finished, cancellable at any time (``iter_rows``).

The finished map, its files and its on-disk cache are in ``phase_map``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import Config
from .phase_point import PhaseMapSpec, measure_point
from .workspace import Workspace

# A task should hold at least this many points, so that handing it to a process (~1 ms) is small
# against its work (~2-5 ms a point for the default RNN) ...
MIN_POINTS_PER_TASK = 16
# ... and there should be at least this many tasks per worker, so that the workers finish together
# and rows reach the screen early.
TASKS_PER_WORKER = 4
# How often a pool process checks that the process that started it is still there (seconds).
PARENT_POLL_S = 1.0
# How often a waiting map looks at its cancel event (seconds).
CANCEL_POLL_S = 0.05


# ---------------------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class PhaseRow:
    """The results of one y value (one row of the map), as it is finished."""

    index: int  # into y
    slope: np.ndarray  # (Nx,)
    predicted_slope: np.ndarray
    total_log10_ratio: np.ndarray
    loss_ratio: np.ndarray | None = None


@dataclass(frozen=True)
class _Task:
    """What a worker process needs for a few rows, or for a part of one (a plain value: it is pickled)."""

    base: dict[str, Any]
    x_field: str
    x_values: tuple[float, ...]
    y_field: str
    rows: tuple[tuple[int, float], ...]  # (index, y value)
    seeds: int
    trainability: int | None
    start: int = 0  # the first column: x_values are columns start, start + 1, …


@dataclass(frozen=True)
class _Part:
    """Columns start … start + len − 1 of one row."""

    index: int
    start: int
    slope: np.ndarray
    predicted_slope: np.ndarray
    total_log10_ratio: np.ndarray
    loss_ratio: np.ndarray | None


def _compute_task(task: _Task) -> list[_Part]:
    """Run in a worker: the rows (or the part of a row) of one task."""
    base = Config.from_dict(task.base)
    workspace = Workspace()
    parts = []
    for index, y_value in task.rows:
        points = [
            measure_point(
                base.replace(**{task.x_field: x_value, task.y_field: y_value}), task.seeds, task.trainability, workspace
            )
            for x_value in task.x_values
        ]
        parts.append(
            _Part(
                index=index,
                start=task.start,
                slope=np.array([p.slope for p in points]),
                predicted_slope=np.array([p.predicted_slope for p in points]),
                total_log10_ratio=np.array([p.total_log10_ratio for p in points]),
                loss_ratio=np.array([p.loss_ratio for p in points]) if task.trainability is not None else None,
            )
        )
    return parts


def _tasks(spec: PhaseMapSpec, workers: int) -> list[_Task]:
    """A few rows per task; the first row split into one part per worker, so that the first row
    is on screen after 1/workers of a row's time (plus the pool's start)."""
    ny, nx = spec.shape
    rows_for_size = max(1, math.ceil(MIN_POINTS_PER_TASK / nx))
    rows_for_balance = max(1, ny // (TASKS_PER_WORKER * max(1, workers)))
    per_task = min(rows_for_size, rows_for_balance) if ny > workers else 1
    indexed = list(enumerate(spec.y.values))
    base = spec.base.to_dict()
    x, y = spec.x, spec.y

    def task(rows: list[tuple[int, float]], start: int = 0, stop: int = nx) -> _Task:
        return _Task(base, x.field, x.values[start:stop], y.field, tuple(rows), spec.seeds, spec.trainability, start)

    tasks = []
    first_parts = min(max(1, workers), nx // 8) if ny > 1 else 1  # parts of at least 8 points
    if first_parts > 1:
        bounds = np.linspace(0, nx, first_parts + 1).round().astype(int)
        tasks += [task(indexed[:1], int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]
        indexed = indexed[1:]
    tasks += [task(indexed[i : i + per_task]) for i in range(0, len(indexed), per_task)]
    return tasks


def _worker_setup(nice: int = 0, parent: int | None = None) -> None:
    """In each pool process: one BLAS thread (the pool already uses every core) and, if asked, a
    lower priority (the window's pool: the live run and the GUI keep their pace)."""
    from .._blas import limit_blas_threads

    limit_blas_threads()
    # Ctrl-C in a terminal reaches the whole process group: the caller cancels the map, and the
    # pool's processes should not each print a traceback meanwhile.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice:
        with contextlib.suppress(AttributeError, OSError):  # no nice() on this platform
            os.nice(nice)
    # A pool's process waits for work on a pipe whose other end it holds itself, so it would
    # outlive a parent that was killed (not closed): it watches the parent and ends with it. The
    # parent's pid comes from the parent: one that died while this process was starting is gone
    # already, and this process's getppid() would name its new parent.
    parent = os.getppid() if parent is None else parent
    if os.getppid() != parent:
        os._exit(0)
    threading.Thread(target=_end_with_parent, args=(parent,), name="phase-map-parent-watch", daemon=True).start()


def _end_with_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != parent:
            os._exit(0)


def default_workers() -> int:
    """Processes of the default pool: one per core."""
    return max(1, os.cpu_count() or 1)


def make_pool(workers: int | None = None, nice: int = 0) -> concurrent.futures.ProcessPoolExecutor:
    """The default executor: local processes, started with "spawn" (forking a process that runs
    Qt threads is unsafe), each with one BLAS thread, ``nice`` steps below this one's priority."""
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers or default_workers(),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_setup,
        initargs=(nice, os.getpid()),
    )


def stop_pool(pool: Executor) -> None:
    """Shut ``pool`` down now: tasks not started are cancelled, and a local process pool's
    processes are ended rather than waited for (a point holds nothing worth keeping, and a task
    of a large map can run for minutes on a busy machine: closing the window must not wait)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # public only from 3.14 on
    manager = getattr(pool, "_executor_manager_thread", None)  # it settles the futures, then ends
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()
    if manager is not None:
        manager.join()
    else:
        pool.shutdown(wait=True)  # threads, or another kind of executor: its own wait


def iter_rows(
    spec: PhaseMapSpec,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[PhaseRow]:
    """Yield the map's rows as they are finished (in any order).

    ``executor``: where the tasks run (any ``concurrent.futures.Executor``: a process pool, or a
    cluster's, e.g. Dask's ``client.get_executor()``); by default a pool of ``workers`` local
    processes (one per core), shut down before this returns. ``cancel``: when set, the rows not
    started are dropped and the generator ends (closing the generator does the same); a pool of
    its own is shut down with its processes ended before that.
    """
    own_pool = executor is None
    pool: Executor = make_pool(workers) if executor is None else executor
    count = workers or getattr(pool, "_max_workers", None) or default_workers()
    pending: set[Future[list[_Part]]] = set()
    nx = len(spec.x)
    partial: dict[int, tuple[list[np.ndarray | None], int]] = {}  # row → (its arrays, columns filled)
    try:
        pending = {pool.submit(_compute_task, task) for task in _tasks(spec, count)}
        while pending:
            if cancel is not None and cancel.is_set():
                return
            done, pending = concurrent.futures.wait(pending, timeout=CANCEL_POLL_S, return_when="FIRST_COMPLETED")
            for future in done:
                for part in future.result():
                    row = _assemble(partial, part, nx)
                    if row is not None:
                        yield row
    finally:
        for future in pending:
            future.cancel()
        if own_pool:
            stop_pool(pool)  # nothing left behind, and no wait for a task still running


def _assemble(partial: dict[int, tuple[list[np.ndarray | None], int]], part: _Part, nx: int) -> PhaseRow | None:
    """Add a part to its row; the row once it is whole."""
    values = (part.slope, part.predicted_slope, part.total_log10_ratio, part.loss_ratio)
    if part.start == 0 and len(part.slope) == nx:
        return PhaseRow(part.index, *values)
    arrays, filled = partial.get(part.index) or ([None if v is None else np.full(nx, np.nan) for v in values], 0)
    stop = part.start + len(part.slope)
    for whole, piece in zip(arrays, values):
        if whole is not None and piece is not None:
            whole[part.start : stop] = piece
    filled += len(part.slope)
    if filled < nx:
        partial[part.index] = (arrays, filled)
        return None
    partial.pop(part.index, None)
    slope, predicted, total, loss_ratio = arrays
    assert slope is not None and predicted is not None and total is not None
    return PhaseRow(part.index, slope, predicted, total, loss_ratio)
