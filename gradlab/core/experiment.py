"""The experiment generator: train a recurrent network (or, in depth mode, a deep feed-forward net)
under a Config, one immutable Frame per update."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .clipping import clip_grad_norm, clip_grad_value
from .config import Config
from .depth import LayerSigmaMax, bound_curve, bound_slope, layer_sigma_every, norm_scale
from .frame import Frame, NonFinite
from .gradients import Gradients, gradients
from .histogram import HistogramEdges
from .inits import init_params
from .numerics import global_norm, nonfinite_kind
from .optim import make_optimizer
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
    config: Config, result: Gradients, params: dict[str, np.ndarray], sigmas: np.ndarray, log10_dh: np.ndarray
) -> dict[str, Any]:
    """Depth mode: the mean-field curve and the bound curve per layer, from the update's own pass
    and the weights it used (``params`` before the optimiser's step)."""
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


def run(config: Config, *, histogram_edges: HistogramEdges | None = None) -> Iterator[Frame]:
    """Train under ``config`` and yield one Frame per update, ``config.iterations`` of them (forever
    if None). A run whose weights become inf or nan yields a last frame saying so, then ends;
    numeric explosions never raise and never print warnings.
    """
    if not isinstance(config, Config):
        raise TypeError(f"config: expected a Config, got {type(config).__name__}")
    task = TASK_INFO[config.task]
    params = initial_params(config)
    optimizer = make_optimizer(config.optimizer, config.lr, config.weight_decay)
    data_rng = np.random.default_rng([config.seed, 1])
    edges = histogram_edges if histogram_edges is not None else HistogramEdges()
    H = config.hidden_size
    feedforward = config.cell == "mlp"
    if feedforward:
        block_index = _spectrum_layer(config.seq_len) - 2  # W_hh[k] is layer k + 2
        block_name = f"W_{block_index + 2}"  # short: it titles the spectrum panel (layer {block_index + 2})
        # Every layer's σ_max (the bound's curve) every ``layer_every`` updates, fixed by the Config.
        layer_sigma = LayerSigmaMax(config.seq_len - 1, config.seed)
        layer_every = layer_sigma_every(H, config.batch_size)
        sigmas = np.full(config.seq_len - 1, np.nan)
    else:
        block_index, block_name = SPECTRUM_BLOCK[config.cell]
    # σ_max (and so the bound) is from this update's weights in every frame; the eigenvalues
    # (O(H³)) at large H only every ``every`` updates, a number fixed by the Config.
    every = spectrum_every(H, config.seq_len, config.batch_size, config.gates)
    sigma_tracker = SigmaMaxTracker(config.seed)
    spectrum: tuple[np.ndarray, float] | None = None
    spectrum_iteration = 0
    is_rnn = config.cell == "rnn"
    activation_gamma = gamma(config.activation) if is_rnn or feedforward else float("nan")
    workspace = Workspace()  # every update of the run has the same shapes

    iteration = 0
    while config.iterations is None or iteration < config.iterations:
        iteration += 1
        with np.errstate(all="ignore"):
            if feedforward:
                x, target = make_points(config.task, data_rng, config.batch_size, config.dtype)
            else:
                x, target = make_batch(config.task, data_rng, config.seq_len, config.batch_size, config.dtype)
            options: dict[str, Any] = {
                "activation": config.activation,
                "loss": task.loss,
                "truncation": config.truncation,
            }
            if feedforward:
                options.update(residual=config.residual, norm=config.norm)
            result = gradients(config.cell, params, x, target, workspace=workspace, **options)
            grads = result.grads
            if config.clip == "norm":
                grads, _ = clip_grad_norm(grads, config.clip_threshold)
                grad_norm_clipped = global_norm(grads.values())
            elif config.clip == "value":
                grads = clip_grad_value(grads, config.clip_threshold)
                grad_norm_clipped = global_norm(grads.values())
            else:
                grad_norm_clipped = result.grad_norm
            clipped = config.clip != "none" and grad_norm_clipped != result.grad_norm

            w_hh = params["W_hh"]  # the weights this update's pass used (the step below changes them)
            params_before = w_hh.copy() if is_rnn else None
            log10_dh = result.log10_dh_norm[::-1].copy()
            depth_theory: dict[str, Any] = {}
            if feedforward:
                block = w_hh[block_index]
                sigma = sigma_tracker(block)
                if (iteration - 1) % layer_every == 0 or not np.isfinite(sigmas).all():
                    sigmas = layer_sigma(w_hh)
                if isinstance(result, Gradients):  # before the step: the weights this pass used
                    depth_theory = _predict_mlp(config, result, params, sigmas, log10_dh)
            else:
                block = w_hh[block_index * H : (block_index + 1) * H]
                sigma = sigma_tracker(block)
            if spectrum is None or (iteration - 1) % every == 0 or not math.isfinite(sigma):
                spectrum = _eigenvalues(block)
                spectrum_iteration = iteration
            eigenvalues, radius = spectrum
            # mlp: the shown layer's weights (all of them would be millions of entries to sort)
            w_hist = edges.histogram("W_hh", block if feedforward else w_hh)
            g_hist = edges.histogram(
                "grad W_hh", result.grads["W_hh"][block_index] if feedforward else result.grads["W_hh"]
            )

            optimizer.step(params, grads)

            loss_kind = "" if math.isfinite(result.loss) else ("nan" if math.isnan(result.loss) else "inf")
            nonfinite = NonFinite(
                loss=loss_kind,
                gradients=nonfinite_kind(result.grads.values()),
                weights=nonfinite_kind(params.values()),
            )
        final = bool(nonfinite.weights) or iteration == config.iterations
        message = ""
        if nonfinite.weights:
            message = (
                f"Diverged at update {iteration}: the weights became {nonfinite.weights}"
                f" ({nonfinite.describe()}). Reset, or turn on clipping."
            )
        elif nonfinite:
            message = f"Non-finite values at update {iteration}: {nonfinite.describe()}"
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
            spectrum_block=block_name,
            spectrum_iteration=spectrum_iteration,
            spectral_radius=radius,
            sigma_max=sigma,
            gamma=activation_gamma,
            fitted_slope=fitted_slope(log10_dh),
            **theory,
            nonfinite=nonfinite,
            message=message,
            final=final,
        )
        del result, grads, x, target  # the next update's pass should not find this one's arrays still held
        yield frame
        if nonfinite.weights:
            return
