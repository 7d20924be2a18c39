"""Mean-field theory of signal and gradient propagation through random layers (or steps).

Poole et al. 2016 ("Exponential expressivity in deep neural networks through transient chaos")
and Schoenholz et al. 2017 ("Deep information propagation"): with weights of variance σ_w²/H and
biases of variance σ_b², the pre-activation variance of a wide layer follows

    q_{l+1} = σ_w²·E[φ(√q_l·z)²] + σ_b²,    z ~ N(0, 1),

to a fixed point q*, and a gradient's squared norm is multiplied per layer (per step back, in an
RNN whose weights mix) by χ₁ = σ_w²·E[φ′(√q*·z)²]. So log10 ‖∂L/∂h‖ changes by ½·log10 χ₁ per
step: χ₁ < 1 is the ordered (vanishing) phase, χ₁ > 1 the chaotic (exploding) one, and χ₁ = 1 the
edge of chaos (tanh: σ_w = 1 at σ_b = 0, moving to larger σ_w as σ_b grows). The depth scale
ξ = −1/ln χ₁ is how many steps a gradient travels before it shrinks (or grows) by a factor e.

Expectations over z are dense trapezoid quadratures (exact to rounding for the smooth activations
at the variances a config can reach); ReLU and the identity have closed forms, which are used
because a quadrature of ReLU's step-shaped derivative is only as good as its node count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# The expectations are trapezoid sums over z in [−Z, Z] (the Gaussian weight beyond is < 1e-22):
# for a smooth integrand that decays, this converges faster than any power of the spacing, as long
# as the spacing resolves φ′(√q z), whose width in z is ~1/√q. 4001 nodes keep 10 nodes across it
# up to q ≈ 250 (σ_w ≈ 15); Gauss–Hermite nodes, spaced ~0.3 near 0, miss it beyond q ≈ 10.
QUADRATURE_NODES = 4001
QUADRATURE_HALF_WIDTH = 10.0
# Halvings of the bracket of q*: enough to reach the last bit of a float64.
FIXED_POINT_BISECTIONS = 200


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _sigmoid_prime(x: np.ndarray) -> np.ndarray:
    s = _sigmoid(x)
    return s * (1.0 - s)


# φ and φ′ of the activations the quadrature integrates.
_SMOOTH: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "sigmoid": (_sigmoid, _sigmoid_prime),
}
ACTIVATIONS: tuple[str, ...] = ("tanh", "sigmoid", "relu", "linear")


@lru_cache(maxsize=1)
def _quadrature() -> tuple[np.ndarray, np.ndarray]:
    """Nodes z_i and weights w_i with Σ w_i f(z_i) ≈ E[f(z)], z ~ N(0, 1)."""
    nodes = np.linspace(-QUADRATURE_HALF_WIDTH, QUADRATURE_HALF_WIDTH, QUADRATURE_NODES)
    weights = np.exp(-0.5 * nodes * nodes) * (nodes[1] - nodes[0]) / math.sqrt(2.0 * math.pi)
    return nodes, weights


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: {activation!r} is not allowed; allowed: {', '.join(ACTIVATIONS)}")


def _check_scales(sigma_w: float, sigma_b: float) -> None:
    if not (math.isfinite(sigma_w) and sigma_w >= 0.0):
        raise ValueError(f"sigma_w: {sigma_w!r} must be a finite number >= 0")
    if not (math.isfinite(sigma_b) and sigma_b >= 0.0):
        raise ValueError(f"sigma_b: {sigma_b!r} must be a finite number >= 0")


def second_moment(activation: str, q: float) -> float:
    """E[φ(√q·z)²], z ~ N(0, 1)."""
    _check_activation(activation)
    if activation == "linear":
        return q
    if activation == "relu":
        return q / 2.0
    phi, _ = _SMOOTH[activation]
    nodes, weights = _quadrature()
    return float(weights @ phi(math.sqrt(q) * nodes) ** 2)


def derivative_moment(activation: str, q: float) -> float:
    """E[φ′(√q·z)²], z ~ N(0, 1)."""
    _check_activation(activation)
    if activation == "linear":
        return 1.0
    if activation == "relu":
        return 0.5  # φ′ is 1 on half of the line, whatever the variance
    _, phi_prime = _SMOOTH[activation]
    nodes, weights = _quadrature()
    return float(weights @ phi_prime(math.sqrt(q) * nodes) ** 2)


def fixed_point(activation: str, sigma_w: float, sigma_b: float) -> float:
    """q*: the stable fixed point of q ↦ σ_w²·E[φ(√q z)²] + σ_b² (the variance a deep stack settles to).

    inf where the variance grows without bound (the identity with σ_w ≥ 1, ReLU with σ_w ≥ √2).
    """
    _check_activation(activation)
    _check_scales(sigma_w, sigma_b)
    w2, b2 = sigma_w * sigma_w, sigma_b * sigma_b
    if activation in ("linear", "relu"):
        # A linear map of q: q* = b²/(1 − g·w²) when g·w² < 1, with g = E[φ(√q z)²]/q.
        gain = w2 * (1.0 if activation == "linear" else 0.5)
        if gain < 1.0:
            return b2 / (1.0 - gain)
        return 0.0 if b2 == 0.0 else math.inf
    # tanh and sigmoid are bounded by 1, so f(q) = w²·E[φ²] + b² − q is negative beyond w² + b²,
    # and E[φ(√q z)²] is concave in q: f has one root above 0 (the stable fixed point), found by
    # bisection, which stays exact where iterating the map would crawl (near χ₁ = 1 at σ_b = 0,
    # q_l falls like 1/l). At σ_b = 0, tanh's q = 0 is itself a fixed point, the stable one when
    # σ_w ≤ 1 (the slope of the map at 0 is σ_w²·φ′(0)²).
    if activation == "tanh" and b2 == 0.0 and w2 <= 1.0:
        return 0.0
    low, high = 0.0, w2 + b2
    for _ in range(FIXED_POINT_BISECTIONS):
        middle = 0.5 * (low + high)
        if high - low <= 1e-15 * high:
            break
        if w2 * second_moment(activation, middle) + b2 - middle > 0.0:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def chi1(activation: str, sigma_w: float, sigma_b: float) -> float:
    """χ₁ = σ_w²·E[φ′(√q*·z)²]: the mean factor on a gradient's squared norm per step."""
    q = fixed_point(activation, sigma_w, sigma_b)
    if activation in ("linear", "relu"):
        return sigma_w * sigma_w * derivative_moment(activation, 0.0)
    return sigma_w * sigma_w * derivative_moment(activation, q)


