"""The singular values of the vanilla RNN's Jacobian ∂h_T/∂h_{T−k} for one sequence (dynamical isometry).

Saxe, McClelland & Ganguli 2014; Pennington, Schoenholz & Ganguli 2017: orthogonal weights keep
these singular values near 1 in the linear case, Gaussian weights spread them over decades as k
grows. With h_t = φ(x_t W_ihᵀ + b + h_{t−1} W_hhᵀ), one step's Jacobian is
J_t = ∂h_t/∂h_{t−1} = diag(φ′(a_t))·W_hh, and ∂h_T/∂h_{T−k} = J_T ⋯ J_{T−k+1}. It costs k·H³:
compute it on demand, not every update.
"""

from __future__ import annotations

import numpy as np

from .activations import get_activation


def step_jacobians(w_hh: np.ndarray, hidden: np.ndarray, activation: str) -> np.ndarray:
    """``hidden (T, H)``: h_1 … h_T of one sequence; returns J (T, H, H) with J[t] = ∂h_{t+1}/∂h_t."""
    deriv = get_activation(activation).derivative_from_output(np.asarray(hidden, dtype=np.float64))
    return deriv[:, :, None] * np.asarray(w_hh, dtype=np.float64)[None]


def jacobian_product(w_hh: np.ndarray, hidden: np.ndarray, activation: str, k: int) -> np.ndarray:
    """∂h_T/∂h_{T−k} (H, H) for one sequence, ``1 ≤ k ≤ T``."""
    T, H = hidden.shape
    if not 1 <= k <= T:
        raise ValueError(f"k: {k!r} must be in [1, {T}]")
    deriv = get_activation(activation).derivative_from_output(np.asarray(hidden[T - k :], dtype=np.float64))
    w = np.asarray(w_hh, dtype=np.float64)
    product = np.eye(H)
    for t in range(k):  # from the step nearest to T - k up to T: product ← J_t · product
        product = deriv[t][:, None] * (w @ product)
    return product


def jacobian_singular_values(w_hh: np.ndarray, hidden: np.ndarray, activation: str, k: int) -> np.ndarray:
    """Singular values of ∂h_T/∂h_{T−k}, largest first."""
    return np.linalg.svd(jacobian_product(w_hh, hidden, activation, k), compute_uv=False)
