"""Depth mode's pass takes its norms on the way and forms φ′ in place: the same numbers as the
straightforward computations (``numerics`` over the whole arrays, ``dh * φ′(y)``), in every range."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gradlab.core import gradients, init_params
from gradlab.core.activations import ACTIVATIONS
from gradlab.core.cells import mlp
from gradlab.core.numerics import global_norm, log10_norm_per_step

D, H, O, B = 3, 24, 2, 8


def pass_of(activation: str, init: str, scale: float, depth: int, residual: float = 0.0, norm: str = "none"):
    params = init_params("mlp", D, H, O, w_rec_scale=scale, init=init, seed=2, seq_len=depth, norm=norm)
    rng = np.random.default_rng(5)
    x, target = rng.standard_normal((B, D)), rng.standard_normal((B, O))
    return gradients("mlp", params, x, target, activation=activation, residual=residual, norm=norm)


@pytest.mark.parametrize(
    ("activation", "residual", "norm"),
    list(itertools.product(("tanh", "sigmoid", "relu", "linear"), (0.0, 0.7), mlp.NORMS)),
)
def test_the_passs_norms_are_the_norms_of_its_arrays(activation, residual, norm):
    result = pass_of(activation, "he", 1.1, 7, residual, norm)
    np.testing.assert_allclose(result.log10_dh_norm, log10_norm_per_step(result.dh), rtol=0, atol=1e-13)
    assert result.grad_norm == pytest.approx(global_norm(result.grads.values()), rel=1e-13)


@pytest.mark.parametrize(
    ("activation", "init", "scale", "depth"),
    [
        ("linear", "std", 0.01, 250),  # vanishes through 1e-150 down to exact zeros
        ("linear", "std", 8.0, 80),  # explodes past 1e150 (a grad norm of 1e253)
        ("linear", "std", 8.0, 100),  # and on to nan
        ("tanh", "std", 0.01, 150),
        ("relu", "he", 9.0, 100),
    ],
)
def test_norms_outside_the_plain_range_are_the_scaled_computation(activation, init, scale, depth):
    result = pass_of(activation, init, scale, depth)
    expected = log10_norm_per_step(result.dh)
    assert (np.abs(expected[np.isfinite(expected)]) > 150).any()  # the case reaches the far range
    np.testing.assert_array_equal(np.isfinite(result.log10_dh_norm), np.isfinite(expected))
    np.testing.assert_array_equal(np.isnan(result.log10_dh_norm), np.isnan(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(result.log10_dh_norm[finite], expected[finite], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(result.log10_dh_norm[~finite], expected[~finite])
    whole = global_norm(result.grads.values())
    if np.isnan(whole):
        assert np.isnan(result.grad_norm)
    else:
        assert result.grad_norm == pytest.approx(whole, rel=1e-13)


def test_a_vanishing_gradient_is_flushed_below_the_normal_range(monkeypatch):
    """The cheap guard (a sum of squares per layer) still flushes every subnormal entry before it
    enters a product, and the weight gradients equal those computed through the subnormal range
    (but for the layers whose gradient has underflowed, where both are below 1e-290)."""
    flushed = pass_of("linear", "std", 0.01, 260)
    finite = flushed.log10_dh_norm[np.isfinite(flushed.log10_dh_norm)]
    assert finite.min() > np.log10(np.finfo(np.float64).tiny) - 1  # nothing subnormal is reported
    assert (flushed.log10_dh_norm == -np.inf).any()  # it did underflow
    tiny = np.finfo(np.float64).tiny
    assert not ((flushed.dh != 0) & (np.abs(flushed.dh) < tiny)).any()
    monkeypatch.setattr(mlp, "flush_subnormal", lambda x: None)
    exact = pass_of("linear", "std", 0.01, 260)
    assert ((exact.dh != 0) & (np.abs(exact.dh) < tiny)).any()  # without the flush they are there
    for name in flushed.grads:
        np.testing.assert_allclose(flushed.grads[name], exact.grads[name], rtol=1e-12, atol=1e-290)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_the_in_place_derivative_is_the_activations_own_bit_for_bit(name):
    rng = np.random.default_rng(1)
    activation = ACTIVATIONS[name]
    y = activation.forward(3.0 * rng.standard_normal((6, 9)))
    dh = rng.standard_normal((6, 9)) * 10.0 ** rng.integers(-300, 300, (6, 9))
    dh[0, :3] = [np.nan, np.inf, -np.inf]
    y[1, :2] = [np.nan, 0.0]
    out, mask = np.empty_like(dh), np.empty(dh.shape, bool)
    with np.errstate(all="ignore"):
        mlp._times_derivative(activation, dh, y, out, mask)
        expected = dh * activation.derivative_from_output(y)
    np.testing.assert_array_equal(out, expected)
    assert np.array_equal(np.signbit(out), np.signbit(expected))
