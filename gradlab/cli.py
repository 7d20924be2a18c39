"""The ``gradlab`` command: with no subcommand it opens the window; ``gradlab run`` runs the same
simulation core headless, shows progress, prints a summary and saves the history.

Bad arguments get one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from . import __version__
from ._blas import limit_blas_threads
from .cli_phase import add_phase_parser, run_phase
from .core.config import FIELDS, Config, FieldSpec
from .core.frame import Frame
from .core.record import FORMATS, History, save
from .core.scenario import ScenarioError, load_scenario

CLI_DEFAULT_ITERATIONS = 200  # a headless run needs an end; the window runs until stopped


class UsageError(Exception):
    """Bad command-line input: reported as one line and exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _typed(spec: FieldSpec):
    """argparse type for a numeric field: 'none' for optional fields, else int/float with the range in the message."""

    def convert(text: str) -> Any:
        if spec.optional and text.strip().lower() in ("none", "off"):
            return None
        try:
            return int(text) if spec.kind == "int" else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {spec.describe()}") from None

    convert.__name__ = spec.kind
    return convert


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gradlab",
        description="See, live, why recurrent networks are hard to train. With no command: open the window.",
        epilog="Run 'gradlab run --help' for the headless simulation.",
    )
    parser.add_argument("--version", action="version", version=f"gradlab {__version__}")
    parser.add_argument("--scenario", metavar="FILE", help="open the window on this scenario (JSON)")
    parser.add_argument(
        "--exit-after-frames",
        type=_positive_int,
        metavar="N",
        help="quit by itself with status 0 after N frames were shown (smoke tests)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run_parser = commands.add_parser(
        "run",
        help="run a simulation headless and save its history",
        description="Train headless, show progress, print a summary; --out saves the history "
        f"({', '.join(FORMATS)} by extension). Flags override the scenario's config.",
    )
    run_parser.add_argument("--scenario", metavar="FILE", help="start from this scenario's config (JSON)")
    for name, spec in FIELDS.items():
        kwargs: dict[str, Any] = {"dest": name, "default": None, "help": f"{spec.help}: {spec.describe()}"}
        if spec.kind == "choice":
            kwargs["choices"] = spec.choices
        else:
            kwargs["type"] = _typed(spec)
            kwargs["metavar"] = "N" if spec.kind == "int" else "X"
        if name == "iterations":
            kwargs["help"] += f" (default here: {CLI_DEFAULT_ITERATIONS})"
        run_parser.add_argument(_option(name), **kwargs)
    run_parser.add_argument("--out", metavar="FILE", help=f"save the history: {', '.join(FORMATS)}")
    run_parser.add_argument("--quiet", action="store_true", help="no progress line")
    add_phase_parser(commands)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def config_from_args(args: argparse.Namespace) -> Config:
    """The scenario's config (or the defaults) with every given flag applied; validated."""
    base = load_scenario(args.scenario).config if args.scenario else Config()
    changes = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
    if base.iterations is None and "iterations" not in changes:
        changes["iterations"] = CLI_DEFAULT_ITERATIONS
    try:
        return base.replace(**changes)
    except ValueError as error:
        raise UsageError(f"gradlab run: {_option_message(str(error))}") from None


def _option_message(message: str) -> str:
    """'seq_len: …' → '--seq-len: …', so the message names the flag the user typed."""
    field_name, sep, rest = message.partition(":")
    return f"{_option(field_name)}:{rest}" if sep and field_name in FIELDS else message


def check_out_path(out: str) -> None:
    """Refuse an --out that cannot be written before running, not after."""
    path = Path(out)
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"gradlab run: --out: {out!r} has an unknown extension; allowed: {', '.join(FORMATS)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"gradlab run: --out: the folder {str(folder)!r} does not exist")
    if path.is_dir():
        raise UsageError(f"gradlab run: --out: {out!r} is a folder")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"gradlab run: --out: the folder {str(folder)!r} is not writable")


