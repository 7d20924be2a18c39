"""Key J shows the Jacobian's singular values in the spectrum's place, measured by the simulation
process only while shown; Why (Y), Jacobian (J) and the spectrum take turns in that place."""

from __future__ import annotations

import numpy as np
import pytest
from patience import PATIENCE_MS
from PySide6.QtCore import Qt

from gradlab.core import run
from gradlab.core.jacobian import JacobianProbe, jacobian_singular_values


def _core_log10_values(config, iteration: int, k: int) -> np.ndarray:
    probe = JacobianProbe(config)
    frames = list(run(config.replace(iterations=iteration), jacobian=probe))
    sample = probe.sample
    assert sample is not None and sample.iteration == frames[-1].iteration == iteration
    return np.log10(jacobian_singular_values(sample.weights, sample.states, config.activation, k))


def test_the_jacobian_key_shows_measured_values_in_place_of_the_spectrum(window, qtbot, focused, wait_frames):
    panel, acts = window.jacobian_panel, window.commands
    assert acts.jacobian in dict(acts.menus())["&View"]
    assert [a.shortcut().toString() for a in acts.all()].count("J") == 1
    wait_frames(window, 2)
    assert window.controller.jacobian_k is None  # hidden: nothing asked, nothing computed
    assert panel.spectrum is None
    focused(window)
    qtbot.keyClick(window, Qt.Key.Key_J)
    assert acts.jacobian.isChecked()
    qtbot.waitUntil(panel.isVisible, timeout=PATIENCE_MS)
    assert not window.spectrum_plot.isVisible()
    config = window.config
    assert window.controller.jacobian_k == panel.k == config.seq_len // 2
    qtbot.waitUntil(lambda: panel.spectrum is not None, timeout=PATIENCE_MS)
    spectrum = panel.spectrum
    assert panel.update_label.text() == f"update {spectrum.iteration:,}" and spectrum.k == panel.k
    np.testing.assert_allclose(
        spectrum.log10_singular_values, _core_log10_values(config, spectrum.iteration, panel.k), atol=1e-9
    )
    # k chosen on screen: the next values are for that k.
    panel.k_box.setValue(3)
    assert window.controller.jacobian_k == 3
    qtbot.waitUntil(lambda: panel.spectrum.k == 3, timeout=PATIENCE_MS)

    # Y takes the place: the Jacobian is unticked and no longer measured.
    qtbot.keyClick(window, Qt.Key.Key_Y)
    assert acts.why.isChecked() and not acts.jacobian.isChecked()
    qtbot.waitUntil(window.why_panel.isVisible, timeout=PATIENCE_MS)
    assert not panel.isVisible() and window.controller.jacobian_k is None
    # J takes it back; J again gives the spectrum back.
    qtbot.keyClick(window, Qt.Key.Key_J)
    assert acts.jacobian.isChecked() and not acts.why.isChecked()
    qtbot.waitUntil(panel.isVisible, timeout=PATIENCE_MS)
    assert window.controller.jacobian_k == 3
    qtbot.keyClick(window, Qt.Key.Key_J)
    qtbot.waitUntil(window.spectrum_plot.isVisible, timeout=PATIENCE_MS)
    assert not acts.jacobian.isChecked() and window.controller.jacobian_k is None


def test_the_phase_map_over_the_plots_stops_the_measurements(window, qtbot, wait_frames):
    wait_frames(window, 1)
    window.commands.jacobian.setChecked(True)
    qtbot.waitUntil(lambda: window.controller.jacobian_k is not None, timeout=PATIENCE_MS)
    window.commands.phase_map.setChecked(True)
    qtbot.waitUntil(lambda: window.controller.jacobian_k is None, timeout=PATIENCE_MS)
    window.commands.phase_map.setChecked(False)
    qtbot.waitUntil(lambda: window.controller.jacobian_k is not None, timeout=PATIENCE_MS)


@pytest.mark.parametrize("cell", ["lstm"])
def test_gated_cells_ask_for_nothing(window, qtbot, wait_frames, cell):
    window.commands.jacobian.setChecked(True)
    window.set_config(window.config.replace(cell=cell))
    wait_frames(window, 2)
    assert window.controller.jacobian_k is None
    assert "vanilla RNN's Jacobian only" in window.jacobian_panel.readout.text()
