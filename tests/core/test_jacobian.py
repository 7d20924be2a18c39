"""∂h_T/∂h_{T−k}: equal to the explicit product of step Jacobians and to finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core.activations import get_activation
from gradlab.core.inits import init_params
from gradlab.core.jacobian import jacobian_product, jacobian_singular_values, step_jacobians


def forward(params, x, activation, h0):
    act = get_activation(activation)
    h, out = h0, []
    for x_t in x:
        h = act.forward(x_t @ params["W_ih"].T + params["b_ih"] + params["b_hh"] + h @ params["W_hh"].T)
        out.append(h)
    return np.array(out)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "linear"])
def test_product_against_explicit_product_and_finite_differences(activation):
    H, T, k = 6, 9, 5
    params = init_params("rnn", 2, H, 1, w_rec_scale=1.3, init="gaussian", seed=4)
    x = np.random.default_rng(0).standard_normal((T, 2))
    h0 = np.zeros(H)
    hidden = forward(params, x, activation, h0)
    product = jacobian_product(params["W_hh"], hidden, activation, k)
    J = step_jacobians(params["W_hh"], hidden, activation)
    explicit = np.eye(H)
    for t in range(T - k, T):
        explicit = J[t] @ explicit
    np.testing.assert_allclose(product, explicit, rtol=1e-12, atol=1e-14)
    # central differences: perturb h_{T−k}, run the last k steps again
    eps = 1e-6
    start = hidden[T - k - 1]
    numeric = np.empty((H, H))
    for j in range(H):
        d = np.zeros(H)
        d[j] = eps
        plus = forward(params, x[T - k :], activation, start + d)[-1]
        minus = forward(params, x[T - k :], activation, start - d)[-1]
        numeric[:, j] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(product, numeric, rtol=1e-6, atol=1e-8)
    values = jacobian_singular_values(params["W_hh"], hidden, activation, k)
    np.testing.assert_allclose(values, np.linalg.svd(explicit, compute_uv=False), rtol=1e-10, atol=1e-12 * values[0])


def test_orthogonal_linear_is_isometric_gaussian_spreads():
    H, T = 64, 40
    hidden = np.zeros((T, H))
    orthogonal = init_params("rnn", 1, H, 1, w_rec_scale=1.0, init="orthogonal", seed=1)["W_hh"]
    gaussian = init_params("rnn", 1, H, 1, w_rec_scale=1.0, init="gaussian", seed=1)["W_hh"]
    np.testing.assert_allclose(jacobian_singular_values(orthogonal, hidden, "linear", 20), 1.0, rtol=1e-9)
    spread = jacobian_singular_values(gaussian, hidden, "linear", 20)
    assert np.log10(spread[0] / spread[-1]) > 3


# ---- overflow-safe log10 values, the feed-forward net, k's limits and the probe -------------------

from gradlab.core import Config, run  # noqa: E402
from gradlab.core.activations import ACTIVATIONS  # noqa: E402
from gradlab.core.cells import mlp  # noqa: E402
from gradlab.core.jacobian import (  # noqa: E402
    JacobianProbe,
    default_k,
    jacobian_every,
    jacobian_log10_singular_values,
    layer_jacobian_log10_singular_values,
)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
def test_log10_values_equal_the_plain_ones_above_the_rounding_floor(activation):
    H, T, k = 12, 30, 20
    params = init_params("rnn", 2, H, 1, w_rec_scale=1.5, init="gaussian", seed=3)
    x = np.random.default_rng(1).standard_normal((T, 2))
    hidden = forward(params, x, activation, np.full(H, 0.1))
    log10_values, floor = jacobian_log10_singular_values(params["W_hh"], hidden, activation, k)
    plain = jacobian_singular_values(params["W_hh"], hidden, activation, k)
    assert np.all(np.diff(log10_values) <= 1e-12)  # largest first
    # Both are exact to the product's rounding, σ_max·H·ε (the floor), not to each value's own digits.
    np.testing.assert_allclose(10.0**log10_values, plain, rtol=1e-9, atol=10.0**floor)
    assert floor == pytest.approx(log10_values[0] + np.log10(H * np.finfo(float).eps))


def test_log10_values_survive_where_the_product_underflows():
    """0.25^600 = 1e-361 is below float64's range: the plain product is 0, the log10 values are exact."""
    H, k = 8, 600
    q = init_params("rnn", 1, H, 1, w_rec_scale=0.25, init="orthogonal", seed=2)["W_hh"]
    assert jacobian_singular_values(q, np.zeros((k, H)), "linear", k)[0] == 0.0
    log10_values, _ = jacobian_log10_singular_values(q, np.zeros((k, H)), "linear", k)
    np.testing.assert_allclose(log10_values, k * np.log10(0.25), rtol=1e-12)


def test_dead_relu_units_give_exact_zeros_and_nonfinite_weights_give_nan():
    H = 5
    hidden = np.zeros((4, H))  # every ReLU unit off: the Jacobian is exactly 0
    values, floor = jacobian_log10_singular_values(np.eye(H), hidden, "relu", 3)
    assert np.isneginf(values).all() and floor == -np.inf
    w = np.eye(H)
    w[0, 0] = np.inf
    values, floor = jacobian_log10_singular_values(w, np.zeros((4, H)), "linear", 3)
    assert np.isnan(values).all() and np.isnan(floor)


