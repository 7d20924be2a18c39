"""Activation functions of the vanilla RNN, each with its derivative written in terms of its output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic function, without overflow: σ(x) = (1 + tanh(x/2)) / 2."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _tanh(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    result: np.ndarray = np.tanh(x, out=out)
    return result


def _relu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    result: np.ndarray = np.maximum(x, 0, out=out)
    return result


def _linear(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    if out is None:
        copy: np.ndarray = x.copy()
        return copy
    np.copyto(out, x)
    return out


@dataclass(frozen=True)
class Activation:
    """φ and φ' (as a function of y = φ(x)); ``gamma`` = sup φ', the Pascanu et al. constant."""

    name: str
    forward: Callable[..., np.ndarray]
    derivative_from_output: Callable[[np.ndarray], np.ndarray]
    gamma: float


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", _tanh, lambda y: 1.0 - y * y, 1.0),
    "sigmoid": Activation("sigmoid", sigmoid, lambda y: y * (1.0 - y), 0.25),
    "relu": Activation("relu", _relu, lambda y: (y > 0).astype(y.dtype), 1.0),
    "linear": Activation("linear", _linear, lambda y: np.ones_like(y), 1.0),
}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"activation: {name!r} is not allowed; allowed: {', '.join(ACTIVATIONS)}") from None
