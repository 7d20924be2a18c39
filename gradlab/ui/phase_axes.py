"""What a phase map's axes and colours mean: the axis presets a lecturer picks from, labels, a
diverging colour map centred on slope 0, colour-bar levels and the zero contour (the edge of
chaos). Plain values and functions of arrays; the panel (``plot_phase``) draws them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from gradlab.core.config import Config
from gradlab.core.phase_point import PhaseMapError, PhaseMapSpec, make_axis

# ColorBrewer's RdBu (Brewer 2003: marked safe for the common colour-vision deficiencies),
# blue for vanishing, red for exploding; its middle is set to pure white, which the symmetric
# levels put exactly at slope 0.
DIVERGING = (
    "#053061",
    "#2166AC",
    "#4393C3",
    "#92C5DE",
    "#D1E5F0",
    "#FFFFFF",
    "#FDDBC7",
    "#F4A582",
    "#D6604D",
    "#B2182B",
    "#67001F",
)


COLOUR_MAP = pg.ColorMap(np.linspace(0.0, 1.0, len(DIVERGING)), [pg.mkColor(c) for c in DIVERGING])


NOT_YET = (0, 0, 0, 0)  # points not computed yet (or not finite): transparent, the background shows


FIELD_LABELS = {
    "w_rec_scale": "W_rec scale s",
    "hidden_size": "hidden size H",
    "seq_len": "sequence length T",
    "batch_size": "batch size",
    "lr": "learning rate",
    "weight_decay": "weight decay",
    "clip_threshold": "clip threshold",
    "truncation": "truncation k",
    "seed": "seed",
}


# Fields that change nothing in one pass of the untrained network: a change of one of them does
# not recompute a slope map (they matter to a trainability map).
TRAINING_ONLY = ("optimizer", "lr", "weight_decay", "clip", "clip_threshold", "iterations")


# The same fields, as depth mode (the deep feed-forward cell) names them.
DEPTH_LABELS = {"w_rec_scale": "weight scale s", "hidden_size": "width H", "seq_len": "depth L"}


@dataclass(frozen=True)
class AxisPreset:
    """A choice of axes (and of what colours the map) the lecturer picks from a list."""

    name: str
    x: tuple[str, float, float, int]  # field, start, stop, points
    y: tuple[str, float, float, int]
    quantity: str = "slope"  # "slope" (per step), "total" (log10 ratio, step 1 to step T) or "trainability"
    trainability: int | None = None  # updates per point of a trainability map
    depth_mode: bool = False  # offered for the deep feed-forward cell (else for the recurrent cells)
    fixed: tuple[tuple[str, int], ...] = ()  # fields the map sets whatever the live run has


_PRESETS: tuple[AxisPreset, ...] = (
    AxisPreset(
        "W_rec scale × hidden size (per-step slope)", ("w_rec_scale", 0.25, 2.0, 41), ("hidden_size", 8, 128, 41)
    ),
    # Where the config has a bias scale (σ_b), the order-to-chaos plane of Poole et al. and
    # Schoenholz et al. itself: weight scale × bias scale.
    AxisPreset(
        "W_rec scale × bias scale (order to chaos)", ("w_rec_scale", 0.25, 2.5, 41), ("bias_scale", 0.0, 1.0, 41)
    ),
    AxisPreset(
        "W_rec scale × sequence length (what reaches step 1)",
        ("w_rec_scale", 0.25, 2.0, 41),
        ("seq_len", 10, 400, 40),
        quantity="total",
    ),
    # The deep net's weight axes put s = 1 on a grid point: with zero biases the edge of chaos is
    # exactly there, at a kink of the predicted slope that interpolation between points would miss.
    AxisPreset(
        "Weight scale × bias scale (order to chaos)",
        ("w_rec_scale", 0.25, 2.25, 41),
        ("bias_scale", 0.0, 1.0, 41),
        depth_mode=True,
    ),
    AxisPreset(
        "Weight scale × depth (what reaches layer 1)",
        ("w_rec_scale", 0.25, 2.25, 41),
        ("seq_len", 2, 100, 50),
        quantity="total",
        depth_mode=True,
    ),
    # Schoenholz et al.'s trainable-depth picture. Each point is trained, so a coarser grid of
    # narrower nets: ~0.5 s a point at width 64 (238 points: about two minutes on one core),
    # where width 256 would take 16 times as long.
    AxisPreset(
        "Weight scale × depth (trained 100 updates, width 64)",
        ("w_rec_scale", 0.25, 2.25, 17),
        ("seq_len", 2, 80, 14),
        quantity="trainability",
        trainability=100,
        depth_mode=True,
        fixed=(("hidden_size", 64),),
    ),
)


def _available_presets() -> tuple[AxisPreset, ...]:
    """The presets whose axes this build's Config has (and whose ranges its fields allow)."""
    available = []
    for preset in _PRESETS:
        try:
            make_axis(*preset.x)
            make_axis(*preset.y)
        except PhaseMapError:
            continue
        available.append(preset)
    return tuple(available)


