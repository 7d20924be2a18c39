"""The predicted curve: exact where the theory is exact, close to the measured slope where it is a
mean-field estimate, and the factors it is built from."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core import Config, run
from gradlab.core.prediction import (
    KIND_CELL_PATH,
    KIND_LINEAR,
    KIND_MEAN_FIELD_THROUGH_W,
    KIND_UNIT_PATH,
    KIND_UPDATE_PATH,
    _log10_mean_of_products,
    mean_field_through_w,
)


def first(**fields):
    return next(run(Config(iterations=1, **fields)))


def test_mean_of_products_is_per_unit_product_then_mean():
    rng = np.random.default_rng(0)
    factors = rng.uniform(0.1, 1.0, (6, 3, 4))
    y = _log10_mean_of_products(np.log10(factors))
    for k in range(6):
        direct = np.mean(np.prod(factors[::-1][:k], axis=0)) if k else 1.0
        assert y[k] == pytest.approx(np.log10(direct), abs=1e-12)
    # far beyond float64's range the log-domain sum stays finite
    assert np.isfinite(_log10_mean_of_products(np.full((2000, 2, 2), -1.0))).all()


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_identity_init_unit_paths_are_exact(activation):
    frame = first(activation=activation, init="identity", w_rec_scale=0.9, hidden_size=32, seq_len=60)
    assert frame.predicted_kind == KIND_UNIT_PATH
    finite = np.isfinite(frame.log10_dh_norm)
    np.testing.assert_allclose(frame.predicted_log10_dh[finite], frame.log10_dh_norm[finite], atol=1e-9)


def test_linear_orthogonal_is_log10_rho_exactly():
    frame = first(activation="linear", init="orthogonal", w_rec_scale=0.8, hidden_size=32, seq_len=50)
    assert frame.predicted_kind == KIND_LINEAR
    assert frame.predicted_slope == pytest.approx(np.log10(0.8), abs=1e-12)
    assert frame.fitted_slope == pytest.approx(np.log10(0.8), abs=1e-12)


def test_the_two_factors_are_the_weights_and_the_activations():
    frame = first(activation="tanh", init="gaussian", w_rec_scale=2.0, hidden_size=64, seq_len=40)
    assert frame.predicted_kind == KIND_MEAN_FIELD_THROUGH_W
    assert frame.predicted_log10_dh.shape == frame.log10_dh_norm.shape
    assert frame.predicted_log10_dh[0] == frame.log10_dh_norm[0]
    assert frame.log10_activation_factor.shape == (40,)
    assert (frame.log10_activation_factor < 0).all()  # RMS tanh′ < 1
    assert frame.log10_weight_factor == pytest.approx(np.log10(2.0), abs=0.03)  # ‖W‖_F/√H ≈ s
    assert 0.0 <= frame.saturated_share <= 1.0 and frame.saturated_label == "saturated"
    assert first(activation="relu", hidden_size=16, seq_len=10).saturated_label == "dead"


def test_for_random_weights_it_is_the_mean_field():
    """Wide random W and φ′ independent of everything: the per-step gain is (‖W‖_F²/H)·⟨φ′²⟩."""
    rng = np.random.default_rng(4)
    T, B, H = 60, 16, 512
    w = rng.standard_normal((H, H)) * 1.3 / np.sqrt(H)
    deriv = rng.uniform(0.2, 1.0, (T, B, H))
    y = mean_field_through_w(w, deriv, rng.standard_normal((B, H)))
    mean_field = 0.5 * np.log10(np.sum(w * w) / H * np.mean(deriv[1:] ** 2))
    assert np.diff(y).mean() == pytest.approx(mean_field, abs=0.005)


def test_tanh_large_weights_saturate():
    frame = first(activation="tanh", init="gaussian", w_rec_scale=3.0, hidden_size=128, seq_len=100)
    assert frame.saturated_share > 0.3
    assert frame.log10_weight_factor == pytest.approx(np.log10(3.0), abs=0.02)
    assert 0 < frame.fitted_slope < frame.theory_slope - 0.5  # far below the bound


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("init", ["gaussian", "orthogonal", "xavier"])
def test_mean_field_predicts_the_measured_slope_at_init(activation, init):
    worst = 0.0
    for scale in (0.5, 1.0, 2.0):
        frame = first(activation=activation, init=init, w_rec_scale=scale, hidden_size=256, seq_len=100, seed=2)
        worst = max(worst, abs(frame.predicted_slope - frame.fitted_slope))
    assert worst < 0.03


def test_truncation_is_drawn_like_the_measured_curve():
    frame = first(hidden_size=16, seq_len=30, truncation=10)
    assert np.isneginf(frame.predicted_log10_dh[10:]).all()
    assert np.isfinite(frame.predicted_log10_dh[:10]).all()


@pytest.mark.parametrize("cell, kind", [("lstm", KIND_CELL_PATH), ("gru", KIND_UPDATE_PATH)])
def test_gated_cells_predict_from_the_gate_path(cell, kind):
    frame = first(cell=cell, task="adding", hidden_size=64, seq_len=100, w_rec_scale=0.5)
    assert frame.predicted_kind == kind
    assert frame.gate_mean.shape == (64,)
    assert ((frame.gate_mean > 0) & (frame.gate_mean < 1)).all()
    assert abs(frame.predicted_slope - frame.fitted_slope) < 0.06
    assert np.isnan(frame.theory_slope)


def test_with_phi_prime_fixed_it_is_the_top_eigenvalue_of_the_mean_jacobian():
    """No spread in φ′: the gradient is carried by diag(⟨φ′⟩)·W alone, and settles on its slowest
    mode -- an outlier eigenvalue (or a complex pair, a rotation) outside the bulk."""
    rng = np.random.default_rng(3)
    T, B, H = 200, 4, 64
    bulk = rng.standard_normal((H, H)) * 0.4 / np.sqrt(H)
    u = rng.standard_normal(H)
    u /= np.linalg.norm(u)
    w = bulk + 1.3 * np.outer(u, u)  # an eigenvalue near 1.3 outside a bulk of radius 0.4
    d = rng.uniform(0.7, 1.0, H)
    deriv = np.broadcast_to(d, (T, B, H))
    exact = np.max(np.abs(np.linalg.eigvals(d[:, None] * w)))
    y = mean_field_through_w(w, deriv, None)
    assert (y[-1] - y[T // 2]) / (T - 1 - T // 2) == pytest.approx(np.log10(exact), abs=2e-3)
    v = rng.standard_normal(H)
    v -= (v @ u) * u
    v /= np.linalg.norm(v)
    rotation = bulk + 1.2 * (np.outer(u, v) - np.outer(v, u))
    exact = np.max(np.abs(np.linalg.eigvals(rotation)))
    y = mean_field_through_w(rotation, np.ones((T, B, H)), None)
    assert (y[-1] - y[T // 2]) / (T - 1 - T // 2) == pytest.approx(np.log10(exact), abs=3e-3)
    np.testing.assert_array_equal(y, mean_field_through_w(rotation, np.ones((T, B, H)), None))  # deterministic
    dead = mean_field_through_w(w, np.zeros((T, B, H)), None)  # no path: exactly zero beyond h_T
    assert dead[0] == 0 and np.isneginf(dead[1:]).all()


def test_after_training_the_gradient_follows_the_outlier_mode():
    """The adding-problem scene: Adam pushes a few eigenvalues of W_hh out of the bulk of radius
    0.5; the gradient rides on them and stays nearly flat, where mean field alone says -0.3/step."""
    config = Config(
        activation="tanh",
        init="orthogonal",
        w_rec_scale=0.5,
        hidden_size=64,
        seq_len=100,
        task="adding",
        optimizer="adam",
        lr=0.01,
        clip="norm",
        iterations=40,
    )
    *_, frame = run(config)
    assert frame.predicted_kind == KIND_MEAN_FIELD_THROUGH_W
    mean_field = float(np.mean(frame.log10_activation_factor[:-1]) + frame.log10_weight_factor)  # its slope
    assert frame.fitted_slope - mean_field > 0.2  # mean field alone misses by a lot
    assert abs(frame.predicted_slope - frame.fitted_slope) < 0.03
