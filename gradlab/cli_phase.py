"""``gradlab phase``: a phase map (the measured per-step gradient slope over two controls) headless.

    gradlab phase [config flags] --x FIELD=START:STOP:N --y FIELD=START:STOP:N
                  [--seeds K] [--workers N] [--trainability ITER] --out map.npz|.csv|.png

A progress bar on stderr; bad axes get one line and exit status 2 (as every bad argument of the
``gradlab`` command).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from .cli_checks import UsageError, positive_int
from .core.config import FIELDS, Config
from .core.files import check_regular
from .core.phase_map import PhaseMap, compute_phase_map, default_cache_dir
from .core.phase_point import PhaseMapError, PhaseMapSpec, parse_axis
from .core.scenario import load_scenario

OUT_FORMATS = (".npz", ".csv", ".png")
BAR_WIDTH = 30


def add_phase_parser(commands: Any) -> None:
    """Add the ``phase`` subcommand to the ``gradlab`` parser's subcommands."""
    from . import cli

    parser = commands.add_parser(
        "phase",
        help="compute a phase map: the gradient's per-step slope over two controls",
        description="For every point of a grid over two numeric config fields, one forward + backward "
        "pass of the untrained network: the measured per-step slope of log10 |dL/dh_t| (< 0 vanishing, "
        "> 0 exploding) beside the mean-field prediction. Flags set the other fields.",
        epilog="Example: gradlab phase --x w_rec_scale=0.5:2:41 --y hidden_size=8:128:41 --out map.png",
    )
    parser.add_argument("--scenario", metavar="FILE", help="start from this scenario's config (JSON)")
    for name, spec in FIELDS.items():
        kwargs: dict[str, Any] = {"dest": name, "default": None, "help": f"{spec.help}: {spec.describe()}"}
        if spec.kind == "choice":
            kwargs["choices"] = spec.choices
        else:
            kwargs["type"] = cli._typed(spec)
            kwargs["metavar"] = "N" if spec.kind == "int" else "X"
        parser.add_argument(cli._option(name), **kwargs)
    axis_help = "FIELD=START:STOP:N: N values of a numeric field (integer fields round and drop repeats)"
    parser.add_argument("--x", required=True, metavar="FIELD=START:STOP:N", help=f"the map's columns: {axis_help}")
    parser.add_argument("--y", required=True, metavar="FIELD=START:STOP:N", help=f"the map's rows: {axis_help}")
    parser.add_argument("--seeds", type=positive_int, default=1, metavar="K", help="networks per point, averaged")
    parser.add_argument("--workers", type=positive_int, metavar="N", help="processes (default: one per core)")
    parser.add_argument(
        "--trainability", type=positive_int, metavar="ITER", help="also train each point ITER updates (slow)"
    )
    parser.add_argument("--out", required=True, metavar="FILE", help=f"save the map: {', '.join(OUT_FORMATS)}")
    parser.add_argument("--no-cache", action="store_true", help=f"do not use or fill the cache ({default_cache_dir()})")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def spec_from_args(args: argparse.Namespace) -> PhaseMapSpec:
    """The map asked for; ``UsageError`` with one line for anything wrong."""
    from .cli import _option_message

    base = load_scenario(args.scenario).config if args.scenario else Config()
    changes = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
    try:
        base = base.replace(**changes)
    except ValueError as error:
        raise UsageError(f"gradlab phase: {_option_message(str(error))}") from None
    axes = []
    for flag in ("x", "y"):
        try:
            axes.append(parse_axis(getattr(args, flag)))
        except PhaseMapError as error:
            raise UsageError(f"gradlab phase: --{flag}: {error}") from None
    try:
        return PhaseMapSpec(base, axes[0], axes[1], seeds=args.seeds, trainability=args.trainability)
    except PhaseMapError as error:
        raise UsageError(f"gradlab phase: {error}") from None


def check_out_path(out: str) -> None:

    path = Path(out)
    if path.suffix.lower() not in OUT_FORMATS:
        raise UsageError(f"gradlab phase: --out: {out!r} has an unknown extension; allowed: {', '.join(OUT_FORMATS)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"gradlab phase: --out: the folder {str(folder)!r} does not exist")
    if path.is_dir():
        raise UsageError(f"gradlab phase: --out: {out!r} is a folder")
    try:
        check_regular(path, for_writing=True)  # a FIFO or device is refused before the map is computed
    except OSError as error:
        raise UsageError(f"gradlab phase: --out: {error}") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"gradlab phase: --out: the folder {str(folder)!r} is not writable")


class ProgressBar:
    """``[#####.....] 420/1681 points  3.1 s`` on one line of a terminal; a line every 2 s elsewhere."""

    def __init__(self, stream: IO[str], quiet: bool) -> None:
        self.stream, self.quiet = stream, quiet
        self.interactive = stream.isatty()
        self.started = time.perf_counter()
        self.last = -1e9

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.quiet or (now - self.last < (0.1 if self.interactive else 2.0) and done < total):
            return
        self.last = now
        filled = BAR_WIDTH * done // max(total, 1)
        line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} points  {now - self.started:.1f} s"
        self.stream.write(("\r" + line + "\033[K") if self.interactive else line + "\n")
        if self.interactive and done >= total:
            self.stream.write("\n")
        self.stream.flush()


def run_phase(args: argparse.Namespace, stream: IO[str]) -> int:
    """The ``phase`` subcommand: exit status 0, 1 (cannot write) or 130 (interrupted)."""
    from .cli import one_line

    spec = spec_from_args(args)
    check_out_path(args.out)
    cancel = threading.Event()
    progress = ProgressBar(stream, args.quiet)
    started = time.perf_counter()
    try:
        result = compute_phase_map(
            spec,
            workers=args.workers,
            cancel=cancel,
            progress=progress,
            cache_dir=None if args.no_cache else default_cache_dir(),
        )
    except KeyboardInterrupt:
        result = None
    if result is None:
        stream.write("\ninterrupted; nothing saved\n")
        return 130
    elapsed = time.perf_counter() - started
    try:
        path = save_map(result, args.out)
    except OSError as error:
        print(one_line(f"gradlab phase: cannot write {args.out}: {error.strerror or error}"), file=sys.stderr)
        return 1
    ny, nx = spec.shape
    source = "from the cache" if result.from_cache else f"in {elapsed:.1f} s"
    print(f"{ny} x {nx} map of {spec.y.field} x {spec.x.field} {source}; saved to {path}")
    return 0


def save_map(result: PhaseMap, out: str) -> Path:
    suffix = Path(out).suffix.lower()
    if suffix == ".npz":
        return result.save_npz(out)
    if suffix == ".csv":
        return result.save_csv(out)
    # Drawn by the window's own panel, offscreen where no display is needed.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .ui.plot_phase import render_png

    return render_png(result, out)
