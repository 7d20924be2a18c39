"""LSTM, as torch.nn.LSTM: gate blocks [i|f|g|o] of z = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh;
i, f, o = σ(·), g = tanh(·); c_t = f·c_{t-1} + i·g; h_t = o·tanh(c_t).

Shapes: x (T, B, D); W_ih (4H, D); W_hh (4H, H); b_ih, b_hh (4H,); hs, cs (T+1, B, H);
gates (T, B, 4H) holds the activated i, f, g, o.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .common import carry_back, parameter_grads
from .underflow import flush_if_underflowed, near_underflow

CHUNK = 32  # steps whose per-step factors are computed together in the backward pass


@dataclass
class Cache:
    x: np.ndarray  # (T, B, D)
    hs: np.ndarray  # (T+1, B, H)
    cs: np.ndarray  # (T+1, B, H)
    gates: np.ndarray  # (T, B, 4H): σ(i), σ(f), tanh(g), σ(o)
    tanh_c: np.ndarray  # (T, B, H): tanh(c_t)


def _gate_affine(H: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """σ(z) = ½·tanh(z/2) + ½: with the i, f, o rows pre-scaled by ½, one tanh activates all gates."""
    scale = np.full(4 * H, 0.5, dtype=dtype)
    scale[2 * H : 3 * H] = 1.0
    shift = np.full(4 * H, 0.5, dtype=dtype)
    shift[2 * H : 3 * H] = 0.0
    return scale, shift


def forward(
    params: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None
) -> Cache:
    T, B, D = x.shape
    W_hh = params["W_hh"]
    H = W_hh.shape[1]
    scale, shift = _gate_affine(H, x.dtype)
    pre = (x.reshape(T * B, D) @ (params["W_ih"] * scale[:, None]).T).reshape(T, B, 4 * H)
    pre += (params["b_ih"] + params["b_hh"]) * scale
    W_hh_T = np.ascontiguousarray((W_hh * scale[:, None]).T)
    hs = np.empty((T + 1, B, H), dtype=x.dtype)
    cs = np.empty((T + 1, B, H), dtype=x.dtype)
    hs[0] = 0.0 if h0 is None else h0
    cs[0] = 0.0 if c0 is None else c0
    gates = np.empty((T, B, 4 * H), dtype=x.dtype)
    tanh_c = np.empty((T, B, H), dtype=x.dtype)
    z = np.empty((B, 4 * H), dtype=x.dtype)
    ig = np.empty((B, H), dtype=x.dtype)
    for t in range(T):
        np.dot(hs[t], W_hh_T, out=z)
        z += pre[t]
        a = gates[t]
        np.tanh(z, out=a)
        a *= scale
        a += shift
        np.multiply(a[:, H : 2 * H], cs[t], out=cs[t + 1])
        np.multiply(a[:, :H], a[:, 2 * H : 3 * H], out=ig)
        cs[t + 1] += ig
        np.tanh(cs[t + 1], out=tanh_c[t])
        np.multiply(a[:, 3 * H :], tanh_c[t], out=hs[t + 1])
    return Cache(x=x, hs=hs, cs=cs, gates=gates, tanh_c=tanh_c)


def backward(
    params: dict[str, np.ndarray], cache: Cache, dh: np.ndarray, has_loss: np.ndarray, cut: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Returns dz (T, B, 4, H) at the gate pre-activations, the parameter gradients, and the total
    cell-state gradient dc (T, B, H) = ∂L/∂c_t."""
    x, hs, cs, gates, tanh_c = cache.x, cache.hs, cache.cs, cache.gates, cache.tanh_c
    T, B, _ = x.shape
    H = hs.shape[2]
    W_hh = params["W_hh"]
    dz = np.empty((T, B, 4, H), dtype=x.dtype)
    dc = np.empty((T, B, H), dtype=x.dtype)
    dc_carry = np.zeros((B, H), dtype=x.dtype)  # ∂L/∂c_t through c_{t+1} = f_{t+1}·c_t + …
    carry = np.empty((B, H), dtype=x.dtype)
    # The factors that do not depend on the recursion are computed a chunk of steps at a time
    # (vectorised, but small enough to stay in cache), then the loop walks back through the chunk.
    dc_from_dh = np.empty((CHUNK, B, H), dtype=x.dtype)  # ∂h_t/∂c_t = o·(1 − tanh²c)
    dz_o_from_dh = np.empty((CHUNK, B, H), dtype=x.dtype)  # ∂h_t/∂z_o = tanh c·o·(1 − o)
    dz_ifg_from_dc = np.empty((CHUNK, B, 3, H), dtype=x.dtype)  # ∂c_t/∂z_{i,f,g}
    for start in range(((T - 1) // CHUNK) * CHUNK, -1, -CHUNK):
        end = min(start + CHUNK, T)
        n = end - start
        i, f, g, o = (gates[start:end, :, k * H : (k + 1) * H] for k in range(4))
        tc = tanh_c[start:end]
        a, b = dc_from_dh[:n], dz_o_from_dh[:n]
        np.multiply(tc, tc, out=a)
        np.subtract(1.0, a, out=a)
        a *= o
        np.subtract(1.0, o, out=b)
        b *= o
        b *= tc
        ifg = dz_ifg_from_dc[:n]
        for k, (gate, other) in enumerate(((i, g), (f, cs[start:end]))):
            np.subtract(1.0, gate, out=ifg[:, :, k])
            ifg[:, :, k] *= gate
            ifg[:, :, k] *= other
        np.multiply(g, g, out=ifg[:, :, 2])
        np.subtract(1.0, ifg[:, :, 2], out=ifg[:, :, 2])
        ifg[:, :, 2] *= i
        watch = near_underflow(dh[end - 1]) or near_underflow(dc_carry)
        for t in range(end - 1, start - 1, -1):
            k = t - start
            if watch:
                flush_if_underflowed(dh[t])
                flush_if_underflowed(dc_carry)
            np.multiply(dh[t], a[k], out=dc[t])
            dc[t] += dc_carry
            np.multiply(dc[t][:, None, :], ifg[k], out=dz[t, :, :3])
            np.multiply(dh[t], b[k], out=dz[t, :, 3])
            if t == 0 or cut[t]:
                dc_carry.fill(0.0)
                continue
            np.multiply(dc[t], f[k], out=dc_carry)
            carry_back(dz[t].reshape(B, 4 * H), W_hh, dh, t, has_loss, carry)
    return dz, parameter_grads(dz, x, hs), dc
