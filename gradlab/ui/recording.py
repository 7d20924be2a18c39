"""The current run's record as the window received it, for the data export; what the training
plot draws of it.

Every delivery carries every update's row, so the files written by ``gradlab.core.record.save``
hold the same columns as the CLI's ``--out``, for every update of the run: nothing is dropped (a
few columns of float64 are ~75 MB for a million updates, hours of a lecture's default scene).
"""

from __future__ import annotations

import numpy as np

from gradlab.core import Config, Frame
from gradlab.core.record import Columns, History, UpdateLog
from gradlab.ui.plot_common import safe_log10

MAX_UPDATES = 20_000  # the training plot draws these or a few more: cheap to redraw at 60 Hz


class RunRecorder:
    """Every update of the current run and its last frame."""

    def __init__(self) -> None:
        self._history: History | None = None

    @property
    def last_frame(self) -> Frame | None:
        return self._history.last_frame if self._history is not None else None

    def start(self, config: Config) -> None:
        self._history = History(config)

    def __len__(self) -> int:
        return len(self._history) if self._history is not None else 0

    def add(self, updates: UpdateLog, frame: Frame | None) -> None:
        if self._history is None:
            raise ValueError("updates arrived before a run was started")
        self._history.add(updates, frame)

    def history(self) -> History:
        """The run's History, ready for ``gradlab.core.record.save``."""
        if self._history is None:
            raise ValueError("no run has been recorded yet")
        return self._history


class TrainingHistory(Columns):
    """What the training plot draws of the run's record: the update number and log10 of the norms
    and the loss of the last ``capacity`` updates or more (older ones leave the plot, not the record:
    ``gradlab.ui.recording``), and counts over every update."""

    def __init__(self, capacity: int = MAX_UPDATES) -> None:
        super().__init__(
            {name: np.float64 for name in ("iteration", "log10_grad", "log10_grad_clipped", "log10_loss")}
            | {"clipped": np.bool_}
        )
        self.capacity = capacity
        self.nonfinite_loss = 0
        self.nonfinite_grad = 0
        self.clip_count = 0
        self.total = 0

    def clear(self) -> None:
        self.__init__(self.capacity)  # type: ignore[misc]

    def append(self, chunk: UpdateLog) -> None:
        if not len(chunk):
            return
        self.total += len(chunk)
        self.clip_count += int(np.count_nonzero(chunk.clipped))
        self.nonfinite_loss += int(np.count_nonzero(~np.isfinite(chunk.loss)))
        self.nonfinite_grad += int(np.count_nonzero(~np.isfinite(chunk.grad_norm)))
        self.extend(
            {
                "iteration": chunk.iteration,
                "log10_grad": safe_log10(chunk.grad_norm),
                "log10_grad_clipped": safe_log10(chunk.grad_norm_clipped),
                "log10_loss": safe_log10(chunk.loss),
                "clipped": chunk.clipped,
            }
        )
        if len(self) > self.capacity * 5 // 4:  # trimmed now and then, not at every update
            self.keep_last(self.capacity)
