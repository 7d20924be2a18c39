"""Histograms of weights and gradients, with bin edges that can be frozen so the picture holds still."""

from __future__ import annotations

import threading

import numpy as np

from .frame import Histogram

DEFAULT_BINS = 41


class HistogramEdges:
    """Bin edges per named quantity: automatic (symmetric around 0, fitted to the data) or frozen.

    Shared between a running generator and its controller (the GUI thread): ``freeze()`` keeps the
    edges last used for every quantity; ``unfreeze()`` goes back to automatic edges. Thread-safe.
    """

    def __init__(self, bins: int = DEFAULT_BINS) -> None:
        if bins < 1:
            raise ValueError(f"bins: {bins!r} must be at least 1")
        self.bins = bins
        self._lock = threading.Lock()
        self._frozen = False
        self._last: dict[str, np.ndarray] = {}

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        with self._lock:
            self._frozen = True

    def unfreeze(self) -> None:
        with self._lock:
            self._frozen = False

    def histogram(self, name: str, values: np.ndarray) -> Histogram:
        """Histogram of ``values`` for the quantity ``name``, with that quantity's edges."""
        flat = np.asarray(values, dtype=np.float64).ravel()
        finite_mask = np.isfinite(flat)
        finite = flat[finite_mask] if not finite_mask.all() else flat
        nonfinite = int(flat.size - finite.size)
        with self._lock:
            edges = self._last.get(name) if self._frozen else None
            if edges is None:
                edges = _auto_edges(finite, self.bins)
                self._last[name] = edges
        counts, _ = np.histogram(finite, bins=edges)
        outside = int(finite.size - counts.sum())
        return Histogram(counts=counts, edges=edges.copy(), outside=outside, nonfinite=nonfinite)


def _auto_edges(finite: np.ndarray, bins: int) -> np.ndarray:
    """Symmetric edges around 0 that cover every finite value (at least ±1e-12)."""
    half_width = float(np.max(np.abs(finite))) if finite.size else 1.0
    if not half_width > 1e-12:
        half_width = 1e-12
    # A little headroom so the largest entries fall inside the last bin, not on its edge.
    half_width *= 1.0 + 1e-9
    return np.linspace(-half_width, half_width, bins + 1)
