"""Run generators that fail on purpose, imported by name in the simulation process (no Qt here)."""

from __future__ import annotations

from collections.abc import Iterator

from gradlab.core import Config, Frame, run


def failing_run(config: Config, *, histogram_edges=None, jacobian=None) -> Iterator[Frame]:  # type: ignore[no-untyped-def]
    """Two frames, then an exception, as a broken simulation would."""
    frames = run(config, histogram_edges=histogram_edges)
    yield next(frames)
    yield next(frames)
    raise RuntimeError("the simulation broke")


def memory_run(config: Config, *, histogram_edges=None, jacobian=None) -> Iterator[Frame]:  # type: ignore[no-untyped-def]
    """One frame, then the machine has no memory left for the next update."""
    frames = run(config, histogram_edges=histogram_edges)
    yield next(frames)
    raise MemoryError


def crashing_run(config: Config, *, histogram_edges=None, jacobian=None) -> Iterator[Frame]:  # type: ignore[no-untyped-def]
    """One frame, then the process dies as if killed by the out-of-memory killer."""
    import os

    frames = run(config, histogram_edges=histogram_edges)
    yield next(frames)
    os._exit(137)


def dies_at_start(conn, wanted) -> None:  # type: ignore[no-untyped-def]
    """A simulation process that ends before it is ready (as if its interpreter could not start)."""
    import os

    os._exit(3)
