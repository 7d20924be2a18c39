"""Phase-map speed: a 41 × 41 map of the default RNN (H = 64, T = 100), from starting the pool to
the last row, and when the first row arrives (targets: ≤ 10 s and ≤ 1 s on a 2-core machine).

The map is computed as ``gradlab phase`` computes it: a fresh pool of one process per core, no
cache. The load average is printed beside the figures: on a machine shared with other work the
times say as much about the others as about the map.

    python -m gradlab.benchmarks.phase [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from .._blas import limit_blas_threads
from ..core.config import FIELDS, Config
from ..core.phase_map import compute_phase_map
from ..core.phase_point import PhaseMapSpec, make_axis
from ..core.phase_pool import default_workers

TARGET_TOTAL_S = 10.0
TARGET_FIRST_ROW_S = 1.0


def maps(points: int) -> list[tuple[str, PhaseMapSpec]]:
    """The maps measured. H and T stay at their values, so the second axis is one the untrained
    pass does not depend on (the learning rate): every point costs what a point of the default
    scene costs."""
    scale = make_axis("w_rec_scale", 0.25, 2.0, points)
    learning_rate = make_axis("lr", 0.001, 0.1, points)
    out = [("rnn tanh H=64 T=100, W_rec scale x lr", PhaseMapSpec(Config(), scale, learning_rate))]
    if "mlp" in FIELDS["cell"].choices:
        mlp = Config.from_dict({"cell": "mlp", "hidden_size": 128, "seq_len": 50})
        out.append(("mlp tanh width 128 depth 50, weight scale x lr", PhaseMapSpec(mlp, scale, learning_rate)))
    return out


def measure(spec: PhaseMapSpec, workers: int) -> tuple[float, float]:
    """(seconds to the whole map, seconds to its first row), pool start included."""
    started = time.perf_counter()
    first: list[float] = []

    def on_row(_row: object) -> None:
        if not first:
            first.append(time.perf_counter() - started)

    result = compute_phase_map(spec, workers=workers, on_row=on_row, cache_dir=None)
    assert result is not None
    return time.perf_counter() - started, first[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradlab.benchmarks.phase", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 21 x 21 map, one run")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each map (median and range printed)")
    args = parser.parse_args(argv)
    limit_blas_threads()
    points = 21 if args.quick else 41
    repeats = 1 if args.quick else max(1, args.repeats)
    workers = default_workers()
    print(f"Phase maps, {points} x {points}, {workers} worker processes, fresh pool each run, no cache")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (other work on this machine counts)")
    if "mlp" not in FIELDS["cell"].choices:
        print("depth-50 MLP map: not measured (no mlp cell in this build)")
    for name, spec in maps(points):
        totals, firsts = [], []
        for _ in range(repeats):
            total, first = measure(spec, workers)
            totals.append(total)
            firsts.append(first)
        print(
            f"{name}: whole map {statistics.median(totals):.2f} s (range {min(totals):.2f}-{max(totals):.2f}; "
            f"target <= {TARGET_TOTAL_S:.0f} s), first row {statistics.median(firsts):.2f} s "
            f"(range {min(firsts):.2f}-{max(firsts):.2f}; target <= {TARGET_FIRST_ROW_S:.0f} s)"
        )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
