"""The run's record keeps every update: no cap, nothing dropped, the columns named once."""

from __future__ import annotations

import pickle

import numpy as np

from gradlab.core import Config
from gradlab.core.record import COLUMNS, UpdateLog, save
from gradlab.ui.recording import RunRecorder
from gradlab.ui.simulation import Delivery

OLD_CAP = 200_000  # the window's export used to keep only the last this many updates


def _chunk(first: int, size: int) -> UpdateLog:
    """Rows of ``size`` updates numbered from ``first``, as a delivery carries them."""
    log = UpdateLog()
    iteration = np.arange(first, first + size)
    values = {name: np.full(size, 0.5) for name in COLUMNS}
    values.update(iteration=iteration, loss=1.0 / iteration, clipped=iteration % 2 == 0, nonfinite=[""] * size)
    log.extend(values)
    return log


def test_an_export_after_more_than_the_old_cap_holds_every_update(tmp_path):
    recorder = RunRecorder()
    recorder.start(Config())
    total = OLD_CAP + 12_345
    for first in range(1, total + 1, 997):  # deliveries of a few hundred updates, as from a fast run
        recorder.add(_chunk(first, min(997, total + 1 - first)), None)
    assert len(recorder) == total
    path = save(recorder.history(), tmp_path / "run.npz")
    with np.load(path) as data:
        np.testing.assert_array_equal(data["iteration"], np.arange(1, total + 1))
        np.testing.assert_array_equal(data["loss"], 1.0 / np.arange(1, total + 1))
        assert data["clipped"].sum() == total // 2


def test_small_deliveries_keep_every_row_in_order():
    recorder = RunRecorder()
    recorder.start(Config())
    for k in range(2000):
        recorder.add(_chunk(1 + 3 * k, 3), None)
    np.testing.assert_array_equal(recorder.history().updates.iteration, np.arange(1, 6001))


def test_a_log_crosses_the_pipe_with_its_rows_only():
    log = _chunk(1, 5)
    copy = pickle.loads(pickle.dumps(log))
    assert len(copy) == 5 and copy.names == COLUMNS
    for name in COLUMNS:
        np.testing.assert_array_equal(getattr(copy, name), getattr(log, name))
    copy.add(_chunk(6, 2))  # and still grows
    assert list(copy.iteration) == list(range(1, 8))


def test_columns_are_read_only_views():
    log = _chunk(1, 3)
    try:
        log.loss[0] = 5.0
    except ValueError:
        pass
    else:
        raise AssertionError("a column of the record could be written through its view")
    assert isinstance(Delivery(1, Config(), None, log).history, UpdateLog)
