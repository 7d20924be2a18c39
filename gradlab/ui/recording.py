"""The current run's record as the window received it, for the data export.

Every delivery carries every update's row, so the files written by ``gradlab.core.record.save``
hold the same columns as the CLI's ``--out``, for every update of the run: nothing is dropped (a
few columns of float64 are ~75 MB for a million updates, hours of a lecture's default scene).
"""

from __future__ import annotations

from gradlab.core import Config, Frame
from gradlab.core.record import History, UpdateLog


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