def predicted_slope(activation: str, sigma_w: float, sigma_b: float) -> float:
    """½·log10 χ₁: the predicted change of log10 ‖∂L/∂h‖ per step back (< 0 vanishing)."""
    chi = chi1(activation, sigma_w, sigma_b)
    return 0.5 * math.log10(chi) if chi > 0.0 else -math.inf


def depth_scale(activation: str, sigma_w: float, sigma_b: float) -> float:
    """ξ = −1/ln χ₁ steps (negative in the chaotic phase: the steps over which it grows by e;
    inf at the edge of chaos)."""
    chi = chi1(activation, sigma_w, sigma_b)
    if chi == 1.0:
        return math.inf
    if chi == 0.0:
        return 0.0
    return -1.0 / math.log(chi)


@dataclass(frozen=True)
class MeanField:
    """Everything the theory says about one (activation, σ_w, σ_b)."""

    activation: str
    sigma_w: float
    sigma_b: float
    q_star: float
    chi1: float
    slope: float  # ½·log10 χ₁ per step
    depth_scale: float  # −1/ln χ₁ steps

    @classmethod
    def of(cls, activation: str, sigma_w: float, sigma_b: float) -> MeanField:
        return cls(
            activation,
            float(sigma_w),
            float(sigma_b),
            fixed_point(activation, sigma_w, sigma_b),
            chi1(activation, sigma_w, sigma_b),
            predicted_slope(activation, sigma_w, sigma_b),
            depth_scale(activation, sigma_w, sigma_b),
        )


def critical_sigma_w(activation: str, sigma_b: float, high: float = 100.0) -> float:
    """The σ_w at which χ₁ = 1 for this σ_b (the edge of chaos); nan if there is none in (0, high].

    χ₁ grows with σ_w for every activation here, so the crossing is found by bisection on log σ_w.
    """
    _check_activation(activation)
    low_w, high_w = 1e-6, float(high)
    if chi1(activation, low_w, sigma_b) >= 1.0 or chi1(activation, high_w, sigma_b) < 1.0:
        return math.nan
    for _ in range(200):
        middle = math.sqrt(low_w * high_w)
        if chi1(activation, middle, sigma_b) < 1.0:
            low_w = middle
        else:
            high_w = middle
        if high_w / low_w - 1.0 < 1e-12:
            break
    return math.sqrt(low_w * high_w)


def critical_line(activation: str, sigma_b_values: np.ndarray) -> np.ndarray:
    """critical_sigma_w for each σ_b: the line χ₁ = 1 over the (σ_w, σ_b) plane."""
    return np.array([critical_sigma_w(activation, float(b)) for b in np.asarray(sigma_b_values, dtype=float)])
