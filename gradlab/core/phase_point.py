"""One point of a phase map: the grid's axes, the map's specification, and how a point is measured.

A point is a ``Config``: the network is initialised as a run of that config would be, and one
forward + backward pass of the run's first batch gives log10 ‖∂L/∂h_t‖ through time, whose slope
per step back is the measured slope; mean-field theory gives the predicted one. ``phase_map``
computes many points in parallel and caches finished maps.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import __version__
from .cells import mlp
from .config import FIELDS, MAX_SEED, Config
from .experiment import initial_params, run
from .gradients import gradients
from .mean_field import predicted_slope
from .tasks import TASK_INFO, make_batch, make_points
from .theory import fitted_slope
from .workspace import Workspace, empty

# Bumped whenever what a map holds, or how a point is computed, changes: old cache entries are
# then simply not found.
CACHE_FORMAT = 1
# The trainability value is the mean loss of the last few updates (one loss is noisy).
TRAINABILITY_LAST = 5


class PhaseMapError(ValueError):
    """A map that cannot be computed (bad axis, bad combination of fields): the message is one line."""


# ---------------------------------------------------------------------------------------- axes


@dataclass(frozen=True)
class Axis:
    """One axis of a map: a numeric Config field and the values it takes (ints for int fields)."""

    field: str
    values: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.values)

    def describe(self) -> str:
        first, last = self.values[0], self.values[-1]
        return f"{self.field}={first:g}:{last:g}:{len(self.values)}"


def numeric_fields() -> tuple[str, ...]:
    """The Config fields a map can sweep."""
    return tuple(name for name, spec in FIELDS.items() if spec.kind != "choice")


def make_axis(field_name: str, start: float, stop: float, count: int) -> Axis:
    """``count`` evenly spaced values from ``start`` to ``stop`` (both included); integer fields
    round them and drop repeats. Raises ``PhaseMapError`` naming what is wrong."""
    spec = FIELDS.get(field_name)
    if spec is None:
        raise PhaseMapError(f"{field_name!r} is not a field; numeric fields: {', '.join(numeric_fields())}")
    if spec.kind == "choice":
        raise PhaseMapError(
            f"{field_name} is a choice ({', '.join(spec.choices)}), not a number; "
            f"numeric fields: {', '.join(numeric_fields())}"
        )
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise PhaseMapError(f"{field_name}: the number of points must be an integer >= 1, not {count!r}")
    for end in (start, stop):
        try:
            spec.check(float(end) if spec.kind == "float" else end)
        except ValueError:
            raise PhaseMapError(
                f"{field_name}: {end!r} is outside the field's range; allowed: {spec.describe()}"
            ) from None
    values = np.linspace(float(start), float(stop), int(count)) if count > 1 else np.array([float(start)])
    if spec.kind == "int":
        rounded = [int(v) for v in np.rint(values)]
        return Axis(field_name, tuple(dict.fromkeys(rounded)))  # order kept, repeats dropped
    return Axis(field_name, tuple(float(v) for v in values))


def parse_axis(text: str) -> Axis:
    """``FIELD=START:STOP:N`` (or ``FIELD=VALUE``) → Axis."""
    name, sep, grid = text.partition("=")
    name = name.strip().replace("-", "_")
    parts = grid.split(":")
    if not sep or len(parts) not in (1, 3):
        raise PhaseMapError(f"{text!r}: expected FIELD=START:STOP:N, e.g. w_rec_scale=0.5:1.5:41")
    try:
        start = float(parts[0])
        stop = float(parts[1]) if len(parts) == 3 else start
        count_value = float(parts[2]) if len(parts) == 3 else 1.0
    except ValueError:
        raise PhaseMapError(f"{text!r}: START, STOP and N must be numbers") from None
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise PhaseMapError(f"{text!r}: START and STOP must be finite")
    if not count_value.is_integer():
        raise PhaseMapError(f"{text!r}: N must be an integer >= 1")
    return make_axis(name, start, stop, int(count_value))


# ---------------------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class PhaseMapSpec:
    """What a map is computed from. ``seeds`` networks (seeds base.seed, base.seed + 1, …) per
    point, their slopes averaged; ``trainability``: also train each point this many updates."""

    base: Config
    x: Axis
    y: Axis
    seeds: int = 1
    trainability: int | None = None

    def __post_init__(self) -> None:
        if self.x.field == self.y.field:
            raise PhaseMapError(f"x and y are both {self.x.field}; choose two different fields")
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or not 1 <= self.seeds <= 1000:
            raise PhaseMapError(f"seeds: {self.seeds!r} must be an integer in [1, 1000]")
        if self.trainability is not None and (
            isinstance(self.trainability, bool) or not isinstance(self.trainability, int) or self.trainability < 1
        ):
            raise PhaseMapError(f"trainability: {self.trainability!r} must be a positive number of updates")
        # Every point must be a valid config: the memory limit grows with the sizes, so the
        # corners of the grid decide.
        for x_value in (min(self.x.values), max(self.x.values)):
            for y_value in (min(self.y.values), max(self.y.values)):
                try:
                    self.point_config(x_value, y_value)
                except ValueError as error:
                    raise PhaseMapError(str(error)) from None

    @property
    def shape(self) -> tuple[int, int]:
        """(Ny, Nx): rows are y values, columns x values."""
        return len(self.y), len(self.x)

    def point_config(self, x_value: float, y_value: float, seed_offset: int = 0) -> Config:
        seed = (self.base.seed + seed_offset) % (MAX_SEED + 1)
        return self.base.replace(**{self.x.field: x_value, self.y.field: y_value, "seed": seed})

    def key(self) -> str:
        """A hash of everything the map's numbers depend on (the cache key)."""
        identity = {
            "format": CACHE_FORMAT,
            "version": __version__,
            "base": self.base.to_dict(),
            "x": [self.x.field, list(self.x.values)],
            "y": [self.y.field, list(self.y.values)],
            "seeds": self.seeds,
            "trainability": self.trainability,
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------------------- one point


def mean_field_scales(config: Config) -> tuple[str, float, float] | None:
    """(activation, σ_w, σ_b) of the mean-field picture of ``config``'s first step (RNN) or of its
    layers (a plain deep feed-forward net), or None where the theory here does not apply (gated
    cells; residual or normalised layers).

    σ_w² is the variance of a weight times its fan-in: s² for gaussian, orthogonal (the same
    second moment), xavier (square layers) and identity (whose weights do not mix: the theory
    fails there, and it is drawn anyway, as a reference), 2·s² for he, s²·H for std (zero: None).
    RNN: σ_b² gathers everything else a pre-activation adds: the biases b_ih + b_hh (each
    U(±1/√H): 1/(3H)) and the input projection (D inputs of second moment E[x²] times W_ih's
    1/(3H)). Deep net: the biases alone (0 by default; N(0, bias_scale²)).
    """
    H = config.hidden_size
    bias_scale = getattr(config, "bias_scale", None)  # the depth mode's bias std, where it exists
    bias_var = float(bias_scale) ** 2 if isinstance(bias_scale, (int, float)) else 0.0
    sigma_w = config.w_rec_scale * {"he": math.sqrt(2.0), "std": math.sqrt(H)}.get(config.init, 1.0)
    if config.init == "zero":  # no signal past the first layer or step: nothing to predict
        return None
    if config.cell == "mlp":
        if config.residual or config.norm != "none":
            return None
        return config.activation, sigma_w, math.sqrt(bias_var)
    if config.cell != "rnn":
        return None
    # probe: D inputs N(0, 1); adding: U[0, 1] values (E[x²] = 1/3) and two marks of 1 in T steps
    probe = config.task == "probe"
    input_moment = float(TASK_INFO["probe"].input_size) if probe else 1.0 / 3.0 + 2.0 / config.seq_len
    sigma_b2 = (input_moment + 2.0) / (3.0 * H) + bias_var
    return config.activation, sigma_w, math.sqrt(sigma_b2)


def predicted_point_slope(config: Config) -> float:
    """The mean-field slope ½·log10 χ₁ per step for ``config`` (nan where it does not apply)."""
    scales = mean_field_scales(config)
    if scales is None:
        return math.nan
    return _predicted_slope(*scales)


@lru_cache(maxsize=4096)
def _predicted_slope(activation: str, sigma_w: float, sigma_b: float) -> float:
    # ~1 ms each (a bisection over quadratures), and a map's rows often share their scales (an
    # axis the theory does not see, such as the sequence length or the learning rate).
    return predicted_slope(activation, sigma_w, sigma_b)


@dataclass(frozen=True)
class PointResult:
    slope: float  # measured, mean over seeds of the finite ones
    total_log10_ratio: float  # log10 ‖∂L/∂h_1‖ − log10 ‖∂L/∂h_T‖, mean over seeds
    predicted_slope: float
    loss_ratio: float = math.nan  # trainability: mean loss of the last updates / baseline


def measure_point(
    config: Config, seeds: int = 1, trainability: int | None = None, workspace: Workspace | None = None
) -> PointResult:
    """The map's numbers at one config (see the module docstring)."""
    slopes, totals, ratios = [], [], []
    task = TASK_INFO[config.task]
    for offset in range(seeds):
        seeded = config.replace(seed=(config.seed + offset) % (MAX_SEED + 1))
        params = _point_params(seeded, workspace)
        data_rng = np.random.default_rng([seeded.seed, 1])  # the run's first batch (see experiment.run)
        with np.errstate(all="ignore"):
            depth_mode = seeded.cell == "mlp"  # a deep feed-forward net: points, layers for steps
            if depth_mode:
                x, target = make_points(seeded.task, data_rng, seeded.batch_size, seeded.dtype)
            else:
                x, target = make_batch(seeded.task, data_rng, seeded.seq_len, seeded.batch_size, seeded.dtype)
            result = gradients(
                seeded.cell,
                params,
                x,
                target,
                activation=seeded.activation,
                loss=task.loss,
                truncation=seeded.truncation,
                workspace=workspace,
                residual=seeded.residual,  # 0 and "none" except in depth mode
                norm=seeded.norm,
            )
            log10_back = result.log10_dh_norm[::-1]  # index = steps back from the last step
            slopes.append(fitted_slope(log10_back))
            totals.append(float(log10_back[-1] - log10_back[0]))
        if trainability is not None:
            ratios.append(_trainability(seeded.replace(iterations=trainability), task.baseline_loss))
    return PointResult(
        slope=_finite_mean(slopes),
        total_log10_ratio=_finite_mean(totals),
        predicted_slope=predicted_point_slope(config),
        loss_ratio=_finite_mean(ratios) if trainability is not None else math.nan,
    )


def _point_params(config: Config, workspace: Workspace | None = None) -> dict[str, np.ndarray]:
    """``initial_params(config)``, bit for bit. A deep feed-forward net's layers are drawn once per
    seed and shape, and rescaled for each weight scale: 50 QR factorisations of 128 × 128 cost
    four times the pass itself, and a map's row over the weight scale shares them. The rescaled
    weights go into ``workspace`` (valid until its next use) rather than fresh memory."""
    if config.cell != "mlp":
        return initial_params(config)
    unit = _unit_scale_params(config.replace(w_rec_scale=1.0, dtype="float64", **_NOT_IN_INIT))
    params = {}
    for name, value in unit.items():
        if name in mlp.SCALED:
            # s·W in float64, then rounded to the run's dtype once: as initial_params does.
            scaled = empty(workspace, f"scaled {name}", value.shape, np.dtype(config.dtype))
            params[name] = np.multiply(value, config.w_rec_scale, out=scaled, casting="same_kind")
        else:
            params[name] = value.astype(config.dtype)
    return params


# Fields the initial weights do not depend on, set to their defaults in the cache's key.
_NOT_IN_INIT = {
    name: getattr(Config(), name)
    for name in ("optimizer", "lr", "weight_decay", "clip", "clip_threshold", "iterations", "batch_size")
}


@lru_cache(maxsize=2)
def _unit_scale_params(config: Config) -> dict[str, np.ndarray]:
    params = initial_params(config)
    for value in params.values():
        value.flags.writeable = False  # shared by every point of the row
    return params


def _trainability(config: Config, baseline: float) -> float:
    losses = [frame.loss for frame in run(config)]
    if len(losses) < (config.iterations or 0):  # the weights became inf or nan
        return math.inf
    last = losses[-TRAINABILITY_LAST:]
    mean = float(np.mean(last))
    return mean / baseline if math.isfinite(mean) else math.inf


def _finite_mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    if finite:
        return float(np.mean(finite))
    return float(values[0]) if values else math.nan  # all inf (or nan): say which
