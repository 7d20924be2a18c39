"""A theory line that predicts the gradient curve (not only bounds it), and the factors of each step.

Computed from the update's own forward pass, O(T·B·H) per update:

- vanilla RNN, weights that mix (Gaussian, orthogonal, Xavier, He): the mean-field gain of
  Poole et al. 2016 and Schoenholz et al. 2017 measured on the network itself: going one step
  back from h_t, ‖∂L/∂h‖² is multiplied on average by (‖W_hh‖_F²/H)·⟨φ′(a_t)²⟩, ⟨·⟩ over the
  batch and the units at that step;
- vanilla RNN, after training: learning adds a low-rank part to W_hh whose eigenvalues stand
  outside the random bulk (the dots outside the disk in the spectrum panel). Mean field averages
  over all directions and misses them; the gradient settles on the slowest-decaying mode. So the
  line is the slower of the two: the mean field, and k·log10 ρ(diag(⟨φ′⟩)·W_hh), the top
  eigenvalue of the Jacobian averaged over the pass (by power iteration). At initialisation the
  same term is the finite-H edge of the bulk (ρ(W) a few % above ‖W‖_F/√H at H = 64);
- vanilla RNN, identity init (W ≈ diagonal: the units do not mix, so the average over units of
  a product is not the product of averages): each unit's own path Π (W_uu·φ′)², weighted by the
  unit's share of ‖∂L/∂h_T‖², exact at initialisation;
- linear RNN: log10 ρ(W_hh) per step, the asymptotic rate that decides (Pascanu et al. 2013);
- LSTM (Chen, Pennington & Schoenholz 2018): the cell-state path ∂c_{t−1} ← f_t ⊙ ∂c_t, so
  y_k = ½·log10 mean over batch and units of Π_{j<k} f²_{T−j} -- per unit first, then the mean,
  because learning opens a few units' gates near 1 and those carry the memory; GRU: the same with
  the update gate z (h_t = (1 − z)·n + z·h_{t−1});
- deep feed-forward net (cell ``mlp``, untied layers): the same mean-field gain with each layer's
  own weights, χ_l = (‖W_l‖_F²/H)·⟨(φ′(u_l)·n_l)²⟩ from h_l back to h_{l−1} (n_l: a norm's scale
  |gain|/σ, 1 without one), 1 + α²·χ_l with a skip path (see ``predict_mlp``).

All curves are indexed like ``Frame.log10_dh_norm`` (k = steps back, 0 = h_T) and anchored to it
at k = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .activations import get_activation
from .numerics import row_sums_of_squares
from .theory import fitted_slope

KIND_MEAN_FIELD = "mean field ⟨φ′²⟩·‖W‖²/H"
KIND_MEAN_FIELD_OR_MODE = "max(mean field, ρ(⟨φ′⟩·W))"
KIND_LINEAR = "log10 ρ (linear)"
KIND_UNIT_PATH = "unit path Π W_uu·φ′ (identity)"
KIND_CELL_PATH = "cell path Π f"
KIND_UPDATE_PATH = "update-gate path Π z"
KIND_MEAN_FIELD_NORM = "mean field ⟨(φ′·g/σ)²⟩·‖W‖²/H (norm)"
KIND_MEAN_FIELD_RESIDUAL = "mean field 1 + α²·χ (residual)"

# Saturation thresholds (the "why" panel): tanh beyond 0.97 has tanh′ < 0.06; sigmoid′ below
# 0.05 is a fifth of its largest value 1/4.
TANH_SATURATED = 0.97
SIGMOID_DERIVATIVE_SATURATED = 0.05
# Power iteration for ρ(diag(⟨φ′⟩)·W): a block of vectors (a complex pair of outliers rotates a
# single vector), the rate read over the second half of the steps (the first half lets the block
# settle on the top modes). Fixed seed: the same Config gives the same frames.
MODE_STEPS = 64
MODE_VECTORS = 4
MODE_SEED = 0
# The mode is drawn (and named) once it lies this far above the mean-field line somewhere: below
# that the two are the same line on screen, and the label would flicker between them.
MODE_VISIBLE = 0.05


@dataclass(frozen=True)
class Prediction:
    log10_dh: np.ndarray  # (T,), same indexing as Frame.log10_dh_norm, equal to it at k = 0
    slope: float  # least-squares slope of log10_dh over the steps the measured curve is finite on
    kind: str  # which theory: one of the KIND_* labels


@dataclass(frozen=True)
class StepFactors:
    """The two factors of the vanilla RNN's per-step gain, and how saturated the units are."""

    log10_weight_factor: float  # log10(‖W_hh‖_F/√H)
    log10_activation_factor: np.ndarray  # (T,), k steps back: log10 RMS φ′(a_{T−k}) over batch and units
    saturated_share: float  # tanh: |h| > 0.97, sigmoid: φ′ < 0.05, relu: units off for the whole batch
    saturated_label: str  # "saturated" or "dead"


