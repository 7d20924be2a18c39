"""Depth mode (cell ``mlp``): the per-layer quantities of one update beside the gradient curve.

The gain of the back-propagated gradient from h_l to h_{l−1} is a matrix of its own at every
layer (untied weights), so the bound is a curve, accumulated from the loss end (Pascanu et al.
2013, per layer): ‖∂h_l/∂h_{l−1}‖ ≤ γ·σ_max(W_l)·max n_l, and 1 + α·γ·σ_max(W_l)·max n_l with a
skip path h_l = h_{l−1} + α·φ(u_l), where n_l is a norm's factor |gain|/σ on the gradient (1
without a norm; its centring projection has norm ≤ 1). It holds for the Frobenius norm over the
batch, the norm ``Frame.log10_dh_norm`` carries.
"""

from __future__ import annotations

import math

import numpy as np

from .cells.mlp import Cache
from .theory import EXACT_SPECTRUM_MAX_H, SigmaMaxTracker


def norm_scale(cache: Cache, params: dict[str, np.ndarray]) -> np.ndarray | None:
    """A norm's factor |gain|/σ on the gradient, broadcastable to (L, B, H); None without a norm.
    BatchNorm: σ per unit (over the batch); LayerNorm: σ per example (over the units)."""
    if cache.norm == "none" or cache.inv_std is None:
        return None
    gain = np.abs(np.asarray(params["norm_gain"], dtype=np.float64))  # (L, H)
    inv_std = np.asarray(cache.inv_std, dtype=np.float64)
    if cache.norm == "batch":
        return (gain * inv_std)[:, None, :]
    return gain[:, None, :] * inv_std[:, :, None]


def bound_curve(
    sigma_max: np.ndarray, gamma: float, measured: np.ndarray, residual: float, scale: np.ndarray | None
) -> np.ndarray:
    """The bound indexed like ``Frame.log10_dh_norm`` (k layers back, equal to it at k = 0):
    ``sigma_max (L−1,)`` σ_max(W_l) for layers 2 … L; ``scale`` from :func:`norm_scale`."""
    L = sigma_max.size + 1
    with np.errstate(all="ignore"):
        factor = gamma * np.asarray(sigma_max, dtype=np.float64)
        if scale is not None:
            factor = factor * np.max(scale[1:].reshape(L - 1, -1), axis=1)
        gain = np.log10(1.0 + residual * factor) if residual else np.log10(factor)
        anchor = float(measured[0]) if np.isfinite(measured[0]) else 0.0
        return anchor + np.concatenate([[0.0], np.cumsum(gain[::-1])])


def bound_slope(curve: np.ndarray) -> float:
    """The bound curve's average slope per layer (what a straight line from its start to its end
    has), nan unless it is finite throughout."""
    if curve.size < 2 or not np.isfinite(curve).all():
        return float("nan")
    return float((curve[-1] - curve[0]) / (curve.size - 1))


def layer_sigma_every(hidden_size: int, batch_size: int) -> int:
    """Updates between two computations of every layer's σ_max (the bound's curve): as many as
    keep their cost -- per layer an exact SVD, ≈30·H³ flops, up to ``EXACT_SPECTRUM_MAX_H``, else
    a warm-started subspace iteration, ≈200·H² -- under a quarter of an update's ≈6·B·H² per
    layer. A number fixed by the Config, never a clock, so that the same Config gives the same
    frames; the shown layer's σ_max is still computed at every update."""
    per_layer = 30.0 * hidden_size**3 if hidden_size <= EXACT_SPECTRUM_MAX_H else 200.0 * hidden_size**2
    return max(1, math.ceil(4.0 * per_layer / (6.0 * batch_size * hidden_size**2)))


class LayerSigmaMax:
    """σ_max of every layer's W_l (layers 2 … L) at every update: one warm-started
    ``SigmaMaxTracker`` per layer, so the same sequence of weights gives the same numbers bit for
    bit (no clock decides when they are computed)."""

    def __init__(self, layers: int, seed: int) -> None:
        self._trackers = [SigmaMaxTracker(seed) for _ in range(layers)]

    def __call__(self, w_layers: np.ndarray) -> np.ndarray:
        return np.array([tracker(w) for tracker, w in zip(self._trackers, w_layers, strict=True)])
