"""SGD and Adam with L2 weight decay (added to the gradient, as torch.optim's ``weight_decay``).

Both work in place: a deep net's weights are millions of numbers, and fresh memory for every
temporary of a step (Adam has eight) is faulted in page by page on every update. Each parameter's
work arrays come from a ``Workspace`` kept between steps; the operations and their order are those
of the plain expressions (the torch cross-check compares the training to torch.optim's to 1e-15).
"""

from __future__ import annotations

import numpy as np

from .numerics import row_sums_of_squares
from .workspace import Workspace


def _with_decay(g: np.ndarray, p: np.ndarray, weight_decay: float, out: np.ndarray) -> np.ndarray:
    """g + weight_decay·p into ``out`` (torch's ``d_p.add(p, alpha=weight_decay)``); g itself without decay."""
    if not weight_decay:
        return g
    np.multiply(p, weight_decay, out=out)
    out += g
    return out


class SGD:
    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        self.lr, self.weight_decay = lr, weight_decay
        self._work = Workspace()

    def step(
        self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], record: tuple[str, ...] = ()
    ) -> dict[str, np.ndarray]:
        """Update ``params`` in place. Returns, for each parameter named in ``record``, the sums of
        squares of its step's rows (``row_sums_of_squares``: a layer's ‖ΔW_l‖² for stacked weights)."""
        sums = {}
        for name, p in params.items():
            step = self._work.array(name, p.shape, p.dtype)
            g = _with_decay(grads[name], p, self.weight_decay, out=step)
            np.multiply(g, self.lr, out=step)
            p -= step
            if name in record:
                sums[name] = row_sums_of_squares(step)
        return sums


class Adam:
    """Adam (Kingma & Ba 2015) with torch's defaults β = (0.9, 0.999), ε = 1e-8."""

    def __init__(
        self, lr: float, weight_decay: float = 0.0, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0
        self._work = Workspace()

    def step(
        self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], record: tuple[str, ...] = ()
    ) -> dict[str, np.ndarray]:
        """Update ``params`` in place; returns what ``SGD.step`` returns."""
        sums = {}
        self.t += 1
        b1, b2 = self.betas
        correction1 = 1.0 - b1**self.t
        correction2 = 1.0 - b2**self.t
        for name, p in params.items():
            work, step = self._work.array(name, p.shape, p.dtype), self._work.array(f"{name} step", p.shape, p.dtype)
            g = _with_decay(grads[name], p, self.weight_decay, out=step)
            m = self.m.setdefault(name, np.zeros_like(p))
            v = self.v.setdefault(name, np.zeros_like(p))
            m *= b1
            np.multiply(g, 1.0 - b1, out=work)
            m += work
            v *= b2
            np.multiply(g, g, out=work)
            work *= 1.0 - b2
            v += work
            # step = (lr / c1)·m / (√(v / c2) + ε)
            np.divide(v, correction2, out=work)
            np.sqrt(work, out=work)
            work += self.eps
            np.multiply(m, self.lr / correction1, out=step)
            step /= work
            p -= step
            if name in record:
                sums[name] = row_sums_of_squares(step)
        return sums


def make_optimizer(name: str, lr: float, weight_decay: float) -> SGD | Adam:
    if name == "sgd":
        return SGD(lr, weight_decay)
    if name == "adam":
        return Adam(lr, weight_decay)
    raise ValueError(f"optimizer: {name!r} is not allowed; allowed: sgd, adam")
