"""Backward-pass pieces shared by the cells whose gates all see z = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh
(the vanilla RNN and the LSTM; the GRU keeps its input and recurrent terms apart)."""

from __future__ import annotations

import numpy as np


def carry_back(dz_t: np.ndarray, W_hh: np.ndarray, dh: np.ndarray, t: int, has_loss: np.ndarray, carry: np.ndarray) -> None:
    """Add ∂L/∂z_t · ∂z_t/∂h_{t-1} = dz_t W_hh to dh[t-1] (written straight in where step t-1 has
    no loss term of its own). ``dz_t`` is (B, G·H), ``carry`` a (B, H) scratch buffer."""
    if has_loss[t - 1]:
        np.dot(dz_t, W_hh, out=carry)
        dh[t - 1] += carry
    else:
        np.dot(dz_t, W_hh, out=dh[t - 1])


def parameter_grads(dz: np.ndarray, x: np.ndarray, hs: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of W_ih, W_hh, b_ih, b_hh from ∂L/∂z of every step (T, B, G·H, in any layout
    that reshapes to it), the inputs x (T, B, D) and the states hs (T+1, B, H): batched over all
    steps in one product each."""
    T, B, D = x.shape
    H = hs.shape[2]
    dz_flat = dz.reshape(T * B, -1)
    db = dz_flat.sum(axis=0)
    return {
        "W_ih": dz_flat.T @ x.reshape(T * B, D),
        "W_hh": dz_flat.T @ hs[:-1].reshape(T * B, H),
        "b_ih": db,
        "b_hh": db.copy(),
    }
