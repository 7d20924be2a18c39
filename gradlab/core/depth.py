"""Depth mode (cell ``mlp``): the per-layer quantities of one update beside the gradient curve.

The gain of the back-propagated gradient from h_l to h_{l−1} is a matrix of its own at every
layer (untied weights), so the bound is a curve, accumulated from the loss end (Pascanu et al.
2013, per layer): ‖∂h_l/∂h_{l−1}‖ ≤ γ·σ_max(W_l)·max n_l, and 1 + α·γ·σ_max(W_l)·max n_l with a
skip path h_l = h_{l−1} + α·φ(u_l), where n_l is a norm's factor |gain|/σ on the gradient (1
without a norm; its centring projection has norm ≤ 1). It holds for the Frobenius norm over the
batch, the norm ``Frame.log10_dh_norm`` carries.

The per-layer view (``LayerStats``): each layer's activation and back-propagated-gradient
distributions (Glorot & Bengio 2010, Figs. 6–7), std, saturated and dead shares, and the
update:weight ratio ‖ΔW_l‖/‖W_l‖ (CS231n: about 1e-3), at every update.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .cells.mlp import Cache
from .numerics import row_sums_of_squares
from .theory import EXACT_SPECTRUM_MAX_H, EXTRA_SHARE, SigmaMaxTracker


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
    keep their cost under an eighth of an update's 6·B·H² flops per layer. Per layer, in flops of
    the update's own products (one core, measured): an exact SVD ≈ 41·H³ up to
    ``EXACT_SPECTRUM_MAX_H``, else a warm-started subspace iteration ≈ 400·H² (three or four
    iterations of 16 vectors, with their QR and Rayleigh–Ritz steps). A number fixed by the
    Config, never a clock, so that the same Config gives the same frames; the shown layer's
    σ_max is still computed at every update."""
    per_layer = 41.0 * hidden_size**3 if hidden_size <= EXACT_SPECTRUM_MAX_H else 400.0 * hidden_size**2
    return max(1, math.ceil(EXTRA_SHARE * per_layer / (6.0 * batch_size * hidden_size**2)))


class LayerSigmaMax:
    """σ_max of every layer's W_l (layers 2 … L) at every update: one warm-started
    ``SigmaMaxTracker`` per layer, so the same sequence of weights gives the same numbers bit for
    bit (no clock decides when they are computed)."""

    def __init__(self, layers: int, seed: int) -> None:
        self._trackers = [SigmaMaxTracker(seed) for _ in range(layers)]

    def __call__(self, w_layers: np.ndarray) -> np.ndarray:
        return np.array([tracker(w) for tracker, w in zip(self._trackers, w_layers, strict=True)])


# ---------------------------------------------------------------------------------------- per-layer view

MAX_ROWS = 64  # layers whose distributions a frame carries (all of them up to this depth)
# Entries per layer that the histograms count (4 examples at H = 256): the pass, not the picture,
# sets the pace.
SAMPLE = 1024
# log10 |φ(u)|, half-decade bins, fixed so that the picture means the same from frame to frame
# (values beyond them are counted in the outermost bins): a deep net's activations shrink or grow
# by decades over its layers (ReLU with Xavier: std 1e-1 to 1e-8), which a linear axis squeezes
# into its first bin. Exact zeros (a ReLU's off units) are in no bin.
ACTIVATION_EDGES = np.arange(-12.0, 8.0 + 0.25, 0.5)
ACTIVATION_BINS = ACTIVATION_EDGES.size - 1
GRADIENT_EDGES = np.arange(-60.0, 10.0 + 0.25, 0.5)  # log10 |∂L/∂h|, half-decade bins
# A unit is saturated where φ′(u) is below this share of sup φ′ (tanh: |h| > 0.99; sigmoid: σ′ < 0.005).
SATURATED = 0.02


@dataclass(frozen=True)
class LayerStats:
    """Per-layer distributions and readouts of one update (Glorot & Bengio 2010, Figs. 6–7; CS231n).

    Rows are the layers named by ``layers`` (1-based, ascending; every layer up to ``MAX_ROWS``,
    else evenly spread with the first and the last). The histograms count the first examples of
    the batch (at most ``SAMPLE`` entries per layer); the readouts use the whole batch.
    """

    layers: np.ndarray  # (K,) 1-based layer numbers of the rows
    activation_std: np.ndarray  # (K,) std of h_l over the batch and the units
    saturated_percent: np.ndarray  # (K,) entries with φ′(u) < 2 % of sup φ′ (tanh, sigmoid; else 0)
    dead_percent: np.ndarray  # (K,) units with φ′ = 0 for every example of the batch (ReLU; else 0)
    activation_counts: np.ndarray  # (K, ACTIVATION_BINS): log10 |φ(u_l)|, the layer's own output
    activation_edges: np.ndarray  # (ACTIVATION_BINS + 1,)
    gradient_counts: np.ndarray  # (K, len(GRADIENT_EDGES) − 1): log10 |∂L/∂h_l|
    gradient_edges: np.ndarray
    gradient_zeros: np.ndarray  # (K,) exact zeros in the sample (underflow), which no bin holds
    gradient_nonfinite: np.ndarray  # (K,) inf/nan entries in the sample
    log10_update_ratio: np.ndarray  # (L,) by layer number − 1: log10 ‖ΔW_l‖_F/‖W_l‖_F of this update

    def __post_init__(self) -> None:
        for value in self.__dict__.values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    def __setstate__(self, state: dict[str, object]) -> None:
        # Unpickled (from the simulation process): the arrays arrive writeable; lock them again.
        self.__dict__.update(state)
        self.__post_init__()


