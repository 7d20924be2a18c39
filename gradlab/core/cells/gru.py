"""GRU, as torch.nn.GRU: gi = x W_ihᵀ + b_ih, gh = h W_hhᵀ + b_hh, blocks [r|z|n];
r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n) (r multiplies b_hn too);
h_t = (1 − z)·n + z·h_{t-1}.

Shapes: x (T, B, D); W_ih, W_hh (3H, D|H); b_ih, b_hh (3H,); hs (T+1, B, H).
Internally the gates are gate-major, ``acts (3, T, B, H)`` = r, z, n (torch's order);
gh_n (T, B, H) holds the recurrent term of n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .common import carry_back, gate_blocks, weight_grads
from .underflow import flush_subnormal, near_underflow

CHUNK = 32  # steps whose per-step factors are computed together in the backward pass
ORDER = (0, 1, 2)


@dataclass
class Cache:
    x: np.ndarray  # (T, B, D)
    hs: np.ndarray  # (T+1, B, H)
    acts: np.ndarray  # (3, T, B, H): σ(r), σ(z), tanh(n); the backward pass overwrites it with ∂L/∂gh
    gh_n: np.ndarray  # (T, B, H): h_{t-1} W_hnᵀ + b_hn


def forward(params: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray | None = None) -> Cache:
    T, B, D = x.shape
    H = params["W_hh"].shape[1]
    # σ(a) = ½·tanh(a/2) + ½: pre-scale the r and z rows by ½ so one tanh activates both gates.
    scale = np.array([0.5, 0.5, 1.0], dtype=x.dtype)[:, None, None]
    b_ih, b_hh = gate_blocks(params["b_ih"], ORDER), gate_blocks(params["b_hh"], ORDER)
    bias = b_ih.copy()
    bias[:2] += b_hh[:2]  # r, z: both biases simply add
    W_ih_T = (gate_blocks(params["W_ih"], ORDER) * scale).transpose(0, 2, 1)
    W_hh_T = np.ascontiguousarray((gate_blocks(params["W_hh"], ORDER) * scale).transpose(0, 2, 1))
    acts = np.matmul(x.reshape(T * B, D), W_ih_T)  # (3, T·B, H): every step's input term at once
    acts += bias[:, None, :] * scale
    acts = acts.reshape(3, T, B, H)
    b_hn = b_hh[2]
    hs = np.empty((T + 1, B, H), dtype=x.dtype)
    hs[0] = 0.0 if h0 is None else h0
    gh_n = np.empty((T, B, H), dtype=x.dtype)
    gh = np.empty((3, B, H), dtype=x.dtype)
    diff = np.empty((B, H), dtype=x.dtype)
    for t in range(T):
        a = acts[:, t]
        np.matmul(hs[t], W_hh_T, out=gh)
        rz = a[:2]
        np.add(rz, gh[:2], out=rz)
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        r, z, n = a
        np.add(gh[2], b_hn, out=gh_n[t])
        np.multiply(r, gh_n[t], out=diff)
        n += diff
        np.tanh(n, out=n)
        np.subtract(hs[t], n, out=diff)
        diff *= z
        np.add(n, diff, out=hs[t + 1])
    return Cache(x=x, hs=hs, acts=acts, gh_n=gh_n)


def backward(
    params: dict[str, np.ndarray], cache: Cache, dh: np.ndarray, has_loss: np.ndarray, cut: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Returns dgh (3, T, B, H), the gradient at gh (in the memory of ``cache.acts``), and the
    parameter gradients."""
    x, hs, acts, gh_n = cache.x, cache.hs, cache.acts, cache.gh_n
    T, B, _ = x.shape
    H = hs.shape[2]
    W_blocks = np.ascontiguousarray(gate_blocks(params["W_hh"], ORDER))
    dgi_n = np.empty((T, B, H), dtype=x.dtype)  # ∂L/∂gi equals ∂L/∂gh for r and z; for n it lacks the factor r
    carry = np.empty((B, H), dtype=x.dtype)
    scratch = np.empty((3, B, H), dtype=x.dtype)
    # ∂h_t/∂(pre-activations) do not depend on the recursion: they are computed a chunk of steps
    # at a time (vectorised, small enough to stay in cache); the loop multiplies them by dh_t.
    d_gh = np.empty((CHUNK, 3, B, H), dtype=x.dtype)  # ∂h_t/∂gh_{r,z,n}
    d_an = np.empty((CHUNK, B, H), dtype=x.dtype)  # ∂h_t/∂(n's pre-activation) = ∂h_t/∂gi_n
    d_prev = np.empty((CHUNK, B, H), dtype=x.dtype)  # ∂h_t/∂h_{t-1} outside the products = z
    for start in range(((T - 1) // CHUNK) * CHUNK, -1, -CHUNK):
        end = min(start + CHUNK, T)
        m = end - start
        r, z, n = acts[:, start:end]
        gh, an, zs = d_gh[:m], d_an[:m], d_prev[:m]
        zs[...] = z
        np.multiply(n, n, out=an)
        np.subtract(1.0, an, out=an)
        an *= 1.0 - z
        np.subtract(1.0, r, out=gh[:, 0])
        gh[:, 0] *= r
        gh[:, 0] *= gh_n[start:end]
        gh[:, 0] *= an
        np.subtract(hs[start:end], n, out=gh[:, 1])
        gh[:, 1] *= z
        gh[:, 1] *= 1.0 - z
        np.multiply(an, r, out=gh[:, 2])  # n sees gh_n through r
        watch = near_underflow(dh[end - 1])
        for t in range(end - 1, start - 1, -1):
            k = t - start
            if watch:
                flush_subnormal(dh[t])
            dgh_t = acts[:, t]  # z_t has been copied to zs: dgh_t takes the activations' place
            np.multiply(dh[t], gh[k], out=dgh_t)
            if t == 0 or cut[t]:
                continue
            carry_back(dgh_t, W_blocks, dh, t, has_loss, scratch, carry, watch)
            np.multiply(dh[t], zs[k], out=carry)
            dh[t - 1] += carry
        np.multiply(dh[start:end], an, out=dgi_n[start:end])
    gates = list(acts)
    return acts, weight_grads(gates, [gates[0], gates[1], dgi_n], x, hs, ORDER)
