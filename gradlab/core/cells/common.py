"""Pieces shared by the cells.

The gated cells keep their gates *gate-major*: ``(G, T, B, H)``, so that every per-step slice of
one gate is a contiguous (B, H) block. NumPy's element-wise loops over strided 2-D views (one gate
out of a (B, G·H) row) cost about three times as much per element, and a recurrent step is a
dozen such small operations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .underflow import flush_subnormal


def gate_blocks(W: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """Torch's stacked ``(G·H, K)`` (or ``(G·H,)``) parameter as ``(G, H, K)`` (or ``(G, H)``)
    blocks, in the cell's internal gate order (``order[k]`` = torch's block of internal gate k)."""
    G = len(order)
    blocks = W.reshape((G, W.shape[0] // G) + W.shape[1:])
    return blocks[list(order)]


def torch_rows(blocks: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """The inverse of :func:`gate_blocks`: ``(G, H, …)`` blocks back to torch's ``(G·H, …)``."""
    out = np.empty_like(blocks)
    out[list(order)] = blocks
    return out.reshape((-1,) + blocks.shape[2:])


def carry_back(dz_t: np.ndarray, W: np.ndarray, dh: np.ndarray, t: int, has_loss: np.ndarray,
               scratch: np.ndarray | None, carry: np.ndarray, flush: bool) -> None:
    """Add ∂L/∂z_t · ∂z_t/∂h_{t-1} to dh[t-1] (written straight in where step t-1 has no loss term
    of its own): dz_t (B, H) @ W (H, H) for one block (``scratch`` None), else Σ_k dz_t[k] W[k]
    with dz_t (G, B, H), W (G, H, H) and ``scratch`` (G, B, H). ``carry`` (B, H) is a work buffer.
    ``flush``: first set dz_t's subnormal entries to zero (see ``underflow``)."""
    if flush:
        flush_subnormal(dz_t)
    target = carry if has_loss[t - 1] else dh[t - 1]
    if scratch is None:
        np.dot(dz_t, W, out=target)
    else:
        np.matmul(dz_t, W, out=scratch)
        np.sum(scratch, axis=0, out=target)
    if has_loss[t - 1]:
        dh[t - 1] += carry


def weight_grads(dz_h: Sequence[np.ndarray], dz_x: Sequence[np.ndarray], x: np.ndarray, hs: np.ndarray,
                 order: Sequence[int]) -> dict[str, np.ndarray]:
    """W_ih, W_hh, b_ih, b_hh in torch's layout, each gate's block one product over all steps at
    once. ``dz_h[k]`` (T, B, H) is ∂L/∂(gate k's recurrent term) in the internal gate ``order``,
    ``dz_x[k]`` ∂L/∂(its input term): the same array except in the GRU."""
    T, B, D = x.shape
    H = hs.shape[2]
    x_flat, h_flat = x.reshape(T * B, D), hs[:-1].reshape(T * B, H)
    ones = np.ones(T * B, dtype=x.dtype)
    blocks: dict[str, list[np.ndarray]] = {"W_ih": [], "W_hh": [], "b_ih": [], "b_hh": []}
    for by_h, by_x in zip(dz_h, dz_x):
        by_h_flat, by_x_flat = by_h.reshape(T * B, H), by_x.reshape(T * B, H)
        db = ones @ by_h_flat
        blocks["W_hh"].append(by_h_flat.T @ h_flat)
        blocks["W_ih"].append((x_flat.T @ by_x_flat).T)  # the faster orientation for a narrow x
        blocks["b_hh"].append(db)
        blocks["b_ih"].append(db if by_x is by_h else ones @ by_x_flat)
    return {name: torch_rows(np.stack(parts), order) for name, parts in blocks.items()}
