"""Mean-field theory against closed forms and an independent Monte Carlo estimate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradlab.core import mean_field


@pytest.mark.parametrize("sigma_w", [0.3, 0.9, 1.0, 1.7, 3.0])
@pytest.mark.parametrize("sigma_b", [0.0, 0.4])
def test_linear_and_relu_have_closed_forms(sigma_w: float, sigma_b: float) -> None:
    assert mean_field.chi1("linear", sigma_w, sigma_b) == pytest.approx(sigma_w**2, rel=1e-15)
    assert mean_field.chi1("relu", sigma_w, sigma_b) == pytest.approx(sigma_w**2 / 2, rel=1e-15)
    assert mean_field.predicted_slope("linear", sigma_w, sigma_b) == pytest.approx(math.log10(sigma_w), abs=1e-15)
    if sigma_w < 1:
        assert mean_field.fixed_point("linear", sigma_w, sigma_b) == pytest.approx(sigma_b**2 / (1 - sigma_w**2))


def test_tanh_edge_of_chaos_is_sigma_w_1_without_bias_and_moves_up_with_bias() -> None:
    assert mean_field.critical_sigma_w("tanh", 0.0) == pytest.approx(1.0, abs=1e-9)
    assert mean_field.chi1("tanh", 0.8, 0.0) == pytest.approx(0.64)  # q* = 0: the linear regime
    line = mean_field.critical_line("tanh", np.array([0.0, 0.1, 0.2, 0.3, 0.5, 1.0]))
    assert np.all(np.diff(line) > 0)
    for sigma_b, sigma_w in zip([0.1, 0.3, 1.0], line[[1, 3, 5]]):
        assert mean_field.chi1("tanh", float(sigma_w), sigma_b) == pytest.approx(1.0, abs=1e-9)
    # Schoenholz et al. 2017 (Fig. 1) and Pennington et al. 2017: at σ_b² = 0.05 the edge is at σ_w² ≈ 1.76.
    assert mean_field.critical_sigma_w("tanh", math.sqrt(0.05)) ** 2 == pytest.approx(1.76, abs=0.01)
    assert mean_field.critical_sigma_w("relu", 0.5) == pytest.approx(math.sqrt(2))


def _monte_carlo_chi1(phi, phi_prime, sigma_w: float, sigma_b: float) -> float:
    """Iterate the variance map with a million samples (an independent estimate)."""
    z = np.random.default_rng(0).standard_normal(1_000_000)
    q = 1.0
    for _ in range(300):
        q = sigma_w**2 * np.mean(phi(np.sqrt(q) * z) ** 2) + sigma_b**2
    return sigma_w**2 * float(np.mean(phi_prime(np.sqrt(q) * z) ** 2))


@pytest.mark.parametrize(("sigma_w", "sigma_b"), [(1.5, 0.3), (2.5, 0.05), (0.9, 0.6)])
def test_tanh_and_sigmoid_agree_with_monte_carlo(sigma_w: float, sigma_b: float) -> None:
    tanh_mc = _monte_carlo_chi1(np.tanh, lambda a: 1 - np.tanh(a) ** 2, sigma_w, sigma_b)
    assert mean_field.chi1("tanh", sigma_w, sigma_b) == pytest.approx(tanh_mc, rel=3e-3)

    def sigmoid(a):
        return 1 / (1 + np.exp(-a))

    sigmoid_mc = _monte_carlo_chi1(sigmoid, lambda a: sigmoid(a) * (1 - sigmoid(a)), 4 * sigma_w, sigma_b)
    assert mean_field.chi1("sigmoid", 4 * sigma_w, sigma_b) == pytest.approx(sigmoid_mc, rel=3e-3)


def test_depth_scale_and_summary() -> None:
    summary = mean_field.MeanField.of("tanh", 0.5, 0.0)
    assert summary.chi1 == pytest.approx(0.25)
    assert summary.slope == pytest.approx(0.5 * math.log10(0.25))
    assert summary.depth_scale == pytest.approx(-1 / math.log(0.25))
    assert mean_field.depth_scale("linear", 1.0, 0.0) == math.inf
    assert mean_field.fixed_point("linear", 1.2, 0.1) == math.inf


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="activation"):
        mean_field.chi1("softplus", 1.0, 0.0)
    with pytest.raises(ValueError, match="sigma_w"):
        mean_field.chi1("tanh", float("nan"), 0.0)
    with pytest.raises(ValueError, match="sigma_b"):
        mean_field.chi1("tanh", 1.0, -1.0)
