"""Core speed: one forward + BPTT (``gradients()``) against the matmul floor and PyTorch's figures.

The floor is the same matrix products that one ``gradients()`` call performs, timed alone in the
same run on one core: per step the recurrent product forward and backward (one per gate block),
plus the batched input projection and weight-gradient products; "x floor" compares it with
gradlab on one core. ``gradients()`` is given a ``Workspace``, as in the app, where the updates of
a run reuse one. The one-core pass is what the app computes and what is compared with PyTorch,
which uses both cores of this machine (2 intra-op threads). Where PyTorch is installed its
pass (nn.RNN / nn.LSTM / nn.GRU and a linear readout, float64, autograd, its default threads) is
timed in the same rotation, so that the comparison does not depend on how fast the machine is
that minute; otherwise the reference table of DESIGN.md §5 (2.13 CPU, this kind of 2-core
machine) is printed.

    python -m gradlab.benchmarks.core [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from .._blas import limit_blas_threads
from ..core import Workspace, gradients, init_params
from ..core.inits import GATES

BATCH, INPUT = 16, 16
# ms, PyTorch 2.13 CPU nn.RNN/LSTM/GRU forward + backward, float64, batch 16 (DESIGN.md §5)
PYTORCH_MS = {
    ("rnn", 32, 100): 3.4,
    ("rnn", 32, 1000): 41,
    ("rnn", 128, 100): 12,
    ("rnn", 128, 1000): 117,
    ("lstm", 32, 100): 12.5,
    ("lstm", 32, 1000): 135,
    ("lstm", 128, 100): 26,
    ("lstm", 128, 1000): 292,
    ("gru", 32, 100): 12.2,
    ("gru", 32, 1000): 150,
    ("gru", 128, 100): 25,
    ("gru", 128, 1000): 247,
}


def timed_rounds(functions: list[Callable[[], object]], budget_s: float, min_runs: int = 3) -> list[list[float]]:
    """Seconds of repeated runs of each function, taken in turn so that every one sees the same
    state of a machine whose speed drifts: at least ``min_runs`` rounds, more while within
    ``budget_s``. ``result[k][r]`` is function k in round r."""
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
    return times


def matmul_floor(cell: str, hidden: int, seq_len: int) -> Callable[[], None]:
    """The matrix products of one forward + BPTT, alone, in the cells' layouts and into
    preallocated outputs: the input product (with its bias row), per step the recurrent product
    forward and backward (one per gate block), and per gate the weight-gradient products."""
    g = GATES[cell]
    rng = np.random.default_rng(0)
    x1 = rng.standard_normal((seq_len, BATCH, INPUT + 1))
    w1 = rng.standard_normal((g, INPUT + 1, hidden))
    acts = np.empty((seq_len, g, BATCH, hidden))
    h = rng.standard_normal((BATCH, hidden))
    w = rng.standard_normal((g, hidden, hidden))
    step_out = np.empty((g, BATCH, hidden))
    dz = rng.standard_normal((g, seq_len, BATCH, hidden))
    x_flat = x1.reshape(seq_len * BATCH, INPUT + 1)
    h_flat = rng.standard_normal((seq_len * BATCH, hidden))
    w_grad = np.empty((hidden, hidden))

    def products() -> None:
        if g == 1:
            np.matmul(x_flat, w1[0], out=acts.reshape(seq_len * BATCH, hidden))
            for _ in range(seq_len):
                np.dot(h, w[0], out=step_out[0])
            for t in range(seq_len):
                np.dot(dz[0, t], w[0], out=step_out[0])
        else:
            np.matmul(x1[:, None], w1, out=acts)
            for _ in range(seq_len):
                np.matmul(h, w, out=step_out)
            for t in range(seq_len):
                np.matmul(dz[:, t], w, out=step_out)
        for k in range(g):
            by_k = dz[k].reshape(seq_len * BATCH, hidden)
            np.matmul(by_k.T, h_flat, out=w_grad)
            x_flat.T @ by_k

    return products


def torch_pass(cell: str, hidden: int, seq_len: int) -> Callable[[], None] | None:
    """PyTorch's forward + backward of the same problem, or None if PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    network = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](INPUT, hidden).double()
    readout = torch.nn.Linear(hidden, 1).double()
    x = torch.randn(seq_len, BATCH, INPUT, dtype=torch.float64)
    target = torch.randn(BATCH, 1, dtype=torch.float64)

    def forward_backward() -> None:
        network.zero_grad()
        readout.zero_grad()
        hidden_states, _ = network(x)
        ((readout(hidden_states[-1]) - target) ** 2).mean().backward()

    return forward_backward


