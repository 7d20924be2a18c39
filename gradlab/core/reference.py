"""The three cells written plainly, to read: forward pass and backpropagation through time in one
short function per cell, in the style of Karpathy's min-char-rnn.

Nothing here is fast, and nothing here is used by the app: ``gradlab.core.cells`` holds the
passes the app runs (fused, in preallocated work arrays, with underflow handling), and the tests
check that they compute exactly what these functions compute.

Layout and equations are PyTorch's (see DESIGN §4): time-major inputs ``x (T, B, D)``, row
vectors, h_0 = c_0 = 0, stacked gate blocks ``W_ih (G·H, D)``, ``W_hh (G·H, H)``, ``b_ih``,
``b_hh (G·H,)``, readout ``W_out (O, H)``, ``b_out (O,)``. The loss is the mean squared error of
the readout y_t = h_t W_outᵀ + b_out: at the last step only (``target (B, O)``) or summed over
the steps (``target (T, B, O)``).

Each function returns ``(loss, grads, dh)``: the gradients of every parameter (same keys and
shapes) and ``dh (T, B, H)``, the total ∂L/∂h_t for t = 1 … T — the curve the window draws.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray
Params = dict[str, Array]


def sigmoid(a: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-a))  # type: ignore[no-any-return]


ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    # name: (φ, φ' written in terms of the output h = φ(a))
    "tanh": (np.tanh, lambda h: 1.0 - h**2),
    "sigmoid": (sigmoid, lambda h: h * (1.0 - h)),
    "relu": (lambda a: np.maximum(a, 0.0), lambda h: (h > 0).astype(h.dtype)),
    "linear": (lambda a: a, lambda h: np.ones_like(h)),
}


def readout_loss(params: Params, hs: list[Array], target: Array) -> tuple[float, list[Array], Params]:
    """The MSE of the readout and its gradient at each h_t: ``(loss, dh_loss, grads of W_out, b_out)``.

    ``hs[t]`` is h_t for t = 1 … T (``hs[0]`` is h_0). ``dh_loss[t-1]`` is the loss's *direct*
    gradient at h_t (zero where step t has no loss term).
    """
    W_out, b_out = params["W_out"], params["b_out"]
    T = len(hs) - 1
    steps = [T] if target.ndim == 2 else list(range(1, T + 1))
    loss = 0.0
    dh_loss = [np.zeros_like(hs[1]) for _ in range(T)]
    grads = {"W_out": np.zeros_like(W_out), "b_out": np.zeros_like(b_out)}
    for t in steps:
        target_t = target if target.ndim == 2 else target[t - 1]  # (B, O)
        err = hs[t] @ W_out.T + b_out - target_t  # (B, O)
        loss += float(np.mean(err**2))
        dy = 2.0 * err / err.size  # ∂L/∂y_t, (B, O)
        dh_loss[t - 1] = dy @ W_out  # (B, H)
        grads["W_out"] += dy.T @ hs[t]  # (O, H)
        grads["b_out"] += dy.sum(axis=0)  # (O,)
    return loss, dh_loss, grads


def rnn(params: Params, x: Array, target: Array, activation: str = "tanh") -> tuple[float, Params, Array]:
    """Vanilla RNN: h_t = φ(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh)."""
    phi, dphi = ACTIVATIONS[activation]
    W_ih, W_hh, b_ih, b_hh = params["W_ih"], params["W_hh"], params["b_ih"], params["b_hh"]
    T, B, _ = x.shape
    H = W_hh.shape[1]

    hs = [np.zeros((B, H))]  # h_0
    for t in range(1, T + 1):
        hs.append(phi(x[t - 1] @ W_ih.T + b_ih + hs[t - 1] @ W_hh.T + b_hh))  # (B, H)
    loss, dh_loss, grads = readout_loss(params, hs, target)

    grads.update({name: np.zeros_like(params[name]) for name in ("W_ih", "W_hh", "b_ih", "b_hh")})
    dh = np.zeros((T, B, H))
    dh_next = np.zeros((B, H))  # ∂L/∂h_t through step t+1
    for t in range(T, 0, -1):
        dh[t - 1] = dh_loss[t - 1] + dh_next  # total ∂L/∂h_t
        da = dh[t - 1] * dphi(hs[t])  # ∂L/∂a_t, (B, H)
        grads["W_ih"] += da.T @ x[t - 1]
        grads["W_hh"] += da.T @ hs[t - 1]
        grads["b_ih"] += da.sum(axis=0)
        grads["b_hh"] += da.sum(axis=0)
        dh_next = da @ W_hh
    return loss, grads, dh


def lstm(params: Params, x: Array, target: Array) -> tuple[float, Params, Array]:
    """LSTM, gate blocks [i|f|g|o]: c_t = f·c_{t−1} + i·g, h_t = o·tanh(c_t)."""
    W_ih, W_hh, b_ih, b_hh = params["W_ih"], params["W_hh"], params["b_ih"], params["b_hh"]
    T, B, _ = x.shape
    H = W_hh.shape[1]

    hs, cs, gates = [np.zeros((B, H))], [np.zeros((B, H))], []
    for t in range(1, T + 1):
        z = x[t - 1] @ W_ih.T + b_ih + hs[t - 1] @ W_hh.T + b_hh  # (B, 4H)
        i, f, g, o = sigmoid(z[:, :H]), sigmoid(z[:, H : 2 * H]), np.tanh(z[:, 2 * H : 3 * H]), sigmoid(z[:, 3 * H :])
        cs.append(f * cs[t - 1] + i * g)
        hs.append(o * np.tanh(cs[t]))
        gates.append((i, f, g, o))
    loss, dh_loss, grads = readout_loss(params, hs, target)

    grads.update({name: np.zeros_like(params[name]) for name in ("W_ih", "W_hh", "b_ih", "b_hh")})
    dh = np.zeros((T, B, H))
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    for t in range(T, 0, -1):
        i, f, g, o = gates[t - 1]
        dh[t - 1] = dh_loss[t - 1] + dh_next
        tanh_c = np.tanh(cs[t])
        dc = dc_next + dh[t - 1] * o * (1.0 - tanh_c**2)  # total ∂L/∂c_t
        dz = np.concatenate(
            [
                dc * g * i * (1.0 - i),  # through i
                dc * cs[t - 1] * f * (1.0 - f),  # through f
                dc * i * (1.0 - g**2),  # through g
                dh[t - 1] * tanh_c * o * (1.0 - o),  # through o
            ],
            axis=1,
        )  # ∂L/∂z_t, (B, 4H)
        grads["W_ih"] += dz.T @ x[t - 1]
        grads["W_hh"] += dz.T @ hs[t - 1]
        grads["b_ih"] += dz.sum(axis=0)
        grads["b_hh"] += dz.sum(axis=0)
        dh_next = dz @ W_hh
        dc_next = dc * f  # the cell path: the gradient is multiplied by the forget gate
    return loss, grads, dh


def gru(params: Params, x: Array, target: Array) -> tuple[float, Params, Array]:
    """GRU, gate blocks [r|z|n]: n = tanh(gi_n + r·gh_n), h_t = (1 − z)·n + z·h_{t−1}."""
    W_ih, W_hh, b_ih, b_hh = params["W_ih"], params["W_hh"], params["b_ih"], params["b_hh"]
    T, B, _ = x.shape
    H = W_hh.shape[1]

    hs, steps = [np.zeros((B, H))], []
    for t in range(1, T + 1):
        gi = x[t - 1] @ W_ih.T + b_ih  # (B, 3H)
        gh = hs[t - 1] @ W_hh.T + b_hh  # (B, 3H)
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
        n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])  # r multiplies the recurrent term and b_hn
        hs.append((1.0 - z) * n + z * hs[t - 1])
        steps.append((r, z, n, gh[:, 2 * H :]))
    loss, dh_loss, grads = readout_loss(params, hs, target)

    grads.update({name: np.zeros_like(params[name]) for name in ("W_ih", "W_hh", "b_ih", "b_hh")})
    dh = np.zeros((T, B, H))
    dh_next = np.zeros((B, H))
    for t in range(T, 0, -1):
        r, z, n, gh_n = steps[t - 1]
        dh[t - 1] = dh_loss[t - 1] + dh_next
        dn = dh[t - 1] * (1.0 - z) * (1.0 - n**2)  # ∂L/∂(pre-activation of n)
        dr = dn * gh_n * r * (1.0 - r)
        dz = dh[t - 1] * (hs[t - 1] - n) * z * (1.0 - z)
        dgi = np.concatenate([dr, dz, dn], axis=1)  # ∂L/∂gi_t, (B, 3H)
        dgh = np.concatenate([dr, dz, dn * r], axis=1)  # ∂L/∂gh_t, (B, 3H)
        grads["W_ih"] += dgi.T @ x[t - 1]
        grads["W_hh"] += dgh.T @ hs[t - 1]
        grads["b_ih"] += dgi.sum(axis=0)
        grads["b_hh"] += dgh.sum(axis=0)
        dh_next = dgh @ W_hh + dh[t - 1] * z  # through the gates, and along the z·h path
    return loss, grads, dh
