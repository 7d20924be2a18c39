"""Gradient clipping with the semantics of torch.nn.utils.clip_grad_norm_ / clip_grad_value_.

Unlike torch's, the total norm is computed overflow-safe (see numerics), so a float32 gradient
of 1e30 is clipped, not turned into zeros by an inf total. Inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .numerics import global_norm

EPS = 1e-6  # torch adds this to the total before dividing


def clip_grad_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    """Scale all gradients by coef = min(max_norm / (total + 1e-6), 1); returns (new grads, total).

    A total of inf gives coef 0 (finite entries become 0, infinite ones nan); nan stays nan.
    """
    max_norm = float(max_norm)
    if not max_norm > 0:
        raise ValueError(f"max_norm: {max_norm!r} must be a positive number")
    total = global_norm(grads.values())
    with np.errstate(all="ignore"):
        coef = max_norm / (total + EPS)
        coef = min(coef, 1.0) if not np.isnan(coef) else float("nan")
        # Scale in float64 so that a tiny coefficient is not flushed to zero in float32.
        clipped = {name: (g * np.float64(coef)).astype(g.dtype, copy=False) for name, g in grads.items()}
    return clipped, total


def clip_grad_value(grads: Mapping[str, np.ndarray], clip_value: float) -> dict[str, np.ndarray]:
    """Clamp every entry to [-clip_value, clip_value]; nan stays nan."""
    clip_value = float(clip_value)
    if not clip_value > 0:
        raise ValueError(f"clip_value: {clip_value!r} must be a positive number")
    return {name: np.clip(g, -clip_value, clip_value) for name, g in grads.items()}
