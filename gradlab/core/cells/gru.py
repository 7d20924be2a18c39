"""GRU, as torch.nn.GRU: gi = x W_ihᵀ + b_ih, gh = h W_hhᵀ + b_hh, blocks [r|z|n];
r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n) (r multiplies b_hn too);
h_t = (1 − z)·n + z·h_{t-1}.

Shapes: x (T, B, D); W_ih, W_hh (3H, D|H); b_ih, b_hh (3H,); hs (T+1, B, H).
Internally the gates are in torch's order r, z, n. The forward pass leaves in ``acts (T, 3, B, H)``
the factors ∂h_t/∂gh_r, ∂h_t/∂gh_z, ∂h_t/∂gh_n, and in ``extra (T, 2, B, H)`` z_t and
∂h_t/∂gi_n (see ``common``).
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
ORDER = (0, 1, 2)
SCALE = np.array([0.5, 0.5, 1.0])  # σ(a) = ½·tanh(a/2) + ½: one tanh activates r and z


@dataclass
class Cache:
    x1: np.ndarray  # (T, B, D+1): the input and a column of ones
    hs: np.ndarray  # (T+1, B, H)
    acts: np.ndarray  # (T, 3, B, H): ∂h_t/∂gh_r, ∂h_t/∂gh_z, ∂h_t/∂gh_n
    extra: np.ndarray  # (T, 2, B, H): z_t, and ∂h_t/∂gi_n = (1 − z)·(1 − n²)


def forward(
    params: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray | None = None, workspace: Workspace | None = None
) -> Cache:
    T, B, _ = x.shape
    H = params["W_hh"].shape[1]
    dtype = x.dtype
    scale = SCALE.astype(dtype)
    bias = params["b_ih"].copy()
    bias[: 2 * H] += params["b_hh"][: 2 * H]  # r, z: both biases simply add
    b_hn = params["b_hh"][2 * H :]  # n: inside r·(h W_hnᵀ + b_hn)
    W1 = input_weights(params["W_ih"], bias, ORDER, scale)
    W_hh_T = recurrent_weights(params["W_hh"], ORDER, scale)
    x1 = with_ones(x, workspace)
    acts = gate_inputs(x1, W1, workspace)
    extra = empty(workspace, "extra", (T, 2, B, H), dtype)
    hs = empty(workspace, "hs", (T + 1, B, H), dtype)
    hs[0] = 0.0 if h0 is None else h0
    gh = np.empty((3, B, H), dtype=dtype)
    work = np.empty((B, H), dtype=dtype)
    diff = np.empty((B, H), dtype=dtype)
    for t in range(T):
        a, e = acts[t], extra[t]
        np.matmul(hs[t], W_hh_T, out=gh)
        rz = a[:2]
        np.add(rz, gh[:2], out=rz)
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        r, z, n = a
        gh_n = gh[2]
        gh_n += b_hn
        np.multiply(r, gh_n, out=work)
        n += work
        np.tanh(n, out=n)
        np.subtract(hs[t], n, out=diff)
        np.multiply(diff, z, out=work)
        np.add(n, work, out=hs[t + 1])
        # The backward pass's factors, computed while this step's values are in cache.
        np.copyto(e[0], z)
        dn = e[1]
        np.multiply(n, n, out=dn)
        np.subtract(1.0, dn, out=dn)
        np.subtract(1.0, z, out=work)
        dn *= work  # ∂h/∂gi_n = (1 − z)·(1 − n²)
        z *= work
        z *= diff  # ∂h/∂gh_z = z·(1 − z)·(h_{t-1} − n)
        np.multiply(dn, r, out=n)  # ∂h/∂gh_n = ∂h/∂gi_n · r
        np.subtract(1.0, r, out=work)
        r *= work
        r *= gh_n
        r *= dn  # ∂h/∂gh_r = ∂h/∂gi_n · gh_n · r·(1 − r)
    return Cache(x1=x1, hs=hs, acts=acts, extra=extra)


def backward(
    params: dict[str, np.ndarray],
    cache: Cache,
    dh: np.ndarray,
    has_loss: np.ndarray,
    cut: np.ndarray,
    workspace: Workspace | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Returns dgh (3, T, B, H), the gradient at gh, and the parameter gradients."""
    hs, acts, extra = cache.hs, cache.acts, cache.extra
    T, _, B, H = acts.shape
    dtype = acts.dtype
    W_blocks = np.ascontiguousarray(gate_blocks(params["W_hh"], ORDER))
    dgh = empty(workspace, "dz", (3, T, B, H), dtype)
    dgi_n = empty(workspace, "dgi_n", (T, B, H), dtype)  # ∂L/∂gi equals ∂L/∂gh for r and z
    carry = np.empty((B, H), dtype=dtype)
    scratch = np.empty((3, B, H), dtype=dtype)
    for start in range(((T - 1) // CHUNK) * CHUNK, -1, -CHUNK):
        end = min(start + CHUNK, T)
        watch = near_underflow(dh[end - 1])
        for t in range(end - 1, start - 1, -1):
            if watch:
                flush_subnormal(dh[t])
            dgh_t = dgh[:, t]
            np.multiply(acts[t], dh[t], out=dgh_t)
            if t == 0 or cut[t]:
                continue
            carry_back(dgh_t, W_blocks, dh, t, has_loss, scratch, carry, watch)
            np.multiply(dh[t], extra[t, 0], out=carry)  # the direct path h_t = … + z·h_{t-1}
            dh[t - 1] += carry
        np.multiply(dh[start:end], extra[start:end, 1], out=dgi_n[start:end])
    gates = list(dgh)
    return dgh, weight_grads(gates, [gates[0], gates[1], dgi_n], cache.x1, hs, ORDER)
