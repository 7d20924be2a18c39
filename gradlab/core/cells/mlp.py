"""Deep feed-forward network ("depth mode"): the same vanishing and exploding gradients, across layers.

Layer 1 maps the input D → H, layers 2 … L map H → H with their own (untied) weights, in torch's
row-vector layout (``nn.Linear``):

    a_l = h_{l-1} W_lᵀ + b_l        (h_0 = x)
    u_l = norm(a_l)                  none, BatchNorm (over the batch) or LayerNorm (over the units),
                                     each with a learnable gain and shift, eps = 1e-5, as torch
    h_l = φ(u_l)                     for l = 1, and for every layer when α = 0
    h_l = h_{l-1} + α·φ(u_l)         for l ≥ 2 when α = ``residual`` > 0

Parameters: ``W_ih (H, D)``, ``b_ih (H,)`` (layer 1); ``W_hh (L-1, H, H)``, ``b_hh (L-1, H)``
(layers 2 … L); with a norm also ``norm_gain``, ``norm_shift (L, H)``. Shapes: x (B, D);
``hs (L, B, H)`` holds h_1 … h_L; ``dh (L, B, H)`` is the total ∂L/∂h_l.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..activations import Activation
from ..numerics import PLAIN_SUM
from ..workspace import Workspace, empty
from .underflow import flush_subnormal, near_underflow

NORMS = ("none", "batch", "layer")
NORM_EPS = 1e-5  # torch's default for BatchNorm1d and LayerNorm


@dataclass
class Cache:
    x: np.ndarray  # (B, D)
    hs: np.ndarray  # (L, B, H): h_1 … h_L
    phi: np.ndarray  # (L, B, H): φ(u_l) (the same memory as hs when there is no residual path)
    xhat: np.ndarray | None  # (L, B, H): the normalised pre-activations (norm only)
    inv_std: np.ndarray | None  # (L, H) for batch, (L, B) for layer: 1/√(var + eps)
    activation: Activation
    residual: float
    norm: str


def _normalise(
    a: np.ndarray, norm: str, gain: np.ndarray, shift: np.ndarray, xhat: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """u = gain·(a − mean)/√(var + eps) + shift over the batch (axis 0) or the units (axis 1),
    with the biased variance, as torch in training mode. Writes x̂ into ``xhat``; returns 1/√(var + eps)."""
    axis = 0 if norm == "batch" else 1
    mean = a.mean(axis=axis, keepdims=True)
    np.subtract(a, mean, out=xhat)
    var = np.mean(xhat * xhat, axis=axis, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + NORM_EPS)
    xhat *= inv_std
    np.multiply(xhat, gain, out=out)
    out += shift
    return np.asarray(inv_std.reshape(-1))


def _normalise_backward(
    du: np.ndarray, norm: str, gain: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """∂L/∂a from ∂L/∂u, and the gain's and shift's gradients."""
    d_gain = np.einsum("bh,bh->h", du, xhat)
    d_shift = du.sum(axis=0)
    dxhat = du * gain
    axis = 0 if norm == "batch" else 1
    scale = inv_std[None, :] if norm == "batch" else inv_std[:, None]
    mean_dxhat = dxhat.mean(axis=axis, keepdims=True)
    mean_dxhat_xhat = np.mean(dxhat * xhat, axis=axis, keepdims=True)
    da = (dxhat - mean_dxhat - xhat * mean_dxhat_xhat) * scale
    return da, d_gain, d_shift


def forward(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    activation: Activation,
    *,
    residual: float = 0.0,
    norm: str = "none",
    workspace: Workspace | None = None,
) -> Cache:
    W_hh = params["W_hh"]
    L = W_hh.shape[0] + 1
    B = x.shape[0]
    H = params["W_ih"].shape[0]
    dtype = x.dtype
    hs = empty(workspace, "hs", (L, B, H), dtype)
    phi = empty(workspace, "phi", (L, B, H), dtype) if residual else hs
    xhat = empty(workspace, "xhat", (L, B, H), dtype) if norm != "none" else None
    inv_std = np.empty((L, H if norm == "batch" else B), dtype) if norm != "none" else None
    a = empty(workspace, "pre-activation", (B, H), dtype)
    u = np.empty((B, H), dtype) if norm != "none" else a
    for layer in range(L):
        if layer == 0:
            np.dot(x, params["W_ih"].T, out=a)
            a += params["b_ih"]
        else:
            np.dot(hs[layer - 1], W_hh[layer - 1].T, out=a)
            a += params["b_hh"][layer - 1]
        if xhat is not None and inv_std is not None:
            inv_std[layer] = _normalise(
                a, norm, params["norm_gain"][layer], params["norm_shift"][layer], xhat[layer], u
            )
        activation.forward(u, out=phi[layer])
        if residual and layer > 0:
            np.multiply(phi[layer], residual, out=hs[layer])
            hs[layer] += hs[layer - 1]
        elif residual:
            np.copyto(hs[layer], phi[layer])
    return Cache(x=x, hs=hs, phi=phi, xhat=xhat, inv_std=inv_std, activation=activation, residual=residual, norm=norm)


def backward(
    params: dict[str, np.ndarray],
    cache: Cache,
    dh: np.ndarray,
    workspace: Workspace | None = None,
    sums: Sums | None = None,
) -> dict[str, np.ndarray]:
    """``dh (L, B, H)`` enters holding ∂L/∂h_L in its last row (the readout's gradient; the other
    rows are overwritten) and leaves holding the total ∂L/∂h_l for every layer. Returns the
    parameter gradients. ``sums``, if given, receives Σ dh_l² per layer and Σ (∂L/∂W_l)² per
    hidden layer, each taken while the layer's arrays are still in the cache (see ``Sums``)."""
    hs, phi, residual, norm = cache.hs, cache.phi, cache.residual, cache.norm
    L, B, H = hs.shape
    W_hh = params["W_hh"]
    dtype = hs.dtype
    # W_hh's gradient is as large as the weights (L·H² numbers): fresh memory would be faulted in
    # page by page on every pass, so it comes from the workspace, like the pass's other arrays.
    grads: dict[str, np.ndarray] = {
        "W_hh": empty(workspace, "grad W_hh", W_hh.shape, W_hh.dtype),
        "b_hh": np.empty_like(params["b_hh"]),
    }
    if norm != "none":
        grads["norm_gain"] = np.empty((L, H), dtype)
        grads["norm_shift"] = np.empty((L, H), dtype)
    du = empty(workspace, "du", (B, H), dtype)
    mask = empty(workspace, "relu mask", (B, H), np.bool_)
    for layer in range(L - 1, -1, -1):
        carried = dh[layer]
        # The underflow guard, at the cost of one BLAS dot per layer (which the norm needs anyway):
        # a sum of squares in the plain range puts the largest entry above √(1e-280/n) > 1e-150,
        # far from the subnormals, so the entry-wise check runs only for a layer whose gradient has
        # nearly vanished, or is not finite.
        sum_sq = _sum_of_squares(carried)
        if not PLAIN_SUM[0] < sum_sq < PLAIN_SUM[1] and near_underflow(carried):
            flush_subnormal(carried)
            sum_sq = _sum_of_squares(carried)
        if sums is not None:
            sums.dh[layer] = sum_sq
        # ∂L/∂u_l = ∂L/∂h_l · (α) · φ′(u_l)
        _times_derivative(cache.activation, carried, phi[layer], du, mask)
        if residual and layer > 0:
            du *= residual
        if norm != "none":
            assert cache.xhat is not None and cache.inv_std is not None
            da, grads["norm_gain"][layer], grads["norm_shift"][layer] = _normalise_backward(
                du, norm, params["norm_gain"][layer], cache.xhat[layer], cache.inv_std[layer]
            )
        else:
            da = du
        if layer == 0:
            grads["W_ih"] = da.T @ cache.x
            grads["b_ih"] = da.sum(axis=0)
            break
        grad_w = grads["W_hh"][layer - 1]
        np.dot(da.T, hs[layer - 1], out=grad_w)
        if sums is not None:
            sums.w_hh_grad[layer - 1] = _sum_of_squares(grad_w)
        np.add.reduce(da, axis=0, out=grads["b_hh"][layer - 1])
        np.dot(da, W_hh[layer - 1], out=dh[layer - 1])
        if residual:
            dh[layer - 1] += dh[layer]
    return grads


