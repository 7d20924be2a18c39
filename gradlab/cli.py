"""The ``gradlab`` command: with no subcommand it opens the window; ``gradlab run`` runs the same
simulation core headless, shows progress, prints a summary and saves the history.

Bad arguments get one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from . import __version__
from ._blas import limit_blas_threads
from ._interrupt import exit_status, handlers_restored, ignore_interrupts, raise_on_termination
from .cli_checks import (
    UsageError,
    _check_shown_time_file,
    _exit_after_frames_from_environment,
    _os_reason,
    _standard_streams,
    check_memory,
    check_window_limits,
    positive_int,
)
from .cli_phase import add_phase_parser, run_phase
from .core.config import FIELDS, Config, FieldSpec
from .core.files import bounded, check_regular, quote
from .core.frame import Frame
from .core.record import FORMATS, History, save
from .core.scenario import ScenarioError, load_scenario

CLI_DEFAULT_ITERATIONS = 200  # a headless run needs an end; the window runs until stopped
# A flag not given, as opposed to one given as "none" (which overrides the scenario's value).
_UNSET: Any = type("Unset", (), {"__repr__": lambda self: "unset"})()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _typed(spec: FieldSpec) -> Callable[[str], Any]:
    """argparse type for a numeric field: 'none' for optional fields, else int/float with the range in the message."""

    def convert(text: str) -> Any:
        if spec.optional and text.strip().lower() in ("none", "off"):
            return None
        try:
            return int(text) if spec.kind == "int" else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{quote(text)} is not {spec.describe()}") from None

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
        type=positive_int,
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
        kwargs: dict[str, Any] = {"dest": name, "default": _UNSET, "help": f"{spec.help}: {spec.describe()}"}
        if spec.kind == "choice":
            kwargs["choices"] = spec.choices
        else:
            kwargs["type"] = _typed(spec)
            kwargs["metavar"] = "N" if spec.kind == "int" else "X"
        if name == "iterations":
            kwargs["help"] += f" (default here: {CLI_DEFAULT_ITERATIONS})"
        aliases = ["--depth"] if name == "seq_len" else []  # depth mode's name for it (cell mlp)
        run_parser.add_argument(_option(name), *aliases, **kwargs)
    run_parser.add_argument("--out", metavar="FILE", help=f"save the history: {', '.join(FORMATS)}")
    run_parser.add_argument("--quiet", action="store_true", help="no progress line")
    add_phase_parser(commands)
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    """The scenario's config (or the defaults) with every given flag applied; validated."""
    check_scenario_name(args.scenario, "gradlab run")
    base = load_scenario(args.scenario).config if args.scenario is not None else Config()
    changes = {name: getattr(args, name) for name in FIELDS if getattr(args, name, _UNSET) is not _UNSET}
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


def check_scenario_name(scenario: str | None, prog: str) -> None:
    if scenario is not None and not scenario.strip():
        raise UsageError(f"{prog}: --scenario: the file name is empty")


def check_out_path(out: str, scenario: str | None = None) -> None:
    """Refuse an --out that cannot be written before running, not after: an unknown extension, a
    missing or unwritable folder, a FIFO, device or folder, a name too long, the scenario itself."""
    path = Path(out)
    if not out.strip():
        raise UsageError("gradlab run: --out: the file name is empty")
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"gradlab run: --out: {quote(out)} has an unknown extension; allowed: {', '.join(FORMATS)}")
    folder = path.parent if str(path.parent) else Path(".")
    try:
        if not folder.is_dir():
            raise UsageError(f"gradlab run: --out: the folder {quote(str(folder))} does not exist")
        check_regular(path, for_writing=True)
    except OSError as error:  # FileKindError (a FIFO, device, folder), or a name too long
        raise UsageError(f"gradlab run: --out: {_os_reason(error, out)}") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"gradlab run: --out: the folder {quote(str(folder))} is not writable")
    if scenario is not None and _same_file(out, scenario):
        raise UsageError(f"gradlab run: --out: {quote(out)} is the scenario file; it would be overwritten")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def one_line(text: str) -> str:
    """The message as one printable line of bounded length: control characters from the input
    are shown escaped, a long value elided."""
    return bounded(text)


def _format(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def run_headless(config: Config, out: str | None, quiet: bool, stream: IO[str]) -> int:
    from .core import run

    return _run_headless(config, out, quiet, stream, run(config))


def _run_headless(config: Config, out: str | None, quiet: bool, stream: IO[str], frames: Iterator[Frame]) -> int:
    history = History(config)
    total = config.iterations
    started = time.perf_counter()
    last_print = 0.0
    interactive = _isatty(stream)
    first_event = ""
    status = 0
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
                _write(stream, ("\r" + line + "\033[K") if interactive else line + "\n")
    except KeyboardInterrupt as interrupt:
        # Ctrl+C, SIGTERM or SIGHUP: summarise and save what ran. A second signal meanwhile
        # would break that half-way (and print a traceback from wherever it lands): ignored.
        ignore_interrupts()
        status = exit_status(interrupt)
        _write(stream, f"\ninterrupted ({signal.Signals(status - 128).name}); summarising what ran\n")
    if interactive and not quiet:
        _write(stream, "\n")
    elapsed = time.perf_counter() - started
    # stdout full or gone: the file is still saved, and the two failures are one line.
    output_error: BaseException | None = None
    try:
        _print_summary(history, elapsed, first_event)
    except (OSError, ValueError) as error:
        output_error = error
        _silence_stdout()
    if out is not None and len(history):
        try:
            path = save(history, out)
        except OSError as error:
            also = f" (nor the summary: {_reason(output_error)})" if output_error is not None else ""
            _error(f"gradlab run: cannot write {_os_reason(error, out)}{also}")
            return 1
        if output_error is None:
            try:
                print(f"saved {len(history)} updates to {path}")
            except (OSError, ValueError) as error:
                output_error = error
    if output_error is not None:
        return _output_failed(output_error)
    return status


def _output_failed(error: BaseException) -> int:
    """stdout cannot be written (a full disk, a pipe whose reader has gone): said once on stderr;
    stdout is pointed at the null device so that nothing more (Python's flush at exit) fails."""
    _silence_stdout()
    _error(f"gradlab: cannot write the output: {_reason(error)}")
    return 1


def _silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def _reason(error: BaseException | None) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError, AttributeError):
        return False


