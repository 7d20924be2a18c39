"""The experiment generator: train a recurrent network (or, in depth mode, a deep feed-forward net)
under a Config, one immutable Frame per update."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .clipping import clip_grad_norm, clip_grad_value
from .config import Config
from .depth import (
    LAYER_WEIGHTS,
    LayerSigmaMax,
    LayerStats,
    bound_curve,
    bound_slope,
    layer_sigma_every,
    layer_stats,
    norm_scale,
    update_ratios,
    weight_sums,
)
from .frame import Frame, NonFinite
from .gradients import Gradients, gradients
from .histogram import HistogramEdges
from .inits import init_params
from .jacobian import JacobianProbe
from .numerics import global_norm, nonfinite_kind
from .optim import SGD, Adam, make_optimizer
from .prediction import predict_gated, predict_mlp, predict_rnn
from .tasks import TASK_INFO, make_batch, make_points
from .theory import SigmaMaxTracker, fitted_slope, gamma, spectrum_every, theory_slope
from .workspace import Workspace

# The block of W_hh whose spectrum is shown: for gated cells, the candidate (the path that a
# vanilla RNN would have); the gates modulate it.
SPECTRUM_BLOCK = {"rnn": (0, "W_hh"), "lstm": (2, "W_hg (cell candidate)"), "gru": (2, "W_hn (candidate)")}


def _spectrum_layer(depth: int) -> int:
    """mlp: the layer whose weights the spectrum panel shows, the middle one (1-based, ≥ 2)."""
    return max(2, (depth + 1) // 2)


def _eigenvalues(block: np.ndarray) -> tuple[np.ndarray, float]:
    """Eigenvalues and spectral radius of a recurrent block (empty / nan if not finite)."""
    block = np.asarray(block, dtype=np.float64)
    if not np.isfinite(block).all():
        return np.empty(0, dtype=np.complex128), float("nan")
    try:
        eigenvalues = np.linalg.eigvals(block).astype(np.complex128)
    except np.linalg.LinAlgError:
        return np.empty(0, dtype=np.complex128), float("nan")
    return eigenvalues, float(np.max(np.abs(eigenvalues)))


def _predict(
    config: Config, result: Gradients, w_hh: np.ndarray | None, radius: float, log10_dh: np.ndarray
) -> dict[str, Any]:
    """The Frame's predicted curve and step factors, from the update's own forward pass."""
    if w_hh is not None:
        prediction, factors = predict_rnn(
            w_hh,
            result.hidden,
            config.activation,
            log10_dh,
            init=config.init,
            spectral_radius=radius,
            dh_last=result.dh[-1],
            truncation=config.truncation,
        )
        return {
            "predicted_log10_dh": prediction.log10_dh,
            "predicted_slope": prediction.slope,
            "predicted_kind": prediction.kind,
            "log10_weight_factor": factors.log10_weight_factor,
            "log10_activation_factor": factors.log10_activation_factor,
            "saturated_share": factors.saturated_share,
            "saturated_label": factors.saturated_label,
        }
    assert result.gate is not None
    prediction = predict_gated(config.cell, result.gate, log10_dh, config.truncation)
    return {
        "predicted_log10_dh": prediction.log10_dh,
        "predicted_slope": prediction.slope,
        "predicted_kind": prediction.kind,
        "gate_mean": np.mean(result.gate, axis=(0, 1), dtype=np.float64),
    }


def _predict_mlp(
    config: Config,
    result: Gradients,
    params: dict[str, np.ndarray],
    sums: np.ndarray,
    sigmas: np.ndarray,
    log10_dh: np.ndarray,
) -> dict[str, Any]:
    """Depth mode: the mean-field curve and the bound curve per layer, from the update's own pass
    and the weights it used (``params`` before the optimiser's step, ``sums`` their ``weight_sums``)."""
    cache = result.feedforward
    assert cache is not None
    scale = norm_scale(cache, params)
    bound = bound_curve(sigmas, gamma(config.activation), log10_dh, config.residual, scale)
    out: dict[str, Any] = {"bound_log10_dh": bound, "theory_slope": bound_slope(bound)}
    prediction = predict_mlp(
        params["W_hh"],
        cache.phi,
        config.activation,
        log10_dh,
        init=config.init,
        residual=config.residual,
        norm_scale=scale,
        dh_last=result.dh[-1],
        weight_sums=sums[1:],
    )
    if prediction is not None:
        out.update(
            predicted_log10_dh=prediction.log10_dh, predicted_slope=prediction.slope, predicted_kind=prediction.kind
        )
    return out


def initial_params(config: Config) -> dict[str, np.ndarray]:
    """The network ``run(config)`` starts from (what a phase map measures, too)."""
    task = TASK_INFO[config.task]
    return init_params(
        config.cell,
        task.input_size,
        config.hidden_size,
        task.output_size,
        w_rec_scale=config.w_rec_scale,
        init=config.init,
        seed=config.seed,
        dtype=config.dtype,
        forget_bias_init=config.forget_bias_init,
        seq_len=config.seq_len,
        norm=config.norm,
        bias_scale=config.bias_scale,
    )


class _Spectrum:
    """The weight block the spectrum panel shows, with its σ_max (and so the bound) from each
    update's own weights, its eigenvalues (O(H³)) every ``every`` updates at large H and, for the
    feed-forward cell, every layer's σ_max (the bound's curve) every ``layer_every`` updates:
    numbers of updates fixed by the Config, never a clock."""

    def __init__(self, config: Config) -> None:
        self._feedforward = config.cell == "mlp"
        self._hidden = config.hidden_size
        if self._feedforward:
            self.index = _spectrum_layer(config.seq_len) - 2  # W_hh[k] is layer k + 2
            self.name = f"W_{self.index + 2}"  # short: it titles the spectrum panel
            self._layer_sigma = LayerSigmaMax(config.seq_len - 1, config.seed)
            self._layer_every = layer_sigma_every(config.hidden_size, config.batch_size)
        else:
            self.index, self.name = SPECTRUM_BLOCK[config.cell]
        # Every layer's σ_max: the feed-forward cell's alone (a recurrent cell has one block).
        self.sigmas = np.full(max(config.seq_len - 1, 0) if self._feedforward else 0, np.nan)
        self._every = spectrum_every(config.hidden_size, config.seq_len, config.batch_size, config.gates)
        self._sigma_max = SigmaMaxTracker(config.seed)
        self._spectrum: tuple[np.ndarray, float] | None = None
        self.iteration = 0  # the update the eigenvalues are from

    def measure(self, iteration: int, w_hh: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, float]:
        """The block, its σ_max, its eigenvalues and spectral radius, at update ``iteration``."""
        h = self._hidden
        block = w_hh[self.index] if self._feedforward else w_hh[self.index * h : (self.index + 1) * h]
        sigma = self._sigma_max(block)
        if self._feedforward and ((iteration - 1) % self._layer_every == 0 or not np.isfinite(self.sigmas).all()):
            self.sigmas = self._layer_sigma(w_hh)
        if self._spectrum is None or (iteration - 1) % self._every == 0 or not math.isfinite(sigma):
            self._spectrum = _eigenvalues(block)
            self.iteration = iteration
        eigenvalues, radius = self._spectrum
        return block, sigma, eigenvalues, radius


def _batch(config: Config, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The next batch of the run's task: sequences, or points for the feed-forward cell."""
    if config.cell == "mlp":
        return make_points(config.task, rng, config.batch_size, config.dtype)
    return make_batch(config.task, rng, config.seq_len, config.batch_size, config.dtype)


def _clipped(config: Config, result: Gradients) -> tuple[dict[str, np.ndarray], float]:
    """The gradients the optimiser steps with, and their global norm after clipping."""
    if config.clip == "norm":
        grads, _ = clip_grad_norm(result.grads, config.clip_threshold)
        return grads, global_norm(grads.values())
    if config.clip == "value":
        grads = clip_grad_value(result.grads, config.clip_threshold)
        return grads, global_norm(grads.values())
    return result.grads, result.grad_norm


def _message(iteration: int, nonfinite: NonFinite) -> str:
    """What the frame says about inf or nan in this update ("" if there was none)."""
    if nonfinite.weights:
        return (
            f"Diverged at update {iteration}: the weights became {nonfinite.weights}"
            f" ({nonfinite.describe()}). Reset, or turn on clipping."
        )
    if nonfinite:
        return f"Non-finite values at update {iteration}: {nonfinite.describe()}"
    return ""


def _step(
    optimizer: SGD | Adam,
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    result: Gradients,
    sums_before: np.ndarray | None,
) -> tuple[NonFinite, LayerStats | None, np.ndarray | None]:
    """The optimizer's step, and what of the update is inf or nan: the loss, the gradients, the
    weights after the step. For the deep net (``sums_before``: its ``weight_sums`` before the step)
    also its per-layer view (each layer's ‖ΔW_l‖/‖W_l‖ from the optimizer's own steps) and the
    weights' sums after the step (the next update's before, and the finite check of its largest
    arrays: one pass over them for both)."""
    if sums_before is None or result.feedforward is None:
        optimizer.step(params, grads)
        return _nonfinite(result, params), None, sums_before
    step_sums = optimizer.step(params, grads, record=LAYER_WEIGHTS)
    sums_after = weight_sums(params)
    stats = layer_stats(result.feedforward, result.dh, update_ratios(step_sums, sums_before))
    known = {"W_ih": float(sums_after[0]), "W_hh": float(np.sum(sums_after[1:]))}
    return _nonfinite(result, params, known), stats, sums_after


def _nonfinite(result: Gradients, params: dict[str, np.ndarray], known: dict[str, float] | None = None) -> NonFinite:
    """What of this update is inf or nan: the loss, the gradients, the weights after the step
    (``known``: Σ x² of some parameters, already taken)."""
    names = list(params)
    return NonFinite(
        loss="" if math.isfinite(result.loss) else ("nan" if math.isnan(result.loss) else "inf"),
        # A finite global norm: every gradient finite (an inf or a nan makes it inf or nan).
        gradients="" if math.isfinite(result.grad_norm) else nonfinite_kind(result.grads.values()),
        weights=nonfinite_kind(params.values(), {names.index(n): v for n, v in (known or {}).items()}),
    )


def run(
    config: Config, *, histogram_edges: HistogramEdges | None = None, jacobian: JacobianProbe | None = None
) -> Iterator[Frame]:
    """Train under ``config`` and yield one Frame per update, ``config.iterations`` of them (forever
    if None). A run whose weights become inf or nan yields a last frame saying so, then ends;
    numeric explosions never raise and never print warnings. ``jacobian`` is handed each update's
    weights and hidden states (the Jacobian panel's, measured outside the Frame on demand).
    """
    if not isinstance(config, Config):
        raise TypeError(f"config: expected a Config, got {type(config).__name__}")
    task = TASK_INFO[config.task]
    params = initial_params(config)
    optimizer = make_optimizer(config.optimizer, config.lr, config.weight_decay)
    data_rng = np.random.default_rng([config.seed, 1])
    edges = histogram_edges if histogram_edges is not None else HistogramEdges()
    feedforward = config.cell == "mlp"
    spectrum = _Spectrum(config)
    is_rnn = config.cell == "rnn"
    activation_gamma = gamma(config.activation) if is_rnn or feedforward else float("nan")
    workspace = Workspace()  # every update of the run has the same shapes
    options: dict[str, Any] = {"activation": config.activation, "loss": task.loss, "truncation": config.truncation}
    if feedforward:
        options.update(residual=config.residual, norm=config.norm)

    sums = weight_sums(params) if feedforward else None  # the deep net's Σ W_l² before each update
    iteration = 0
    while config.iterations is None or iteration < config.iterations:
        iteration += 1
        with np.errstate(all="ignore"):
            x, target = _batch(config, data_rng)
            result = gradients(config.cell, params, x, target, workspace=workspace, **options)
            grads, grad_norm_clipped = _clipped(config, result)
            clipped = config.clip != "none" and grad_norm_clipped != result.grad_norm

            w_hh = params["W_hh"]  # the weights this update's pass used (the step below changes them)
            params_before = w_hh.copy() if is_rnn else None
            log10_dh = result.log10_dh_norm[::-1].copy()
            block, sigma, eigenvalues, radius = spectrum.measure(iteration, w_hh)
            if jacobian is not None:
                jacobian.observe(iteration, w_hh, result)
            # before the step: the weights this pass used
            depth_theory = {} if sums is None else _predict_mlp(config, result, params, sums, spectrum.sigmas, log10_dh)
            # mlp: the shown layer's weights (all of them would be millions of entries to sort)
            w_hist = edges.histogram("W_hh", block if feedforward else w_hh)
            g_hist = edges.histogram(
                "grad W_hh", result.grads["W_hh"][spectrum.index] if feedforward else result.grads["W_hh"]
            )

            nonfinite, stats, sums = _step(optimizer, params, grads, result, sums)
        final = bool(nonfinite.weights) or iteration == config.iterations
        message = _message(iteration, nonfinite)
        with np.errstate(all="ignore"):
            theory = depth_theory if feedforward else _predict(config, result, params_before, radius, log10_dh)
        theory.setdefault("theory_slope", theory_slope(config.activation, sigma) if is_rnn else float("nan"))
        frame = Frame(
            iteration=iteration,
            loss=result.loss,
            baseline_loss=task.baseline_loss,
            log10_dh_norm=log10_dh,
            log10_dc_norm=None if result.log10_dc_norm is None else result.log10_dc_norm[::-1].copy(),
            grad_norm=result.grad_norm,
            grad_norm_clipped=grad_norm_clipped,
            clipped=bool(clipped),
            w_hh_hist=w_hist,
            grad_w_hh_hist=g_hist,
            eigenvalues=eigenvalues.copy(),
            spectrum_block=spectrum.name,
            spectrum_iteration=spectrum.iteration,
            spectral_radius=radius,
            sigma_max=sigma,
            gamma=activation_gamma,
            fitted_slope=fitted_slope(log10_dh),
            **theory,
            layer_stats=stats,
            nonfinite=nonfinite,
            message=message,
            final=final,
        )
        del result, grads, x, target  # the next update's pass should not find this one's arrays still held
        yield frame
        if nonfinite.weights:
            return
