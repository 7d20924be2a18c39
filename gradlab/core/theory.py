"""The conditions of Pascanu, Mikolov & Bengio (2013) for vanishing and exploding gradients.

For h_t = φ(W h_{t-1} + …), ‖∂h_t/∂h_{t-1}‖ ≤ γ·σ_max(W) with γ = sup φ'. So log10 ‖∂L/∂h_{T-k}‖
falls at least as fast as k·log10(γ·σ_max) when γ·σ_max < 1 (sufficient for vanishing);
γ·σ_max > 1 is necessary for exploding. For a linear RNN the spectral radius decides.
"""

from __future__ import annotations

import numpy as np

from .activations import get_activation


def gamma(activation: str) -> float:
    """sup φ': tanh 1, sigmoid 1/4, relu 1, linear 1."""
    return get_activation(activation).gamma


def spectral_radius(matrix: np.ndarray) -> float:
    """max |λ| of a square matrix; nan if it holds inf or nan."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if not np.isfinite(matrix).all():
        return float("nan")
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


def sigma_max(matrix: np.ndarray) -> float:
    """The largest singular value (the spectral norm); nan if the matrix holds inf or nan."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if not np.isfinite(matrix).all():
        return float("nan")
    return float(np.linalg.norm(matrix, 2))


def theory_slope(activation: str, sigma: float) -> float:
    """The bound on the per-step slope of log10 ‖∂L/∂h_t‖: log10(γ·σ_max)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log10(gamma(activation) * sigma))


def fitted_slope(log10_norms: np.ndarray) -> float:
    """Least-squares slope of log10 ‖∂L/∂h‖ against steps back, over the finite points (nan if < 2)."""
    log10_norms = np.asarray(log10_norms, dtype=np.float64)
    steps = np.arange(log10_norms.size, dtype=np.float64)
    finite = np.isfinite(log10_norms)
    if finite.sum() < 2:
        return float("nan")
    k, y = steps[finite], log10_norms[finite]
    k_mean = k.mean()
    denominator = float(np.sum((k - k_mean) ** 2))
    return float(np.sum((k - k_mean) * (y - y.mean())) / denominator)
