"""Pieces shared by the cells, and the memory layout of the gated ones.

Gated cells keep two layouts. The forward pass works *time-major*, ``acts (T, G, B, H)``: each
step's gates are one contiguous block, so that the step's element-wise operations (a dozen per
step) run over contiguous memory; NumPy's loops over gates strided across the whole sequence
cost two to three times as much per element. The same pass also computes, while a step's values
are in cache, the factors the backward pass multiplies the incoming gradient by, and stores them
in place of the activations. The backward pass writes the gradients at the gates *gate-major*,
``dz (G, T, B, H)``, so that each gate's gradient over all steps is one (T·B, H) matrix for the
weight-gradient products.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..workspace import Workspace, empty
from .underflow import flush_subnormal


def gate_blocks(W: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """Torch's stacked ``(G·H, K)`` (or ``(G·H,)``) parameter as ``(G, H, K)`` (or ``(G, H)``)
    blocks, in the cell's internal gate order (``order[k]`` = torch's block of internal gate k)."""
    G = len(order)
    blocks = W.reshape((G, W.shape[0] // G) + W.shape[1:])
    return blocks[list(order)]


def carry_back(
    dz_t: np.ndarray,
    W: np.ndarray,
    dh: np.ndarray,
    t: int,
    has_loss: np.ndarray,
    scratch: np.ndarray | None,
    carry: np.ndarray,
    flush: bool,
) -> None:
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
        np.add.reduce(scratch, axis=0, out=target)
    if has_loss[t - 1]:
        dh[t - 1] += carry


def with_ones(x: np.ndarray, workspace: Workspace | None) -> np.ndarray:
    """``x (T, B, D)`` with a column of ones appended, ``(T, B, D+1)``: one product with
    ``[W_ihᵀ; b]`` then adds the bias, and one product with ∂L/∂z gives both gradients."""
    T, B, D = x.shape
    x1 = empty(workspace, "x1", (T, B, D + 1), x.dtype)
    x1[..., :D] = x
    x1[..., D] = 1.0
    return x1


def input_weights(W_ih: np.ndarray, bias: np.ndarray, order: Sequence[int], scale: np.ndarray) -> np.ndarray:
    """``(G, D+1, H)``: each gate's block of W_ihᵀ with its bias as the last row, in the internal
    gate ``order``, each block multiplied by its ``scale``: the weights of ``with_ones(x)``."""
    blocks = gate_blocks(W_ih, order)  # (G, H, D)
    W1 = np.concatenate([blocks, gate_blocks(bias, order)[:, :, None]], axis=2)  # (G, H, D+1)
    return np.ascontiguousarray((W1 * scale[:, None, None]).transpose(0, 2, 1))


def recurrent_weights(W_hh: np.ndarray, order: Sequence[int], scale: np.ndarray) -> np.ndarray:
    """``(G, H, H)``: each gate's block of W_hhᵀ in the internal gate ``order``, multiplied by its
    ``scale``: ``h @ result`` is every gate's recurrent term at once."""
    return np.ascontiguousarray((gate_blocks(W_hh, order) * scale[:, None, None]).transpose(0, 2, 1))


def gate_inputs(x1: np.ndarray, W1: np.ndarray, workspace: Workspace | None) -> np.ndarray:
    """Every step's input term and bias at once, time-major ``(T, G, B, H)``: ``x1 (T, B, D+1)``
    (:func:`with_ones`) by ``W1 (G, D+1, H)`` (:func:`input_weights`)."""
    T, B, _ = x1.shape
    G, _, H = W1.shape
    acts = empty(workspace, "acts", (T, G, B, H), x1.dtype)
    np.matmul(x1[:, None], W1, out=acts)
    return acts


def weight_grads(
    dz_h: Sequence[np.ndarray], dz_x: Sequence[np.ndarray], x1: np.ndarray, hs: np.ndarray, order: Sequence[int]
) -> dict[str, np.ndarray]:
    """W_ih, W_hh, b_ih, b_hh in torch's layout, each gate's block one product over all steps at
    once. ``dz_h[k]`` (T, B, H) is ∂L/∂(gate k's recurrent term) in the internal gate ``order``,
    ``dz_x[k]`` ∂L/∂(its input term): the same array except in the GRU. ``x1``: the input with a
    column of ones (:func:`with_ones`), so that one product gives W_ih's and b_ih's gradients."""
    T, B, D1 = x1.shape
    H = hs.shape[2]
    G = len(order)
    x_flat, h_flat = x1.reshape(T * B, D1), hs[:-1].reshape(T * B, H)
    dtype = x1.dtype
    grads = {
        "W_ih": np.empty((G * H, D1 - 1), dtype),
        "W_hh": np.empty((G * H, H), dtype),
        "b_ih": np.empty(G * H, dtype),
        "b_hh": np.empty(G * H, dtype),
    }
    for by_h, by_x, block in zip(dz_h, dz_x, order):
        rows = slice(block * H, (block + 1) * H)
        by_h_flat, by_x_flat = by_h.reshape(T * B, H), by_x.reshape(T * B, H)
        np.matmul(by_h_flat.T, h_flat, out=grads["W_hh"][rows])
        both = x_flat.T @ by_x_flat  # (D+1, H): the faster orientation for a narrow x
        grads["W_ih"][rows] = both[:-1].T
        grads["b_ih"][rows] = both[-1]
        grads["b_hh"][rows] = both[-1] if by_x is by_h else np.add.reduce(by_h_flat, axis=0)
    return grads
