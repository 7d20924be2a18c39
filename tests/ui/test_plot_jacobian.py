"""The Jacobian panel draws the singular values it is given, says which update they are from, keeps k
within 1 … T and asks for measurements only while it is on screen."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradlab.core import Config, run
from gradlab.core.jacobian import JacobianProbe, JacobianSpectrum
from gradlab.ui.axes import labelled_decades
from gradlab.ui.plot_jacobian import JacobianPanel, histogram, sigma_text
from gradlab.ui.theme import Theme

# Showing a widget on the offscreen platform warns; nothing else may.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

CONFIG = Config(
    activation="linear", init="gaussian", w_rec_scale=1.0, hidden_size=64, seq_len=40, batch_size=4, iterations=1
)


@pytest.fixture
def panel(qtbot):
    widget = JacobianPanel(Theme())
    widget.resize(420, 330)
    qtbot.addWidget(widget)
    return widget


def _spectrum(config: Config, k: int) -> JacobianSpectrum:
    probe = JacobianProbe(config, k=k)
    next(run(config, jacobian=probe))
    spectrum = probe.measure()
    assert spectrum is not None
    return spectrum


def test_it_asks_for_k_only_while_on_screen(panel, qtbot):
    asked: list[int | None] = []
    panel.wanted.connect(asked.append)
    panel.set_config(CONFIG)
    assert panel.k == 20  # T/2 by default
    assert asked == [None]  # not on screen: nothing
    panel.show()
    qtbot.waitExposed(panel)
    assert asked[-1] == 20
    panel.k_box.setValue(7)
    assert asked[-1] == 7
    panel.hide()
    assert asked[-1] is None
    panel.k_box.setValue(9)
    assert asked[-1] is None  # hidden: a new k asks for nothing


def test_k_stays_within_one_to_T_and_follows_a_new_length(panel, qtbot):
    panel.set_config(CONFIG)
    assert (panel.k_box.minimum(), panel.k_box.maximum()) == (1, 40)
    panel.k_box.setValue(1000)
    assert panel.k == 40
    panel.k_box.setValue(-5)
    assert panel.k == 1
    panel.k_box.setValue(12)
    panel.set_config(CONFIG.replace(w_rec_scale=1.2))  # same length: the chosen k stays
    assert panel.k == 12
    panel.set_config(CONFIG.replace(seq_len=10))  # a new length: T/2 again
    assert (panel.k, panel.k_box.maximum()) == (5, 10)
    panel.set_config(Config(cell="mlp", hidden_size=16, seq_len=8, batch_size=4))
    assert (panel.k, panel.k_box.maximum()) == (4, 7)  # L − 1 layers
    assert panel.k_range.text() == "of 7"


def test_it_draws_the_values_it_is_given(panel, qtbot):
    panel.set_config(CONFIG)
    panel.show()
    qtbot.waitExposed(panel)
    spectrum = _spectrum(CONFIG, 20)
    panel.show_spectrum(spectrum)
    assert panel.spectrum is spectrum
    edges, counts = panel.bars.getData()
    values = spectrum.log10_singular_values
    resolved = values[values > spectrum.log10_floor]
    assert counts.sum() == resolved.size
    expected_edges, expected_counts = histogram(resolved)
    np.testing.assert_array_equal(edges, expected_edges)
    np.testing.assert_array_equal(counts, expected_counts)
    text = panel.readout.text()
    assert f"σₘₐₓ {sigma_text(values[0])}" in text
    assert panel.update_label.text() == "update 1"
    lost = values.size - resolved.size
    if lost:
        assert f"{lost} of 64 lost to rounding" in text and panel.rounding_region.isVisible()
    else:
        assert f"σₘᵢₙ {sigma_text(values[-1])}" in text
    qtbot.wait(100)
    assert len(labelled_decades(panel.plot_widget.getPlotItem().getAxis("bottom"))) >= 3
    # Another k than the box's (asked for before it changed) is not drawn.
    panel.show_spectrum(_spectrum(CONFIG, 3))
    assert panel.spectrum is spectrum


def test_an_isometry_is_one_bar_at_one_with_three_labelled_decades(panel, qtbot):
    config = CONFIG.replace(init="orthogonal")
    panel.set_config(config)
    panel.show()
    qtbot.waitExposed(panel)
    spectrum = _spectrum(config, 20)
    panel.show_spectrum(spectrum)
    edges, counts = panel.bars.getData()
    assert counts.max() == 64 and edges[0] < 0 < edges[-1]
    assert "σₘₐₓ 1   σₘᵢₙ 1" in panel.readout.text()
    assert not panel.rounding_region.isVisible()
    qtbot.wait(100)
    decades = labelled_decades(panel.plot_widget.getPlotItem().getAxis("bottom"))
    assert len(decades) >= 3 and min(decades) <= -1 and max(decades) >= 1


def test_gated_cells_are_said_to_be_left_out(panel, qtbot):
    asked: list[int | None] = []
    panel.wanted.connect(asked.append)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_config(Config(cell="lstm", hidden_size=8, seq_len=10, batch_size=2))
    assert asked[-1] is None and not panel.k_box.isEnabled()
    assert "vanilla RNN's Jacobian only" in panel.readout.text()


def test_sigma_text():
    assert sigma_text(math.log10(2.59)) == "2.59"
    assert sigma_text(-7.5) == "3.2e-8"
    assert sigma_text(-250.0) == "1e-250"
    assert sigma_text(-math.inf) == "0"
    assert sigma_text(0.0) == "1"


def test_a_k_capped_by_its_cost_says_so(panel):  # type: ignore[no-untyped-def]
    panel.set_config(Config(hidden_size=1024, seq_len=2000, batch_size=1))
    assert panel.k_box.maximum() < 2000 and "(cost)" in panel.k_range.text()
    assert "2·H³" in panel.k_box.toolTip()
    panel.set_config(Config(hidden_size=64, seq_len=2000, batch_size=1))
    assert panel.k_box.maximum() == 2000 and panel.k_range.text() == "of 2000"
