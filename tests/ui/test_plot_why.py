"""The why panel draws the two factors of a vanilla RNN's step, and the gates of gated cells."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core import Config, run
from gradlab.ui.plot_why import WhyPanel, gate_summary
from gradlab.ui.theme import Theme

# Showing a widget on the offscreen platform warns; nothing else may.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


@pytest.fixture
def panel(qtbot):
    widget = WhyPanel(Theme())
    widget.resize(480, 360)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_factors_for_the_vanilla_rnn(panel, qtbot):
    frame = next(
        run(Config(activation="tanh", init="gaussian", w_rec_scale=3.0, hidden_size=64, seq_len=50, iterations=1))
    )
    panel.show_frame(frame, "rnn")
    assert panel.mode == "factors"
    _, weight = panel.weight_curve.getData()
    assert weight[0] == pytest.approx(frame.log10_weight_factor)
    k, step = panel.step_curve.getData()
    np.testing.assert_allclose(step, frame.log10_activation_factor[k.astype(int)] + frame.log10_weight_factor)
    assert "saturated" in panel.readout.text()
    qtbot.wait(200)  # let the layout follow the new labels before the picture
    panel.grab().save("/tmp/theory/why_rnn.png")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gate_histogram_for_gated_cells(panel, qtbot, cell):
    frame = next(run(Config(cell=cell, hidden_size=64, seq_len=50, iterations=1, forget_bias_init="chrono")))
    panel.show_frame(frame, cell)
    assert panel.mode == "gates"
    _, counts = panel.gate_bars.getData()
    assert counts.sum() == 64
    assert ("mean f" if cell == "lstm" else "mean z") in panel.readout.text()
    qtbot.wait(200)  # let the layout follow the new labels before the picture
    panel.grab().save(f"/tmp/theory/why_{cell}.png")


def test_gate_summary_tau():
    text = gate_summary(np.array([np.exp(-1.0), np.exp(-0.5), 0.99]), "lstm")
    assert "median τ 2 steps" in text and "33% of units f > 0.95" in text
