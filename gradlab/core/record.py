"""The history of a run, and the files it is saved to (JSON, CSV, NPZ) by the CLI and the window."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from .config import Config
from .files import atomic_write, atomic_write_text
from .frame import Frame

FORMATS = (".json", ".csv", ".npz")
# One row per update: the CSV's columns, in order, and the per-update arrays of the NPZ/JSON.
COLUMNS = (
    "iteration",
    "loss",
    "grad_norm",
    "grad_norm_clipped",
    "clipped",
    "spectral_radius",
    "sigma_max",
    "fitted_slope",
    "predicted_slope",
    "nonfinite",
)


def row_of(frame: Frame) -> tuple[Any, ...]:
    """One update's values, in the order of ``COLUMNS``."""
    return tuple(frame.nonfinite.describe() if name == "nonfinite" else getattr(frame, name) for name in COLUMNS)


@dataclass
class History:
    """Per-update scalars of one run, and its latest frame."""

    config: Config
    baseline_loss: float = float("nan")
    rows: dict[str, list[Any]] = field(default_factory=lambda: {name: [] for name in COLUMNS})
    last_frame: Frame | None = None

    def append(self, frame: Frame) -> None:
        self.baseline_loss = frame.baseline_loss
        for name, value in zip(COLUMNS, row_of(frame)):
            self.rows[name].append(value)
        self.last_frame = frame

    def __len__(self) -> int:
        return len(self.rows["iteration"])

    @property
    def nonfinite_updates(self) -> int:
        return sum(1 for value in self.rows["nonfinite"] if value)

    @property
    def clipped_updates(self) -> int:
        return sum(1 for value in self.rows["clipped"] if value)


def _json_number(value: Any) -> Any:
    """Strict JSON has no inf/nan: those become the strings "inf", "-inf", "nan"."""
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return value


def to_json_dict(history: History) -> dict[str, Any]:
    last = history.last_frame
    return {
        "config": history.config.to_dict(),
        "baseline_loss": _json_number(history.baseline_loss),
        "history": {name: [_json_number(v) for v in values] for name, values in history.rows.items()},
        "log10_dh_norm": [] if last is None else [_json_number(v) for v in last.log10_dh_norm],
        "log10_dc_norm": None
        if last is None or last.log10_dc_norm is None
        else [_json_number(v) for v in last.log10_dc_norm],
    }


def save(history: History, path: str | Path) -> Path:
    """Write ``history`` to ``path``; the format follows the extension (.json, .csv, .npz)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"--out: {path.name!r} has an unknown extension; allowed: {', '.join(FORMATS)}")
    if suffix == ".json":
        atomic_write_text(path, json.dumps(to_json_dict(history), allow_nan=False) + "\n")
    elif suffix == ".csv":

        def write_csv(binary: IO[bytes]) -> None:
            handle = io.TextIOWrapper(binary, encoding="utf-8", newline="")
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for row in zip(*(history.rows[name] for name in COLUMNS)):
                writer.writerow([int(v) if isinstance(v, bool) else v for v in row])
            handle.flush()
            handle.detach()

        # Atomic: a full disk must not leave a shorter CSV that still parses as a history.
        atomic_write(path, write_csv)
    else:
        last = history.last_frame
        arrays: dict[str, np.ndarray] = {
            "iteration": np.asarray(history.rows["iteration"], dtype=np.int64),
            "clipped": np.asarray(history.rows["clipped"], dtype=bool),
            "nonfinite": np.asarray(history.rows["nonfinite"], dtype=str),
            "config_json": np.asarray(json.dumps(history.config.to_dict())),
            "baseline_loss": np.asarray(history.baseline_loss, dtype=np.float64),
            "log10_dh_norm": np.asarray([] if last is None else last.log10_dh_norm, dtype=np.float64),
        }
        for name in COLUMNS:
            if name not in arrays:
                arrays[name] = np.asarray(history.rows[name], dtype=np.float64)
        if last is not None and last.log10_dc_norm is not None:
            arrays["log10_dc_norm"] = np.asarray(last.log10_dc_norm, dtype=np.float64)
        atomic_write(path, lambda handle: np.savez(handle, **arrays))
    return path
