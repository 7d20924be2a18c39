"""The simulation process measures the Jacobian's singular values on request: of the right update,
equal to the core's on that update's weights and hidden states, only while asked, with k's limits."""

from __future__ import annotations

import numpy as np
import pytest
from patience import PATIENCE_MS, PATIENCE_S

from gradlab.core import Config, gradients, run
from gradlab.core.experiment import initial_params
from gradlab.core.jacobian import JacobianProbe, JacobianSpectrum, jacobian_singular_values
from gradlab.core.tasks import TASK_INFO, make_batch
from gradlab.ui.simulation import SimulationController

CONFIG = Config(hidden_size=12, seq_len=16, batch_size=3, activation="tanh", w_rec_scale=1.3)


@pytest.fixture
def controller(qtbot):  # type: ignore[no-untyped-def]
    ctrl = SimulationController()
    yield ctrl
    assert ctrl.quit(timeout_s=PATIENCE_S)


def _collect(controller: SimulationController) -> list[JacobianSpectrum]:
    spectra: list[JacobianSpectrum] = []
    controller.jacobian_measured.connect(spectra.append)
    return spectra


def _core_log10_values(config: Config, iteration: int, k: int) -> np.ndarray:
    """The core's singular values of the first sequence's ∂h_T/∂h_{T−k} at update ``iteration``,
    from a run of its own (the same Config gives the same updates)."""
    probe = JacobianProbe(config)
    for frame in run(config, jacobian=probe):
        if frame.iteration == iteration:
            break
    sample = probe.sample
    assert sample is not None and sample.iteration == iteration
    return np.log10(jacobian_singular_values(sample.weights, sample.states, config.activation, k))


def test_asked_while_paused_it_measures_the_update_shown(controller, qtbot):
    spectra = _collect(controller)
    controller.pause()
    controller.start(CONFIG)  # paused: computes update 1, then waits
    qtbot.waitUntil(lambda: controller.caught_up, timeout=PATIENCE_MS)
    controller.measure_jacobian(7)
    qtbot.waitUntil(lambda: len(spectra) == 1, timeout=PATIENCE_MS)
    spectrum = spectra[0]
    assert (spectrum.iteration, spectrum.k, spectrum.note) == (1, 7, "")
    # Independently of the run: the initial weights and the first batch's forward pass.
    params = initial_params(CONFIG)
    x, target = make_batch(CONFIG.task, np.random.default_rng([CONFIG.seed, 1]), CONFIG.seq_len, CONFIG.batch_size)
    hidden = gradients("rnn", params, x, target, activation="tanh", loss=TASK_INFO[CONFIG.task].loss).hidden[:, 0]
    expected = np.log10(jacobian_singular_values(params["W_hh"], hidden, "tanh", 7))
    np.testing.assert_allclose(spectrum.log10_singular_values, expected, atol=1e-9)
    # A new k is measured at once, from the same update.
    controller.measure_jacobian(16)
    qtbot.waitUntil(lambda: len(spectra) == 2, timeout=PATIENCE_MS)
    assert (spectra[1].iteration, spectra[1].k) == (1, 16)
    # A step: the next update is measured.
    controller.step()
    qtbot.waitUntil(lambda: len(spectra) == 3, timeout=PATIENCE_MS)
    assert (spectra[2].iteration, spectra[2].k) == (2, 16)
    np.testing.assert_allclose(spectra[2].log10_singular_values, _core_log10_values(CONFIG, 2, 16), atol=1e-9)


def test_while_running_every_few_updates_each_equal_to_the_cores_on_its_update(controller, qtbot):
    spectra = _collect(controller)
    controller.measure_jacobian(8)
    controller.start(CONFIG)
    qtbot.waitUntil(lambda: len(spectra) >= 4, timeout=PATIENCE_MS)
    controller.pause()
    every = JacobianProbe(CONFIG, k=8).every
    iterations = [s.iteration for s in spectra[:4]]
    assert iterations == list(range(iterations[0], iterations[0] + 4 * every, every))
    for spectrum in spectra[:4]:
        assert spectrum.k == 8
        expected = _core_log10_values(CONFIG, spectrum.iteration, 8)
        np.testing.assert_allclose(spectrum.log10_singular_values, expected, atol=1e-9)


def test_nothing_is_measured_while_the_panel_is_hidden(controller, qtbot):
    spectra = _collect(controller)
    frames: list[int] = []
    controller.yielded.connect(lambda d: frames.append(d.frame.iteration))
    controller.start(CONFIG)
    qtbot.waitUntil(lambda: bool(frames) and frames[-1] > 40, timeout=PATIENCE_MS)
    assert spectra == []
    controller.measure_jacobian(4)
    qtbot.waitUntil(lambda: len(spectra) >= 2, timeout=PATIENCE_MS)
    controller.measure_jacobian(None)
    qtbot.waitUntil(lambda: controller.caught_up, timeout=PATIENCE_MS)
    hidden_at, count = frames[-1], len(spectra)
    qtbot.waitUntil(lambda: frames[-1] > hidden_at + 40, timeout=PATIENCE_MS)
    assert len(spectra) == count


def test_a_bad_k_is_refused_in_the_window_and_changes_nothing(controller, qtbot):
    controller.measure_jacobian(5)
    for bad in (0, -2, 2.5, True, "5"):
        with pytest.raises(ValueError, match="k: "):
            controller.measure_jacobian(bad)  # type: ignore[arg-type]
    assert controller.jacobian_k == 5


def test_k_beyond_the_runs_length_is_its_length_and_a_new_run_is_measured_too(controller, qtbot):
    spectra = _collect(controller)
    controller.pause()
    controller.measure_jacobian(500)
    first = controller.start(CONFIG)
    qtbot.waitUntil(lambda: len(spectra) >= 1, timeout=PATIENCE_MS)
    assert spectra[-1].k == CONFIG.seq_len
    shorter = CONFIG.replace(seq_len=6)
    second = controller.start(shorter)
    assert second != first
    qtbot.waitUntil(lambda: any(s.k == 6 for s in spectra), timeout=PATIENCE_MS)
    assert [s.k for s in spectra] == [16] * (len(spectra) - 1) + [6]
    assert spectra[-1].iteration == 1
