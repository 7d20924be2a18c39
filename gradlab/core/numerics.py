"""Norms that neither underflow nor overflow, and their log10, across hundreds of decades.

``sqrt(sum(x**2))`` (and ``np.linalg.norm``) returns 0 below ~1e-154 and inf above ~1e154 in
float64. Here a norm is computed as m·‖x/m‖ with m = max|x|, always in float64, and carried as
log10 so that a gradient of 1e-250 is reported as -250. Exactly zero gives -inf; a nan anywhere
gives nan; an inf (and no nan) gives +inf.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def log10_norm_per_step(x: np.ndarray) -> np.ndarray:
    """log10 of the Frobenius norm of ``x[t]`` over all other axes, for each leading index t."""
    x = np.asarray(x)
    flat = x.reshape(x.shape[0], -1).astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        m = np.maximum(np.max(flat, axis=1), -np.min(flat, axis=1))  # max |x|; nan propagates
        if np.all((m > 1e-150) & (m < 1e150)):
            # Every row's largest entry squares and sums without scaling (entries too small to
            # square are below 1e-300 of their row's norm).
            sum_sq, exponent = np.einsum("ij,ij->i", flat, flat), np.zeros(len(flat))
        else:
            # Scale each row by a power of two near 1/m (ldexp: exact, even where that power
            # itself is out of range, as for subnormal rows).
            powers = np.where((m > 0) & np.isfinite(m), np.frexp(m)[1], 0)
            scaled = np.ldexp(flat, -powers[:, None])
            sum_sq, exponent = np.einsum("ij,ij->i", scaled, scaled), powers.astype(np.float64)
        result = exponent * np.log10(2.0) + 0.5 * np.log10(sum_sq)
    result = np.where(m == 0, -np.inf, result)
    result = np.where(np.isposinf(m), np.inf, result)
    return np.where(np.isnan(m), np.nan, result)


# Where a float64 sum of squares lies between these, no square overflowed and the ones that
# underflowed are below 1e-28 of it: the sum itself is the norm's square, to the last bits.
PLAIN_SUM = (1e-280, 1e300)


def log10_norms_from_sums(sums_of_squares: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``log10_norm_per_step(x)`` where each row's float64 Σ x[l]² is already known (a pass that
    took it while the row was in the cache; nan where it was not): ½·log10 of the sums in
    ``PLAIN_SUM``, the scaled computation for the other rows only."""
    sums = np.asarray(sums_of_squares, dtype=np.float64)
    plain = (sums > PLAIN_SUM[0]) & (sums < PLAIN_SUM[1])
    with np.errstate(all="ignore"):
        result = 0.5 * np.log10(sums)
    if not plain.all():
        result[~plain] = log10_norm_per_step(np.asarray(x)[~plain])
    return np.asarray(result)


def _plain_sum_of_squares(arrays: list[np.ndarray], known: dict[int, float] | None = None) -> float:
    """Σ x² over float64 ``arrays`` by one BLAS dot each (a pass over memory, nothing allocated),
    or ``known[i]`` for array i where given; nan where an array is not float64 (float32 dots
    would sum in float32)."""
    if not all(a.dtype == np.float64 for a in arrays):
        return float("nan")
    known = known or {}
    with np.errstate(all="ignore"):
        return sum((known[i] if i in known else float(np.dot(a.ravel(), a.ravel())) for i, a in enumerate(arrays)), 0.0)


def row_sums_of_squares(x: np.ndarray) -> np.ndarray:
    """Σ x[l]² over all other axes, for each leading index l, in float64 (a layer's ‖W_l‖²): a
    BLAS dot per row, as einsum's loop is several times slower for rows of thousands."""
    flat = np.ascontiguousarray(np.asarray(x).reshape(len(x), -1), dtype=np.float64)
    with np.errstate(all="ignore"):
        return np.array([np.dot(row, row) for row in flat], dtype=np.float64)


def log10_global_norm(arrays: Iterable[np.ndarray], known: dict[int, float] | None = None) -> float:
    """log10 of the 2-norm of all entries of all ``arrays`` together (see module docstring).
    ``known``: the float64 Σ x² of some arrays by their index, where a pass has already taken it."""
    arrays = [np.asarray(a) for a in arrays]
    plain = _plain_sum_of_squares(arrays, known)
    if PLAIN_SUM[0] < plain < PLAIN_SUM[1]:
        return float(0.5 * np.log10(plain))
    maxima = [float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays]
    with np.errstate(all="ignore"):
        m = max(maxima, default=0.0)
    if any(np.isnan(v) for v in maxima):
        return float("nan")
    if m == 0.0:
        return float("-inf")
    if np.isinf(m):
        return float("inf")
    with np.errstate(all="ignore"):
        sum_sq = 0.0
        for a in arrays:
            scaled = a.astype(np.float64, copy=False).ravel() / m
            sum_sq += float(np.dot(scaled, scaled))
    return float(np.log10(m) + 0.5 * np.log10(sum_sq))


def global_norm(arrays: Iterable[np.ndarray], known: dict[int, float] | None = None) -> float:
    """The 2-norm of all entries together, as a float64 (inf only if the true norm exceeds ~1.8e308);
    ``known`` as in ``log10_global_norm``."""
    log_norm = log10_global_norm(arrays, known)
    if np.isnan(log_norm):
        return float("nan")
    with np.errstate(over="ignore"):
        return float(10.0**log_norm) if np.isfinite(log_norm) else (0.0 if log_norm < 0 else float("inf"))


def nonfinite_kind(arrays: Iterable[np.ndarray], known: dict[int, float] | None = None) -> str:
    """ "nan" if any entry is nan, else "inf" if any is infinite, else "". ``known`` as in
    ``log10_global_norm``: Σ x² of some arrays by their index, where a pass has already taken it."""
    arrays = [np.asarray(a) for a in arrays]
    if np.isfinite(_plain_sum_of_squares(arrays, known)):
        return ""  # an inf or a nan anywhere would have made it inf or nan
    kind = ""
    for a in arrays:
        if np.isfinite(a).all():
            continue
        if np.isnan(a).any():
            return "nan"
        kind = "inf"
    return kind
