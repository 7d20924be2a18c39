"""A theory line that predicts the gradient curve (not only bounds it), and the factors of each step.

Computed from the update's own forward pass, O(T·B·H) per update (the vanilla RNN's mixing
weights O(4·T·H²): the backward pass of four sequences):

- vanilla RNN, weights that mix (Gaussian, orthogonal, Xavier, He): mean field over the
  activations, with the actual W_hh (``mean_field_through_w``). Poole et al. 2016 and Schoenholz
  et al. 2017 average over φ′ *and* over random weights: going one step back from h_t,
  ‖∂L/∂h‖² is multiplied by (‖W_hh‖_F²/H)·⟨φ′(a_t)²⟩ (the two factors of ``StepFactors``). That
  is right for a random W_hh; learning adds a low-rank part whose eigenvalues stand outside the
  random bulk (the dots outside the disk in the spectrum panel), and the gradient rides on them
  where ‖W‖_F sees nothing. So only φ′ is averaged: its mean per unit and step carries the
  gradient along W's modes, its spread over the batch scatters it in all directions. For random
  weights this is the mean field again (at H = 64 with the finite-H edge of the bulk, which
  ‖W‖_F misses by up to 0.07 decades/step for ReLU); with a mode it is ρ(diag(⟨φ′⟩)·W_hh).
  Measured over tanh/sigmoid/ReLU × Gaussian/orthogonal/Xavier × s 0.5-2 on the adding problem:
  within 0.015 (H = 64) and 0.009 (H = 256) decades/step at initialisation; after 300 Adam
  updates see tests/core/test_prediction_accuracy.py;
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
KIND_MEAN_FIELD_THROUGH_W = "mean field over φ′, actual W"
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
# Vectors that sample the second-moment recursion of ``mean_field_through_w``: its slope's spread
# over seeds is about 0.003 decades/step at H = 64, T = 100 (and the cost is that of the backward
# pass of 4 sequences).
SURROGATE_VECTORS = 4
SURROGATE_SEED = 0


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


def mean_field_through_w(
    w_hh: np.ndarray, deriv: np.ndarray, dh_last: np.ndarray | None, *, vectors: int = SURROGATE_VECTORS
) -> np.ndarray:
    """y (T,), y_0 = 0: ½·log10 of the gradient's expected squared norm k steps back when each
    unit's φ′ is independent of the gradient (the mean-field assumption) but W_hh is the actual
    matrix. ``deriv (T, B, H)``: φ′(a_t); ``dh_last (B, H)``: ∂L/∂h_T, the start (None or not
    finite: an isotropic start).

    Going one step back, the second moment C = E[g gᵀ] of the gradient g becomes
    Wᵀ·(m mᵀ ∘ C + diag(v ∘ diag C))·W, with m and v the step's mean and variance of φ′ per unit
    over the batch: the mean ⟨φ′⟩ carries g coherently (along W's modes, the outliers learning
    makes), the spread of φ′ scatters it in all directions. For a random W this is the mean field
    (‖W‖_F²/H)·⟨φ′²⟩; with φ′ constant it is ρ(diag(⟨φ′⟩)·W). C is H×H (O(H³) per step), so the
    recursion is sampled: ``vectors`` vectors g ← Wᵀ·((m + √v·ξ) ∘ g), ξ = ±1 fresh per unit and
    step, have E[g gᵀ] = C exactly: O(vectors·H²·T), as much as the backward pass of that many
    sequences. The signs come from a fixed seed: the same pass gives the same curve."""
    T, B, H = deriv.shape
    mean = np.mean(deriv, axis=1)  # (T, H)
    spread = np.std(deriv, axis=1)
    rng = np.random.default_rng(SURROGATE_SEED)
    start = None if dh_last is None else np.asarray(dh_last, dtype=np.float64)
    if start is not None and np.isfinite(start).all() and np.any(start):
        # random combinations of the batch's rows: E[g gᵀ] = the batch's E[∂L/∂h_T ∂L/∂h_Tᵀ]
        block = rng.standard_normal((vectors, B)) @ (start / np.max(np.abs(start)))
    else:
        block = rng.standard_normal((vectors, H))
    y = np.full(T, -np.inf)
    y[0] = 0.0
    with np.errstate(all="ignore"):
        norm = float(np.linalg.norm(block))
        if not (math.isfinite(norm) and norm > 0):
            return np.full(T, np.nan)
        block /= norm
        for k in range(1, T):
            t = T - k  # going back from h_t (index t: step t + 1) to h_{t−1}
            signs = np.where(rng.random((vectors, H)) < 0.5, -1.0, 1.0)
            block = (block * (mean[t] + spread[t] * signs)) @ w_hh
            norm = float(np.linalg.norm(block))
            if not math.isfinite(norm):
                return np.full(T, np.nan)
            if norm == 0:
                break  # no path left: the gradient is exactly zero from here on, as measured
            y[k] = y[k - 1] + math.log10(norm)
            block /= norm
    return y


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
            relative = mean_field_through_w(w, deriv, dh_last)
            kind = KIND_MEAN_FIELD_THROUGH_W
            if not np.isfinite(relative[0]):
                # no honest sample (weights or φ′ not finite): the mean field of ‖W‖_F alone
                step = 2 * log10_weight + np.log10(mean_sq[::-1][: T - 1])  # log10 of the squared gain
                relative = np.concatenate([[0.0], np.cumsum(0.5 * step)])
                kind = KIND_MEAN_FIELD
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
    weight_sums: np.ndarray | None = None,
) -> Prediction | None:
    """Depth mode: ``w_layers (L−1, H, H)`` the weights of layers 2 … L (``weight_sums (L−1,)``
    their ‖W_l‖_F², if already taken); ``phi (L, B, H)`` φ(u_l)
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
        sums = row_sums_of_squares(w) if weight_sums is None else np.asarray(weight_sums, dtype=np.float64)
        chi = sums / H * np.mean(deriv * deriv, axis=(1, 2))  # (L−1,): layers 2 … L
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
