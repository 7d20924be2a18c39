"""Every benchmark in one run: ``python -m gradlab.benchmarks [--quick]``.

Core speed (forward + BPTT against the matmul floor and PyTorch's figures), then the window
(event-loop stalls, displayed frame rate, control-to-screen latency, launch time), then a soak
(RSS over 10,000 frames), then phase maps (a 41 × 41 map and its first row).
Each figure is printed next to its target. Each part runs in a process
of its own, one after the other, so that none inherits another's memory (PyTorch, the large runs
of the window benchmark) or its BLAS thread limit.
"""

from __future__ import annotations

import argparse
import subprocess
import sys


def part_arguments(quick: bool) -> dict[str, list[str]]:
    """The command-line arguments of each part, for a full or a ``quick`` run."""
    return {
        "core": ["--quick"] if quick else [],
        "gui": ["--seconds", "4", "--repeats", "3"] if quick else [],
        "soak": ["--frames", "2000" if quick else "10000"],
        "phase": ["--quick"] if quick else [],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradlab.benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller core table, shorter GUI runs, 2,000-frame soak")
    args = parser.parse_args(argv)
    failed = []
    for number, (part, arguments) in enumerate(part_arguments(args.quick).items()):
        if number:
            print(flush=True)
        status = subprocess.run(
            [sys.executable, "-m", f"gradlab.benchmarks.{part}", *arguments], check=False
        ).returncode
        if status != 0:
            failed.append(f"{part} (exit status {status})")
    if failed:
        print(f"\nnot measured to the end: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
