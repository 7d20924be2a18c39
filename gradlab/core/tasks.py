"""Training tasks: batches of inputs and targets, and the loss of the best constant prediction.

probe   random inputs x ~ N(0, 1) in D = 4 channels, target ~ N(0, 1), loss at the last step.
        Nothing to learn; it is there to watch gradients propagate. Baseline MSE = 1.
adding  the two-channel adding problem (as in Le, Jaitly & Hinton 2015 and Arjovsky et al. 2016,
        after Hochreiter & Schmidhuber 1997): channel 0 holds values U[0, 1], channel 1 is 1 at
        exactly two steps, one in each half of the sequence, and 0 elsewhere; the target is the
        sum of the two marked values. Predicting the mean (1) gives MSE = Var = 2/12 = 1/6.

For the deep feed-forward net (cell ``mlp``) a batch is one point per example, x (B, D):
probe   x ~ N(0, 1) in D = 4, target ~ N(0, 1). Baseline MSE = 1.
spirals two interleaved spiral arms in the plane (D = 2), one turn each: t ~ U(0, 1), radius 2t,
        angle 2πt + π·class, plus N(0, 0.05²) noise; the target is +1 for one arm and −1 for the
        other (classification by MSE). Predicting 0 (the mean) gives MSE = 1 on every batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import FEEDFORWARD_TASKS, RECURRENT_TASKS

SPIRAL_NOISE = 0.05


@dataclass(frozen=True)
class TaskInfo:
    name: str
    input_size: int
    output_size: int
    loss: str  # "last" or "sum", see gradients()
    baseline_loss: float
    description: str


TASK_INFO: dict[str, TaskInfo] = {
    "probe": TaskInfo("probe", 4, 1, "last", 1.0, "random inputs, random target at the last step"),
    "adding": TaskInfo("adding", 2, 1, "last", 1.0 / 6.0, "sum of the two marked values (baseline MSE 1/6)"),
    "spirals": TaskInfo("spirals", 2, 1, "last", 1.0, "which of two spiral arms a point is on, ±1 (baseline MSE 1)"),
}


def make_batch(
    task: str, rng: np.random.Generator, seq_len: int, batch_size: int, dtype: str = "float64"
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (T, B, D) and targets (B, O) of one batch."""
    if task == "probe":
        x = rng.standard_normal((seq_len, batch_size, TASK_INFO["probe"].input_size))
        target = rng.standard_normal((batch_size, 1))
    elif task == "adding":
        x = np.zeros((seq_len, batch_size, 2))
        x[:, :, 0] = rng.uniform(0.0, 1.0, (seq_len, batch_size))
        half = seq_len // 2
        first = rng.integers(0, half, batch_size)
        second = rng.integers(half, seq_len, batch_size)
        columns = np.arange(batch_size)
        x[first, columns, 1] = 1.0
        x[second, columns, 1] = 1.0
        target = (x[first, columns, 0] + x[second, columns, 0])[:, None]
    else:
        raise ValueError(f"task: {task!r} is not allowed for a sequence; allowed: {', '.join(RECURRENT_TASKS)}")
    return x.astype(dtype), target.astype(dtype)


def make_points(
    task: str, rng: np.random.Generator, batch_size: int, dtype: str = "float64"
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (B, D) and targets (B, O) of one batch for the feed-forward net."""
    x: np.ndarray
    target: np.ndarray
    if task == "probe":
        x = rng.standard_normal((batch_size, TASK_INFO["probe"].input_size))
        target = rng.standard_normal((batch_size, 1))
    elif task == "spirals":
        t = rng.uniform(0.0, 1.0, batch_size)
        arm = rng.integers(0, 2, batch_size)
        angle = 2.0 * np.pi * t + np.pi * arm
        x = (2.0 * t)[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        x += SPIRAL_NOISE * rng.standard_normal((batch_size, 2))
        target = (2.0 * arm - 1.0)[:, None]
    else:
        raise ValueError(f"task: {task!r} is not allowed with cell=mlp; allowed: {', '.join(FEEDFORWARD_TASKS)}")
    return x.astype(dtype), target.astype(dtype)
