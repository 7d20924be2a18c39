"""One update of a running experiment, as an immutable value that owns its arrays."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from .depth import LayerStats


@dataclass(frozen=True)
class NonFinite:
    """Which quantities hold inf or nan: each field is "", "inf" or "nan" (nan wins over inf)."""

    loss: str = ""
    gradients: str = ""
    weights: str = ""

    def __bool__(self) -> bool:
        return bool(self.loss or self.gradients or self.weights)

    def describe(self) -> str:
        """ "loss=nan, gradients=inf", or "" when everything is finite."""
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name))


@dataclass(frozen=True)
class Histogram:
    """Counts of the finite entries per bin; ``edges`` has one more element than ``counts``.

    ``outside`` counts finite entries beyond the edges (frozen edges); ``nonfinite`` counts
    inf/nan entries, which no bin can hold.
    """

    counts: np.ndarray
    edges: np.ndarray
    outside: int = 0
    nonfinite: int = 0


@dataclass(frozen=True)
class Frame:
    """Everything the window or the CLI shows about one update.

    Arrays are private copies, marked read-only: the generator never touches them again.
    ``log10_dh_norm[k]`` is log10 ‖∂L/∂h_t‖ for the step k steps back from the last one
    (k = 0 is h_T): -inf marks an exact zero (underflow or truncation), +inf and nan are kept.
    """

    iteration: int  # 1-based number of this update
    loss: float
    baseline_loss: float
    log10_dh_norm: np.ndarray  # (T,), index = steps back from the last step
    log10_dc_norm: np.ndarray | None  # LSTM cell-state path, same layout; None otherwise
    grad_norm: float  # global norm of all gradients before clipping (overflow-safe)
    grad_norm_clipped: float  # after clipping (equal to grad_norm when not clipping)
    clipped: bool  # clipping changed the gradients
    w_hh_hist: Histogram
    grad_w_hh_hist: Histogram
    eigenvalues: np.ndarray  # complex, of the block of W_hh named by spectrum_block
    spectrum_block: str  # e.g. "W_hh", "W_hg (cell candidate)"
    spectrum_iteration: int  # the update whose weights the spectrum was computed from
    spectral_radius: float
    sigma_max: float
    gamma: float  # sup of the activation's derivative (nan for gated cells)
    theory_slope: float  # log10(gamma * sigma_max) per step back (nan for gated cells)
    fitted_slope: float  # least-squares slope of the finite part of log10_dh_norm
    # The theory line that predicts the curve (``gradlab.core.prediction``), from this update's pass.
    predicted_log10_dh: np.ndarray | None = None  # (T,), like log10_dh_norm, equal to it at k = 0
    predicted_slope: float = float("nan")  # its least-squares slope, decades per step back
    predicted_kind: str = ""  # which theory, e.g. "mean field ⟨φ′²⟩·‖W‖²/H", "cell path Π f"
    # Depth mode (cell mlp): the bound per layer, log10(γ·σ_max(W_l)) accumulated from the loss end
    # (a curve: every layer has its own weights); theory_slope is then its average slope. None otherwise.
    bound_log10_dh: np.ndarray | None = None
    layer_stats: LayerStats | None = None  # depth mode: the per-layer view (``gradlab.core.depth``); else None
    # The two factors of the vanilla RNN's step (nan / None for gated cells).
    log10_weight_factor: float = float("nan")  # log10(‖W_hh‖_F/√H)
    log10_activation_factor: np.ndarray | None = None  # (T,): log10 RMS φ′(a_{T−k})
    saturated_share: float = float("nan")  # share of saturated (tanh, sigmoid) or dead (relu) units
    saturated_label: str = ""  # "saturated" or "dead"
    gate_mean: np.ndarray | None = None  # (H,), gated cells: per-unit mean forget gate f (LSTM) / update gate z (GRU)
    nonfinite: NonFinite = field(default_factory=NonFinite)
    message: str = ""  # a human-readable event, e.g. why the run ended
    final: bool = False  # the generator ends after this frame

    def __setstate__(self, state: dict[str, object]) -> None:
        # Unpickled (from the simulation process): the arrays arrive writeable; lock them again.
        self.__dict__.update(state)
        self.__post_init__()

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            elif isinstance(value, Histogram):
                value.counts.flags.writeable = False
                value.edges.flags.writeable = False
