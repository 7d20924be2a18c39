"""BLAS threading for this workload: one thread.

The matrices of a recurrent step are small (batch 16 rows), and OpenBLAS's threads cost more to
wake than they save: on 2 cores a 16×128 by 128×512 product takes ~0.1 ms on one thread and
several ms on two when the other core is busy (the GUI thread, in the window). One thread also
leaves a core for the GUI.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def limit_blas_threads(threads: int = 1) -> None:
    """Limit the BLAS libraries NumPy uses to ``threads`` threads, for the whole process."""
    import numpy  # noqa: F401  (loads the BLAS library, so that it is there to be limited)

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; without it BLAS keeps its default
        log.warning("threadpoolctl is missing; BLAS keeps its default thread count")
        return
    threadpool_limits(limits=threads, user_api="blas")
