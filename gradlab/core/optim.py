"""SGD and Adam with L2 weight decay (added to the gradient, as torch.optim's ``weight_decay``)."""

from __future__ import annotations

import numpy as np


class SGD:
    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        self.lr, self.weight_decay = lr, weight_decay

    def step(
        self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], record: tuple[str, ...] = ()
    ) -> dict[str, np.ndarray]:
        """Update ``params`` in place; returns the steps subtracted from those named in ``record``."""
        steps = {}
        for name, p in params.items():
            g = grads[name]
            if self.weight_decay:
                g = g + self.weight_decay * p
            step = self.lr * g
            p -= step
            if name in record:
                steps[name] = step
        return steps


class Adam:
    """Adam (Kingma & Ba 2015) with torch's defaults β = (0.9, 0.999), ε = 1e-8."""

    def __init__(
        self, lr: float, weight_decay: float = 0.0, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def step(
        self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], record: tuple[str, ...] = ()
    ) -> dict[str, np.ndarray]:
        """Update ``params`` in place; returns the steps subtracted from those named in ``record``."""
        steps = {}
        self.t += 1
        b1, b2 = self.betas
        correction1 = 1.0 - b1**self.t
        correction2 = 1.0 - b2**self.t
        for name, p in params.items():
            g = grads[name]
            if self.weight_decay:
                g = g + self.weight_decay * p
            m = self.m.setdefault(name, np.zeros_like(p))
            v = self.v.setdefault(name, np.zeros_like(p))
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            step = (self.lr / correction1) * m / (np.sqrt(v / correction2) + self.eps)
            p -= step
            if name in record:
                steps[name] = step
        return steps


def make_optimizer(name: str, lr: float, weight_decay: float) -> SGD | Adam:
    if name == "sgd":
        return SGD(lr, weight_decay)
    if name == "adam":
        return Adam(lr, weight_decay)
    raise ValueError(f"optimizer: {name!r} is not allowed; allowed: sgd, adam")
