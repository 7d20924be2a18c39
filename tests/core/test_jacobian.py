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
