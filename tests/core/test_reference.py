"""The fast passes compute exactly what the plain reference implementations compute, and the
reference itself agrees with finite differences (so neither can drift alone)."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core import init_params
from gradlab.core.gradients import gradients
from gradlab.core.reference import gru, lstm, rnn

T, B, D, H, O = 9, 3, 4, 5, 2


def _reference(cell, params, x, target, activation):
    if cell == "rnn":
        return rnn(params, x, target, activation)
    return {"lstm": lstm, "gru": gru}[cell](params, x, target)


def _problem(cell: str, loss: str, seed: int = 3):
    rng = np.random.default_rng(seed)
    params = init_params(cell, D, H, O, w_rec_scale=1.3, init="gaussian", seed=seed)
    x = rng.standard_normal((T, B, D))
    target = rng.standard_normal((B, O) if loss == "last" else (T, B, O))
    return params, x, target


CASES = [("rnn", a) for a in ("tanh", "sigmoid", "relu", "linear")] + [("lstm", "tanh"), ("gru", "tanh")]


@pytest.mark.parametrize("loss", ["last", "sum"])
@pytest.mark.parametrize(("cell", "activation"), CASES)
def test_fast_pass_equals_the_reference(cell, activation, loss, small_chunks):
    params, x, target = _problem(cell, loss)
    ref_loss, ref_grads, ref_dh = _reference(cell, params, x, target, activation)
    fast = gradients(cell, params, x, target, activation=activation, loss=loss)
    assert fast.loss == pytest.approx(ref_loss, rel=1e-13)
    np.testing.assert_allclose(fast.dh, ref_dh, rtol=1e-11, atol=1e-14)
    assert set(fast.grads) == set(ref_grads)
    for name, value in ref_grads.items():
        np.testing.assert_allclose(fast.grads[name], value, rtol=1e-11, atol=1e-14, err_msg=name)


@pytest.mark.parametrize(("cell", "activation"), [("rnn", "tanh"), ("lstm", "tanh"), ("gru", "tanh")])
def test_reference_agrees_with_finite_differences(cell, activation):
    params, x, target = _problem(cell, "sum", seed=5)
    _, grads, _ = _reference(cell, params, x, target, activation)
    rng = np.random.default_rng(0)
    step = 1e-6
    for name, value in params.items():
        for index in map(tuple, rng.integers(0, value.shape, size=(3, value.ndim))):
            original = value[index]
            value[index] = original + step
            plus = _reference(cell, params, x, target, activation)[0]
            value[index] = original - step
            minus = _reference(cell, params, x, target, activation)[0]
            value[index] = original
            assert grads[name][index] == pytest.approx((plus - minus) / (2 * step), rel=1e-6, abs=1e-9), name