def rows(depth: int) -> np.ndarray:
    """0-based indices of the layers a LayerStats describes (see ``LayerStats``)."""
    if depth <= MAX_ROWS:
        return np.arange(depth)
    return np.unique(np.round(np.linspace(0, depth - 1, MAX_ROWS)).astype(int))


LAYER_WEIGHTS = ("W_ih", "W_hh")  # the weights of layers 1 … L


def _per_layer(sums: dict[str, np.ndarray]) -> np.ndarray:
    """Layers 1 … L from the row sums of W_ih (one layer) and of W_hh (one row per layer)."""
    return np.concatenate([[np.sum(sums["W_ih"])], sums["W_hh"]])


def weight_sums(params: dict[str, np.ndarray]) -> np.ndarray:
    """‖W_l‖_F² for layers 1 … L (W_ih, then every W_hh[l]), in float64."""
    return _per_layer({name: row_sums_of_squares(params[name]) for name in LAYER_WEIGHTS})


def update_ratios(step_sums: dict[str, np.ndarray], sums_before: np.ndarray) -> np.ndarray:
    """log10 ‖ΔW_l‖_F/‖W_l‖_F per layer (1 … L) from the optimizer's step sums (``record=LAYER_WEIGHTS``)
    and ``weight_sums`` before the update (CS231n's ~1e-3)."""
    with np.errstate(all="ignore"):
        return np.asarray(0.5 * np.log10(_per_layer(step_sums) / sums_before))


def row_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin (rows × bins) of each row's finite ``values`` (rows × samples) over the
    evenly spaced ``edges``, values beyond them in the outermost bins: ``np.histogram`` of each
    row's clipped values, bin for bin, in one ``bincount`` for all rows (no sort per row)."""
    count, bins = values.shape[0], edges.size - 1
    finite = np.isfinite(values)
    clipped = np.clip(np.where(finite, values, edges[0]), edges[0], edges[-1])
    index = ((clipped - edges[0]) * (bins / (edges[-1] - edges[0]))).astype(np.intp)
    np.minimum(index, bins - 1, out=index)
    # The estimate can miss by one bin where rounding meets an edge: settle it against the edges
    # themselves, as np.histogram does (bins are [e_i, e_i+1), the last one closed).
    index -= clipped < edges[index]
    index += (clipped >= edges[index + 1]) & (index < bins - 1)
    index += np.arange(count)[:, None] * bins
    return np.bincount(index[finite], minlength=count * bins).reshape(count, bins)


def layer_stats(cache: Cache, dh: np.ndarray, log10_update_ratio: np.ndarray) -> LayerStats:
    """From this update's pass: ``cache`` (the forward values) and ``dh (L, B, H)`` (∂L/∂h_l)."""
    L, B, H = cache.hs.shape
    picked = rows(L)
    examples = max(1, min(B, math.ceil(SAMPLE / H)))
    act = cache.activation
    with np.errstate(all="ignore"):
        every = picked.size == L  # no copies of the pass's arrays where every layer is a row
        hs = np.asarray(cache.hs if every else cache.hs[picked], dtype=np.float64)
        phi = np.asarray(cache.phi if every else cache.phi[picked], dtype=np.float64)
        std = np.std(hs, axis=(1, 2))
        deriv = act.derivative_from_output(phi)
        if act.name in ("tanh", "sigmoid"):
            saturated = 100.0 * np.mean(deriv < SATURATED * act.gamma, axis=(1, 2))
        else:
            saturated = np.zeros(len(picked))
        # A dead ReLU unit is off for every example of the batch; other activations have none.
        dead = 100.0 * np.mean(np.all(deriv == 0, axis=1), axis=1) if act.name == "relu" else np.zeros(len(picked))
        sample = np.abs(phi[:, :examples].reshape(len(picked), -1))
        activation_counts = row_counts(np.log10(sample), ACTIVATION_EDGES)  # zeros: -inf, no bin
        grads = np.abs(dh[picked, :examples].reshape(len(picked), -1).astype(np.float64))
        log_grads = np.log10(grads)  # exact zeros become -inf: not finite, counted apart
        gradient_counts = row_counts(log_grads, GRADIENT_EDGES)
    return LayerStats(
        layers=picked + 1,
        activation_std=std,
        saturated_percent=saturated,
        dead_percent=dead,
        activation_counts=activation_counts,
        activation_edges=ACTIVATION_EDGES.copy(),
        gradient_counts=gradient_counts,
        gradient_edges=GRADIENT_EDGES.copy(),
        gradient_zeros=np.sum(grads == 0, axis=1),
        gradient_nonfinite=np.sum(~np.isfinite(grads), axis=1),
        log10_update_ratio=np.asarray(log10_update_ratio, dtype=np.float64).copy(),
    )