def measure(cell: str, hidden: int, seq_len: int, budget_s: float) -> tuple[float, float, float, float | None]:
    """Seconds of one pass on one core and of its floor (the fastest runs), the median over rounds
    of their ratio (each round times both back to back: steadier than the ratio of the fastest
    runs on a machine whose speed drifts) and seconds of PyTorch's pass (None without it)."""
    params = init_params(cell, INPUT, hidden, 1, w_rec_scale=0.9, init="orthogonal", seed=0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((seq_len, BATCH, INPUT))
    target = rng.standard_normal((BATCH, 1))
    workspace = Workspace()  # as in the app, where every update of a run reuses one
    functions: list[Callable[[], object]] = [
        lambda: gradients(cell, params, x, target, workspace=workspace),
        matmul_floor(cell, hidden, seq_len),
    ]
    torch_function = torch_pass(cell, hidden, seq_len) if hidden <= 128 else None
    if torch_function is not None:
        functions.append(torch_function)
    rounds = timed_rounds(functions, 3 * budget_s, min_runs=5)
    ratio = float(np.median(np.array(rounds[0]) / np.array(rounds[1])))
    best = iter([min(runs) for runs in rounds])
    one, floor = next(best), next(best)
    return one, floor, ratio, next(best) if torch_function is not None else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradlab.benchmarks.core", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="H ∈ {32, 128} only, shorter timing budget")
    args = parser.parse_args(argv)
    limit_blas_threads()
    return _table((32, 128) if args.quick else (32, 128, 512), 0.3 if args.quick else 1.0)


def _table(hiddens: tuple[int, ...], budget: float) -> int:
    print("Core: one gradients() call = forward + BPTT, float64, batch 16, input 16 (ms: best of repeated runs;")
    print("x floor: median over rounds of the pass's time / the floor's, timed back to back)")
    print(
        "targets: as fast as PyTorch at H <= 128 (1 core against its 2 threads);"
        " <= 2x the matmul floor at H >= 128 (1 core each)"
    )
    torch_version = _torch_version()
    print(
        "PyTorch: "
        + (f"{torch_version}, timed in this run" if torch_version else "not installed: figures from DESIGN.md §5")
    )
    print(
        f"{'cell':5} {'H':>4} {'T':>5} | {'1 core ms':>9} {'floor ms':>9} {'x floor':>7} |"
        f" {'torch ms':>8} {'vs torch':>8} | verdict"
    )
    failures = 0
    for cell in ("rnn", "lstm", "gru"):
        for hidden in hiddens:
            for seq_len in (100, 1000):
                one, floor, ratio, torch_s = measure(cell, hidden, seq_len, budget)
                torch_ms = torch_s * 1e3 if torch_s is not None else PYTORCH_MS.get((cell, hidden, seq_len))
                checks = []
                if torch_ms is not None:
                    checks.append(one * 1e3 <= torch_ms)
                if hidden >= 128:
                    checks.append(ratio <= 2.0)
                verdict = "ok" if all(checks) else "MISS"
                failures += verdict == "MISS"
                torch_text = f"{torch_ms:8.1f} {torch_ms / (one * 1e3):7.2f}x" if torch_ms else f"{'-':>8} {'-':>8}"
                print(
                    f"{cell:5} {hidden:4d} {seq_len:5d} | {one * 1e3:9.2f} {floor * 1e3:9.2f} {ratio:7.2f} | "
                    f"{torch_text} | {verdict}",
                    flush=True,
                )
    failures += _depth_line(budget)
    print(f"{failures} of the measured cases miss a target" if failures else "every case meets its targets")
    return 0


DEPTH, DEPTH_WIDTH, DEPTH_BATCH = 50, 256, 128


def torch_sequential(
    activation: str, depth: int, width: int, x: np.ndarray, target: np.ndarray
) -> Callable[[], None] | None:
    """PyTorch's forward + backward of the same deep net (nn.Sequential of nn.Linear and the
    activation, float64, autograd, its default threads), or None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    phi = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}[activation]
    layers: list[torch.nn.Module] = [torch.nn.Linear(x.shape[1], width), phi()]
    for _ in range(depth - 1):
        layers += [torch.nn.Linear(width, width), phi()]
    network = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1)).double()
    x_t, target_t = torch.from_numpy(x), torch.from_numpy(target)

    def forward_backward() -> None:
        network.zero_grad()
        ((network(x_t) - target_t) ** 2).mean().backward()

    return forward_backward


def depth_floor(depth: int, width: int, batch: int) -> Callable[[], None]:
    """The matrix products of one deep-net forward + backward, alone, into preallocated outputs:
    per layer after the first the forward product, the weight gradient and the gradient carried
    back (3 products of batch × width × width), each layer with its own weights, as in the pass."""
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((depth - 1, width, width))
    h = rng.standard_normal((batch, width))
    out = np.empty((batch, width))
    grads = np.empty_like(weights)

    def products() -> None:
        for layer in range(depth - 1):
            np.dot(h, weights[layer].T, out=out)
            np.dot(h.T, h, out=grads[layer])
            np.dot(h, weights[layer], out=out)

    return products


def _depth_line(budget: float) -> int:
    """Depth mode: one forward + backward of the deep feed-forward net (cell mlp), as the app
    computes it (one process, one BLAS thread), against PyTorch's nn.Sequential on one thread too
    and the matmul floor, all three timed in the same rotation. Returns 1 if it misses the target
    (at least as fast as PyTorch), else 0."""
    print(
        f"Depth mode: mlp, depth {DEPTH}, width {DEPTH_WIDTH}, batch {DEPTH_BATCH}, tanh, float64, forward + backward"
        " (ms: median over rounds; one thread each; target: as fast as PyTorch's nn.Sequential + autograd)"
    )
    params = init_params("mlp", INPUT, DEPTH_WIDTH, 1, w_rec_scale=1.0, init="xavier", seed=0, seq_len=DEPTH)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((DEPTH_BATCH, INPUT))
    target = rng.standard_normal((DEPTH_BATCH, 1))
    workspace = Workspace()
    functions: list[Callable[[], object]] = [
        lambda: gradients("mlp", params, x, target, activation="tanh", workspace=workspace),
        depth_floor(DEPTH, DEPTH_WIDTH, DEPTH_BATCH),
    ]
    torch_function = torch_sequential("tanh", DEPTH, DEPTH_WIDTH, x, target)
    threads = _torch_threads(1)  # the same one thread as gradlab's pass, for the comparison
    try:
        if torch_function is not None:
            functions.append(torch_function)
        rounds = [np.array(runs) * 1e3 for runs in timed_rounds(functions, 3 * budget, min_runs=5)]
    finally:
        _torch_threads(threads)
    ours, floor = float(np.median(rounds[0])), float(np.median(rounds[1]))
    flops = 3 * 2 * DEPTH_BATCH * DEPTH_WIDTH**2 * (DEPTH - 1)
    floor_text = f"floor {floor:6.1f} ms ({flops / 1e9:.2f} GFLOP at {flops / floor / 1e6:.0f} GFLOP/s), x floor"
    floor_text += f" {float(np.median(rounds[0] / rounds[1])):4.2f}"
    if torch_function is None:
        print(f"mlp   {DEPTH_WIDTH:4d} L={DEPTH:3d} | {ours:9.2f} ms | {floor_text} | PyTorch not installed | -")
        return 0
    # The speed-up as the median over rounds of PyTorch's time / gradlab's, each round timing both
    # back to back (steadier on a machine whose speed drifts than a ratio of two medians).
    ratio = float(np.median(rounds[2] / rounds[0]))
    verdict = "ok" if ratio >= 1.0 else "MISS"
    print(
        f"mlp   {DEPTH_WIDTH:4d} L={DEPTH:3d} | {ours:9.2f} ms | torch {float(np.median(rounds[2])):8.1f} ms,"
        f" gradlab {ratio:4.2f}x as fast | {floor_text} | {verdict}"
    )
    return int(verdict == "MISS")


def _torch_threads(threads: int) -> int:
    """Set PyTorch's intra-op threads (if it is installed); returns the previous number."""
    try:
        import torch
    except ImportError:
        return threads
    previous = int(torch.get_num_threads())
    torch.set_num_threads(threads)
    return previous


def _torch_version() -> str:
    try:
        import torch
    except ImportError:
        return ""
    return f"torch {torch.__version__}, {torch.get_num_threads()} threads"


if __name__ == "__main__":
    raise SystemExit(main())
