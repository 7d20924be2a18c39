"""Every benchmark in one run: ``python -m gradlab.benchmarks [--quick]``.

Core speed (forward + BPTT against the matmul floor and PyTorch's figures), then the window
(event-loop stalls, displayed frame rate, control-to-screen latency, launch time), then a soak
(RSS over 10,000 frames). Each figure is printed next to its target.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from . import core, gui, soak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradlab.benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller core table, shorter GUI runs, 2,000-frame soak")
    args = parser.parse_args(argv)
    core.main(["--quick"] if args.quick else [])
    print()
    gui.main(["--seconds", "4", "--repeats", "3"] if args.quick else [])
    print()
    soak.main(["--frames", "2000" if args.quick else "10000"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
