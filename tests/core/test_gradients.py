"""Every hand-written backward pass against central finite differences, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core import gradients, init_params
from gradlab.core.cells import lstm

T, B, D, H, O = 6, 3, 2, 4, 2
pytestmark = pytest.mark.usefixtures("small_chunks")
CASES = [("rnn", a) for a in ("tanh", "sigmoid", "relu", "linear")] + [("lstm", "tanh"), ("gru", "tanh")]
STEP = 1e-3  # with the five-point stencil below: truncation error ~STEP⁴, round-off ~1e-16/STEP


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def make_problem(cell: str, loss: str, seed: int = 1):
    rng = np.random.default_rng(seed)
    params = init_params(cell, D, H, O, w_rec_scale=0.9, init="gaussian", seed=seed)
    # Non-zero readout bias and larger biases so that every code path carries a signal.
    params["b_hh"] += rng.uniform(-0.5, 0.5, params["b_hh"].shape)
    x = rng.standard_normal((T, B, D))
    target = rng.standard_normal((B, O) if loss == "last" else (T, B, O))
    return params, x, target


def numeric_gradient(f, array: np.ndarray) -> np.ndarray:
    """∂f/∂array by the five-point central difference, perturbing ``array`` in place."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        values = []
        for offset in (2, 1, -1, -2):
            array[index] = saved + offset * STEP
            values.append(f())
        array[index] = saved
        grad[index] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * STEP)
    return grad


def loss_of(cell, params, x, target, activation, loss, h0=None, c0=None):
    return gradients(cell, params, x, target, activation=activation, loss=loss, h0=h0, c0=c0).loss


@pytest.mark.parametrize("loss", ["last", "sum"])
@pytest.mark.parametrize(("cell", "activation"), CASES)
def test_parameter_gradients_match_finite_differences(cell, activation, loss):
    params, x, target = make_problem(cell, loss)
    result = gradients(cell, params, x, target, activation=activation, loss=loss)
    for name, value in params.items():
        numeric = numeric_gradient(lambda: loss_of(cell, params, x, target, activation, loss), value)
        assert result.grads[name].shape == value.shape
        assert relative_error(result.grads[name], numeric) < 1e-6, name


@pytest.mark.parametrize("loss", ["last", "sum"])
@pytest.mark.parametrize(("cell", "activation"), CASES)
def test_dh_is_the_total_derivative(cell, activation, loss):
    """dh[t] = ∂L/∂h_t through every later step: restart the sequence from h_t and differentiate."""
    params, x, target = make_problem(cell, loss)
    result = gradients(cell, params, x, target, activation=activation, loss=loss)
    cs = lstm.forward(params, x).cs if cell == "lstm" else None
    for t in range(T - 1):  # h_1 … h_{T-1}; dh[T-1] is the readout's own gradient
        h_t = result.hidden[t].copy()
        c_t = cs[t + 1] if cs is not None else None

        def later_loss():
            rest_target = target if loss == "last" else target[t + 1 :]
            value = loss_of(cell, params, x[t + 1 :], rest_target, activation, loss, h0=h_t, c0=c_t)
            if loss == "sum":  # the loss at step t itself also depends on h_t
                y = h_t @ params["W_out"].T + params["b_out"]
                value += np.mean((y - target[t]) ** 2)
            return value

        assert relative_error(result.dh[t], numeric_gradient(later_loss, h_t)) < 1e-6, t


