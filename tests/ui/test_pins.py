"""Pin & compare: ghosts stay, labelled by what differs from the live config; three at most; clear."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from gradlab.core import Config
from gradlab.ui.pins import MAX_PINS, pin_label


def test_pin_labels_say_what_differs_from_the_live_config():
    live = Config(cell="lstm")
    assert pin_label(Config(), live) == "RNN"
    assert pin_label(Config(clip="none"), Config(clip="norm")) == "no clipping"
    assert pin_label(Config(truncation=None), Config(truncation=5)) == "no truncation"
    assert pin_label(Config(lr=0.1), Config()) == "learning rate 0.1"
    assert pin_label(Config(w_rec_scale=0.5, cell="lstm"), Config(w_rec_scale=1.0)) == "LSTM, W_rec scale 0.5"
    assert pin_label(Config(), Config()) == "same settings"
    many = pin_label(Config(cell="gru", lr=0.1, seed=3, seq_len=7, clip="norm"), Config())
    assert many.endswith("+2 more")


def test_a_pinned_run_stays_as_a_labelled_ghost_while_the_live_run_changes(window, qtbot, focused, wait_frames):
    wait_frames(window, 2)
    focused(window)
    qtbot.keyClick(window, Qt.Key.Key_P)
    assert len(window.pins) == 1
    ghost = window.gradient_plot.pin_curves[0]
    pinned_y = np.array(ghost.yData, copy=True)
    assert pinned_y.size == window.config.seq_len
    assert window.gradient_plot.pin_labels() == ["pinned · same settings"]
    assert len(window.training_plot.pin_curves) == 1

    window.controls.cell.setCurrentIndex(window.controls.cell.findData("lstm"))
    wait_frames(window, 2)
    assert window.gradient_plot.pin_labels() == ["pinned · RNN"]
    assert "pinned · RNN" in window.training_plot.legend_text()
    assert np.array_equal(window.gradient_plot.pin_curves[0].yData, pinned_y, equal_nan=True)
    # The ghost looks different from the live curve: dashed, another colour.
    ghost_pen = ghost.opts["pen"]
    live_pen = window.gradient_plot.latest_curve.opts["pen"]
    assert ghost_pen.style() != live_pen.style()
    assert ghost_pen.color() != live_pen.color()


def test_a_fourth_pin_replaces_the_oldest_and_says_so(window, qtbot, wait_frames):
    seeds = []
    for seed in range(MAX_PINS + 1):
        window.controls.seed.setValue(seed + 1)
        wait_frames(window, 1)
        window.pin_run()
        seeds.append(seed + 1)
    assert len(window.pins) == MAX_PINS
    assert [p.config.seed for p in window.pins.pins] == seeds[1:]
    assert sorted(p.slot for p in window.pins.pins) == [0, 1, 2]
    assert "replaced" in window.status.currentMessage()
    assert len(window.gradient_plot.pin_curves) == MAX_PINS
    assert len(window.training_plot.pin_curves) == MAX_PINS


def test_shift_p_clears_every_pin(window, qtbot, focused, wait_frames):
    wait_frames(window, 1)
    window.pin_run()
    window.pin_run()
    focused(window)
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ShiftModifier)
    assert len(window.pins) == 0
    assert window.gradient_plot.pin_curves == []
    assert window.training_plot.pin_curves == []
    assert not any("pinned" in text for text in window.gradient_plot.legend_text())


def test_pinning_before_the_first_update_pins_nothing(qtbot, small_config):
    from gradlab.ui.app import create_window

    window = create_window(small_config)
    qtbot.addWidget(window)
    assert window.pin_run() is None
    assert len(window.pins) == 0
    assert "Nothing to pin" in window.status.currentMessage()
    window.close()
