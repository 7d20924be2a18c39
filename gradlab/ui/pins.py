"""Pinned runs: the curves of a finished or running scene kept on the plots as labelled ghosts.

A pin is a plain value (no Qt): the Config it ran, and copies of what the plots drew for it. Its
label says what differs from the live Config, so "RNN vs LSTM" reads "cell=rnn" next to the ghost
while the live curve is the LSTM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradlab.core import Config

MAX_PINS = 3
MAX_LABEL_FIELDS = 3


@dataclass(frozen=True)
class Pin:
    """One pinned run. ``slot`` (0, 1, 2) picks its ghost colour and dash pattern."""

    slot: int
    config: Config
    iteration: int  # the last update shown when it was pinned
    log10_dh_norm: np.ndarray  # gradient through time of that update
    update_iteration: np.ndarray  # training curves, every update kept
    log10_grad: np.ndarray
    log10_loss: np.ndarray

    def label(self, live: Config) -> str:
        return pin_label(self.config, live)


# How each field is named on the screen (the control panel's words), so a pin reads
# "W_rec scale 0.5, LSTM" rather than "w_rec_scale=0.5, cell=lstm".
_SCREEN_NAMES: dict[str, str] = {
    "hidden_size": "hidden size H",
    "seq_len": "length T",
    "batch_size": "batch",
    "w_rec_scale": "W_rec scale",
    "lr": "learning rate",
    "weight_decay": "weight decay",
    "clip_threshold": "threshold",
    "truncation": "truncation",
    "seed": "seed",
    "iterations": "updates",
}
_CHOICE_WORDS: dict[str, dict[str, str]] = {
    "cell": {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"},
    "activation": {"relu": "ReLU"},
    "clip": {"none": "no clipping", "norm": "clipping by norm", "value": "clipping by value"},
    "init": {
        "gaussian": "Gaussian init",
        "orthogonal": "orthogonal init",
        "identity": "identity init",
        "xavier": "Xavier init",
        "he": "He init",
    },
    "task": {"probe": "probe task", "adding": "adding problem"},
    "optimizer": {"sgd": "SGD", "adam": "Adam"},
}


def _value(value: Any) -> str:
    if value is None:
        return "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def field_words(name: str, value: Any) -> str:
    """One setting in the words of the screen: "W_rec scale 0.5", "LSTM", "no truncation"."""
    if name in _SCREEN_NAMES:
        if value is None:
            return f"no {_SCREEN_NAMES[name]}" if name == "truncation" else f"{_SCREEN_NAMES[name]} off"
        return f"{_SCREEN_NAMES[name]} {_value(value)}"
    return _CHOICE_WORDS.get(name, {}).get(str(value), _value(value))


def pin_label(pinned: Config, live: Config) -> str:
    """What differs from the live Config, in the words of the screen, e.g. "RNN" or
    "no clipping, learning rate 0.1". The first fields (the control panel's order) always show."""
    differences = pinned.differences(live)
    if not differences:
        return "same settings"
    parts = [field_words(name, mine) for name, (mine, _live) in differences.items()]
    if len(parts) > MAX_LABEL_FIELDS:
        parts = parts[:MAX_LABEL_FIELDS] + [f"+{len(parts) - MAX_LABEL_FIELDS} more"]
    return ", ".join(parts)


class PinBoard:
    """Up to ``MAX_PINS`` pins. A further pin replaces the oldest (and says so)."""

    def __init__(self, capacity: int = MAX_PINS) -> None:
        self.capacity = capacity
        self._pins: list[Pin] = []

    @property
    def pins(self) -> Sequence[Pin]:
        """Oldest first."""
        return tuple(self._pins)

    def __len__(self) -> int:
        return len(self._pins)

    def add(self, pin: Pin) -> Pin | None:
        """Add ``pin`` in the slot of the one it replaces or the first free one; return the
        replaced pin, if any."""
        replaced = None
        if len(self._pins) >= self.capacity:
            replaced = self._pins.pop(0)
            slot = replaced.slot
        else:
            used = {p.slot for p in self._pins}
            slot = min(s for s in range(self.capacity) if s not in used)
        self._pins.append(_with_slot(pin, slot))
        return replaced

    def clear(self) -> None:
        self._pins.clear()


def _with_slot(pin: Pin, slot: int) -> Pin:
    if pin.slot == slot:
        return pin
    return Pin(
        slot=slot,
        config=pin.config,
        iteration=pin.iteration,
        log10_dh_norm=pin.log10_dh_norm,
        update_iteration=pin.update_iteration,
        log10_grad=pin.log10_grad,
        log10_loss=pin.log10_loss,
    )
