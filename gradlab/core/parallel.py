"""Two processes on one update: the batch is split, and each computes the gradients of its rows.

Training is sequential (each update starts from the weights the previous one left), but within
an update the rows of a batch are independent until their gradients are summed, and the time of
a forward + BPTT pass is close to proportional to the batch size. So a second process, the
*batch helper*, takes the second half of each batch while this process computes the first, and
the two results are combined into what :func:`gradients` returns for the whole batch.

The combination is exact in real arithmetic (every quantity is a weighted sum over the rows); in
floating point it differs from the one-process result by rounding, because the sums over the
batch are taken in another order.

The helper is an ordinary process that answers requests on a pipe: ``serve`` is its main loop.
It is never waited for to start (``BatchHelper.ready``), and if it dies, its half is computed
here, so a run never stops because of it.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np

from .config import Config
from .gradients import Gradients, gradients
from .numerics import global_norm
from .workspace import Workspace

# Below these sizes a split saves little or nothing (measured at batch 16: a pass of RNN H=32
# T=1000 or GRU H=32 T=1000 takes 0.74 / 1.03 of its one-process time, RNN H=128 T=100 0.86;
# LSTM or GRU at H=128 0.52-0.66): a step's fixed cost (a dozen NumPy calls) does not shrink with
# the batch, and the hand-over costs ~0.3 ms. It is not worth a second busy core either.
SPLIT_MIN_ROW_WIDTH = 2048  # batch × hidden size × gates: the size of one step's arrays
SPLIT_MIN_ELEMENTS = 300_000  # seq_len × batch × hidden size × gates: the size of one pass

# How long a pass waits for the helper's answer to a cancelled pass (see ``BatchHelper.cancel``):
# it comes within a few ms, and the next pass is twice as fast with the helper.
CANCEL_WAIT_S = 0.05

_LN10 = math.log(10.0)


@dataclass(frozen=True)
class BatchGradients:
    """What an update needs of a forward + BPTT pass over the whole batch."""

    loss: float
    grads: dict[str, np.ndarray]
    grad_norm: float
    log10_dh_norm: np.ndarray  # (T,)
    log10_dc_norm: np.ndarray | None = None  # LSTM only


def worth_splitting(config: Config) -> bool:
    """Does splitting the batch between two processes pay for a pass of this size?"""
    width = config.batch_size * config.hidden_size * config.gates
    return config.batch_size >= 2 and width >= SPLIT_MIN_ROW_WIDTH and width * config.seq_len >= SPLIT_MIN_ELEMENTS


class Cancelled(Exception):
    """Raised into the helper's pass by ``cancel_signal`` (see ``serve``)."""


def serve(conn: Connection, cancel_signal: int | None = None, cancelled: Any = None) -> None:
    """The helper's main loop (its process limits BLAS to one thread first): answer ("gradients",
    number, cell, params, x, target, kwargs) requests until ("quit",) or until the other end of
    the pipe closes.

    ``cancel_signal`` and ``cancelled`` (a shared integer: the highest request number the caller no
    longer wants) cancel passes: the signal ends such a pass while it is computed, and one not
    begun yet is not begun; either way its answer is ("cancelled",).
    """
    computing = [0]  # the number of the request being computed; 0: none
    workspace = Workspace()  # a cancelled pass leaves it part-written: every pass writes before it reads

    def unwanted(number: int) -> bool:
        return cancelled is not None and number <= cancelled.value

    def cancel(signum: int, frame: object) -> None:
        if computing[0] and unwanted(computing[0]):
            raise Cancelled

    if cancel_signal is not None:
        signal.signal(cancel_signal, cancel)
    try:
        conn.send(("hello", os.getpid(), cancel_signal if cancelled is not None else None))
        while True:
            request = conn.recv()
            if request[0] != "gradients":
                return
            _, number, cell, params, x, target, kwargs = request
            try:
                if unwanted(number):
                    raise Cancelled
                computing[0] = number
                try:
                    result = gradients(cell, params, x, target, workspace=workspace, **kwargs)
                finally:
                    computing[0] = 0
            except Cancelled:
                conn.send(("cancelled",))
                continue
            except Exception as exc:  # reported to the caller, who computes this half itself
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
                continue
            conn.send(("ok", result.loss, result.grads, result.log10_dh_norm, result.log10_dc_norm))
    except (EOFError, OSError, KeyboardInterrupt):
        return


