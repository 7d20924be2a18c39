"""Core speed: one forward + BPTT (``gradients()``) against the matmul floor and PyTorch's figures.

The floor is the same matrix products that one ``gradients()`` call performs, timed alone in the
same run: per step the recurrent product forward and backward (one per gate block), plus the
batched input projection and weight-gradient products. The PyTorch figures (2.13 CPU, autograd, this kind of 2-core
machine) are the reference table of DESIGN.md §5; they are printed for comparison, not measured.

    python -m gradlab.benchmarks.core [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from .._blas import limit_blas_threads
from ..core import gradients, init_params
from ..core.inits import GATES

BATCH, INPUT = 16, 16
# ms, PyTorch 2.13 CPU nn.RNN/LSTM/GRU forward + backward, float64, batch 16 (DESIGN.md §5)
PYTORCH_MS = {
    ("rnn", 32, 100): 3.4, ("rnn", 32, 1000): 41, ("rnn", 128, 100): 12, ("rnn", 128, 1000): 117,
    ("lstm", 32, 100): 12.5, ("lstm", 32, 1000): 135, ("lstm", 128, 100): 26, ("lstm", 128, 1000): 292,
    ("gru", 32, 100): 12.2, ("gru", 32, 1000): 150, ("gru", 128, 100): 25, ("gru", 128, 1000): 247,
}


def best_times(functions: list[Callable[[], object]], budget_s: float, min_runs: int = 3) -> list[float]:
    """The fastest of repeated runs of each function (seconds), taken in turn so that every one
    sees the same state of a machine whose speed drifts: at least ``min_runs`` rounds, more while
    within ``budget_s``."""
    for function in functions:
        function()  # warm up caches and allocators
    times: list[list[float]] = [[] for _ in functions]
    started = time.perf_counter()
    rounds = 0
    while rounds < min_runs or (time.perf_counter() - started < budget_s and rounds < 200):
        for function, runs in zip(functions, times):
            t0 = time.perf_counter()
            function()
            runs.append(time.perf_counter() - t0)
        rounds += 1
    return [min(runs) for runs in times]


def matmul_floor(cell: str, hidden: int, seq_len: int) -> Callable[[], None]:
    """The matrix products of one forward + BPTT, alone, in the cells' gate-major layout."""
    g = GATES[cell]
    rng = np.random.default_rng(0)
    h = rng.standard_normal((BATCH, hidden))
    w = rng.standard_normal((g, hidden, hidden))
    dz = rng.standard_normal((g, BATCH, hidden))
    step_out = np.empty((g, BATCH, hidden))
    x_flat = rng.standard_normal((seq_len * BATCH, INPUT))
    w_ih_t = rng.standard_normal((g, INPUT, hidden))
    dz_flat = rng.standard_normal((g, hidden, seq_len * BATCH))
    h_flat = rng.standard_normal((seq_len * BATCH, hidden))

    def products() -> None:
        np.matmul(x_flat, w_ih_t)
        for _ in range(seq_len):
            np.matmul(h, w, out=step_out)
        for _ in range(seq_len):
            np.matmul(dz, w, out=step_out)
        np.matmul(dz_flat, h_flat)
        np.matmul(dz_flat, x_flat)

    return products


def measure(cell: str, hidden: int, seq_len: int, budget_s: float) -> tuple[float, float]:
    params = init_params(cell, INPUT, hidden, 1, w_rec_scale=0.9, init="orthogonal", seed=0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((seq_len, BATCH, INPUT))
    target = rng.standard_normal((BATCH, 1))
    ours, floor = best_times([lambda: gradients(cell, params, x, target), matmul_floor(cell, hidden, seq_len)], 2 * budget_s)
    return ours, floor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradlab.benchmarks.core", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="H ∈ {32, 128} only, shorter timing budget")
    args = parser.parse_args(argv)
    limit_blas_threads()
    hiddens = (32, 128) if args.quick else (32, 128, 512)
    budget = 0.3 if args.quick else 1.0
    print("Core: one gradients() call = forward + BPTT, float64, batch 16, input 16 (best of repeated runs)")
    print("targets: <= PyTorch at H <= 128; <= 2x the matmul floor at H >= 128")
    print(f"{'cell':5} {'H':>4} {'T':>5} | {'gradlab ms':>10} {'floor ms':>9} {'x floor':>7} | {'torch ms':>8} {'vs torch':>8} | verdict")
    failures = 0
    for cell in ("rnn", "lstm", "gru"):
        for hidden in hiddens:
            for seq_len in (100, 1000):
                ours, floor = measure(cell, hidden, seq_len, budget)
                ratio = ours / floor
                torch_ms = PYTORCH_MS.get((cell, hidden, seq_len))
                checks = []
                if torch_ms is not None:
                    checks.append(ours * 1e3 <= torch_ms)
                if hidden >= 128:
                    checks.append(ratio <= 2.0)
                verdict = "ok" if all(checks) else "MISS"
                failures += verdict == "MISS"
                torch_text = f"{torch_ms:8.1f} {torch_ms / (ours * 1e3):7.2f}x" if torch_ms else f"{'-':>8} {'-':>8}"
                print(f"{cell:5} {hidden:4d} {seq_len:5d} | {ours * 1e3:10.2f} {floor * 1e3:9.2f} {ratio:7.2f} | {torch_text} | {verdict}", flush=True)
    print(f"{failures} of the measured cases miss a target" if failures else "every case meets its targets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