@pytest.mark.parametrize("residual", [0.0, 0.5])
def test_layer_jacobian_against_finite_differences(residual):
    """∂h_L/∂h_{L−k} of the feed-forward net: perturb h_{L−k}, run the last k layers again."""
    L, H, k = 7, 6, 4
    params = init_params("mlp", 3, H, 1, w_rec_scale=1.4, init="gaussian", seed=5, seq_len=L)
    x = np.random.default_rng(2).standard_normal((1, 3))
    act = ACTIVATIONS["tanh"]
    cache = mlp.forward(params, x, act, residual=residual)
    values, _ = layer_jacobian_log10_singular_values(params["W_hh"], cache.phi[:, 0], "tanh", k, residual)

    def last_layers(h):
        for layer in range(L - k, L):  # 0-based layers L−k … L−1 use W_hh[layer − 1]
            phi = act.forward(h @ params["W_hh"][layer - 1].T + params["b_hh"][layer - 1])
            h = h + residual * phi if residual else phi
        return h

    eps = 1e-6
    start = cache.hs[L - k - 1, 0]
    numeric = np.empty((H, H))
    for j in range(H):
        d = np.zeros(H)
        d[j] = eps
        numeric[:, j] = (last_layers(start + d) - last_layers(start - d)) / (2 * eps)
    np.testing.assert_allclose(10.0**values, np.linalg.svd(numeric, compute_uv=False), rtol=1e-6)


@pytest.mark.parametrize("k", [0, -1, 31, 2.5, True, "3", None])
def test_k_outside_one_to_T_is_refused(k):
    hidden = np.zeros((30, 4))
    with pytest.raises(ValueError, match=r"k: .* must be a whole number of steps in \[1, 30\]"):
        jacobian_log10_singular_values(np.eye(4), hidden, "tanh", k)


def test_k_at_the_limits_is_taken():
    hidden = np.zeros((30, 4))
    for k in (1, 30):
        values, _ = jacobian_log10_singular_values(0.5 * np.eye(4), hidden, "linear", k)
        np.testing.assert_allclose(values, k * np.log10(0.5))


def test_the_probe_measures_the_runs_own_weights_only_while_asked():
    config = Config(hidden_size=16, seq_len=12, batch_size=3, iterations=8)
    probe = JacobianProbe(config)
    params_seen = []
    frames = run(config, jacobian=probe)
    next(frames)
    assert probe.measure() is None  # panel hidden: nothing computed
    probe.request(5)
    spectrum = probe.measure()
    assert spectrum is not None and (spectrum.iteration, spectrum.k) == (1, 5)
    assert probe.measure() is None  # the same update is not measured twice
    measured = [spectrum.iteration]
    for frame in frames:
        got = probe.measure()
        if got is not None:
            measured.append(got.iteration)
            params_seen.append(got)
        assert frame.iteration >= 1
    assert measured == list(range(1, 9, probe.every))
    probe.request(None)
    assert probe.measure() is None


def test_the_probe_clamps_k_to_the_runs_length_and_refuses_bad_k():
    config = Config(hidden_size=8, seq_len=10, batch_size=2)
    probe = JacobianProbe(config, k=50)  # asked for a previous, longer run
    assert probe.k == 10
    for bad in (0, -3, 1.5, True, "5"):
        with pytest.raises(ValueError, match="k: "):
            probe.request(bad)
    assert probe.k == 10  # a refused k changes nothing
    assert default_k(config) == 5


def test_the_probe_ignores_gated_and_normalised_cells():
    for config in (
        Config(cell="lstm", hidden_size=8, seq_len=10, batch_size=2, iterations=2),
        Config(cell="mlp", norm="batch", hidden_size=8, seq_len=6, batch_size=4, iterations=2),
    ):
        probe = JacobianProbe(config, k=3)
        for _ in run(config, jacobian=probe):
            assert probe.measure() is None


def test_the_probe_measures_the_feed_forward_net():
    config = Config(cell="mlp", hidden_size=8, seq_len=6, batch_size=4, iterations=1)
    probe = JacobianProbe(config, k=default_k(config))
    next(run(config, jacobian=probe))
    spectrum = probe.measure()
    assert spectrum is not None and spectrum.k == 3 and spectrum.log10_singular_values.shape == (8,)
    assert np.isfinite(spectrum.log10_singular_values).all()


def test_measurements_are_spaced_by_a_number_of_updates_fixed_by_the_config():
    small = Config(hidden_size=16, seq_len=50, batch_size=4)
    large = Config(hidden_size=256, seq_len=1000, batch_size=16)
    assert jacobian_every(small, 25) == jacobian_every(small, 25) >= 1
    # k·H³ against an update's T·B·H²: the large run's Jacobian is far dearer relative to its update
    assert jacobian_every(large, 1000) > jacobian_every(large, 1)


def test_k_is_capped_by_the_cost_of_a_measurement_at_large_h():
    from gradlab.core.jacobian import K_BUDGET_FLOPS, jacobian_k_max, k_capped

    small = Config(hidden_size=64, seq_len=2000, batch_size=1)
    assert jacobian_k_max(small) == 2000 and not k_capped(small)  # 2000 · 2 · 64³ is 1 GFLOP
    large = Config(hidden_size=1024, seq_len=2000, batch_size=1)
    k = jacobian_k_max(large)
    assert k_capped(large) and 1 <= k < 2000
    assert k * 2 * 1024**3 <= K_BUDGET_FLOPS < (k + 1) * 2 * 1024**3
    probe = JacobianProbe(large, k=2000)
    assert probe.k == k  # a request beyond the budget takes the largest affordable k
