"""Phase maps: the per-step slope of the gradient over two numeric controls, on the untrained network.

For every point of a grid over two ``Config`` fields (x and y), the network is initialised as a
run of that config would be, and one forward + backward pass of one batch (the run's first batch)
gives log10 ‖∂L/∂h_t‖ through time; its least-squares slope per step back is the *measured* slope
(< 0: vanishing, > 0: exploding). Beside it: the *predicted* slope of mean-field theory
(``mean_field``), whose zero is the edge of chaos, and the total log10 ratio of the gradient at the
first step to the gradient at the last. Optionally a trainability map (Schoenholz et al. 2017): the
loss after N updates relative to the baseline.

The grid is computed by ``phase_pool`` (by default on a pool of local processes), a few rows per
task, and can be cancelled at any time; finished maps are cached on disk under a hash of
everything they depend on.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import FIELDS, Config
from .files import atomic_write, open_regular
from .phase_point import Axis, PhaseMapSpec
from .phase_pool import PhaseRow, iter_rows


@dataclass(frozen=True)
class PhaseMap:
    """A finished map. Arrays are (Ny, Nx): row j is y[j], column i is x[i]."""

    spec: PhaseMapSpec
    slope: np.ndarray
    predicted_slope: np.ndarray
    total_log10_ratio: np.ndarray
    loss_ratio: np.ndarray | None = None
    from_cache: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        for value in (self.slope, self.predicted_slope, self.total_log10_ratio, self.loss_ratio):
            if value is not None:
                value.flags.writeable = False

    @property
    def x(self) -> np.ndarray:
        return np.array(self.spec.x.values, dtype=float)

    @property
    def y(self) -> np.ndarray:
        return np.array(self.spec.y.values, dtype=float)

    def arrays(self) -> dict[str, np.ndarray]:
        """What an .npz holds: x, y, the (Ny, Nx) maps and the spec as JSON."""
        out = {
            "x": self.x,
            "y": self.y,
            "slope": np.asarray(self.slope),
            "predicted_slope": np.asarray(self.predicted_slope),
            "total_log10_ratio": np.asarray(self.total_log10_ratio),
            "x_field": np.array(self.spec.x.field),
            "y_field": np.array(self.spec.y.field),
            "seeds": np.array(self.spec.seeds),
            "config": np.array(json.dumps(self.spec.base.to_dict(), sort_keys=True)),
        }
        if self.loss_ratio is not None:
            out["loss_ratio"] = np.asarray(self.loss_ratio)
            out["trainability_updates"] = np.array(self.spec.trainability)
        return out

    def save_npz(self, path: str | os.PathLike[str]) -> Path:
        arrays: dict[str, Any] = self.arrays()  # (NumPy's stubs read ** as its allow_pickle flag)
        return atomic_write(path, lambda f: np.savez_compressed(f, **arrays))

    def csv_text(self) -> str:
        """One row per point: x, y, slope, predicted_slope, total_log10_ratio[, loss_ratio]."""
        columns = [self.spec.x.field, self.spec.y.field, "slope", "predicted_slope", "total_log10_ratio"]
        if self.loss_ratio is not None:
            columns.append("loss_ratio")
        lines = [",".join(columns)]
        for j, y_value in enumerate(self.spec.y.values):
            for i, x_value in enumerate(self.spec.x.values):
                values = [self.slope[j, i], self.predicted_slope[j, i], self.total_log10_ratio[j, i]]
                if self.loss_ratio is not None:
                    values.append(self.loss_ratio[j, i])
                lines.append(",".join([_number(x_value), _number(y_value), *(repr(float(v)) for v in values)]))
        return "\n".join(lines) + "\n"

    def save_csv(self, path: str | os.PathLike[str]) -> Path:
        text = self.csv_text().encode()
        return atomic_write(path, lambda f: f.write(text))

    @classmethod
    def load_npz(cls, path: str | os.PathLike[str], spec: PhaseMapSpec | None = None) -> PhaseMap:
        with open_regular(path) as handle, np.load(handle, allow_pickle=False) as data:
            if spec is None:
                base = Config.from_dict(json.loads(str(data["config"])))
                x_field, y_field = str(data["x_field"]), str(data["y_field"])
                cast = {f: (int if FIELDS[f].kind == "int" else float) for f in (x_field, y_field)}
                trainability = int(data["trainability_updates"]) if "trainability_updates" in data else None
                spec = PhaseMapSpec(
                    base,
                    Axis(x_field, tuple(cast[x_field](v) for v in data["x"])),
                    Axis(y_field, tuple(cast[y_field](v) for v in data["y"])),
                    int(data["seeds"]),
                    trainability,
                )
            return cls(
                spec,
                np.array(data["slope"]),
                np.array(data["predicted_slope"]),
                np.array(data["total_log10_ratio"]),
                np.array(data["loss_ratio"]) if "loss_ratio" in data else None,
            )


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/gradlab/phase_maps (~/.cache/gradlab/phase_maps by default)."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "gradlab" / "phase_maps"


def cached(spec: PhaseMapSpec, cache_dir: str | os.PathLike[str] | None) -> PhaseMap | None:
    """The cached map of ``spec``, or None (no cache, not there, or unreadable)."""
    if cache_dir is None:
        return None
    path = Path(cache_dir) / f"{spec.key()}.npz"
    try:
        found = PhaseMap.load_npz(path, spec)
    except (OSError, ValueError, KeyError):
        return None
    if found.slope.shape != spec.shape:
        return None
    return PhaseMap(
        spec, found.slope, found.predicted_slope, found.total_log10_ratio, found.loss_ratio, from_cache=True
    )


def store(phase_map: PhaseMap, cache_dir: str | os.PathLike[str] | None) -> None:
    """Put a finished map into the cache (a cache that cannot be written is no error)."""
    if cache_dir is None:
        return
    folder = Path(cache_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        phase_map.save_npz(folder / f"{phase_map.spec.key()}.npz")
    except OSError:
        pass


_USE_DEFAULT = object()


def compute_phase_map(
    spec: PhaseMapSpec,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_row: Callable[[PhaseRow], None] | None = None,
    cache_dir: Any = _USE_DEFAULT,
) -> PhaseMap | None:
    """The whole map, or None if ``cancel`` was set before it was finished.

    ``progress(points_done, points_total)`` and ``on_row(row)`` are called as rows finish (in the
    calling thread). ``cache_dir``: where finished maps are kept (default
    ``default_cache_dir()``; None: no cache). A cached map is returned at once, its rows still
    passed to ``on_row``.
    """
    folder = default_cache_dir() if cache_dir is _USE_DEFAULT else cache_dir
    ny, nx = spec.shape
    found = cached(spec, folder)
    if found is not None:
        for j in range(ny):
            if on_row is not None:
                on_row(_row_of(found, j))
        if progress is not None:
            progress(ny * nx, ny * nx)
        return found
    slope = np.full((ny, nx), np.nan)
    predicted = np.full((ny, nx), np.nan)
    total = np.full((ny, nx), np.nan)
    loss_ratio = np.full((ny, nx), np.nan) if spec.trainability is not None else None
    done_rows = 0
    if progress is not None:
        progress(0, ny * nx)
    for row in iter_rows(spec, executor=executor, workers=workers, cancel=cancel):
        slope[row.index], predicted[row.index], total[row.index] = row.slope, row.predicted_slope, row.total_log10_ratio
        if loss_ratio is not None and row.loss_ratio is not None:
            loss_ratio[row.index] = row.loss_ratio
        done_rows += 1
        if on_row is not None:
            on_row(row)
        if progress is not None:
            progress(done_rows * nx, ny * nx)
    if done_rows < ny:
        return None
    result = PhaseMap(spec, slope, predicted, total, loss_ratio)
    store(result, folder)
    return result


def _row_of(phase_map: PhaseMap, j: int) -> PhaseRow:
    return PhaseRow(
        j,
        np.array(phase_map.slope[j]),
        np.array(phase_map.predicted_slope[j]),
        np.array(phase_map.total_log10_ratio[j]),
        None if phase_map.loss_ratio is None else np.array(phase_map.loss_ratio[j]),
    )
