"""Carried gradients that fall below the normal floating-point range are flushed to zero.

Arithmetic on subnormal numbers is about a hundred times slower on x86 (a 16×128 by 128×128 BLAS
product with subnormal entries took 1.6 ms instead of 14 µs here), and a vanishing gradient
crosses the whole subnormal range (16 decades in float64) on its way to zero, so a few dozen
steps of one long sequence could take longer than all the others. Once a chunk of steps comes
near the end of the normal range, the backward passes therefore set every entry of the carried
gradients below the smallest normal number (2.2e-308 in float64, 1.2e-38 in float32) to exactly
zero before it enters a product: underflowed, and shown as an underflow once the whole vector
is zero. Magnitudes the dtype holds at full precision are never touched.
"""

from __future__ import annotations

import numpy as np

WATCH_DECADES = 150  # flush every step once a chunk starts within 10^150 of the limit


def tiny(dtype: np.dtype) -> float:
    """The smallest normal number of ``dtype``."""
    return float(np.finfo(dtype).tiny)


def near_underflow(x: np.ndarray) -> bool:
    """The largest entry is non-zero but within ``WATCH_DECADES`` of the normal range's end."""
    largest = float(np.max(np.abs(x)))
    return 0.0 < largest < tiny(x.dtype) * 10.0**WATCH_DECADES


def flush_subnormal(x: np.ndarray) -> None:
    """Set the entries of ``x`` below the smallest normal number (in magnitude) to zero, in place."""
    np.copyto(x, 0.0, where=np.abs(x) < tiny(x.dtype))