def _serve_alone(conn: Connection) -> None:
    """``serve`` in a helper of its own (``BatchHelper.start``): one BLAS thread per process."""
    from .._blas import limit_blas_threads

    limit_blas_threads()
    serve(conn)


class BatchHelper:
    """This process's end of a batch helper. ``start()`` makes one; a process that made the
    helper process itself (the window, which starts it beside the simulation process) wraps its
    end of the pipe.

    A pass interrupted by an exception (a superseded run) may leave the helper computing a half
    nobody wants. ``cancel`` stops it (the next pass waits the few ms its answer takes); without
    that, the next pass does not wait: it computes its whole batch here, and the stale answer is
    read and dropped when it comes. ``talking`` is true while a message is being written or read:
    an interruption then would cut it in half and must wait.
    """

    def __init__(self, conn: Connection, process: BaseProcess | None = None, cancelled: Any = None) -> None:
        self._conn = conn
        self._process = process
        self._cancelled_upto = cancelled  # shared with the helper's ``serve``, if it can cancel
        self._number = 0  # of the last request sent
        self._ready = False
        self._lost = False
        self._pending = 0  # requests sent whose answers were not read yet
        self._pid = 0  # the helper's process id, from its hello
        self._cancel_signal: int | None = None  # the signal that cancels its pass, from its hello
        self._cancelled = False  # a pass was cancelled and its answer has not come yet
        self.talking = False

    @classmethod
    def start(cls) -> BatchHelper:
        context = multiprocessing.get_context("spawn")
        conn, child_conn = context.Pipe(duplex=True)
        process = context.Process(target=_serve_alone, args=(child_conn,), name="gradlab-batch-helper", daemon=True)
        # Ctrl+C is for this process: the helper, started with SIGINT ignored, keeps it ignored
        # (no traceback from a helper still importing) and ends when this end of its pipe closes.
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread else None
        try:
            process.start()
        finally:
            if in_main_thread:
                signal.signal(signal.SIGINT, previous)
        child_conn.close()
        return cls(conn, process)

    @property
    def lost(self) -> bool:
        """The helper died or failed; it is not asked again."""
        return self._lost

    def ready(self) -> bool:
        """Has the helper started (its imports done) and is it free? Does not wait, except up to
        ``CANCEL_WAIT_S`` for the answer to a cancelled pass (given at once)."""
        self._talk(self._read_what_is_there)
        return self._ready and not self._pending and not self._lost

    def _read_what_is_there(self) -> None:
        deadline = time.monotonic() + (CANCEL_WAIT_S if self._cancelled else 0.0)
        while not self._lost and (not self._ready or self._pending):
            if not self._conn.poll(max(0.0, deadline - time.monotonic())):
                return
            reply = self._conn.recv()
            if reply[0] == "hello":
                self._ready, self._pid, self._cancel_signal = True, reply[1], reply[2]
            else:
                self._pending -= 1  # the answer to an interrupted pass: dropped
                self._cancelled = self._cancelled and self._pending > 0

    def gradients(
        self,
        cell: str,
        params: dict[str, np.ndarray],
        x: np.ndarray,
        target: np.ndarray,
        *,
        workspace: Workspace | None = None,
        **kwargs: object,
    ) -> BatchGradients:
        """:func:`gradients` over the whole batch ``x (T, B, D)``, the second half computed by the
        helper if it is free (else, or if it fails on the way, here, with ``workspace``)."""
        if not self.ready():
            return _summary(gradients(cell, params, x, target, workspace=workspace, **kwargs))
        x = np.asarray(x)
        target = np.asarray(target)
        rows = x.shape[1]
        mine = rows - rows // 2
        batch_axis = 0 if target.ndim == 2 else 1  # loss="last": (B, O); loss="sum": (T, B, O)
        my_target, their_target = np.split(target, [mine], axis=batch_axis)
        theirs = (np.ascontiguousarray(x[:, mine:]), their_target)
        sent = self._send(("gradients", self._number + 1, cell, params, theirs[0], theirs[1], kwargs))
        first = _summary(gradients(cell, params, x[:, :mine], my_target, workspace=workspace, **kwargs))
        second = self._receive() if sent else None
        if second is None:
            second = _summary(gradients(cell, params, theirs[0], theirs[1], workspace=workspace, **kwargs))
        return combine([(mine, first), (rows - mine, second)])

    def cancel(self) -> None:
        """Ask the helper to drop the halves asked of it so far, if it was started with a
        ``cancel_signal`` and the same ``cancelled`` integer (see ``serve``); their answers are
        then read and dropped as stale."""
        can_cancel = self._cancel_signal is not None and self._cancelled_upto is not None and self._pid
        if can_cancel and self._pending and not self._lost:
            self._cancelled_upto.value = self._number  # also if it has not begun that pass yet
            try:
                os.kill(self._pid, self._cancel_signal)
                self._cancelled = True
            except OSError:
                self._lost = True

    def close(self) -> None:
        """Ask the helper to quit and end it if it does not."""
        self._send(("quit",))
        self._conn.close()
        self._lost = True
        if self._process is not None:
            self._process.join(0.2)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(0.2)

    def _send(self, message: tuple) -> bool:
        def send() -> bool:
            self._conn.send(message)
            if message[0] == "gradients":
                self._pending, self._number = self._pending + 1, message[1]
            return True

        return bool(self._talk(send))

    def _receive(self) -> BatchGradients | None:
        def receive() -> tuple:
            reply = self._conn.recv()
            self._pending -= 1
            return reply

        reply = self._talk(receive)
        if reply is None or reply[0] == "cancelled":
            return None
        if reply[0] != "ok":
            self._lost = True
            return None
        _, loss, grads, log10_dh, log10_dc = reply
        return BatchGradients(loss, grads, float("nan"), log10_dh, log10_dc)

    def _talk(self, action: Callable[[], Any]) -> Any:
        """Run ``action`` (pipe traffic and the bookkeeping that goes with it) with ``talking`` set;
        a broken pipe marks the helper lost."""
        if self._lost:
            return None
        self.talking = True
        try:
            return action()
        except (EOFError, OSError, ValueError):
            self._lost = True
            return None
        finally:
            self.talking = False


