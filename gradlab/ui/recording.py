"""The run's data as the window received it, as a ``gradlab.core.record.History`` for export.

Every delivery carries every update's row (all of ``COLUMNS``), so the files written by
``gradlab.core.record.save`` hold the same columns as the CLI's ``--out``, for every update.
"""

from __future__ import annotations

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
            if self._count > self.capacity * 1.25 or len(self._chunks) >= MERGE_CHUNKS:
                # One delivery holds a few updates; thousands of tiny arrays would cost ~15× the
                # memory of their numbers. Merged, 200,000 updates take ~10 MB.
                self._merge()
        if frame is not None:
            self.last_frame = frame

    def _merge(self) -> None:
        merged = UpdateHistory.concatenate(self._chunks)
        excess = max(0, len(merged) - self.capacity)
        self.dropped += excess
        self._chunks = [merged.tail(len(merged) - excess)]
        self._count = len(merged) - excess

    def history(self) -> History:
        """A History ready for ``gradlab.core.record.save``."""
        if self.config is None:
            raise ValueError("no run has been recorded yet")
        merged = UpdateHistory.concatenate(self._chunks)
        merged = merged.tail(min(len(merged), self.capacity))
        history = History(self.config)
        for name in COLUMNS:
            history.rows[name] = getattr(merged, name).tolist()
        history.last_frame = self.last_frame
        if self.last_frame is not None:
            history.baseline_loss = self.last_frame.baseline_loss
        return history
