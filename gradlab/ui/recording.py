"""The run's data as the window saw it, turned into a ``gradlab.core.record.History`` for export.

The window gets coalesced deliveries: every update's loss and gradient norms (``UpdateHistory``)
but a Frame only for the last update of each delivery. The other columns of ``COLUMNS``
(spectral radius, σ_max, fitted slope, which quantities are non-finite) are therefore exact for
updates that were displayed and filled in for the others: NaN for the numbers, and "nonfinite"
from the loss and gradient norm alone (weights unknown). The files are written by
``gradlab.core.record.save``, exactly like the CLI's ``--out``.
"""

from __future__ import annotations

import math

import numpy as np

from gradlab.core import Config, Frame
from gradlab.core.record import COLUMNS, History
from gradlab.ui.worker import UpdateHistory

MAX_RECORDED_UPDATES = 200_000  # ~10 MB; older updates are dropped (memory stays flat)
MERGE_CHUNKS = 512  # deliveries kept as separate small arrays before they are merged into one


class RunRecorder:
    """Every update of the current run (up to ``MAX_RECORDED_UPDATES``) and its last frame."""

    def __init__(self, capacity: int = MAX_RECORDED_UPDATES) -> None:
        self.capacity = capacity
        self.config: Config | None = None
        self._chunks: list[UpdateHistory] = []
        self._count = 0
        self.dropped = 0
        self._frames: dict[int, tuple[float, float, float, str]] = {}
        self.last_frame: Frame | None = None

    def start(self, config: Config) -> None:
        self.__init__(self.capacity)  # type: ignore[misc]
        self.config = config

    def __len__(self) -> int:
        return self._count

    def add(self, chunk: UpdateHistory, frame: Frame | None) -> None:
        if len(chunk):
            self._chunks.append(chunk)
            self._count += len(chunk)
            if self._count > self.capacity * 1.25:
                self._trim()
            elif len(self._chunks) >= MERGE_CHUNKS:
                # One delivery holds a few updates; thousands of tiny arrays would cost ~15× the
                # memory of their numbers. Merged, 200,000 updates take ~8 MB.
                self._chunks = [_concatenate(self._chunks)]
        if frame is not None:
            self.last_frame = frame
            self._frames[frame.iteration] = (
                frame.spectral_radius,
                frame.sigma_max,
                frame.fitted_slope,
                frame.nonfinite.describe(),
            )

    def _trim(self) -> None:
        merged = _concatenate(self._chunks)
        excess = len(merged) - self.capacity
        if excess <= 0:
            return
        self.dropped += excess
        kept = UpdateHistory(*(np.asarray(getattr(merged, name))[excess:] for name in _FIELDS))
        first = int(kept.iteration[0]) if len(kept) else 0
        self._frames = {i: v for i, v in self._frames.items() if i >= first}
        self._chunks = [kept]
        self._count = len(kept)

    def history(self) -> History:
        """A History ready for ``gradlab.core.record.save``."""
        if self.config is None:
            raise ValueError("no run has been recorded yet")
        history = History(self.config)
        merged = _concatenate(self._chunks)
        if len(merged) > self.capacity:
            merged = UpdateHistory(*(np.asarray(getattr(merged, name))[-self.capacity:] for name in _FIELDS))
        rows = history.rows
        for index in range(len(merged)):
            iteration = int(merged.iteration[index])
            loss = float(merged.loss[index])
            grad = float(merged.grad_norm[index])
            known = self._frames.get(iteration)
            if known is None:
                known = (math.nan, math.nan, math.nan, _nonfinite(loss, grad))
            values = {
                "iteration": iteration,
                "loss": loss,
                "grad_norm": grad,
                "grad_norm_clipped": float(merged.grad_norm_clipped[index]),
                "clipped": bool(merged.clipped[index]),
                "spectral_radius": known[0],
                "sigma_max": known[1],
                "fitted_slope": known[2],
                "nonfinite": known[3],
            }
            for name in COLUMNS:
                rows[name].append(values[name])
        history.last_frame = self.last_frame
        if self.last_frame is not None:
            history.baseline_loss = self.last_frame.baseline_loss
        return history


_FIELDS = ("iteration", "loss", "grad_norm", "grad_norm_clipped", "clipped")


def _concatenate(chunks: list[UpdateHistory]) -> UpdateHistory:
    if not chunks:
        return UpdateHistory.from_rows([])
    if len(chunks) == 1:
        return chunks[0]
    return UpdateHistory(*(np.concatenate([getattr(c, name) for c in chunks]) for name in _FIELDS))


def _kind(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return "inf" if math.isinf(value) else ""


def _nonfinite(loss: float, grad_norm: float) -> str:
    """Like ``NonFinite.describe()`` for what an update without a frame tells: loss and gradients."""
    parts = []
    if _kind(loss):
        parts.append(f"loss={_kind(loss)}")
    if _kind(grad_norm):
        parts.append(f"gradients={_kind(grad_norm)}")
    return ", ".join(parts)
