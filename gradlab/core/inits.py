"""Parameter initialisation in PyTorch's layout, with the recurrent scale s applied per gate block.

Recurrent blocks (each H×H block of W_hh), for s = ``w_rec_scale``:
  gaussian    N(0, s²/H)                       spectral radius ≈ s
  orthogonal  s·Q, Q from QR of a Gaussian matrix with the sign fix (Q uniform on O(H))
  identity    s·I                              (with ReLU: the "IRNN" of Le, Jaitly & Hinton 2015)
  xavier      s·U(−a, a), a = √(6 / (H + H))   (Glorot uniform, variance s²/H)
  he          s·N(0, 2/H)                      (Kaiming normal, fan-in)
  std         N(0, s²)                         an absolute standard deviation, whatever H (CS231n's 0.01)
  zero        every weight 0                   (the symmetry demonstration)
Everything else as torch.nn.RNN/LSTM/GRU and nn.Linear: U(−1/√H, 1/√H), except that the LSTM's
forget-gate bias starts at +1 ("unit forget bias": Gers et al. 2000, Jozefowicz et al. 2015, and
Keras's default), so that the cell state starts out remembering (σ(1) ≈ 0.73 per step, not 0.5).
``forget_bias_init``: "one" is that (the GRU unchanged), "zero" PyTorch's plain uniform biases,
"chrono" the chrono initialisation of Tallec & Ollivier 2018 ("Can recurrent neural networks warp
time?"): the forget gate's total bias b_f ~ log U[1, T−1] and the input gate's b_i = −b_f, so that
the units' time constants τ ≈ 1/(1 − σ(b_f)) spread over the sequence's range of lags; for the GRU
the update gate z (h_t = (1 − z)·n + z·h_{t−1}) gets b_z ~ log U[1, T−1].
"""

from __future__ import annotations

import numpy as np

from .cells import mlp
from .config import CELLS, DTYPES, FIELDS, INITS

GATES = {"rnn": 1, "lstm": 4, "gru": 3, "mlp": 1}
LSTM_FORGET_BIAS = 1.0


def orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random orthogonal n×n matrix, uniform on O(n) (QR with the sign fix of Mezzadri 2007)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def recurrent_block(rng: np.random.Generator, hidden_size: int, init: str, scale: float) -> np.ndarray:
    """One H×H block of W_hh."""
    h = hidden_size
    if init == "gaussian":
        block = rng.standard_normal((h, h)) / np.sqrt(h)
    elif init == "orthogonal":
        block = orthogonal(rng, h)
    elif init == "identity":
        block = np.eye(h)
    elif init == "xavier":
        bound = np.sqrt(6.0 / (h + h))
        block = rng.uniform(-bound, bound, (h, h))
    elif init == "he":
        block = rng.standard_normal((h, h)) * np.sqrt(2.0 / h)
    elif init == "std":  # an absolute standard deviation s, whatever H
        block = rng.standard_normal((h, h))
    elif init == "zero":
        block = np.zeros((h, h))
    else:
        raise ValueError(f"init: {init!r} is not allowed; allowed: {', '.join(INITS)}")
    return np.asarray(scale * block)


def init_params(
    cell: str,
    input_size: int,
    hidden_size: int,
    output_size: int = 1,
    *,
    w_rec_scale: float = 1.0,
    init: str = "gaussian",
    seed: int = 0,
    dtype: str = "float64",
    forget_bias_init: str = "one",
    seq_len: int = 100,
    norm: str = "none",
    bias_scale: float | None = None,
) -> dict[str, np.ndarray]:
    """Parameters ``W_ih (G·H, D)``, ``W_hh (G·H, H)``, ``b_ih``, ``b_hh (G·H,)``, ``W_out (O, H)``, ``b_out (O,)``.

    ``bias_scale``: every bias N(0, bias_scale²) instead of the default (the mean-field σ_b).
    ``cell="mlp"``: the deep feed-forward net of ``seq_len`` layers (``cells.mlp.init_params``).
    """
    if cell not in GATES:
        raise ValueError(f"cell: {cell!r} is not allowed; allowed: {', '.join(CELLS)}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype: {dtype!r} is not allowed; allowed: {', '.join(DTYPES)}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("output_size", output_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: {value!r} must be a positive integer")
    FIELDS["w_rec_scale"].check(w_rec_scale)
    FIELDS["seed"].check(seed)
    FIELDS["forget_bias_init"].check(forget_bias_init)
    if cell == "mlp":  # depth mode: the layers' own initialisation (``cells.mlp``)
        mlp_params = mlp.init_params(
            input_size, hidden_size, output_size, seq_len, scale=w_rec_scale, init=init, norm=norm,
            bias_scale=bias_scale, rng=np.random.default_rng(seed),
        )  # fmt: skip
        return {name: np.ascontiguousarray(value, dtype=dtype) for name, value in mlp_params.items()}
    g, h = GATES[cell], hidden_size
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(h)
    params = {
        "W_ih": rng.uniform(-bound, bound, (g * h, input_size)),
        "W_hh": np.concatenate([recurrent_block(rng, h, init, w_rec_scale) for _ in range(g)], axis=0),
        "b_ih": rng.uniform(-bound, bound, g * h),
        "b_hh": rng.uniform(-bound, bound, g * h),
        "W_out": rng.uniform(-bound, bound, (output_size, h)),
        "b_out": rng.uniform(-bound, bound, output_size),
    }
    if bias_scale is not None:  # N(0, σ_b²) for every bias (the mean-field picture's σ_b)
        for name in ("b_ih", "b_hh", "b_out"):
            params[name] = bias_scale * rng.standard_normal(params[name].shape)
    if forget_bias_init == "one" and cell == "lstm":
        params["b_ih"][h : 2 * h] += LSTM_FORGET_BIAS
    elif forget_bias_init == "chrono" and cell != "rnn":
        # Drawn after everything else, so that the other parameters equal the other settings'.
        chrono = np.log(rng.uniform(1.0, max(seq_len - 1, 1.0 + 1e-9), h))
        gate = slice(h, 2 * h)  # LSTM [i|f|g|o]: f; GRU [r|z|n]: z
        params["b_ih"][gate], params["b_hh"][gate] = chrono, 0.0
        if cell == "lstm":
            params["b_ih"][:h], params["b_hh"][:h] = -chrono, 0.0
    return {name: np.ascontiguousarray(value, dtype=dtype) for name, value in params.items()}
