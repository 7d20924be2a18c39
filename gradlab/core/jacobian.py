"""The singular values of the vanilla RNN's Jacobian ∂h_T/∂h_{T−k} for one sequence (dynamical isometry).

Saxe, McClelland & Ganguli 2014; Pennington, Schoenholz & Ganguli 2017: orthogonal weights keep
these singular values near 1 in the linear case, Gaussian weights spread them over decades as k
grows. With h_t = φ(x_t W_ihᵀ + b + h_{t−1} W_hhᵀ), one step's Jacobian is
J_t = ∂h_t/∂h_{t−1} = diag(φ′(a_t))·W_hh, and ∂h_T/∂h_{T−k} = J_T ⋯ J_{T−k+1}. It costs k·H³:
compute it on demand, not every update.

The feed-forward net (cell ``mlp``) has the same picture across layers: ∂h_L/∂h_{L−k}, with one
step J_l = diag(φ′(u_l))·W_l (or I + α·diag(φ′(u_l))·W_l on a residual path), every layer its own
W_l. A normalised net (BatchNorm couples the batch's samples) and the gated cells are left out.

``JacobianProbe`` is the run's side of the Jacobian panel: the run hands it each update's weights
and the first sequence's hidden states (copies of O(H² + T·H), nothing computed); while the panel
is shown, ``measure`` computes the singular values every ``jacobian_every`` updates, a number
fixed by the Config and k, never a clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .activations import get_activation
from .config import Config

if TYPE_CHECKING:
    from .gradients import Gradients


def step_jacobians(w_hh: np.ndarray, hidden: np.ndarray, activation: str) -> np.ndarray:
    """``hidden (T, H)``: h_1 … h_T of one sequence; returns J (T, H, H) with J[t] = ∂h_{t+1}/∂h_t."""
    deriv = get_activation(activation).derivative_from_output(np.asarray(hidden, dtype=np.float64))
    return deriv[:, :, None] * np.asarray(w_hh, dtype=np.float64)[None]


def jacobian_product(w_hh: np.ndarray, hidden: np.ndarray, activation: str, k: int) -> np.ndarray:
    """∂h_T/∂h_{T−k} (H, H) for one sequence, ``1 ≤ k ≤ T``."""
    T, H = hidden.shape
    if not 1 <= k <= T:
        raise ValueError(f"k: {k!r} must be in [1, {T}]")
    deriv = get_activation(activation).derivative_from_output(np.asarray(hidden[T - k :], dtype=np.float64))
    w = np.asarray(w_hh, dtype=np.float64)
    product = np.eye(H)
    for t in range(k):  # from the step nearest to T - k up to T: product ← J_t · product
        product = deriv[t][:, None] * (w @ product)
    return product


def jacobian_singular_values(w_hh: np.ndarray, hidden: np.ndarray, activation: str, k: int) -> np.ndarray:
    """Singular values of ∂h_T/∂h_{T−k}, largest first."""
    return np.linalg.svd(jacobian_product(w_hh, hidden, activation, k), compute_uv=False)


def _log10_singular_values_of_product(
    derivs: np.ndarray, weights: np.ndarray, residual: float = 0.0
) -> tuple[np.ndarray, float]:
    """log10 singular values (largest first, -inf for exact zeros) of J_k ⋯ J_1 with
    J_j = diag(derivs[j])·W_j (``weights`` (H, H) tied, or (k, H, H)), or I + residual·diag·W_j;
    and the rounding floor log10(σ_max·H·ε) below which a value is noise of the product.

    The product is rescaled by its largest entry after every step and the scales are added in
    log10: over hundreds of steps it spans more than float64 can hold (0.25^600 = 1e-361)."""
    k, H = derivs.shape
    if not (np.isfinite(weights).all() and np.isfinite(derivs).all()):
        return np.full(H, np.nan), math.nan
    tied = weights.ndim == 2
    product = np.eye(H)
    log10_scale = 0.0
    for j in range(k):
        w = weights if tied else weights[j]
        step = derivs[j][:, None] * (w @ product)
        product = product + residual * step if residual else step
        largest = float(np.max(np.abs(product)))
        if not math.isfinite(largest):  # weights near float64's limit: one step overflows
            return np.full(H, np.nan), math.nan
        if largest == 0.0:  # e.g. every ReLU unit off at one step: the Jacobian is exactly 0
            return np.full(H, -np.inf), -math.inf
        product /= largest
        log10_scale += math.log10(largest)
    values = np.linalg.svd(product, compute_uv=False)
    with np.errstate(divide="ignore"):
        log10_values = np.log10(values) + log10_scale
    floor = float(log10_values[0]) + math.log10(H * np.finfo(np.float64).eps)
    return log10_values, floor


def jacobian_log10_singular_values(
    w_hh: np.ndarray, hidden: np.ndarray, activation: str, k: int
) -> tuple[np.ndarray, float]:
    """log10 singular values of the vanilla RNN's ∂h_T/∂h_{T−k} (largest first; ``hidden (T, H)``
    of one sequence), overflow-safe, and the rounding floor (see ``_log10_singular_values_of_product``)."""
    T, _ = hidden.shape
    _check_k(k, T)
    derivs = get_activation(activation).derivative_from_output(np.asarray(hidden[T - k :], dtype=np.float64))
    return _log10_singular_values_of_product(derivs, np.asarray(w_hh, dtype=np.float64))


def layer_jacobian_log10_singular_values(
    w_layers: np.ndarray, phi: np.ndarray, activation: str, k: int, residual: float = 0.0
) -> tuple[np.ndarray, float]:
    """The feed-forward net's ∂h_L/∂h_{L−k}, ``1 ≤ k ≤ L − 1``: ``w_layers (L−1, H, H)`` the
    weights of layers 2 … L, ``phi (L, H)`` φ(u_l) of one sample (layer 1 first)."""
    L = phi.shape[0]
    _check_k(k, L - 1)
    derivs = get_activation(activation).derivative_from_output(np.asarray(phi[L - k :], dtype=np.float64))
    weights = np.asarray(w_layers[L - 1 - k :], dtype=np.float64)
    return _log10_singular_values_of_product(derivs, weights, residual)


def _check_k(k: object, k_max: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= k_max:
        raise ValueError(f"k: {k!r} must be a whole number of steps in [1, {k_max}]")


def jacobian_supported(config: Config) -> bool:
    """The vanilla RNN, and the feed-forward net without normalisation (whose Jacobian is that of
    one sample): a gated cell's Jacobian has the gates' own paths, which this panel leaves out."""
    return config.cell == "rnn" or (config.cell == "mlp" and config.norm == "none")


# One measurement's budget: each step back multiplies two H × H matrices (2·H³ flops). 2·10¹⁰
# flops is about a second on this kind of machine: k is capped there, so that no request (H = 1024
# and k = 5000 would take minutes) holds a pause or a restart behind it.
K_BUDGET_FLOPS = 2e10


def jacobian_k_max(config: Config) -> int:
    """The largest k: T steps for the RNN (back to h_0), L − 1 layers for the feed-forward net,
    at most as many as ``K_BUDGET_FLOPS`` pays for (see :func:`k_capped`)."""
    length = config.seq_len - 1 if config.cell == "mlp" else config.seq_len
    return max(1, min(length, _affordable_k(config.hidden_size)))


def k_capped(config: Config) -> bool:
    """Whether the cost, not the length, sets the largest k."""
    length = config.seq_len - 1 if config.cell == "mlp" else config.seq_len
    return _affordable_k(config.hidden_size) < length


def _affordable_k(hidden_size: int) -> int:
    return int(K_BUDGET_FLOPS // (2.0 * hidden_size**3))


def default_k(config: Config) -> int:
    """Half the sequence (or the depth): far enough back to see the spread, T/2 by default."""
    return max(1, min(jacobian_k_max(config), config.seq_len // 2))


# What decides how often the probe measures: its share of the run's time, and a rate of about a
# few a second on a nominal machine. Both from flop counts of the Config, never a clock, so that
# the same Config and k measure the same updates.
JACOBIAN_SHARE = 0.25  # at most about this share of the simulation's time
JACOBIAN_PER_SECOND = 4.0  # at most about this many a second on a machine doing NOMINAL_FLOPS
NOMINAL_FLOPS = 2e9  # effective flop/s of one core on the run's NumPy calls, overheads included
STEP_OVERHEAD_FLOPS = 2e4  # a few NumPy calls per step cost about what this many flops do


def jacobian_every(config: Config, k: int) -> int:
    """Updates between two measurements: the product's 2·k·H³ and the SVD's ≈30·H³ flops kept
    under ``JACOBIAN_SHARE`` of an update's ≈8·G·T·B·H², and no more than
    ``JACOBIAN_PER_SECOND`` at ``NOMINAL_FLOPS``."""
    H, T, B = config.hidden_size, config.seq_len, config.batch_size
    update = 8.0 * config.gates * T * B * H * H + 4 * T * STEP_OVERHEAD_FLOPS
    measurement = 2.0 * k * H**3 + 30.0 * H**3 + k * STEP_OVERHEAD_FLOPS
    by_share = measurement / (JACOBIAN_SHARE * update)
    by_rate = NOMINAL_FLOPS / JACOBIAN_PER_SECOND / update
    return max(1, math.ceil(by_share), math.ceil(by_rate))


@dataclass(frozen=True)
class JacobianSpectrum:
    """The singular values of ∂h_T/∂h_{T−k} (∂h_L/∂h_{L−k} for the feed-forward net) of the
    first sequence (sample) of the batch, from update ``iteration``'s weights and forward pass."""

    iteration: int
    k: int
    log10_singular_values: np.ndarray  # (H,), largest first; -inf: exactly 0
    log10_floor: float  # log10(σ_max·H·ε): values below it are rounding noise of the product
    note: str = ""  # why there are no values ("" when there are)

    def __post_init__(self) -> None:
        self.log10_singular_values.flags.writeable = False

    def __setstate__(self, state: dict[str, object]) -> None:
        # Unpickled (from the simulation process): the array arrives writeable; lock it again.
        self.__dict__.update(state)
        self.__post_init__()