def one_line(text: str) -> str:
    """The message as one printable line: control characters from the input are shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _format(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def run_headless(config: Config, out: str | None, quiet: bool, stream: IO[str]) -> int:
    from .core import run
    from .core.parallel import BatchHelper, worth_splitting

    helper = BatchHelper.start() if worth_splitting(config) else None  # half of each large batch
    try:
        return _run_headless(config, out, quiet, stream, run(config, helper=helper))
    finally:
        if helper is not None:
            helper.close()


def _run_headless(config: Config, out: str | None, quiet: bool, stream: IO[str], frames: Iterator[Frame]) -> int:
    history = History(config)
    total = config.iterations
    started = time.perf_counter()
    last_print = 0.0
    interactive = stream.isatty()
    first_event = ""
    try:
        for frame in frames:
            history.append(frame)
            if frame.nonfinite and not first_event:
                first_event = frame.message
            now = time.perf_counter()
            if not quiet and (now - last_print > (0.1 if interactive else 2.0) or frame.final):
                last_print = now
                line = (
                    f"update {frame.iteration}/{total}  loss {_format(frame.loss)}"
                    f" (baseline {_format(frame.baseline_loss)})  |grad| {_format(frame.grad_norm)}"
                )
                stream.write(("\r" + line + "\033[K") if interactive else line + "\n")
                stream.flush()
    except KeyboardInterrupt:
        stream.write("\ninterrupted; summarising what ran\n")
    if interactive and not quiet:
        stream.write("\n")
    elapsed = time.perf_counter() - started
    _print_summary(history, elapsed, first_event)
    if out is not None and len(history):
        try:
            path = save(history, out)
        except OSError as error:
            print(one_line(f"gradlab run: cannot write {out}: {error.strerror or error}"), file=sys.stderr)
            return 1
        print(f"saved {len(history)} updates to {path}")
    return 0


def _print_summary(history: History, elapsed: float, first_event: str) -> None:
    frame = history.last_frame
    if frame is None:
        print("no update ran")
        return
    config = history.config
    losses = [v for v in history.rows["loss"][-50:] if math.isfinite(v)]
    recent = sum(losses) / len(losses) if losses else float("nan")
    print(
        f"{config.cell} {config.activation if config.cell == 'rnn' else ''} H={config.hidden_size} "
        f"T={config.seq_len} task={config.task}: {len(history)} updates in {elapsed:.1f} s "
        f"({len(history) / max(elapsed, 1e-9):.1f} updates/s)".replace("  ", " ")
    )
    print(
        f"final loss {_format(frame.loss)}; mean of the last {len(losses)} finite: {_format(recent)}; "
        f"baseline (predict the mean) {_format(frame.baseline_loss)}"
        + (f" -> {recent / frame.baseline_loss:.3g} x baseline" if math.isfinite(recent) else "")
    )
    print(
        f"gradient through time: fitted slope {_format(frame.fitted_slope)} log10/step"
        + (f", theory bound log10(gamma*sigma_max) = {_format(frame.theory_slope)}" if config.cell == "rnn" else "")
        + f"; spectral radius {_format(frame.spectral_radius)}, sigma_max {_format(frame.sigma_max)}"
    )
    if config.clip != "none":
        print(
            f"clipping by {config.clip} at {config.clip_threshold:g}:"
            f" clipped {history.clipped_updates} of {len(history)} updates"
        )
    if history.nonfinite_updates:
        print(f"non-finite events: {history.nonfinite_updates} updates; first: {first_event}")
    else:
        print("non-finite events: none")


def main(argv: Sequence[str] | None = None) -> int:
    # In a frozen (PyInstaller) app the simulation process is this same executable: let it
    # become that process instead of parsing its arguments.
    multiprocessing.freeze_support()
    limit_blas_threads()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "run":
            config = config_from_args(args)
            if args.out is not None:
                check_out_path(args.out)
            return run_headless(config, args.out, args.quiet, sys.stderr)
        if args.command == "phase":
            return run_phase(args, sys.stderr)
        scenario = load_scenario(args.scenario) if args.scenario else None
    except UsageError as error:
        print(one_line(str(error)), file=sys.stderr)
        return 2
    except ScenarioError as error:
        print(one_line(f"gradlab: {error}"), file=sys.stderr)
        return 2
    problem = display_problem()
    if problem:
        print(f"gradlab: {problem}; 'gradlab run' runs the simulation without a window", file=sys.stderr)
        return 2
    from .ui.app import launch

    status = launch(exit_after_frames=args.exit_after_frames, scenario=scenario)
    # The window is closed, its settings written and the simulation processes stopped. Tearing
    # down the interpreter (Qt, pyqtgraph and NumPy objects) would keep the process alive another
    # 0.3-0.8 s after the window disappeared; nothing is left that needs it.
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(status)


def display_problem(environ: Mapping[str, str] | None = None) -> str:
    """Why no window can open here ("" if one can): on Linux without X11 or Wayland, Qt would
    abort with a core dump instead of a message."""
    environ = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return ""
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return ""
    return "no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set)"
