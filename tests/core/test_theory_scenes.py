"""The theory scenes show what their captions say (numbers measured on the first update)."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core import run
from gradlab.presets import presets


def first(name: str):
    config = next(p for p in presets() if p.name == name).scenario.config
    return next(run(config.replace(iterations=1)))


def test_tanh_saturates_tames_large_weights():
    frame = first("30-tanh-saturates")
    assert frame.spectral_radius == pytest.approx(3.0, abs=0.05)
    assert frame.theory_slope == pytest.approx(0.78, abs=0.01)
    assert frame.fitted_slope == pytest.approx(0.13, abs=0.02)
    assert frame.log10_weight_factor == pytest.approx(0.48, abs=0.01)
    assert np.mean(frame.log10_activation_factor) == pytest.approx(-0.33, abs=0.01)
    assert frame.saturated_share == pytest.approx(0.38, abs=0.01)
    assert abs(frame.predicted_slope - frame.fitted_slope) < 0.01


def test_edge_of_chaos_is_flat():
    frame = first("31-edge-of-chaos")
    # the two mean-field factors cancel (the caption's flat prediction); the line drawn, through
    # the actual W, follows the measured curve's slight fall
    assert abs(frame.log10_weight_factor + np.mean(frame.log10_activation_factor[:-1])) < 0.005
    assert abs(frame.predicted_slope) < 0.01
    assert abs(frame.predicted_slope - frame.fitted_slope) < 0.005
    assert abs(frame.fitted_slope) < 0.01
    assert frame.log10_weight_factor == pytest.approx(0.08, abs=0.005)
    assert np.mean(frame.log10_activation_factor) == pytest.approx(-0.07, abs=0.005)


def test_forget_bias_scene():
    frame = first("32-forget-bias")
    config = next(p for p in presets() if p.name == "32-forget-bias").scenario.config
    assert np.mean(frame.gate_mean) == pytest.approx(0.50, abs=0.01)
    assert frame.fitted_slope == pytest.approx(-0.21, abs=0.01)
    one = next(run(config.replace(forget_bias_init="one", iterations=1)))
    assert np.mean(one.gate_mean) == pytest.approx(0.73, abs=0.01)
    assert one.fitted_slope == pytest.approx(-0.07, abs=0.01)
    chrono = next(run(config.replace(forget_bias_init="chrono", iterations=1)))
    assert np.mean(chrono.gate_mean) == pytest.approx(0.97, abs=0.01)
    assert chrono.fitted_slope == pytest.approx(-0.01, abs=0.005)