def _log10_mean_of_products(log10_factors: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``log10_factors (T, B, H)`` indexed forward in time; returns y (T,) with y_0 = 0 and
    y_k = log10 (weighted) mean over (B, H) of Π_{j<k} 10^{log10_factors[T−1−j]}, in the log domain
    so that products of hundreds of steps neither underflow nor overflow."""
    T = log10_factors.shape[0]
    backwards = log10_factors[::-1].reshape(T, -1)  # index j: step T−j
    paths = np.cumsum(backwards[:-1], axis=0)  # (T−1, B·H): Π_{j<k} for k = 1 … T−1
    weights = np.full(paths.shape[1], 1.0 / paths.shape[1]) if weights is None else weights.reshape(-1) / weights.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        log10_w = np.log10(weights)
        terms = paths + log10_w
        top = np.max(terms, axis=1, keepdims=True)
        finite_top = np.where(np.isfinite(top), top, 0.0)
        sums = np.sum(10.0 ** (terms - finite_top), axis=1)
        y = finite_top[:, 0] + np.log10(sums)
    return np.concatenate([[0.0], y])


def slowest_mode_log10_rate(w_hh: np.ndarray, mean_derivative: np.ndarray) -> float:
    """log10 of the top |eigenvalue| of diag(mean_derivative)·W_hh (the Jacobian ∂h_t/∂h_{t−1}
    averaged over a pass; backwards Wᵀ·diag(φ′) has the same eigenvalues), by power iteration on
    a block of vectors: the growth rate of the block's norm per step. nan if it cannot be told."""
    rng = np.random.default_rng(MODE_SEED)
    block = rng.standard_normal((w_hh.shape[0], MODE_VECTORS))
    settle = MODE_STEPS // 2
    logs = np.zeros(MODE_STEPS + 1)
    with np.errstate(all="ignore"):
        for step in range(1, MODE_STEPS + 1):
            block = mean_derivative[:, None] * (w_hh @ block)
            norm = float(np.linalg.norm(block))
            if not (math.isfinite(norm) and norm > 0):
                return float("nan")
            logs[step] = logs[step - 1] + math.log10(norm)
            block /= norm
    return float((logs[-1] - logs[settle]) / (MODE_STEPS - settle))


def _anchor(relative: np.ndarray, measured: np.ndarray, truncation: int | None, kind: str) -> Prediction:
    """``relative`` (y_0 = 0) anchored to the measured curve at k = 0; exact zeros beyond a
    truncation window as in the measured curve; the slope over the measured curve's finite steps."""
    anchor = float(measured[0]) if np.isfinite(measured[0]) else 0.0
    curve = anchor + relative
    if truncation is not None:
        curve[truncation:] = -np.inf
    finite = np.isfinite(measured)
    if finite.sum() >= 2:
        masked = np.where(finite, curve, np.nan)
        slope = fitted_slope(masked)
    else:
        slope = fitted_slope(curve)
    return Prediction(log10_dh=curve, slope=slope, kind=kind)


def predict_rnn(
    w_hh: np.ndarray,
    hidden: np.ndarray,
    activation: str,
    measured: np.ndarray,
    *,
    init: str,
    spectral_radius: float,
    dh_last: np.ndarray,
    truncation: int | None = None,
) -> tuple[Prediction, StepFactors]:
    """``hidden (T, B, H)``: h_1 … h_T of the pass; ``measured``: Frame.log10_dh_norm; ``dh_last``
    (B, H): ∂L/∂h_T, whose per-unit share weights the identity init's unit paths."""
    T, _, H = hidden.shape
    act = get_activation(activation)
    with np.errstate(all="ignore"):
        w = np.asarray(w_hh, dtype=np.float64)
        deriv = np.asarray(act.derivative_from_output(hidden), dtype=np.float64)  # φ′(a_t), (T, B, H)
        mean_sq = np.mean(deriv * deriv, axis=(1, 2))  # (T,)
        frobenius_sq = float(np.sum(w * w)) / H
        log10_weight = 0.5 * np.log10(frobenius_sq)
        log10_activation = 0.5 * np.log10(mean_sq)[::-1].copy()  # k steps back
        if activation == "linear":
            step = np.full(T - 1, np.log10(spectral_radius))
            relative = np.concatenate([[0.0], np.cumsum(step)])
            kind = KIND_LINEAR
        elif init == "identity":
            diagonal = np.diag(w)
            log10_factors = np.log10(np.abs(deriv * diagonal))
            squares = np.asarray(dh_last, dtype=np.float64) ** 2
            usable = np.isfinite(squares).all() and squares.sum() > 0
            relative = 0.5 * _log10_mean_of_products(2 * log10_factors, squares if usable else None)
            kind = KIND_UNIT_PATH
        else:
            step = 2 * log10_weight + np.log10(mean_sq[::-1][: T - 1])  # ½·log10 of the gain², doubled
            relative = np.concatenate([[0.0], np.cumsum(0.5 * step)])
            kind = KIND_MEAN_FIELD
            rate = slowest_mode_log10_rate(w, np.mean(deriv, axis=(0, 1)))
            mode = rate * np.arange(T)
            if math.isfinite(rate) and np.any(mode > relative + MODE_VISIBLE):
                # The slowest mode decays slower than the bulk somewhere: the gradient follows it.
                relative = np.fmax(relative, mode)
                kind = KIND_MEAN_FIELD_OR_MODE
        if activation == "tanh":
            share, label = float(np.mean(np.abs(hidden) > TANH_SATURATED)), "saturated"
        elif activation == "sigmoid":
            share, label = float(np.mean(deriv < SIGMOID_DERIVATIVE_SATURATED)), "saturated"
        elif activation == "relu":
            share, label = float(np.mean(np.all(hidden <= 0, axis=1))), "dead"
        else:
            share, label = 0.0, "saturated"
    factors = StepFactors(
        log10_weight_factor=float(log10_weight),
        log10_activation_factor=log10_activation,
        saturated_share=share,
        saturated_label=label,
    )
    return _anchor(relative, measured, truncation, kind), factors


def predict_gated(cell: str, gate: np.ndarray, measured: np.ndarray, truncation: int | None = None) -> Prediction:
    """``gate (T, B, H)``: the LSTM's forget gate f_t or the GRU's update gate z_t, t = 1 … T."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log10_sq = 2 * np.log10(np.asarray(gate, dtype=np.float64))
        relative = 0.5 * _log10_mean_of_products(log10_sq)
    return _anchor(relative, measured, truncation, KIND_CELL_PATH if cell == "lstm" else KIND_UPDATE_PATH)


def predict_mlp(
    w_layers: np.ndarray,
    phi: np.ndarray,
    activation: str,
    measured: np.ndarray,
    *,
    init: str,
    residual: float = 0.0,
    norm_scale: np.ndarray | None = None,
    dh_last: np.ndarray | None = None,
) -> Prediction | None:
    """Depth mode: ``w_layers (L−1, H, H)`` the weights of layers 2 … L; ``phi (L, B, H)`` φ(u_l)
    for l = 1 … L; ``norm_scale`` broadcastable to ``phi``: a norm's factor |gain|/σ on the
    gradient (its centring projection, which removes 2 of B or H directions, left out), or None;
    ``dh_last (B, H)``: ∂L/∂h_L, whose per-unit share weights the identity init's unit paths.

    Going back from h_l to h_{l−1} the squared norm is multiplied on average by χ_l =
    (‖W_l‖_F²/H)·⟨(φ′(u_l)·n_l)²⟩ -- each layer its own, since the weights are untied -- and by
    1 + α²·χ_l with a skip path h_l = h_{l−1} + α·φ(u_l) (the cross term averages to zero over
    random weights). Identity weights do not mix: each unit's own path Π (W_uu·φ′)², as for the
    RNN. None where no honest prediction exists: the zero init (symmetric weights: one neuron),
    identity weights with a skip path or a norm, and ReLU with a skip path (the units' outputs are
    all ≥ 0, so h_l drifts upward and the cross term does not average out: measured 0.19-0.22
    decades per layer at α = 1, He init, H = 256, against the 0.15 of 1 + α²·χ).
    """
    L = phi.shape[0]
    act = get_activation(activation)
    if init == "zero" or (init == "identity" and (residual or norm_scale is not None)):
        return None
    if residual and activation == "relu":
        return None
    with np.errstate(all="ignore"):
        deriv = np.asarray(act.derivative_from_output(phi[1:]), dtype=np.float64)  # (L−1, B, H): layers 2 … L
        if norm_scale is not None:
            deriv = deriv * np.broadcast_to(norm_scale, phi.shape)[1:]
        w = np.asarray(w_layers, dtype=np.float64)
        if init == "identity":
            diagonal = np.diagonal(w, axis1=1, axis2=2)[:, None, :]  # (L−1, 1, H)
            log10_factors = np.concatenate([np.zeros((1, *deriv.shape[1:])), np.log10(np.abs(deriv * diagonal))])
            squares = None if dh_last is None else np.asarray(dh_last, dtype=np.float64) ** 2
            usable = squares is not None and bool(np.isfinite(squares).all()) and squares.sum() > 0
            relative = 0.5 * _log10_mean_of_products(2 * log10_factors, squares if usable else None)
            return _anchor(relative, measured, None, KIND_UNIT_PATH)
        H = w.shape[-1]
        chi = row_sums_of_squares(w) / H * np.mean(deriv * deriv, axis=(1, 2))  # (L−1,): layers 2 … L
        gain = 0.5 * np.log10(1.0 + residual * residual * chi) if residual else 0.5 * np.log10(chi)
        relative = np.concatenate([[0.0], np.cumsum(gain[::-1])])  # k layers back: layers L, L−1, … passed
    if residual:
        kind = KIND_MEAN_FIELD_RESIDUAL
    elif norm_scale is not None:
        kind = KIND_MEAN_FIELD_NORM
    else:
        kind = KIND_MEAN_FIELD
    assert relative.shape == (L,)
    return _anchor(relative, measured, None, kind)