def _summary(result: Gradients) -> BatchGradients:
    return BatchGradients(result.loss, result.grads, result.grad_norm, result.log10_dh_norm, result.log10_dc_norm)


def combine(parts: list[tuple[int, BatchGradients]]) -> BatchGradients:
    """The result over a whole batch from results over its parts, given as (rows, result).

    Every loss is a mean over the batch rows, so the whole batch's loss and gradients are the
    row-weighted means of the parts'. Its ∂L/∂h_t restricted to a part's rows is that part's
    times the part's weight w, so ‖∂L/∂h_t‖² is the sum of w²·‖part‖², taken here in log space
    (no underflow or overflow; an exact zero stays -inf, nan stays nan).
    """
    total = sum(rows for rows, _ in parts)
    weights = [rows / total for rows, _ in parts]
    first = parts[0][1]
    dtype = next(iter(first.grads.values())).dtype
    with np.errstate(all="ignore"):
        loss = float(sum(w * part.loss for w, (_, part) in zip(weights, parts)))
        grads = {
            name: sum((np.asarray(w, dtype=dtype) * part.grads[name] for w, (_, part) in zip(weights, parts)))
            for name in first.grads
        }
        log10_dh = _log10_norm_of_parts([p.log10_dh_norm for _, p in parts], weights)
        log10_dc = (
            None if first.log10_dc_norm is None else _log10_norm_of_parts([p.log10_dc_norm for _, p in parts], weights)  # type: ignore[misc]
        )
    return BatchGradients(loss, grads, global_norm(grads.values()), log10_dh, log10_dc)


def _log10_norm_of_parts(log10_norms: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """log10 sqrt(Σ (w·10^a)²) per step, for per-step log10 norms ``a`` of the parts."""
    scaled = [2.0 * _LN10 * (np.asarray(a, dtype=np.float64) + math.log10(w)) for a, w in zip(log10_norms, weights)]
    return np.logaddexp.reduce(scaled, axis=0) / (2.0 * _LN10)