PRESETS = _available_presets()


def presets_for(cell: str, presets: tuple[AxisPreset, ...] = PRESETS) -> tuple[AxisPreset, ...]:
    """The presets offered with ``cell``: depth mode's for the deep feed-forward net, the others
    for the recurrent cells (all of them, where a list has none of that kind)."""
    offered = tuple(preset for preset in presets if preset.depth_mode == (cell == "mlp"))
    return offered or presets


def axis_label(field: str, cell: str = "rnn") -> str:
    if cell == "mlp" and field in DEPTH_LABELS:
        return DEPTH_LABELS[field]
    return FIELD_LABELS.get(field, field.replace("_", " "))


def nice_limit(value: float, minimum: float = 0.02) -> float:
    """|value| rounded up to 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k (at least ``minimum``, so that a nearly neutral map
    is not painted as if it were strongly coloured)."""
    top = max(abs(value) if math.isfinite(value) else minimum, minimum)
    exponent = math.floor(math.log10(top))
    for step in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if step * 10.0**exponent >= top * (1 - 1e-12):
            return float(f"{step * 10.0**exponent:.12g}")  # 0.3, not 0.30000000000000004
    return top  # pragma: no cover


def colour_levels(values: np.ndarray) -> tuple[float, float]:
    """(low < 0 < high): the ends of the colour scale, each rounded up from the data's extreme on
    its side. A map is rarely symmetric (a strongly vanishing corner, a weakly exploding one):
    with one scale per side (as matplotlib's TwoSlopeNorm) both phases show, and white stays 0."""
    finite = values[np.isfinite(values)]
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 0.0
    return -nice_limit(min(low, 0.0)), nice_limit(max(high, 0.0))


