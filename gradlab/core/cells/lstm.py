"""LSTM, as torch.nn.LSTM: gate blocks [i|f|g|o] of z = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh;
i, f, o = σ(·), g = tanh(·); c_t = f·c_{t-1} + i·g; h_t = o·tanh(c_t).

Shapes: x (T, B, D); W_ih (4H, D); W_hh (4H, H); b_ih, b_hh (4H,); hs, cs (T+1, B, H).
Internally the gates are gate-major, ``acts (4, T, B, H)``, in the order (o, i, f, g): the three
sigmoid gates side by side, and i, f, g (the ones c_t depends on) side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .common import carry_back, gate_blocks, weight_grads
from .underflow import flush_subnormal, near_underflow

CHUNK = 32  # steps whose per-step factors are computed together in the backward pass
ORDER = (3, 0, 1, 2)  # torch's block of each internal gate: o, i, f, g
NAMES = "oifg"


@dataclass
class Cache:
    x: np.ndarray  # (T, B, D)
    hs: np.ndarray  # (T+1, B, H)
    cs: np.ndarray  # (T+1, B, H)
    acts: np.ndarray  # (4, T, B, H): σ(o), σ(i), σ(f), tanh(g); the backward pass overwrites it with dz
    tanh_c: np.ndarray  # (T, B, H): tanh(c_t)

    def gate(self, name: str) -> np.ndarray:
        """One gate's activations (T, B, H): "i", "f", "g" or "o"."""
        return self.acts[NAMES.index(name)]


def forward(
    params: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None
) -> Cache:
    T, B, D = x.shape
    H = params["W_hh"].shape[1]
    # σ(z) = ½·tanh(z/2) + ½: with the o, i, f rows pre-scaled by ½, one tanh activates all gates.
    scale = np.array([0.5, 0.5, 0.5, 1.0], dtype=x.dtype)[:, None, None]
    W_ih_T = (gate_blocks(params["W_ih"], ORDER) * scale).transpose(0, 2, 1)
    W_hh_T = np.ascontiguousarray((gate_blocks(params["W_hh"], ORDER) * scale).transpose(0, 2, 1))
    bias = gate_blocks(params["b_ih"] + params["b_hh"], ORDER)[:, None, :] * scale
    acts = np.matmul(x.reshape(T * B, D), W_ih_T)  # (4, T·B, H): every step's input term at once
    acts += bias
    acts = acts.reshape(4, T, B, H)
    hs = np.empty((T + 1, B, H), dtype=x.dtype)
    cs = np.empty((T + 1, B, H), dtype=x.dtype)
    hs[0] = 0.0 if h0 is None else h0
    cs[0] = 0.0 if c0 is None else c0
    tanh_c = np.empty((T, B, H), dtype=x.dtype)
    z = np.empty((4, B, H), dtype=x.dtype)
    ig = np.empty((B, H), dtype=x.dtype)
    for t in range(T):
        a = acts[:, t]
        np.matmul(hs[t], W_hh_T, out=z)
        np.add(a, z, out=a)
        np.tanh(a, out=a)
        sigmoids = a[:3]
        sigmoids *= 0.5
        sigmoids += 0.5
        o, i, f, g = a
        np.multiply(f, cs[t], out=cs[t + 1])
        np.multiply(i, g, out=ig)
        cs[t + 1] += ig
        np.tanh(cs[t + 1], out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=hs[t + 1])
    return Cache(x=x, hs=hs, cs=cs, acts=acts, tanh_c=tanh_c)


def backward(
    params: dict[str, np.ndarray], cache: Cache, dh: np.ndarray, has_loss: np.ndarray, cut: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Returns dz (4, T, B, H) at the gate pre-activations (internal order, in the memory of
    ``cache.acts``), the parameter gradients, and the total cell-state gradient dc (T, B, H) = ∂L/∂c_t."""
    x, hs, cs, acts, tanh_c = cache.x, cache.hs, cache.cs, cache.acts, cache.tanh_c
    T, B, _ = x.shape
    H = hs.shape[2]
    W_blocks = np.ascontiguousarray(gate_blocks(params["W_hh"], ORDER))
    dc = np.empty((T, B, H), dtype=x.dtype)
    dc_carry = np.zeros((B, H), dtype=x.dtype)  # ∂L/∂c_t through c_{t+1} = f_{t+1}·c_t + …
    carry = np.empty((B, H), dtype=x.dtype)
    scratch = np.empty((4, B, H), dtype=x.dtype)
    # The factors that do not depend on the recursion are computed a chunk of steps at a time
    # (vectorised, but small enough to stay in cache), then the loop walks back through the chunk.
    dc_from_dh = np.empty((CHUNK, B, H), dtype=x.dtype)  # ∂h_t/∂c_t = o·(1 − tanh²c)
    dz_o_from_dh = np.empty((CHUNK, B, H), dtype=x.dtype)  # ∂h_t/∂z_o = tanh c·o·(1 − o)
    dz_ifg_from_dc = np.empty((CHUNK, 3, B, H), dtype=x.dtype)  # ∂c_t/∂z_{i,f,g}
    for start in range(((T - 1) // CHUNK) * CHUNK, -1, -CHUNK):
        end = min(start + CHUNK, T)
        n = end - start
        o, i, f, g = acts[:, start:end]
        tc = tanh_c[start:end]
        a, b, ifg = dc_from_dh[:n], dz_o_from_dh[:n], dz_ifg_from_dc[:n]
        np.multiply(tc, tc, out=a)
        np.subtract(1.0, a, out=a)
        a *= o
        np.subtract(1.0, o, out=b)
        b *= o
        b *= tc
        for k, (gate, other) in enumerate(((i, g), (f, cs[start:end]))):
            np.subtract(1.0, gate, out=ifg[:, k])
            ifg[:, k] *= gate
            ifg[:, k] *= other
        np.multiply(g, g, out=ifg[:, 2])
        np.subtract(1.0, ifg[:, 2], out=ifg[:, 2])
        ifg[:, 2] *= i
        watch = near_underflow(dh[end - 1]) or near_underflow(dc_carry)
        for t in range(end - 1, start - 1, -1):
            k = t - start
            if watch:
                flush_subnormal(dh[t])
                flush_subnormal(dc_carry)
            np.multiply(dh[t], a[k], out=dc[t])
            dc[t] += dc_carry
            dz_t = acts[:, t]  # f_t is read (for the carry) before dz_t takes its place
            if t == 0 or cut[t]:
                dc_carry.fill(0.0)
            else:
                np.multiply(dc[t], dz_t[2], out=dc_carry)
            np.multiply(dh[t], b[k], out=dz_t[0])
            np.multiply(dc[t], ifg[k], out=dz_t[1:])
            if t > 0 and not cut[t]:
                carry_back(dz_t, W_blocks, dh, t, has_loss, scratch, carry, watch)
    gates = list(acts)
    return acts, weight_grads(gates, gates, x, hs, ORDER), dc
