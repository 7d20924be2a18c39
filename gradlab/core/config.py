"""The experiment configuration: one frozen, validated value holding every control.

The table ``FIELDS`` is the single description of every control (type, allowed values, help
text); ``Config`` validates against it, and the CLI and the window build their controls from it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Cell = Literal["rnn", "lstm", "gru", "mlp"]
Activation = Literal["tanh", "sigmoid", "relu", "linear"]
Init = Literal["gaussian", "orthogonal", "identity", "xavier", "he", "std", "zero"]
Task = Literal["probe", "adding", "spirals"]
Norm = Literal["none", "batch", "layer"]
Optimizer = Literal["sgd", "adam"]
Clip = Literal["none", "norm", "value"]
DType = Literal["float64", "float32"]
ForgetBiasInit = Literal["one", "zero", "chrono"]

CELLS: tuple[str, ...] = ("rnn", "lstm", "gru", "mlp")
RECURRENT_CELLS: tuple[str, ...] = ("rnn", "lstm", "gru")
ACTIVATIONS: tuple[str, ...] = ("tanh", "sigmoid", "relu", "linear")
INITS: tuple[str, ...] = ("gaussian", "orthogonal", "identity", "xavier", "he", "std", "zero")
TASKS: tuple[str, ...] = ("probe", "adding", "spirals")
# Which tasks a cell can take: the adding problem is a sequence, the spirals are points.
RECURRENT_TASKS: tuple[str, ...] = ("probe", "adding")
FEEDFORWARD_TASKS: tuple[str, ...] = ("probe", "spirals")
NORMS: tuple[str, ...] = ("none", "batch", "layer")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
CLIPS: tuple[str, ...] = ("none", "norm", "value")
DTYPES: tuple[str, ...] = ("float64", "float32")
FORGET_BIAS_INITS: tuple[str, ...] = ("one", "zero", "chrono")

MAX_SEED = 2**32 - 1
# What one update may hold in memory (forward states and gradients): beyond this a run would
# swap or be killed on a lecture laptop, so it is refused up front with a message.
MAX_UPDATE_BYTES = 3 * 2**30
_GATES = {"rnn": 1, "lstm": 4, "gru": 3, "mlp": 1}


@dataclass(frozen=True)
class FieldSpec:
    """What one control may hold: a choice among strings, or a number in a range."""

    name: str
    kind: Literal["choice", "int", "float"]
    help: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    optional: bool = False  # None is allowed (and means "off" / "unbounded")

    def describe(self) -> str:
        """The allowed values, in words, for error messages and help texts."""
        if self.kind == "choice":
            allowed = "one of " + ", ".join(self.choices)
        else:
            left = "[" if self.low_inclusive else "("
            number = "an integer" if self.kind == "int" else "a number"
            allowed = f"{number} in {left}{_fmt(self.low)}, {_fmt(self.high)}]"
        if self.optional:
            allowed += ", or none"
        return allowed

    def check(self, value: Any) -> Any:
        """Return ``value`` normalised (ints for int fields, floats for float fields).

        Raises ``ValueError`` naming the field and what it allows.
        """
        if value is None:
            if self.optional:
                return None
            raise ValueError(f"{self.name}: must not be empty; allowed: {self.describe()}")
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ValueError(f"{self.name}: {value!r} is not allowed; allowed: {self.describe()}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{self.name}: {value!r} is not a number; allowed: {self.describe()}")
        if self.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(f"{self.name}: {value!r} is not an integer; allowed: {self.describe()}")
                value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"{self.name}: {value!r} is not finite; allowed: {self.describe()}")
        assert self.low is not None and self.high is not None
        too_low = value < self.low if self.low_inclusive else value <= self.low
        if too_low or value > self.high:
            raise ValueError(f"{self.name}: {value!r} is out of range; allowed: {self.describe()}")
        return value


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    return str(int(x)) if float(x).is_integer() else repr(x)


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("cell", "choice", "recurrent cell, or mlp: a deep feed-forward net (depth mode)", choices=CELLS),
        FieldSpec(
            "activation",
            "choice",
            "nonlinearity of the vanilla RNN and the mlp (LSTM/GRU gates are fixed)",
            choices=ACTIVATIONS,
        ),
        FieldSpec("hidden_size", "int", "hidden units H", low=1, high=1024),
        FieldSpec("seq_len", "int", "sequence length T (mlp: the depth L, layers)", low=2, high=10000),
        FieldSpec("batch_size", "int", "sequences per update", low=1, high=1024),
        FieldSpec(
            "w_rec_scale",
            "float",
            "scale s of the recurrent weights W_hh at initialisation (mlp: of every layer's weights)",
            low=0.0,
            high=10.0,
            low_inclusive=False,
        ),
        FieldSpec("init", "choice", "initialisation of W_hh (per gate block; mlp: per layer)", choices=INITS),
        FieldSpec("task", "choice", "what the network is trained on", choices=TASKS),
        FieldSpec("optimizer", "choice", "optimiser", choices=OPTIMIZERS),
        FieldSpec("lr", "float", "learning rate", low=0.0, high=10.0, low_inclusive=False),
        FieldSpec("weight_decay", "float", "L2 weight decay", low=0.0, high=1.0),
        FieldSpec("clip", "choice", "gradient clipping", choices=CLIPS),
        FieldSpec(
            "clip_threshold",
            "float",
            "max norm (clip=norm) or max |value| (clip=value)",
            low=0.0,
            high=1e6,
            low_inclusive=False,
        ),
        FieldSpec(
            "truncation",
            "int",
            "truncated BPTT: gradient flows back at most this many steps",
            low=1,
            high=10000,
            optional=True,
        ),
        FieldSpec("dtype", "choice", "floating-point precision", choices=DTYPES),
        FieldSpec("seed", "int", "random seed", low=0, high=MAX_SEED),
        FieldSpec(
            "iterations",
            "int",
            "number of updates (none: until stopped)",
            low=1,
            high=10**9,
            optional=True,
        ),
        FieldSpec(
            "forget_bias_init",
            "choice",
            "gate bias at initialisation: one (LSTM forget gate +1), zero (PyTorch's), chrono (Tallec & Ollivier"
            " 2018: b_f ~ log U[1, T-1], b_i = -b_f; GRU: on the update gate)",
            choices=FORGET_BIAS_INITS,
        ),
        FieldSpec(
            "residual",
            "float",
            "mlp only: skip connections h_l = h_(l-1) + alpha*phi(...) for layers >= 2 (0: none)",
            low=0.0,
            high=2.0,
        ),
        FieldSpec(
            "norm", "choice", "mlp only: BatchNorm or LayerNorm on each pre-activation, before phi", choices=NORMS
        ),
        FieldSpec(
            "bias_scale",
            "float",
            "every bias ~ N(0, bias_scale^2) at initialisation (none: each cell's default)",
            low=0.0,
            high=10.0,
            optional=True,
        ),
    )
}


@dataclass(frozen=True)
class Config:
    """Every control of an experiment. Invalid values raise ``ValueError`` naming the field."""

    cell: Cell = "rnn"
    activation: Activation = "tanh"
    hidden_size: int = 64
    seq_len: int = 100
    batch_size: int = 16
    w_rec_scale: float = 0.5
    init: Init = "orthogonal"
    task: Task = "probe"
    optimizer: Optimizer = "sgd"
    lr: float = 0.01
    weight_decay: float = 0.0
    clip: Clip = "none"
    clip_threshold: float = 1.0
    truncation: int | None = None
    dtype: DType = "float64"
    seed: int = 0
    iterations: int | None = None
    forget_bias_init: ForgetBiasInit = "one"
    residual: float = 0.0
    norm: Norm = "none"
    bias_scale: float | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            normalised = FIELDS[field.name].check(getattr(self, field.name))
            object.__setattr__(self, field.name, normalised)
        self._check_combination()
        need = self.update_bytes()
        if need > MAX_UPDATE_BYTES:
            raise ValueError(
                f"hidden_size, seq_len, batch_size: {self.cell} with H={self.hidden_size}, T={self.seq_len}, "
                f"B={self.batch_size} needs about {need / 2**30:.1f} GiB per update; allowed: at most "
                f"{MAX_UPDATE_BYTES / 2**30:.0f} GiB, so make one of them smaller"
            )

    def _check_combination(self) -> None:
        """Refuse fields that have no meaning together, in one line naming them."""
        if self.cell == "mlp":
            if self.truncation is not None:
                raise ValueError(
                    "cell, truncation: a feed-forward net (cell=mlp) has no time to truncate; set truncation to none"
                )
            if self.forget_bias_init != "one":  # the default, which leaves an RNN's biases alone too
                raise ValueError(
                    "cell, forget_bias_init: a feed-forward net (cell=mlp) has no forget gate; "
                    "set forget_bias_init to one (the default)"
                )
            if self.task not in FEEDFORWARD_TASKS:
                raise ValueError(
                    f"cell, task: {self.task} is a sequence task; allowed with cell=mlp: {', '.join(FEEDFORWARD_TASKS)}"
                )
        else:
            if self.residual != 0.0:
                raise ValueError(
                    f"cell, residual: skip connections are for cell=mlp; set residual to 0 for {self.cell}"
                )
            if self.norm != "none":
                raise ValueError(f"cell, norm: normalisation is for cell=mlp; set norm to none for {self.cell}")
            if self.task not in RECURRENT_TASKS:
                raise ValueError(
                    f"cell, task: {self.task} is for cell=mlp; allowed with {self.cell}: {', '.join(RECURRENT_TASKS)}"
                )

    @property
    def gates(self) -> int:
        """Gate blocks of the cell: 1 (RNN), 4 (LSTM), 3 (GRU)."""
        return _GATES[self.cell]

    def update_bytes(self) -> int:
        """Memory one update holds at its peak, with some room: per step and sequence, 2·G + 6
        vectors of H numbers (2·G + 8 for the gated cells: the forward pass's factors at the gates
        and two more, the gradients at the gates, states and their gradients). Measured peaks of
        ``run()`` at H=256, T=2000: 4.1 (RNN), 14.1 (LSTM), 12.1 (GRU) such vectors."""
        itemsize = 8 if self.dtype == "float64" else 4
        if self.cell == "mlp":
            # Per layer: h, φ, x̂, ∂L/∂h and two work vectors per example; the H×H weights with
            # their gradient, Adam's two moments and a copy in flight.
            H = self.hidden_size
            return (6 * self.batch_size * H + 5 * H * H) * self.seq_len * itemsize
        vectors = 2 * self.gates + (8 if self.gates > 1 else 6)
        return vectors * self.seq_len * self.batch_size * self.hidden_size * itemsize

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated)."""
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of JSON types."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        """Build from a plain dict; missing fields take their defaults, unknown ones are refused."""
        if not isinstance(data, Mapping):
            raise ValueError(f"config: expected an object of fields, got {type(data).__name__}")
        unknown = [str(k) for k in data if k not in FIELDS]
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}")
        return cls(**dict(data))

    def differences(self, other: Config) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ: name -> (self's, other's)."""
        return {
            name: (getattr(self, name), getattr(other, name))
            for name in FIELDS
            if getattr(self, name) != getattr(other, name)
        }
