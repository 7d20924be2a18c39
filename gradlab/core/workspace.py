"""Work arrays that repeated forward + BPTT passes of one size write into, instead of fresh memory.

One pass needs about a dozen arrays of T·B·H numbers. Memory that large comes fresh from the
operating system on every pass and is faulted in page by page on first touch; here that was 10-15%
of an LSTM or GRU pass at H = 128 (T = 100 and T = 1000). A pass given a :class:`Workspace` takes
its arrays from it, and the next pass of the same shapes writes into the same memory.
"""

from __future__ import annotations

import numpy as np


class Workspace:
    """Named arrays kept between passes. The arrays of a result computed with a workspace
    (``Gradients.hidden``, ``.dh``, ``.dc``, a deep net's ``grads["W_hh"]``) are its memory: valid
    until the next pass that uses the same workspace. One pass at a time per workspace."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        """An uninitialised array: the memory of the previous request of ``name`` if that had the
        same shape and dtype, else new memory (the old array is released first)."""
        dtype = np.dtype(dtype)
        found = self._arrays.get(name)
        if found is None or found.shape != shape or found.dtype != dtype:
            self._arrays.pop(name, None)
            found = self._arrays[name] = np.empty(shape, dtype)
        return found

    @property
    def nbytes(self) -> int:
        """Memory held, in bytes."""
        return sum(a.nbytes for a in self._arrays.values())


def empty(workspace: Workspace | None, name: str, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """``workspace.array(name, shape, dtype)``, or a fresh ``np.empty`` without a workspace."""
    if workspace is None:
        return np.empty(shape, dtype)
    return workspace.array(name, shape, dtype)