def _write(stream: IO[str], text: str) -> None:
    """Progress on stderr: a closed or broken stderr must not stop the run or the save."""
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass


def _print_summary(history: History, elapsed: float, first_event: str) -> None:
    frame = history.last_frame
    if frame is None:
        print("no update ran")
        return
    config = history.config
    losses = [v for v in history.updates.loss[-50:].tolist() if math.isfinite(v)]
    recent = sum(losses) / len(losses) if losses else float("nan")
    print(
        f"{config.cell} {config.activation if config.cell in ('rnn', 'mlp') else ''} H={config.hidden_size} "
        f"{'L' if config.cell == 'mlp' else 'T'}={config.seq_len} task={config.task}: "
        f"{len(history)} updates in {elapsed:.1f} s "
        f"({len(history) / max(elapsed, 1e-9):.1f} updates/s)".replace("  ", " ")
    )
    print(
        f"final loss {_format(frame.loss)}; mean of the last {len(losses)} finite: {_format(recent)}; "
        f"baseline (predict the mean) {_format(frame.baseline_loss)}"
        + (f" -> {recent / frame.baseline_loss:.3g} x baseline" if math.isfinite(recent) else "")
    )
    print(
        f"gradient through time: fitted slope {_format(frame.fitted_slope)} log10/step"
        + (f", predicted {_format(frame.predicted_slope)} ({frame.predicted_kind})" if frame.predicted_kind else "")
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
    """The command: every way it can end is a status and at most one line on stderr. The signal
    handlers it sets are put back on return."""
    _standard_streams()
    with handlers_restored():
        raise_on_termination()
        try:
            status = _main(argv)
        except KeyboardInterrupt as interrupt:  # Ctrl+C or a termination signal outside the run loop
            ignore_interrupts()
            _error("gradlab: interrupted")
            status = exit_status(interrupt)
        except MemoryError:
            _error("gradlab: not enough memory; make --hidden-size, --seq-len or --batch-size smaller")
            status = 1
        except Exception as error:  # a bug: still one line, never a traceback in front of a class
            _error(f"gradlab: unexpected error: {type(error).__name__}: {error}")
            status = 1
        return _flush_stdout(status)


def _main(argv: Sequence[str] | None) -> int:
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
                check_out_path(args.out, args.scenario)
            check_memory(config)
            return run_headless(config, args.out, args.quiet, sys.stderr)
        if args.command == "phase":
            return run_phase(args, sys.stderr)
        check_scenario_name(args.scenario, "gradlab")
        exit_after_frames = args.exit_after_frames
        if exit_after_frames is None:
            exit_after_frames = _exit_after_frames_from_environment()
        _check_shown_time_file()
        scenario = load_scenario(args.scenario) if args.scenario is not None else None
    except UsageError as error:
        _error(str(error))
        return 2
    except ScenarioError as error:
        _error(f"gradlab: {error}")
        return 2
    problem = display_problem()
    if problem:
        _error(f"gradlab: {problem}; 'gradlab run' runs the simulation without a window")
        return 2
    try:
        check_window_limits()
    except UsageError as error:
        _error(str(error))
        return 2
    from .ui.app import launch

    status = launch(exit_after_frames=exit_after_frames, scenario=scenario)
    # The window is closed, its settings written and the simulation processes stopped. Tearing
    # down the interpreter (Qt, pyqtgraph and NumPy objects) would keep the process alive another
    # 0.3-0.8 s after the window disappeared; nothing is left that needs it.
    status = _flush_stdout(status)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    logging.shutdown()
    os._exit(status)


def _error(message: str) -> None:
    """One bounded line on stderr; a stderr that cannot be written to is no reason to fail."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        print(one_line(message), file=sys.stderr, flush=True)


def _flush_stdout(status: int) -> int:
    """Flush the summary now, where a failure can still be reported: stdout on a full disk or a
    pipe whose reader has gone (``| head``) is one line on stderr and status 1, not a traceback
    at exit."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError) as error:
        return _output_failed(error)
    return status


def display_problem(environ: Mapping[str, str] | None = None) -> str:
    """Why no window can open here ("" if one can): on Linux without X11 or Wayland, Qt would
    abort with a core dump instead of a message."""
    environ = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return ""
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return ""
    return "no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set)"
