"""The scene "Orthogonal vs Gaussian: the Jacobian's spectrum" shows what its caption says (first update, k = T/2)."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core import run
from gradlab.core.jacobian import JacobianProbe, default_k
from gradlab.presets import find_preset

SCENE = "33-orthogonal-vs-gaussian"


def first(config):
    probe = JacobianProbe(config, k=default_k(config))
    frame = next(run(config.replace(iterations=1), jacobian=probe))
    spectrum = probe.measure()
    assert spectrum is not None and spectrum.k == 50
    return frame, spectrum


def test_gaussian_spreads_the_singular_values_over_decades():
    scenario = find_preset(SCENE).scenario
    caption = scenario.caption
    frame, spectrum = first(scenario.config)
    values = spectrum.log10_singular_values
    assert "ρ = 1" in caption and frame.spectral_radius == pytest.approx(1.0, abs=0.005)
    assert "∂h_T/∂h_{T−50}" in caption
    assert "σ_max 2.6" in caption and 10 ** values[0] == pytest.approx(2.6, abs=0.05)
    assert "past 1e-13" in caption and values[-1] < -13 and round(spectrum.log10_floor) == -13
    lost = int(np.sum(values <= spectrum.log10_floor))
    assert f"loses {lost} of the 128" in caption and lost == 40
    assert "median 1e-7" in caption and np.median(values) == pytest.approx(-7.0, abs=0.05)
    assert "0.01 decades a step" in caption and frame.fitted_slope == pytest.approx(-0.01, abs=0.003)


def test_orthogonal_keeps_every_singular_value_at_one():
    scenario = find_preset(SCENE).scenario
    assert "Set init to orthogonal: all 128 start at 1" in scenario.caption
    _, spectrum = first(scenario.config.replace(init="orthogonal"))
    np.testing.assert_allclose(spectrum.log10_singular_values, 0.0, atol=1e-9)
    assert spectrum.log10_singular_values.size == 128
