"""GRU, as torch.nn.GRU: gi = x W_ihᵀ + b_ih, gh = h W_hhᵀ + b_hh, blocks [r|z|n];
r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n) (r multiplies b_hn too);
h_t = (1 − z)·n + z·h_{t-1}.

Shapes: x (T, B, D); W_ih, W_hh (3H, D|H); b_ih, b_hh (3H,); hs (T+1, B, H);
gates (T, B, 3H) holds the activated r, z, n; gh_n (T, B, H) the recurrent term of n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .underflow import flush_if_underflowed, near_underflow

CHUNK = 32  # steps whose per-step factors are computed together in the backward pass


@dataclass
class Cache:
    x: np.ndarray  # (T, B, D)
    hs: np.ndarray  # (T+1, B, H)
    gates: np.ndarray  # (T, B, 3H): σ(r), σ(z), tanh(n)
    gh_n: np.ndarray  # (T, B, H): h_{t-1} W_hnᵀ + b_hn


def forward(params: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray | None = None) -> Cache:
    T, B, D = x.shape
    W_hh = params["W_hh"]
    H = W_hh.shape[1]
    # σ(a) = ½·tanh(a/2) + ½: pre-scale the r and z rows by ½ so one tanh activates both gates.
    scale = np.ones(3 * H, dtype=x.dtype)
    scale[: 2 * H] = 0.5
    bias = params["b_ih"] * scale
    bias[: 2 * H] += 0.5 * params["b_hh"][: 2 * H]  # r, z: both biases simply add
    gi = (x.reshape(T * B, D) @ (params["W_ih"] * scale[:, None]).T).reshape(T, B, 3 * H)
    gi += bias
    W_hh_T = np.ascontiguousarray((W_hh * scale[:, None]).T)
    b_hn = params["b_hh"][2 * H :]
    hs = np.empty((T + 1, B, H), dtype=x.dtype)
    hs[0] = 0.0 if h0 is None else h0
    gates = np.empty((T, B, 3 * H), dtype=x.dtype)
    gh_n = np.empty((T, B, H), dtype=x.dtype)
    gh = np.empty((B, 3 * H), dtype=x.dtype)
    diff = np.empty((B, H), dtype=x.dtype)
    for t in range(T):
        np.dot(hs[t], W_hh_T, out=gh)
        rz = gates[t, :, : 2 * H]
        np.add(gi[t, :, : 2 * H], gh[:, : 2 * H], out=rz)
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        np.add(gh[:, 2 * H :], b_hn, out=gh_n[t])
        n = gates[t, :, 2 * H :]
        np.multiply(rz[:, :H], gh_n[t], out=n)
        n += gi[t, :, 2 * H :]
        np.tanh(n, out=n)
        np.subtract(hs[t], n, out=diff)
        diff *= rz[:, H:]
        np.add(n, diff, out=hs[t + 1])
    return Cache(x=x, hs=hs, gates=gates, gh_n=gh_n)


def backward(
    params: dict[str, np.ndarray], cache: Cache, dh: np.ndarray, has_loss: np.ndarray, cut: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Returns dgh (T, B, 3, H), the gradient at gh, and the parameter gradients."""
    x, hs, gates, gh_n = cache.x, cache.hs, cache.gates, cache.gh_n
    T, B, D = x.shape
    H = hs.shape[2]
    W_hh = params["W_hh"]
    dgh = np.empty((T, B, 3, H), dtype=x.dtype)
    dgi = np.empty((T, B, 3, H), dtype=x.dtype)
    carry = np.empty((B, H), dtype=x.dtype)
    # ∂h_t/∂(pre-activations) do not depend on the recursion: they are computed a chunk of steps
    # at a time (vectorised, small enough to stay in cache); the loop multiplies them by dh_t.
    d_gh = np.empty((CHUNK, B, 3, H), dtype=x.dtype)  # ∂h_t/∂gh_{r,z,n}
    d_an = np.empty((CHUNK, B, H), dtype=x.dtype)  # ∂h_t/∂(n's pre-activation) = ∂h_t/∂gi_n
    for start in range(((T - 1) // CHUNK) * CHUNK, -1, -CHUNK):
        end = min(start + CHUNK, T)
        m = end - start
        r, z, n = (gates[start:end, :, k * H : (k + 1) * H] for k in range(3))
        an, gh = d_an[:m], d_gh[:m]
        np.multiply(n, n, out=an)
        np.subtract(1.0, an, out=an)
        an *= 1.0 - z
        np.subtract(1.0, r, out=gh[:, :, 0])
        gh[:, :, 0] *= r
        gh[:, :, 0] *= gh_n[start:end]
        gh[:, :, 0] *= an
        np.subtract(hs[start:end], n, out=gh[:, :, 1])
        gh[:, :, 1] *= z
        gh[:, :, 1] *= 1.0 - z
        np.multiply(an, r, out=gh[:, :, 2])  # n sees gh_n through r
        watch = near_underflow(dh[end - 1])
        for t in range(end - 1, start - 1, -1):
            k = t - start
            if watch:
                flush_if_underflowed(dh[t])
            np.multiply(dh[t][:, None, :], gh[k], out=dgh[t])
            if t == 0 or cut[t]:
                continue
            target = dh[t - 1]
            if has_loss[t - 1]:
                np.multiply(dh[t], z[k], out=carry)
                target += carry
            else:
                np.multiply(dh[t], z[k], out=target)
            np.dot(dgh[t].reshape(B, 3 * H), W_hh, out=carry)
            target += carry
        # ∂L/∂gi equals ∂L/∂gh for r and z; for n it is without the factor r.
        dgi[start:end, :, :2] = dgh[start:end, :, :2]
        np.multiply(dh[start:end], an, out=dgi[start:end, :, 2])
    dgi = dgi.reshape(T * B, 3 * H)
    dgh_flat = dgh.reshape(T * B, 3 * H)
    grads = {
        "W_ih": dgi.T @ x.reshape(T * B, D),
        "W_hh": dgh_flat.T @ hs[:-1].reshape(T * B, H),
        "b_ih": dgi.sum(axis=0),
        "b_hh": dgh_flat.sum(axis=0),
    }
    return dgh, grads