def normalised(values: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    """Values to [0, 1] of the colour map: ``levels[0]`` → 0, 0 → ½ (white), ``levels[1]`` → 1."""
    low, high = levels
    with np.errstate(invalid="ignore"):
        scaled = np.where(values < 0, 0.5 - 0.5 * values / low, 0.5 + 0.5 * values / high)
    return np.clip(scaled, 0.0, 1.0)


def colour_image(values: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    """RGBA bytes (Ny, Nx, 4) of ``values`` on the diverging map; non-finite points transparent."""
    finite = np.isfinite(values)
    scaled = normalised(np.where(finite, values, 0.0), levels)
    rgba = np.asarray(COLOUR_MAP.map(scaled.ravel(), mode="byte"), dtype=np.uint8).reshape(*values.shape, 4)
    rgba[~finite] = NOT_YET
    return rgba


def bar_colour_map(levels: tuple[float, float]) -> pg.ColorMap:
    """The colour map as the bar draws it over [low, high] linearly: the blue half squeezed or
    stretched to [low, 0], the red half to [0, high], so that the bar reads as the image does."""
    low, high = levels
    middle = -low / (high - low)
    half = len(DIVERGING) // 2
    positions = np.concatenate(
        [np.linspace(0.0, middle, half + 1)[:-1], [middle], np.linspace(middle, 1.0, half + 1)[1:]]
    )
    return pg.ColorMap(positions, [pg.mkColor(c) for c in DIVERGING])


def zero_contour(x: np.ndarray, y: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The line where ``values`` (Ny, Nx) crosses 0, in data coordinates, pieces separated by nan.

    Only between rows that are computed (finite throughout): a map that is still filling in has
    no line along the edge of what is known.
    """
    if values.shape[0] < 2 or values.shape[1] < 2:
        # One row (or column): the crossings along it as points on a vertical (horizontal) tick.
        return _crossings_1d(x, y, values)
    xs: list[float] = []
    ys: list[float] = []
    ix = np.arange(len(x))
    known = np.isfinite(values).all(axis=1)
    j = 0
    while j < len(y):
        if not known[j]:
            j += 1
            continue
        end = j
        while end + 1 < len(y) and known[end + 1]:
            end += 1
        if end > j:  # rows j … end: a block with no gaps
            block = values[j : end + 1]
            iy = np.arange(j, end + 1)
            for piece in pg.functions.isocurve(block.T, 0.0, connected=True):
                for i, k in piece:
                    # isocurve's coordinates are pixel corners: point (i, k) is the centre of pixel (i − ½, k − ½)
                    xs.append(float(np.interp(i - 0.5, ix, x)))
                    ys.append(float(np.interp(k - 0.5 + j, iy, y[j : end + 1])))
                xs.append(math.nan)
                ys.append(math.nan)
        j = end + 1
    return np.array(xs), np.array(ys)


def _crossings_1d(x: np.ndarray, y: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xs: list[float] = []
    ys: list[float] = []
    if values.shape[0] == 1 and len(x) > 1:
        row = values[0]
        for i in range(len(x) - 1):
            a, b = row[i], row[i + 1]
            if np.isfinite(a) and np.isfinite(b) and (a < 0) != (b < 0):
                at = x[i] - a * (x[i + 1] - x[i]) / (b - a)
                half = 0.5 * (y[-1] - y[0]) if len(y) > 1 else 0.5
                xs += [at, at, math.nan]
                ys += [y[0] - half - 0.5, y[0] + half + 0.5, math.nan]
    return np.array(xs, dtype=float), np.array(ys, dtype=float)


def describe_base(spec: PhaseMapSpec) -> str:
    """What the map holds fixed, in a few words: "rnn tanh · orthogonal init · T = 100 · batch 16"."""
    base = spec.base
    named = base.cell in ("rnn", "mlp")  # the gated cells' activation is not φ of every unit
    parts = [f"{base.cell} {base.activation}" if named else base.cell, f"{base.init} init"]
    length = "L" if base.cell == "mlp" else "T"
    for name, label in (("w_rec_scale", "s"), ("hidden_size", "H"), ("seq_len", length), ("batch_size", "batch")):
        if name not in (spec.x.field, spec.y.field):
            parts.append(f"{label} = {getattr(base, name):g}")
    if base.task != "probe":
        parts.append(f"task {base.task}")
    if spec.seeds > 1:
        parts.append(f"mean of {spec.seeds} seeds")
    return " · ".join(parts)


def quantity_label(preset: AxisPreset, cell: str) -> str:
    """What the colour bar measures, in its units."""
    step, last = ("layer", "h_L") if cell == "mlp" else ("step", "h_T")
    return {
        "slope": f"slope of log₁₀‖∂L/∂h‖ (decades/{step})",
        "total": f"log₁₀ ‖∂L/∂h₁‖/‖∂L/∂{last}‖ (decades)",
        "trainability": f"log₁₀ loss/baseline after {preset.trainability} updates",
    }[preset.quantity]


def map_caption(
    preset: AxisPreset, spec: PhaseMapSpec, config: Config | None, has_line: bool, interactive: bool
) -> str:
    """The sentence under the map: what a colour means, the dashed line, the dot, the click."""
    if preset.quantity == "trainability":
        what = (
            f"Trained {preset.trainability} updates per point: blue ends below the baseline loss (learned), "
            "red above it (darkest: diverged or ≥ 100× the baseline). "
        )
    else:
        what = "Untrained network, one batch per point: blue vanishes, red explodes, white is neutral. "
    if has_line:
        what += "Dashed: the mean-field edge of chaos (χ₁ = 1, predicted slope 0). "
    if config is not None:
        x_value, y_value = getattr(config, spec.x.field), getattr(config, spec.y.field)
        what += (  # an optional field (the bias scale) is None where it keeps each cell's default
            f"Dot: the live run ({spec.x.field} = {'default' if x_value is None else f'{x_value:g}'}, "
            f"{spec.y.field} = {'default' if y_value is None else f'{y_value:g}'}). "
        )
    return what + ("Click the map to run there." if interactive else "")
