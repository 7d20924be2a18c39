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
# Every column is float64 but these; "nonfinite" holds NonFinite.describe() ("" when all finite).
_DTYPES: dict[str, Any] = {"iteration": np.int64, "clipped": np.bool_, "nonfinite": object}


class Columns:
    """Named arrays of equal length that grow by appending: amortised O(1) per row, no cap.

    Reading a column (``columns.loss``) gives a read-only view of its filled part. Pickled (to
    cross a pipe), only the filled part goes.
    """

    def __init__(self, dtypes: dict[str, Any]) -> None:
        self._arrays = {name: np.empty(16, dtype) for name, dtype in dtypes.items()}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __getattr__(self, name: str) -> np.ndarray:
        arrays: dict[str, np.ndarray] | None = self.__dict__.get("_arrays")
        if arrays is None or name not in arrays:
            raise AttributeError(name)
        view = arrays[name][: self._size]
        view.flags.writeable = False
        return view

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._arrays)

    def extend(self, values: dict[str, Any]) -> None:
        """Append rows: one array (or sequence) per column, all of the same length."""
        count = len(values[next(iter(self._arrays))])
        if not count:
            return
        self._reserve(self._size + count)
        for name, array in self._arrays.items():
            array[self._size : self._size + count] = values[name]
        self._size += count

    def keep_last(self, count: int) -> None:
        """Drop all but the last ``count`` rows (a view's window, not a record's)."""
        if self._size > count:
            for name, array in self._arrays.items():
                self._arrays[name] = array[self._size - count : self._size].copy()
            self._size = count

    def _reserve(self, size: int) -> None:
        capacity = len(next(iter(self._arrays.values())))
        if size <= capacity:
            return
        capacity = max(size, 2 * capacity)
        for name, array in self._arrays.items():
            grown = np.empty(capacity, array.dtype)
            grown[: self._size] = array[: self._size]
            self._arrays[name] = grown

    def __getstate__(self) -> dict[str, Any]:
        return {
            "_arrays": {name: array[: self._size].copy() for name, array in self._arrays.items()},
            "_size": self._size,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


class UpdateLog(Columns):
    """The record of every update: one column per name of ``COLUMNS``, one row per update.

    The one shape of a run's per-update scalars: the simulation process sends the window the rows
    of the updates since its last delivery as one, the window's record, training plot and data
    export and the CLI's ``--out`` keep and write them.
    """

    def __init__(self) -> None:
        super().__init__({name: _DTYPES.get(name, np.float64) for name in COLUMNS})

    @classmethod
    def of(cls, frames: list[Frame]) -> UpdateLog:
        log = cls()
        for frame in frames:
            log.append(frame)
        return log

    def append(self, frame: Frame) -> None:
        self.extend({name: [_value(frame, name)] for name in COLUMNS})

    def add(self, other: UpdateLog) -> None:
        """Append every row of ``other``."""
        self.extend({name: getattr(other, name) for name in COLUMNS})


def _value(frame: Frame, name: str) -> Any:
    return frame.nonfinite.describe() if name == "nonfinite" else getattr(frame, name)


@dataclass
class History:
    """A run's record: its Config, every update's row (``updates``) and its latest frame."""

    config: Config
    baseline_loss: float = float("nan")
    updates: UpdateLog = field(default_factory=UpdateLog)
    last_frame: Frame | None = None

    def append(self, frame: Frame) -> None:
        self.updates.append(frame)
        self.frame_arrived(frame)

    def add(self, updates: UpdateLog, frame: Frame | None) -> None:
        """Rows of updates that arrived together, and the latest frame among them (if any)."""
        self.updates.add(updates)
        if frame is not None:
            self.frame_arrived(frame)

    def frame_arrived(self, frame: Frame) -> None:
        self.baseline_loss = frame.baseline_loss
        self.last_frame = frame

    def __len__(self) -> int:
        return len(self.updates)

    @property
    def nonfinite_updates(self) -> int:
        return int(np.count_nonzero(self.updates.nonfinite != ""))

    @property
    def clipped_updates(self) -> int:
        return int(np.count_nonzero(self.updates.clipped))


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
        "history": {name: [_json_number(v) for v in getattr(history.updates, name).tolist()] for name in COLUMNS},
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
            for row in zip(*(getattr(history.updates, name).tolist() for name in COLUMNS)):
                writer.writerow([int(v) if isinstance(v, bool) else v for v in row])
            handle.flush()
            handle.detach()

        # Atomic: a full disk must not leave a shorter CSV that still parses as a history.
        atomic_write(path, write_csv)
    else:
        last = history.last_frame
        arrays: dict[str, Any] = {
            "nonfinite": np.asarray(history.updates.nonfinite, dtype=str),
            "config_json": np.asarray(json.dumps(history.config.to_dict())),
            "baseline_loss": np.asarray(history.baseline_loss, dtype=np.float64),
            "log10_dh_norm": np.asarray([] if last is None else last.log10_dh_norm, dtype=np.float64),
        }
        for name in COLUMNS:
            arrays.setdefault(name, getattr(history.updates, name))
        if last is not None and last.log10_dc_norm is not None:
            arrays["log10_dc_norm"] = np.asarray(last.log10_dc_norm, dtype=np.float64)
        atomic_write(path, lambda handle: np.savez(handle, **arrays))
    return path
