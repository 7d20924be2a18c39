"""The conditions of Pascanu, Mikolov & Bengio (2013) for vanishing and exploding gradients.

For h_t = φ(W h_{t-1} + …), ‖∂h_t/∂h_{t-1}‖ ≤ γ·σ_max(W) with γ = sup φ'. So log10 ‖∂L/∂h_{T-k}‖
falls at least as fast as k·log10(γ·σ_max) when γ·σ_max < 1 (sufficient for vanishing);
γ·σ_max > 1 is necessary for exploding. For a linear RNN the spectral radius decides.
"""

from __future__ import annotations

import math

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


# Up to this size σ_max and the eigenvalues are computed exactly at every update (about a
# millisecond each); beyond it σ_max comes from a warm-started subspace iteration (O(H²) per
# iteration) and the eigenvalues from every few updates (see ``spectrum_every``).
EXACT_SPECTRUM_MAX_H = 64
SIGMA_RELATIVE_TOLERANCE = 1e-8  # change of σ_max² between iterations; its error stays well below 1e-6
SIGMA_MAX_ITERATIONS = 500
SIGMA_BLOCK = 16  # vectors iterated together: converges like (σ_17/σ_1)² per iteration, not (σ_2/σ_1)²


class SigmaMaxTracker:
    """σ_max of a matrix that changes a little from one update to the next.

    Exact SVD for H ≤ ``EXACT_SPECTRUM_MAX_H``; otherwise subspace iteration on WᵀW with a
    Rayleigh–Ritz step, started from the previous update's singular vectors, until the largest
    Ritz value changes by less than ``SIGMA_RELATIVE_TOLERANCE`` relative (and its residual is
    small). Deterministic: the first start is drawn from ``seed``, every later one is the previous
    answer, so the same sequence of matrices gives the same numbers bit for bit.
    """

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._basis: np.ndarray | None = None
        self.iterations = 0  # of the last call, for tests and benchmarks

    def __call__(self, matrix: np.ndarray) -> float:
        matrix = np.asarray(matrix, dtype=np.float64)
        self.iterations = 0
        if not np.isfinite(matrix).all():
            return float("nan")
        largest = float(np.max(np.abs(matrix))) if matrix.size else 0.0
        if largest > 1e100 or 0.0 < largest < 1e-100:
            # WᵀW would overflow (or underflow) although W is finite: the same answer, scaled.
            return largest * self(matrix / largest)
        n = matrix.shape[1]
        if n <= EXACT_SPECTRUM_MAX_H:
            return float(np.linalg.norm(matrix, 2))
        p = min(SIGMA_BLOCK, n)
        if self._basis is None or self._basis.shape != (n, p):
            self._basis = np.linalg.qr(np.random.default_rng([self._seed, 7]).standard_normal((n, p)))[0]
        basis = self._basis
        previous = -1.0
        top = 0.0
        for iteration in range(1, SIGMA_MAX_ITERATIONS + 1):
            image = matrix @ basis  # (m, p)
            values, vectors = np.linalg.eigh(image.T @ image)  # Ritz values of WᵀW on span(basis)
            top = float(values[-1])
            if top <= 0.0:
                self.iterations = iteration
                break
            ritz = basis @ vectors[:, ::-1]  # Ritz vectors, largest first
            gram = matrix.T @ (image @ vectors[:, ::-1])  # WᵀW · Ritz vectors
            residual = float(np.linalg.norm(gram[:, 0] - top * ritz[:, 0]))
            self.iterations = iteration
            if abs(top - previous) <= SIGMA_RELATIVE_TOLERANCE * top and residual <= 1e-3 * top:
                basis = ritz
                break
            previous = top
            basis = np.linalg.qr(gram)[0]
        self._basis = basis
        return float(np.sqrt(max(top, 0.0)))


# What the O(H³) extras cost, in the flops of an update's own matrix products (one core, OpenBLAS,
# measured: eigvals of an H × H matrix takes as long as 190·H³ flops of products at H = 65, 150 at
# 128, 86 at 256; an SVD's singular values 41·H³ at 65). Updates between two computations keep
# each under an eighth of an update.
EIGVALS_COST_H3 = 150.0
EXTRA_SHARE = 8.0


def spectrum_every(hidden_size: int, seq_len: int, batch_size: int, gates: int) -> int:
    """Updates between two eigen-decompositions of the shown recurrent block: 1 up to
    ``EXACT_SPECTRUM_MAX_H``, else as many as keep its ``EIGVALS_COST_H3``·H³ under an eighth of
    an update's ≈8·G·T·B·H² flops (a fixed number from the Config, never a clock, so that the
    same Config gives the same frames)."""
    if hidden_size <= EXACT_SPECTRUM_MAX_H:
        return 1
    update = 8.0 * gates * seq_len * batch_size * hidden_size**2
    return max(1, math.ceil(EXTRA_SHARE * EIGVALS_COST_H3 * hidden_size**3 / update))