@dataclass
class _Sample:
    """What one update hands the probe: copies, since the run changes its arrays in place."""

    iteration: int
    weights: np.ndarray  # W_hh (H, H); mlp: the last k_max layers' (L−1, H, H)
    states: np.ndarray  # the first sequence's h_1 … h_T (T, H); mlp: φ(u_l) of the first sample (L, H)


@dataclass
class JacobianProbe:
    """The run's side of the Jacobian panel (see the module's docstring).

    ``k`` None: the panel is hidden and nothing is computed (the RNN's sample, a copy of O(H² + T·H),
    is still kept, so that the panel shown while paused has the latest update's values at once;
    the feed-forward net's, L·H², only while shown)."""

    config: Config
    k: int | None = None
    every: int = field(init=False, default=1)
    _sample: _Sample | None = field(init=False, default=None, repr=False)
    _next: int = field(init=False, default=0)  # the first update due for a measurement
    _measured: tuple[int, int] | None = field(init=False, default=None)  # (iteration, k) of the last one

    def __post_init__(self) -> None:
        self.request(self.k)

    @property
    def sample(self) -> _Sample | None:
        """The latest update's weights and hidden states, as a measurement would use them."""
        return self._sample

    @property
    def supported(self) -> bool:
        return jacobian_supported(self.config)

    def request(self, k: int | None) -> None:
        """Measure ∂h_T/∂h_{T−k} from now on (at the next chance, then every ``every`` updates);
        None: stop. A k beyond this run's length (asked for a previous run) is taken as the length."""
        if k is not None:
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
                raise ValueError(f"k: {k!r} must be a whole number of steps ≥ 1")
            k = min(int(k), jacobian_k_max(self.config))
        self.k = k
        self.every = jacobian_every(self.config, k) if k is not None else 1
        self._next = 0  # a new request is answered at once

    def observe(self, iteration: int, w_hh: np.ndarray, result: Gradients) -> None:
        """Called by the run with the weights its pass used (before the optimiser's step)."""
        if not self.supported:
            return
        if self.config.cell == "rnn":
            self._sample = _Sample(iteration, np.array(w_hh), np.array(result.hidden[:, 0]))
        elif self.k is not None and result.feedforward is not None:
            self._sample = _Sample(iteration, np.array(w_hh), np.array(result.feedforward.phi[:, 0]))

    def measure(self, *, latest: bool = False) -> JacobianSpectrum | None:
        """The singular values of the latest update's Jacobian if one is due (or, with ``latest``,
        if it was not measured yet: the run waits, paused, on that update), else None."""
        sample, k = self._sample, self.k
        if k is None or sample is None or self._measured == (sample.iteration, k):
            return None
        if sample.iteration < self._next and not latest:
            return None
        self._next, self._measured = sample.iteration + self.every, (sample.iteration, k)
        with np.errstate(all="ignore"):
            if self.config.cell == "rnn":
                values, floor = jacobian_log10_singular_values(sample.weights, sample.states, self.config.activation, k)
            else:
                values, floor = layer_jacobian_log10_singular_values(
                    sample.weights, sample.states, self.config.activation, k, self.config.residual
                )
        note = "" if np.isfinite(floor) or np.isneginf(values).all() else "the weights or states are not finite"
        return JacobianSpectrum(sample.iteration, k, values, floor, note)
