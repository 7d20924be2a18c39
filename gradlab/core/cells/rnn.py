"""Vanilla RNN: h_t = φ(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), as torch.nn.RNN.

Shapes: x (T, B, D); W_ih (H, D); W_hh (H, H); b_ih, b_hh (H,); hs (T+1, B, H).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..activations import Activation
from ..workspace import Workspace, empty
from .common import carry_back, input_weights, weight_grads, with_ones
from .underflow import flush_subnormal, near_underflow

CHUNK = 32  # steps whose activation derivatives are computed together in the backward pass


@dataclass
class Cache:
    x1: np.ndarray  # (T, B, D+1): the input and a column of ones
    hs: np.ndarray  # (T+1, B, H): h_0 … h_T
    activation: Activation
    work: np.ndarray  # (T, B, H): the input terms; the backward pass writes ∂L/∂a into it


def forward(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    activation: Activation,
    h0: np.ndarray | None = None,
    workspace: Workspace | None = None,
) -> Cache:
    T, B, _ = x.shape
    W_hh = params["W_hh"]
    H = W_hh.shape[1]
    # Input projections (and bias) of every step in one matmul; the loop only adds the recurrent term.
    x1 = with_ones(x, workspace)
    W1 = input_weights(params["W_ih"], params["b_ih"] + params["b_hh"], (0,), np.ones(1, dtype=x.dtype))[0]
    pre = empty(workspace, "acts", (T, B, H), x.dtype)
    np.matmul(x1.reshape(T * B, -1), W1, out=pre.reshape(T * B, H))
    hs = empty(workspace, "hs", (T + 1, B, H), x.dtype)
    hs[0] = 0.0 if h0 is None else h0
    W_hh_T = np.ascontiguousarray(W_hh.T)
    recurrent = np.empty((B, H), dtype=x.dtype)
    for t in range(T):
        np.dot(hs[t], W_hh_T, out=recurrent)
        recurrent += pre[t]
        activation.forward(recurrent, out=hs[t + 1])
    return Cache(x1=x1, hs=hs, activation=activation, work=pre)


def backward(
    params: dict[str, np.ndarray],
    cache: Cache,
    dh: np.ndarray,
    has_loss: np.ndarray,
    cut: np.ndarray,
    workspace: Workspace | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Returns da (1, T, B, H), the gradient at the pre-activations, and the cell's parameter gradients."""
    hs, da = cache.hs, cache.work
    T, B, H = da.shape
    W_hh = params["W_hh"]
    carry = np.empty((B, H), dtype=da.dtype)
    for start in range(((T - 1) // CHUNK) * CHUNK, -1, -CHUNK):
        end = min(start + CHUNK, T)
        deriv = cache.activation.derivative_from_output(hs[start + 1 : end + 1])  # φ'(a_t)
        watch = near_underflow(dh[end - 1])
        for t in range(end - 1, start - 1, -1):
            if watch:
                flush_subnormal(dh[t])
            np.multiply(dh[t], deriv[t - start], out=da[t])
            if t == 0 or cut[t]:
                continue
            carry_back(da[t], W_hh, dh, t, has_loss, None, carry, watch)
    return da[None], weight_grads([da], [da], cache.x1, hs, (0,))
