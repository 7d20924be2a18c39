"""Vanilla RNN: h_t = φ(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), as torch.nn.RNN.

Shapes: x (T, B, D); W_ih (H, D); W_hh (H, H); b_ih, b_hh (H,); hs (T+1, B, H).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..activations import Activation
from .common import carry_back, weight_grads
from .underflow import flush_subnormal, near_underflow

CHUNK = 32  # steps whose activation derivatives are computed together in the backward pass


@dataclass
class Cache:
    x: np.ndarray  # (T, B, D)
    hs: np.ndarray  # (T+1, B, H): h_0 … h_T
    activation: Activation
    work: np.ndarray  # (T, B, H): the input terms; the backward pass writes ∂L/∂a into it


def forward(params: dict[str, np.ndarray], x: np.ndarray, activation: Activation, h0: np.ndarray | None = None) -> Cache:
    T, B, D = x.shape
    W_hh = params["W_hh"]
    H = W_hh.shape[1]
    # Input projections of every step in one matmul; the loop only adds the recurrent term.
    pre = (x.reshape(T * B, D) @ params["W_ih"].T).reshape(T, B, H)
    pre += params["b_ih"] + params["b_hh"]
    hs = np.empty((T + 1, B, H), dtype=x.dtype)
    hs[0] = 0.0 if h0 is None else h0
    W_hh_T = np.ascontiguousarray(W_hh.T)
    recurrent = np.empty((B, H), dtype=x.dtype)
    for t in range(T):
        np.dot(hs[t], W_hh_T, out=recurrent)
        recurrent += pre[t]
        activation.forward(recurrent, out=hs[t + 1])
    return Cache(x=x, hs=hs, activation=activation, work=pre)


def backward(
    params: dict[str, np.ndarray], cache: Cache, dh: np.ndarray, has_loss: np.ndarray, cut: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Returns da (1, T, B, H), the gradient at the pre-activations, and the cell's parameter gradients."""
    x, hs = cache.x, cache.hs
    T, B, _ = x.shape
    H = hs.shape[2]
    W_hh = params["W_hh"]
    da = cache.work
    carry = np.empty((B, H), dtype=x.dtype)
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
    return da[None], weight_grads([da], [da], x, hs, (0,))
