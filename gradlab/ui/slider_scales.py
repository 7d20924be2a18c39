"""The control panel's two sliders: W_rec scale with fine steps next to 1 (the slider's middle is
exactly 1.0) and the length on a logarithmic scale. Plain functions of positions and values."""

from __future__ import annotations

import math

SCALE_SLIDER_MIN, SCALE_SLIDER_MAX = 0.05, 3.0
SCALE_SLIDER_STEPS = 1000  # positions 0..1000, 1.0 in the middle
SEQ_SLIDER_MIN, SEQ_SLIDER_MAX = 2, 2000
SEQ_SLIDER_STEPS = 1000


# Slope of the shape at s = 1 on each side, chosen so that one slider step there is 0.001.
_LINEAR_ABOVE = 0.001 * (SCALE_SLIDER_STEPS / 2) / (SCALE_SLIDER_MAX - 1.0)
_LINEAR_BELOW = 0.001 * (SCALE_SLIDER_STEPS / 2) / (1.0 - SCALE_SLIDER_MIN)


def _scale_shape(u: float, linear: float) -> float:
    """Monotone on [0, 1], 0 -> 0, 1 -> 1, slope ``linear`` at 0: fine steps next to s = 1."""
    return linear * u + (1.0 - linear) * u**3


def scale_from_position(position: int) -> float:
    """W_rec scale for a slider position; the middle is exactly 1.0."""
    u = (position - SCALE_SLIDER_STEPS / 2) / (SCALE_SLIDER_STEPS / 2)
    if u >= 0:
        value = 1.0 + (SCALE_SLIDER_MAX - 1.0) * _scale_shape(u, _LINEAR_ABOVE)
    else:
        value = 1.0 - (1.0 - SCALE_SLIDER_MIN) * _scale_shape(-u, _LINEAR_BELOW)
    return round(value, 3)


def position_from_scale(scale: float) -> int:
    """The slider position closest to ``scale`` (clamped to the slider's range)."""
    scale = min(max(scale, SCALE_SLIDER_MIN), SCALE_SLIDER_MAX)
    if scale >= 1.0:
        target, sign, linear = (scale - 1.0) / (SCALE_SLIDER_MAX - 1.0), 1.0, _LINEAR_ABOVE
    else:
        target, sign, linear = (1.0 - scale) / (1.0 - SCALE_SLIDER_MIN), -1.0, _LINEAR_BELOW
    low, high = 0.0, 1.0
    for _ in range(60):  # bisection: _scale_shape is monotone
        middle = (low + high) / 2
        if _scale_shape(middle, linear) < target:
            low = middle
        else:
            high = middle
    u = sign * (low + high) / 2
    return int(round(SCALE_SLIDER_STEPS / 2 * (1.0 + u)))


def seq_len_from_position(position: int) -> int:
    ratio = SEQ_SLIDER_MAX / SEQ_SLIDER_MIN
    return int(round(SEQ_SLIDER_MIN * ratio ** (position / SEQ_SLIDER_STEPS)))


def position_from_seq_len(seq_len: int) -> int:
    seq_len = min(max(seq_len, SEQ_SLIDER_MIN), SEQ_SLIDER_MAX)
    ratio = SEQ_SLIDER_MAX / SEQ_SLIDER_MIN
    return int(round(SEQ_SLIDER_STEPS * math.log(seq_len / SEQ_SLIDER_MIN) / math.log(ratio)))
