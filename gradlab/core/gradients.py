"""Loss, hidden states and every gradient of one sequence batch: forward + backpropagation through time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import get_activation
from .cells import CELL_MODULES, mlp
from .config import CELLS
from .numerics import global_norm, log10_norm_per_step, log10_norms_from_sums
from .workspace import Workspace, empty

LOSSES = ("last", "sum")


@dataclass(frozen=True)
class Gradients:
    """What one forward + BPTT pass computes. Time index t = 0 … T-1 stands for h_1 … h_T (for the
    feed-forward ``mlp``: layer index l = 0 … L-1 stands for h_1 … h_L)."""

    loss: float
    hidden: np.ndarray  # (T, B, H): h_1 … h_T
    dh: np.ndarray  # (T, B, H): total ∂L/∂h_t
    log10_dh_norm: np.ndarray  # (T,): log10 ‖dh[t]‖ over (B, H), overflow/underflow-safe
    grads: dict[str, np.ndarray]  # same keys and shapes as the parameters
    grad_norm: float  # global 2-norm over all gradients, overflow-safe
    dc: np.ndarray | None = None  # LSTM only: total ∂L/∂c_t, (T, B, H)
    log10_dc_norm: np.ndarray | None = None  # LSTM only, (T,)
    gate: np.ndarray | None = None  # (T, B, H): the LSTM's forget gate f_t, the GRU's update gate z_t; else None
    feedforward: mlp.Cache | None = None  # mlp only: the forward pass's values (the per-layer theory and view)


def truncation_cuts(seq_len: int, truncation: int | None) -> np.ndarray:
    """cut[t]: the gradient does not flow from step t back to step t-1.

    Truncated BPTT with window k: the sequence is split, counting back from the last step, into
    windows of k steps; the hidden state is carried across a window boundary but detached, so a
    gradient flows back at most k steps (exactly k for the loss at the last step).
    """
    cut = np.zeros(seq_len, dtype=bool)
    if truncation is not None:
        if isinstance(truncation, bool) or not isinstance(truncation, (int, np.integer)) or truncation < 1:
            raise ValueError(f"truncation: {truncation!r} must be a positive integer or None")
        steps_from_end = seq_len - np.arange(seq_len)  # T - t for 0-based t
        cut = steps_from_end % truncation == 0
    return cut


def gradients(
    cell: str,
    params: dict[str, np.ndarray],
    x: np.ndarray,
    target: np.ndarray,
    *,
    activation: str = "tanh",
    loss: str = "last",
    truncation: int | None = None,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    workspace: Workspace | None = None,
    residual: float = 0.0,
    norm: str = "none",
) -> Gradients:
    """Forward over ``x (T, B, D)`` and BPTT of the mean-squared-error readout loss.

    ``loss="last"``: MSE of y_T = h_T W_outᵀ + b_out against ``target (B, O)``.
    ``loss="sum"``: the sum over t of the MSE of y_t against ``target (T, B, O)``.
    ``truncation=k``: see :func:`truncation_cuts`. ``h0``, ``c0`` (B, H): initial hidden and (LSTM)
    cell state, default 0.
    ``workspace``: take the work arrays from it (faster when passes repeat; see ``workspace``);
    the result's ``hidden``, ``dh`` and ``dc`` are then valid until its next use.

    ``cell="mlp"``: a deep feed-forward net (``cells.mlp``) over ``x (B, D)`` against ``target
    (B, O)``, loss at the output (``loss="last"``), with ``residual`` α and ``norm``.
    """
    if cell == "mlp":
        return _feedforward(params, x, target, activation, loss, truncation, residual, norm, workspace)
    if cell not in CELL_MODULES:
        raise ValueError(f"cell: {cell!r} is not allowed; allowed: {', '.join(CELLS)}")
    if loss not in LOSSES:
        raise ValueError(f"loss: {loss!r} is not allowed; allowed: {', '.join(LOSSES)}")
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x: expected shape (T, B, D), got {x.shape}")
    T, B, _ = x.shape
    dtype = params["W_hh"].dtype
    x = x.astype(dtype, copy=False)
    target = np.asarray(target, dtype=dtype)
    expected = (B, params["W_out"].shape[0]) if loss == "last" else (T, B, params["W_out"].shape[0])
    if target.shape != expected:
        raise ValueError(f"target: expected shape {expected} for loss={loss!r}, got {target.shape}")
    module = CELL_MODULES[cell]
    cut = truncation_cuts(T, truncation)

    with np.errstate(all="ignore"):
        if cell == "rnn":
            cache = module.forward(params, x, get_activation(activation), h0=h0, workspace=workspace)
        elif cell == "lstm":
            cache = module.forward(params, x, h0=h0, c0=c0, workspace=workspace)
        else:
            cache = module.forward(params, x, h0=h0, workspace=workspace)
        hs = cache.hs
        H = hs.shape[2]
        W_out, b_out = params["W_out"], params["b_out"]
        O = W_out.shape[0]
        dh = empty(workspace, "dh", (T, B, H), dtype)
        dh.fill(0.0)
        has_loss = np.zeros(T, dtype=bool)
        if loss == "last":
            h_last = hs[T]
            err = h_last @ W_out.T + b_out - target  # (B, O)
            loss_value = float(np.mean(err.astype(np.float64) ** 2))
            dy = (2.0 / (B * O)) * err
            dh[T - 1] = dy @ W_out
            has_loss[T - 1] = True
            grad_W_out = dy.T @ h_last
            grad_b_out = dy.sum(axis=0)
        else:
            hidden = hs[1:].reshape(T * B, H)
            err = (hidden @ W_out.T + b_out).reshape(T, B, O) - target
            loss_value = float(np.sum(np.mean(err.astype(np.float64) ** 2, axis=(1, 2))))
            dy = ((2.0 / (B * O)) * err).reshape(T * B, O)
            dh[:] = (dy @ W_out).reshape(T, B, H)
            has_loss[:] = True
            grad_W_out = dy.T @ hidden
            grad_b_out = dy.sum(axis=0)

        # The gate that carries the gradient straight back (a view of the forward pass's factors,
        # valid until the workspace's next use, like ``hidden``).
        gate = cache.extra[:, 1] if cell == "lstm" else cache.extra[:, 0] if cell == "gru" else None
        dc = None
        if cell == "lstm":
            _, grads, dc = module.backward(params, cache, dh, has_loss, cut, workspace=workspace)
        else:
            _, grads = module.backward(params, cache, dh, has_loss, cut, workspace=workspace)
        grads["W_out"] = grad_W_out
        grads["b_out"] = grad_b_out
        grads = {name: np.asarray(grads[name], dtype=dtype) for name in params}

    return Gradients(
        loss=loss_value,
        hidden=hs[1:],
        dh=dh,
        log10_dh_norm=log10_norm_per_step(dh),
        grads=grads,
        grad_norm=global_norm(grads.values()),
        dc=dc,
        log10_dc_norm=None if dc is None else log10_norm_per_step(dc),
        gate=gate,
    )


def _feedforward(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    target: np.ndarray,
    activation: str,
    loss: str,
    truncation: int | None,
    residual: float,
    norm: str,
    workspace: Workspace | None,
) -> Gradients:
    """Forward and backward of the deep feed-forward net: the MSE of y = h_L W_outᵀ + b_out."""
    if loss != "last":
        raise ValueError(f"loss: {loss!r} is not allowed with cell='mlp'; allowed: last")
    if truncation is not None:
        raise ValueError("cell, truncation: a feed-forward net (cell=mlp) has no time to truncate")
    if norm not in mlp.NORMS:
        raise ValueError(f"norm: {norm!r} is not allowed; allowed: {', '.join(mlp.NORMS)}")
    if isinstance(residual, bool) or not isinstance(residual, (int, float)) or not 0.0 <= residual <= 2.0:
        raise ValueError(f"residual: {residual!r} is not allowed; allowed: a number in [0, 2]")
    dtype = params["W_ih"].dtype
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != params["W_ih"].shape[1]:
        raise ValueError(f"x: expected shape (B, {params['W_ih'].shape[1]}), got {x.shape}")
    x = x.astype(dtype, copy=False)
    B = x.shape[0]
    W_out, b_out = params["W_out"], params["b_out"]
    O = W_out.shape[0]
    target = np.asarray(target, dtype=dtype)
    if target.shape != (B, O):
        raise ValueError(f"target: expected shape {(B, O)}, got {target.shape}")
    with np.errstate(all="ignore"):
        cache = mlp.forward(
            params, x, get_activation(activation), residual=float(residual), norm=norm, workspace=workspace
        )
        hs = cache.hs
        L, _, H = hs.shape
        h_last = hs[L - 1]
        err = h_last @ W_out.T + b_out - target
        loss_value = float(np.mean(err.astype(np.float64) ** 2))
        dy = (2.0 / (B * O)) * err
        dh = empty(workspace, "dh", (L, B, H), dtype)
        np.dot(dy, W_out, out=dh[L - 1])
        # The norms' sums of squares are taken in the pass, layer by layer while each is in the
        # cache, rather than by reading dh and ∂L/∂W_hh (L·B·H and L·H² numbers) from memory again.
        sums = mlp.Sums.empty(L)
        grads = mlp.backward(params, cache, dh, workspace=workspace, sums=sums)
        grads["W_out"] = dy.T @ h_last
        grads["b_out"] = dy.sum(axis=0)
        grads = {name: np.asarray(grads[name], dtype=dtype) for name in params}
        w_hh_grad_sum = float(np.sum(sums.w_hh_grad))
        known = {list(params).index("W_hh"): w_hh_grad_sum} if np.isfinite(w_hh_grad_sum) else None
    return Gradients(
        loss=loss_value,
        hidden=hs,
        dh=dh,
        log10_dh_norm=log10_norms_from_sums(sums.dh, dh),
        grads=grads,
        grad_norm=global_norm(grads.values(), known),
        feedforward=cache,
    )