@dataclass
class Sums:
    """Sums of squares a backward pass takes on its way (float64; nan where an array is not
    float64, so that the caller falls back to ``numerics``): ``dh (L,)`` Σ (∂L/∂h_l)² after the
    underflow flush, ``w_hh_grad (L−1,)`` Σ (∂L/∂W_l)² of layers 2 … L."""

    dh: np.ndarray
    w_hh_grad: np.ndarray

    @classmethod
    def empty(cls, depth: int) -> Sums:
        return cls(dh=np.full(depth, np.nan), w_hh_grad=np.full(depth - 1, np.nan))


def _sum_of_squares(x: np.ndarray) -> float:
    """Σ x² by one BLAS dot (x is a contiguous layer of the pass's arrays); nan unless float64."""
    if x.dtype != np.float64:
        return float("nan")
    flat = x.reshape(-1)
    return float(np.dot(flat, flat))


def _times_derivative(activation: Activation, dh: np.ndarray, y: np.ndarray, out: np.ndarray, mask: np.ndarray) -> None:
    """``out`` = dh · φ′ with φ′ from the layer's output y = φ(u), in place (the same products, in
    the same order, as ``dh * activation.derivative_from_output(y)``, without its temporaries)."""
    name = activation.name
    if name == "tanh":  # 1 − y²
        np.multiply(y, y, out=out)
        np.subtract(1.0, out, out=out)
        out *= dh
    elif name == "sigmoid":  # y·(1 − y)
        np.subtract(1.0, y, out=out)
        out *= y
        out *= dh
    elif name == "relu":  # 1 where y > 0: dh·1.0 or dh·0.0, as with a float mask
        np.greater(y, 0.0, out=mask)
        np.multiply(dh, mask, out=out)
    elif name == "linear":
        np.copyto(out, dh)
    else:  # an activation without an in-place form here: its own derivative
        np.multiply(dh, activation.derivative_from_output(y), out=out)