def test_lstm_cell_state_gradient():
    """dc[t] = ∂L/∂c_t: its part through c_{t+1} (h_t held fixed) matches finite differences,
    and the rest is the path through h_t = o_t·tanh(c_t)."""
    params, x, target = make_problem("lstm", "last")
    result = gradients("lstm", params, x, target, loss="last")
    cache = lstm.forward(params, x)
    for t in range(T - 1):
        h_t, c_t = cache.hs[t + 1], cache.cs[t + 1].copy()
        numeric = numeric_gradient(
            lambda: loss_of("lstm", params, x[t + 1 :], target, "tanh", "last", h0=h_t, c0=c_t), c_t
        )
        z = x[t] @ params["W_ih"].T + params["b_ih"] + cache.hs[t] @ params["W_hh"].T + params["b_hh"]
        o, tanh_c = 1 / (1 + np.exp(-z[:, 3 * H :])), np.tanh(c_t)  # torch's blocks [i|f|g|o]
        through_h = result.dh[t] * o * (1 - tanh_c**2)
        assert relative_error(result.dc[t] - through_h, numeric) < 1e-6
    assert result.log10_dc_norm.shape == (T,)


@pytest.mark.parametrize("loss", ["last", "sum"])
@pytest.mark.parametrize(("cell", "activation"), CASES)
@pytest.mark.parametrize("k", [1, 2, 4])
def test_truncated_gradients(cell, activation, loss, k):
    """Truncation k: the sum over windows of k steps (counted back from the end) of each window's
    loss gradient, with the state entering the window held fixed."""
    params, x, target = make_problem(cell, loss)
    result = gradients(cell, params, x, target, activation=activation, loss=loss, truncation=k)
    cache = lstm.forward(params, x) if cell == "lstm" else None
    full = gradients(cell, params, x, target, activation=activation, loss=loss)
    numeric = {name: np.zeros_like(value) for name, value in params.items()}
    end = T
    while end > 0:
        start = max(0, end - k)
        h0 = full.hidden[start - 1].copy() if start > 0 else None
        c0 = cache.cs[start].copy() if (cache is not None and start > 0) else None
        if loss == "sum" or end == T:
            window_target = target if loss == "last" else target[start:end]
            for name, value in params.items():
                numeric[name] += numeric_gradient(
                    lambda: loss_of(cell, params, x[start:end], window_target, activation, loss, h0=h0, c0=c0), value
                )
        end = start
    for name in params:
        assert relative_error(result.grads[name], numeric[name]) < 1e-6, name
    if loss == "last":  # the gradient reaches back exactly k steps
        assert np.all(np.isfinite(result.log10_dh_norm[T - k :]))
        assert np.all(result.log10_dh_norm[: T - k] == -np.inf)


def test_float32_gradients_agree_with_float64():
    params, x, target = make_problem("lstm", "sum")
    g64 = gradients("lstm", params, x, target, loss="sum")
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    g32 = gradients("lstm", params32, x, target, loss="sum")
    for name in params:
        assert g32.grads[name].dtype == np.float32
        assert relative_error(g32.grads[name].astype(np.float64), g64.grads[name]) < 1e-4


def test_bad_shapes_are_refused():
    params, x, target = make_problem("rnn", "last")
    with pytest.raises(ValueError, match="target"):
        gradients("rnn", params, x, target[:, :1])
    with pytest.raises(ValueError, match="cell"):
        gradients("elman", params, x, target)
    with pytest.raises(ValueError, match="x"):
        gradients("rnn", params, x[0], target)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_chunk_size_does_not_change_the_result(cell, monkeypatch):
    from gradlab.core.cells import gru, lstm

    params = init_params(cell, D, H, O, seed=5)
    rng = np.random.default_rng(5)
    x, target = rng.standard_normal((70, B, D)), rng.standard_normal((70, B, O))
    results = []
    for chunk in (5, 32, 100):
        monkeypatch.setattr(lstm, "CHUNK", chunk)
        monkeypatch.setattr(gru, "CHUNK", chunk)
        results.append(gradients(cell, params, x, target, loss="sum", truncation=9))
    for other in results[1:]:
        np.testing.assert_allclose(other.dh, results[0].dh, rtol=1e-12, atol=0)
        for name in params:
            np.testing.assert_allclose(other.grads[name], results[0].grads[name], rtol=1e-12, atol=1e-15)
