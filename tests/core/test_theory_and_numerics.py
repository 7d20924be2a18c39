"""Known theory reproduced exactly, and norms that survive hundreds of orders of magnitude."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradlab.core import gamma, gradients, init_params, log10_norm_per_step, sigma_max, spectral_radius, theory_slope
from gradlab.core.inits import orthogonal
from gradlab.core.numerics import global_norm, log10_global_norm, nonfinite_kind
from gradlab.core.theory import fitted_slope


def linear_rnn_with_orthogonal_weights(s: float, seq_len: int, hidden: int = 8, batch: int = 4):
    """W_hh = s·Q, input only at the first step: ∂L/∂h_t = (W_hhᵀ)^(T-t) ∂L/∂h_T exactly."""
    params = init_params("rnn", 3, hidden, 1, w_rec_scale=s, init="orthogonal", seed=3)
    rng = np.random.default_rng(0)
    x = np.zeros((seq_len, batch, 3))
    x[0] = rng.standard_normal((batch, 3))
    target = rng.standard_normal((batch, 1))
    return gradients("rnn", params, x, target, activation="linear", loss="last")


@pytest.mark.parametrize("s", [0.5, 0.9, 1.0, 1.1])
def test_linear_orthogonal_rnn_slope_is_log10_s(s):
    result = linear_rnn_with_orthogonal_weights(s, seq_len=60)
    steps_back = result.log10_dh_norm[::-1]
    per_step = np.diff(steps_back)
    np.testing.assert_allclose(per_step, np.log10(s), rtol=0, atol=1e-9)


def test_vanished_gradient_of_1e_minus_150_is_reported_exactly():
    result = linear_rnn_with_orthogonal_weights(0.5, seq_len=500)
    first, last = result.log10_dh_norm[0], result.log10_dh_norm[-1]
    assert first - last == pytest.approx(499 * np.log10(0.5), abs=1e-8)
    assert first < -150  # about 1e-150: naive sqrt(sum(x²)) would say 0 here
    assert np.isfinite(result.log10_dh_norm).all()


def test_log10_norm_handles_tiny_huge_zero_inf_nan():
    x = np.zeros((6, 2, 3))
    x[0] = 1e-250
    x[1] = 1e250
    x[2, 0, 0] = 3.0
    x[2, 1, 1] = 4.0
    x[4, 0, 0] = np.inf
    x[5, 0, 0] = np.nan
    x[5, 0, 1] = np.inf
    log10 = log10_norm_per_step(x)
    assert log10[0] == pytest.approx(-250 + 0.5 * np.log10(6))
    assert log10[1] == pytest.approx(250 + 0.5 * np.log10(6))
    assert log10[2] == pytest.approx(np.log10(5.0))
    assert log10[3] == -np.inf
    assert log10[4] == np.inf
    assert np.isnan(log10[5])
    # float32 subnormals and values whose squares overflow float32
    y = np.array([[1e-40, 1e-40], [1e30, 1e30]], dtype=np.float32)
    np.testing.assert_allclose(
        log10_norm_per_step(y), [np.log10(np.float32(1e-40) * np.sqrt(2)), 30 + 0.5 * np.log10(2)], rtol=1e-6
    )


def test_global_norm():
    arrays = [np.array([3.0, 0.0]), np.array([[4.0]])]
    assert global_norm(arrays) == pytest.approx(5.0)
    assert global_norm([np.full(4, 1e200)]) == pytest.approx(2e200)
    assert global_norm([np.full(4, 1e-200)]) == pytest.approx(2e-200)
    assert log10_global_norm([np.full(4, 1e-320)]) == pytest.approx(np.log10(2e-320), rel=1e-3)
    assert global_norm([np.zeros(3)]) == 0.0
    assert global_norm([np.array([1.0, np.inf])]) == np.inf
    assert np.isnan(global_norm([np.array([np.inf]), np.array([np.nan])]))
    assert nonfinite_kind([np.ones(2), np.array([np.inf])]) == "inf"
    assert nonfinite_kind([np.array([np.inf]), np.array([np.nan])]) == "nan"
    assert nonfinite_kind([np.ones(2)]) == ""


def test_theory_helpers():
    assert (gamma("tanh"), gamma("sigmoid"), gamma("relu"), gamma("linear")) == (1.0, 0.25, 1.0, 1.0)
    q = orthogonal(np.random.default_rng(0), 16)
    np.testing.assert_allclose(q @ q.T, np.eye(16), atol=1e-12)
    assert sigma_max(0.7 * q) == pytest.approx(0.7)
    assert spectral_radius(0.7 * q) == pytest.approx(0.7)
    assert theory_slope("sigmoid", 2.0) == pytest.approx(np.log10(0.5))
    assert np.isnan(spectral_radius(np.array([[np.nan]])))
    assert fitted_slope(np.array([0.0, -1.0, -2.0, -np.inf, np.nan])) == pytest.approx(-1.0)


def test_tanh_slope_respects_the_pascanu_bound():
    """σ_max·γ < 1: the measured decay per step is at least as fast as log10(γ·σ_max)."""
    for activation in ("tanh", "sigmoid"):
        params = init_params("rnn", 4, 32, 1, w_rec_scale=0.8, init="gaussian", seed=2)
        rng = np.random.default_rng(1)
        result = gradients(
            "rnn", params, rng.standard_normal((80, 8, 4)), rng.standard_normal((8, 1)), activation=activation
        )
        bound = theory_slope(activation, sigma_max(params["W_hh"]))
        steps_back = result.log10_dh_norm[::-1]
        assert np.all(steps_back[1:] - steps_back[0] <= bound * np.arange(1, 80) + 1e-9)


def test_core_imports_no_qt():
    code = (
        "import sys, gradlab.core, gradlab.cli\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt', 'shiboken6')]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradients_below_the_normal_range_are_flushed_to_zero(cell, monkeypatch):
    """A vanishing gradient is exact down to the smallest normal number, then exactly zero;
    the weight gradients equal those computed through the (slow) subnormal range."""
    from gradlab.core.cells import underflow

    params = init_params(cell, 3, 8, 1, w_rec_scale=0.3 if cell == "rnn" else 0.05, init="orthogonal", seed=1)
    if cell != "rnn":
        params["b_ih"][:] = -6.0  # gates nearly shut: the gradient dies fast
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((900, 4, 3)), rng.standard_normal((4, 1))
    activation = "linear" if cell == "rnn" else "tanh"
    flushed = gradients(cell, params, x, target, activation=activation)
    finite = flushed.log10_dh_norm[np.isfinite(flushed.log10_dh_norm)]
    assert finite.min() > np.log10(np.finfo(np.float64).tiny) - 1  # nothing subnormal is reported
    assert (flushed.log10_dh_norm == -np.inf).any()  # it did underflow
    monkeypatch.setattr(underflow, "flush_subnormal", lambda x: None)
    for module in ("rnn", "lstm", "gru", "common"):
        monkeypatch.setattr(f"gradlab.core.cells.{module}.flush_subnormal", lambda x: None)
    exact = gradients(cell, params, x, target, activation=activation)
    for name in params:
        np.testing.assert_allclose(flushed.grads[name], exact.grads[name], rtol=1e-12, atol=0)
