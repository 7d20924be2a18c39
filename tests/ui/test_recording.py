"""The run recorder keeps every update in bounded memory."""

from __future__ import annotations

import numpy as np

from gradlab.core import Config
from gradlab.ui.recording import MERGE_CHUNKS, RunRecorder
from gradlab.ui.worker import UpdateHistory


def _chunk(first: int, size: int) -> UpdateHistory:
    return UpdateHistory.from_rows(
        [(i, 1.0, 2.0, 2.0, False, 0.5, 0.5, -0.3, -0.3, "") for i in range(first, first + size)]
    )


def test_small_deliveries_are_merged_and_nothing_is_lost():
    recorder = RunRecorder(capacity=100_000)
    recorder.start(Config())
    for k in range(3 * MERGE_CHUNKS):
        recorder.add(_chunk(1 + 3 * k, 3), None)
    assert len(recorder) == 9 * MERGE_CHUNKS
    assert len(recorder._chunks) < MERGE_CHUNKS
    history = recorder.history()
    np.testing.assert_array_equal(history.rows["iteration"], np.arange(1, 9 * MERGE_CHUNKS + 1))


def test_the_oldest_updates_go_beyond_the_capacity():
    recorder = RunRecorder(capacity=1000)
    recorder.start(Config())
    for k in range(1000):
        recorder.add(_chunk(1 + 5 * k, 5), None)
    history = recorder.history()
    assert len(history.rows["iteration"]) == 1000
    assert history.rows["iteration"][-1] == 5000
