"""The spectrum panel: eigenvalues for the vanilla RNN, the gates per unit for LSTM/GRU (their
candidate block's spectrum says nothing of the gradient), and back."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradlab.core import Config, Frame, run
from gradlab.ui.plot_common import format_number
from gradlab.ui.plot_spectrum import SpectrumPlot
from gradlab.ui.plot_why import GATE_SATURATED, frame_cell, gate_mean_text, gate_tau
from gradlab.ui.theme import Theme

# Showing a widget on the offscreen platform warns; nothing else may.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def trained(cell: str, updates: int = 30, **fields: object) -> Frame:
    """The last frame of a short real run on the adding problem."""
    config = Config(
        cell=cell,  # type: ignore[arg-type]
        task="adding",
        hidden_size=32,
        seq_len=40,
        batch_size=8,
        optimizer="adam",
        lr=0.01,
        iterations=updates,
        **fields,  # type: ignore[arg-type]
    )
    *_, last = run(config)
    return last


@pytest.fixture
def panel(qtbot):  # type: ignore[no-untyped-def]
    widget = SpectrumPlot(Theme())
    widget.resize(420, 380)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.mark.parametrize("cell, letter", [("lstm", "f"), ("gru", "z")])
def test_gated_cells_show_the_gate_histogram_not_the_spectrum(panel, qtbot, cell, letter):
    frame = trained(cell, forget_bias_init="chrono")
    assert frame_cell(frame) == cell
    panel.show_frame(frame)
    assert panel.mode == "gates"
    assert not panel.eigenvalue_points.isVisible() and not panel.unit_circle.isVisible()
    assert panel.gate_bars.isVisible()
    edges, counts = panel.gate_bars.getData()
    assert counts.sum() == 32
    # every unit in the bin of its mean gate
    expected, _ = np.histogram(frame.gate_mean, bins=edges)
    np.testing.assert_array_equal(counts, expected)
    text = panel.readout.text()
    assert f"mean {letter} {np.mean(frame.gate_mean):.2f}" in text
    median_tau = -1.0 / math.log(float(np.median(frame.gate_mean)))
    assert f"median τ {median_tau:.3g} steps" in text
    assert f"{np.mean(frame.gate_mean > GATE_SATURATED):.0%} of units {letter} > {GATE_SATURATED}" in text
    plot = panel.plot_widget.getPlotItem()
    assert plot.getAxis("top").isVisible() and "τ" in plot.getAxis("top").labelText
    assert letter in plot.getAxis("bottom").labelText
    assert ("Forget gate" if cell == "lstm" else "Update gate") in panel.title()
    qtbot.wait(200)  # the layout follows the new labels before the picture
    panel.grab().save(f"/tmp/theory/spectrum_{cell}.png")


def test_the_panel_goes_back_to_the_spectrum_for_a_vanilla_rnn(panel, qtbot):
    panel.show_frame(trained("lstm", updates=2))
    assert panel.mode == "gates"
    rnn = next(run(Config(hidden_size=32, seq_len=20, iterations=1)))
    panel.show_frame(rnn)
    assert panel.mode == "spectrum"
    assert panel.eigenvalue_points.isVisible() and not panel.gate_bars.isVisible()
    assert len(panel.eigenvalue_points.data) == 32
    assert panel.readout.text().startswith("ρ = ")
    assert not panel.plot_widget.getPlotItem().getAxis("top").isVisible()
    assert "W_hh" in panel.title()


def test_the_big_readout_of_a_gated_cell_is_its_mean_gate():
    frame = trained("gru", updates=3)
    assert gate_mean_text(frame) == ("mean z", f"{np.mean(frame.gate_mean):.3f}")
    assert gate_mean_text(next(run(Config(hidden_size=8, seq_len=5, iterations=1)))) == ("", "")


def test_tau_is_the_steps_to_one_over_e():
    assert gate_tau(math.exp(-1 / 20)) == pytest.approx(20.0)
    assert gate_tau(1.0) == math.inf and gate_tau(0.0) == 0.0


def test_the_readout_follows_every_frame_and_says_which_update_the_eigenvalues_are_from(panel):
    # H = 256: the core decomposes W_hh every few updates only; σ_max is from every update's weights.
    frames = list(run(Config(hidden_size=256, seq_len=100, batch_size=16, w_rec_scale=1.0, iterations=5)))
    assert any(f.spectrum_iteration != f.iteration for f in frames)
    for frame in frames:
        panel.show_frame(frame)
        text = panel.readout.text()
        assert f"σₘₐₓ = {format_number(frame.sigma_max)}" in text
        assert f"ρ = {format_number(frame.spectral_radius)}" in text
        if frame.iteration > 1:
            assert f"of update {frame.spectrum_iteration:,}" in text


def test_the_unit_circle_is_drawn_over_the_eigenvalues(panel):
    assert panel.unit_circle.zValue() > panel.eigenvalue_points.zValue()
