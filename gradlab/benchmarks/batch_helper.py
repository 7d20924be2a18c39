"""Does the batch helper pay? Updates per second of ``run(config)`` with and without it.

The batch helper (``gradlab.core.parallel``) is a second process that computes half of every
batch. It costs a process, a pipe, a cancel protocol and their tests; it is kept only at the sizes
where it makes a run at least ``KEEP_AT`` times faster. Each size is measured in rounds, one
process then the other (A B A B ...), each for the same number of updates, so that both see the
same state of a machine whose speed drifts; the figure is the median over rounds of the per-round
ratio. The split is forced at every size (the app splits only where
``parallel.worth_splitting`` says so), so that every size answers the question.

    python -m gradlab.benchmarks.batch_helper [--rounds N] [--seconds S]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator

from .._blas import limit_blas_threads
from ..core import Config, Frame, experiment, parallel, run

KEEP_AT = 1.3  # the speed-up that earns the helper its place
# The lecture scenes' sizes (resources/presets: 64 units at T=100 for RNN/LSTM/GRU, 128 at T=100
# for the saturation scenes, T=200 in float32 for scene 4), then the largest size DESIGN §5 names.
SIZES = [
    ("scene 1 (rnn)", Config(cell="rnn", hidden_size=64, seq_len=100)),
    ("scene 4 (rnn f32)", Config(cell="rnn", activation="linear", hidden_size=64, seq_len=200, dtype="float32")),
    ("scene 30 (rnn)", Config(cell="rnn", hidden_size=128, seq_len=100)),
    ("scene 7 (lstm)", Config(cell="lstm", hidden_size=64, seq_len=100)),
    ("scene 8 (gru)", Config(cell="gru", hidden_size=64, seq_len=100)),
    ("T=1000 H=128 rnn", Config(cell="rnn", hidden_size=128, seq_len=1000)),
    ("T=1000 H=128 lstm", Config(cell="lstm", hidden_size=128, seq_len=1000)),
    ("T=1000 H=128 gru", Config(cell="gru", hidden_size=128, seq_len=1000)),
]


def _updates_per_s(frames: Iterator[Frame], updates: int) -> float:
    started = time.perf_counter()
    for _ in range(updates):
        next(frames)
    return updates / (time.perf_counter() - started)


def measure(config: Config, helper: parallel.BatchHelper, rounds: int, seconds: float) -> tuple[float, float, float]:
    """Median updates/s without and with the helper, and the median per-round ratio (with / without)."""
    config = config.replace(iterations=None, w_rec_scale=0.9, clip="norm", clip_threshold=1.0)  # no blow-up
    alone = run(config)
    split = run(config, helper=helper)
    _updates_per_s(alone, 2)  # warm up: imports, workspace, the helper's first request
    _updates_per_s(split, 2)
    probe = _updates_per_s(alone, 3)
    updates = max(3, round(probe * seconds))
    without, with_helper, ratios = [], [], []
    for _ in range(rounds):
        a = _updates_per_s(alone, updates)
        b = _updates_per_s(split, updates)
        without.append(a)
        with_helper.append(b)
        ratios.append(b / a)
    return statistics.median(without), statistics.median(with_helper), statistics.median(ratios)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gradlab.benchmarks.batch_helper", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=7, help="A B rounds per size (default 7)")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one block, in seconds (default 1)")
    args = parser.parse_args(argv)
    limit_blas_threads()
    experiment.worth_splitting = lambda config: True  # type: ignore[attr-defined]  # split every size
    helper = parallel.BatchHelper.start()
    try:
        while not helper.ready():
            if helper.lost:
                raise RuntimeError("the batch helper process did not start")
            time.sleep(0.01)
        print(f"Batch helper: updates/s of run(config), batch 16, float64 unless said; {args.rounds} rounds of")
        print(f"~{args.seconds:g} s per variant, alternating; keep the helper where it gives >= {KEEP_AT}x")
        print(f"{'size':20} {'alone /s':>9} {'helper /s':>9} {'ratio':>6} | decision")
        kept = []
        for name, config in SIZES:
            alone, split, ratio = measure(config, helper, args.rounds, args.seconds)
            keep = ratio >= KEEP_AT
            kept += [name] if keep else []
            print(
                f"{name:20} {alone:9.1f} {split:9.1f} {ratio:6.2f} | {'keep' if keep else 'not worth it'}", flush=True
            )
        print(
            "decision: "
            + (f"keep the helper at {', '.join(kept)}" if kept else "remove the helper (no size gains 1.3x)")
        )
    finally:
        helper.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
