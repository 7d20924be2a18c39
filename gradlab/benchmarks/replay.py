"""A run generator for the GUI benchmark: real frames of a configuration, replayed without pause.

The window's drawing rate can only be seen when frames arrive faster than it draws; at T=1000,
H=128 the simulation makes far fewer than 30 updates per second. ``replay`` computes a few real
updates once, then yields them again and again (numbered on), so the window draws frames of that
size as fast as it can. The benchmark loads the machine with a real simulation alongside.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator

from gradlab.core import Config, Frame, run
from gradlab.core.histogram import HistogramEdges
from gradlab.core.jacobian import JacobianProbe

DISTINCT_FRAMES = 8


def replay(
    config: Config, *, histogram_edges: HistogramEdges | None = None, jacobian: JacobianProbe | None = None
) -> Iterator[Frame]:
    frames = run(config.replace(iterations=None), histogram_edges=histogram_edges, jacobian=jacobian)
    recorded = list(itertools.islice(frames, DISTINCT_FRAMES))
    for iteration, frame in enumerate(itertools.cycle(recorded), start=1):
        yield dataclasses.replace(frame, iteration=iteration, final=False)


def main(argv: list[str] | None = None) -> int:
    """``python -m gradlab.benchmarks.replay T H``: simulate flat out (as the window's simulation
    process does, at the same priority) until killed, to load the machine."""
    import sys

    from gradlab.ui.simulation_process import settle_process

    seq_len, hidden_size = (int(value) for value in (argv if argv is not None else sys.argv[1:]))
    settle_process()
    for _ in run(Config(seq_len=seq_len, hidden_size=hidden_size)):
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
