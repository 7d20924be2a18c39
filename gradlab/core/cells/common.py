"""Pieces shared by the cells.

The gated cells keep their gates *gate-major*: ``(G, T, B, H)``, so that every per-step slice of
one gate is a contiguous (B, H) block. NumPy's element-wise loops over strided 2-D views (one gate
out of a (B, G·H) row) cost about three times as much per element, and a recurrent step is a
dozen such small operations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
               scratch: np.ndarray | None, carry: np.ndarray) -> None:
    """Add ∂L/∂z_t · ∂z_t/∂h_{t-1} to dh[t-1] (written straight in where step t-1 has no loss term
    of its own): dz_t (B, H) @ W (H, H) for one block (``scratch`` None), else Σ_k dz_t[k] W[k]
    with dz_t (G, B, H), W (G, H, H) and ``scratch`` (G, B, H). ``carry`` (B, H) is a work buffer."""
    target = carry if has_loss[t - 1] else dh[t - 1]
    if scratch is None:
        np.dot(dz_t, W, out=target)
    else:
        np.matmul(dz_t, W, out=scratch)
        np.sum(scratch, axis=0, out=target)
    if has_loss[t - 1]:
        dh[t - 1] += carry


class WeightGrads:
    """W_ih, W_hh, b_ih, b_hh in torch's layout, as sums over steps of one product per gate, added
    a span of steps at a time (see ``helper.walk_back``). ``dz_h[k]`` (T, B, H) is ∂L/∂(gate k's recurrent term) in the
    internal gate ``order``, ``dz_x[k]`` ∂L/∂(its input term): the same array except in the GRU."""

    def __init__(self, dz_h: Sequence[np.ndarray], dz_x: Sequence[np.ndarray], x: np.ndarray, hs: np.ndarray,
                 order: Sequence[int]) -> None:
        T, B, D = x.shape
        H = hs.shape[2]
        self.order, self.batch = order, B
        self.shared = [a is b for a, b in zip(dz_h, dz_x)]
        self.x, self.h = x.reshape(T * B, D), hs[:-1].reshape(T * B, H)
        self.dz_h = [g.reshape(T * B, H) for g in dz_h]
        self.dz_x = [g.reshape(T * B, H) for g in dz_x]
        G = len(order)
        self.W_ih = np.zeros((G, H, D), dtype=x.dtype)
        self.W_hh = np.zeros((G, H, H), dtype=x.dtype)
        self.b_ih = np.zeros((G, H), dtype=x.dtype)
        self.b_hh = np.zeros((G, H), dtype=x.dtype)

    def add(self, start: int, end: int) -> None:
        """Add steps start … end-1."""
        rows = slice(start * self.batch, end * self.batch)
        x, h = self.x[rows], self.h[rows]
        ones = np.ones(len(x), dtype=x.dtype)
        for k, shared in enumerate(self.shared):
            dz_h, dz_x = self.dz_h[k][rows], self.dz_x[k][rows]
            db = ones @ dz_h
            self.W_hh[k] += dz_h.T @ h
            self.W_ih[k] += dz_x.T @ x
            self.b_hh[k] += db
            self.b_ih[k] += db if shared else ones @ dz_x

    def result(self) -> dict[str, np.ndarray]:
        return {name: torch_rows(getattr(self, name), self.order) for name in ("W_ih", "W_hh", "b_ih", "b_hh")}