SCALED = ("W_ih", "W_hh")  # the parameters the weight scale s multiplies (see layer_weights)


def layer_weights(rng: np.random.Generator, fan_out: int, fan_in: int, init: str, scale: float) -> np.ndarray:
    """One layer's ``W (fan_out, fan_in)`` times the scale s:
    gaussian N(0, s²/fan_in); orthogonal s·Q (semi-orthogonal when not square); identity s·I;
    xavier s·U(±√(6/(fan_in + fan_out))) (Glorot & Bengio 2010); he s·N(0, 2/fan_in) (He et al.
    2015); std N(0, s²), an absolute standard deviation (CS231n's 0.01); zero: every weight 0.
    Always s times a matrix drawn without s, so that the weights at s are exactly s times those
    at 1 (a phase map draws each layer once per seed and rescales)."""
    if init == "gaussian":
        return np.asarray(scale * (rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)))
    if init == "orthogonal":
        big, small = max(fan_out, fan_in), min(fan_out, fan_in)
        q, r = np.linalg.qr(rng.standard_normal((big, small)))
        q = q * np.sign(np.diag(r))
        return np.asarray(scale * (q if fan_out >= fan_in else q.T))
    if init == "identity":
        return np.asarray(scale * np.eye(fan_out, fan_in))
    if init == "xavier":
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return scale * rng.uniform(-bound, bound, (fan_out, fan_in))
    if init == "he":
        return np.asarray(scale * (rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)))
    if init == "std":
        return scale * rng.standard_normal((fan_out, fan_in))
    if init == "zero":
        return np.zeros((fan_out, fan_in))
    raise ValueError(f"init: {init!r} is not allowed")


def init_params(
    input_size: int,
    hidden_size: int,
    output_size: int,
    depth: int,
    *,
    scale: float,
    init: str,
    norm: str = "none",
    bias_scale: float | None = None,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Every layer's weights by ``init`` (see :func:`layer_weights`); biases 0, as in Glorot &
    Bengio's and He et al.'s experiments, or N(0, bias_scale²); the readout as ``nn.Linear``
    (U(±1/√H), bias 0), or 0 with the zero init; a norm's gain 1 and shift 0, as torch."""
    if depth < 2:
        raise ValueError(f"depth: {depth!r} must be at least 2")
    if norm not in NORMS:
        raise ValueError(f"norm: {norm!r} is not allowed; allowed: {', '.join(NORMS)}")
    H = hidden_size
    params = {
        "W_ih": layer_weights(rng, H, input_size, init, scale),
        "W_hh": np.stack([layer_weights(rng, H, H, init, scale) for _ in range(depth - 1)]),
    }
    if bias_scale is None:
        params["b_ih"], params["b_hh"] = np.zeros(H), np.zeros((depth - 1, H))
    else:
        params["b_ih"] = bias_scale * rng.standard_normal(H)
        params["b_hh"] = bias_scale * rng.standard_normal((depth - 1, H))
    bound = 1.0 / np.sqrt(H)
    params["W_out"] = np.zeros((output_size, H)) if init == "zero" else rng.uniform(-bound, bound, (output_size, H))
    params["b_out"] = np.zeros(output_size) if bias_scale is None else bias_scale * rng.standard_normal(output_size)
    if norm != "none":
        params["norm_gain"] = np.ones((depth, H))
        params["norm_shift"] = np.zeros((depth, H))
    return params
