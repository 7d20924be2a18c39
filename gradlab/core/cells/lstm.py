"""LSTM, as torch.nn.LSTM: gate blocks [i|f|g|o] of z = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh;
i, f, o = σ(·), g = tanh(·); c_t = f·c_{t-1} + i·g; h_t = o·tanh(c_t).

Shapes: x (T, B, D); W_ih (4H, D); W_hh (4H, H); b_ih, b_hh (4H,); hs, cs (T+1, B, H).
Internally the gates are in the order (o, i, f, g): the three sigmoid gates side by side. The
forward pass leaves in ``acts (T, 4, B, H)`` the factors ∂h_t/∂z_o, ∂c_t/∂z_i, ∂c_t/∂z_f,
∂c_t/∂z_g, and in ``extra (T, 2, B, H)`` ∂h_t/∂c_t and f_t (see ``common``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..workspace import Workspace, empty
from .common import (
    carry_back,
    gate_blocks,
    gate_inputs,
    input_weights,
    recurrent_weights,
    weight_grads,
    with_ones,
)
from .underflow import flush_subnormal, near_underflow

CHUNK = 32  # steps between checks for gradients nearing underflow in the backward pass
ORDER = (3, 0, 1, 2)  # torch's block of each internal gate: o, i, f, g
SCALE = np.array([0.5, 0.5, 0.5, 1.0])  # σ(z) = ½·tanh(z/2) + ½: one tanh activates all gates


@dataclass
class Cache:
    x1: np.ndarray  # (T, B, D+1): the input and a column of ones
    hs: np.ndarray  # (T+1, B, H)
    cs: np.ndarray  # (T+1, B, H)
    acts: np.ndarray  # (T, 4, B, H): ∂h_t/∂z_o, ∂c_t/∂z_i, ∂c_t/∂z_f, ∂c_t/∂z_g
    extra: np.ndarray  # (T, 2, B, H): ∂h_t/∂c_t = o·(1 − tanh²c_t), and f_t


def forward(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    workspace: Workspace | None = None,
) -> Cache:
    T, B, _ = x.shape
    H = params["W_hh"].shape[1]
    dtype = x.dtype
    scale = SCALE.astype(dtype)
    W1 = input_weights(params["W_ih"], params["b_ih"] + params["b_hh"], ORDER, scale)
    W_hh_T = recurrent_weights(params["W_hh"], ORDER, scale)
    x1 = with_ones(x, workspace)
    acts = gate_inputs(x1, W1, workspace)
    extra = empty(workspace, "extra", (T, 2, B, H), dtype)
    hs = empty(workspace, "hs", (T + 1, B, H), dtype)
    cs = empty(workspace, "cs", (T + 1, B, H), dtype)
    hs[0] = 0.0 if h0 is None else h0
    cs[0] = 0.0 if c0 is None else c0
    z = np.empty((4, B, H), dtype=dtype)
    ig = np.empty((B, H), dtype=dtype)
    tanh_c = np.empty((B, H), dtype=dtype)
    one_minus = np.empty((3, B, H), dtype=dtype)
    for t in range(T):
        a, e = acts[t], extra[t]
        np.matmul(hs[t], W_hh_T, out=z)
        np.add(a, z, out=a)
        np.tanh(a, out=a)
        sigmoids = a[:3]
        sigmoids *= 0.5
        sigmoids += 0.5
        o, i, f, g = a
        c_prev, c = cs[t], cs[t + 1]
        np.multiply(f, c_prev, out=c)
        np.multiply(i, g, out=ig)
        c += ig
        np.tanh(c, out=tanh_c)
        np.multiply(o, tanh_c, out=hs[t + 1])
        # The backward pass's factors, computed while this step's values are in cache.
        np.copyto(e[1], f)
        np.multiply(tanh_c, tanh_c, out=e[0])
        np.subtract(1.0, e[0], out=e[0])
        e[0] *= o  # ∂h/∂c = o·(1 − tanh²c)
        np.subtract(1.0, sigmoids, out=one_minus)
        o *= one_minus[0]
        o *= tanh_c  # ∂h/∂z_o = o·(1 − o)·tanh c
        f *= one_minus[2]
        f *= c_prev  # ∂c/∂z_f = f·(1 − f)·c_{t-1}
        g *= ig
        np.subtract(i, g, out=g)  # ∂c/∂z_g = i·(1 − g²) = i − (i·g)·g
        np.multiply(ig, one_minus[1], out=i)  # ∂c/∂z_i = i·(1 − i)·g
    return Cache(x1=x1, hs=hs, cs=cs, acts=acts, extra=extra)


def backward(
    params: dict[str, np.ndarray],
    cache: Cache,
    dh: np.ndarray,
    has_loss: np.ndarray,
    cut: np.ndarray,
    workspace: Workspace | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Returns dz (4, T, B, H) at the gate pre-activations (internal order), the parameter
    gradients, and the total cell-state gradient dc (T, B, H) = ∂L/∂c_t."""
    hs, acts, extra = cache.hs, cache.acts, cache.extra
    T, _, B, H = acts.shape
    dtype = acts.dtype
    W_blocks = np.ascontiguousarray(gate_blocks(params["W_hh"], ORDER))
    dz = empty(workspace, "dz", (4, T, B, H), dtype)
    dc = empty(workspace, "dc", (T, B, H), dtype)
    dc_carry = np.zeros((B, H), dtype=dtype)  # ∂L/∂c_t through c_{t+1} = f_{t+1}·c_t + …
    carry = np.empty((B, H), dtype=dtype)
    scratch = np.empty((4, B, H), dtype=dtype)
    for start in range(((T - 1) // CHUNK) * CHUNK, -1, -CHUNK):
        watch = near_underflow(dh[min(start + CHUNK, T) - 1]) or near_underflow(dc_carry)
        for t in range(min(start + CHUNK, T) - 1, start - 1, -1):
            if watch:
                flush_subnormal(dh[t])
                flush_subnormal(dc_carry)
            factors, (dh_dc, f), dz_t, dc_t = acts[t], extra[t], dz[:, t], dc[t]
            np.multiply(dh[t], dh_dc, out=dc_t)
            dc_t += dc_carry
            if t == 0 or cut[t]:
                dc_carry.fill(0.0)
            else:
                np.multiply(dc_t, f, out=dc_carry)
            np.multiply(factors[0], dh[t], out=dz_t[0])
            np.multiply(factors[1:], dc_t, out=dz_t[1:])
            if t > 0 and not cut[t]:
                carry_back(dz_t, W_blocks, dh, t, has_loss, scratch, carry, watch)
    gates = list(dz)
    return dz, weight_grads(gates, gates, cache.x1, hs, ORDER), dc
