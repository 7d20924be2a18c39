"""Soak: stream many frames into the real window and watch memory and the frame rate.

    python -m gradlab.benchmarks.soak [--frames 10000]

Prints the resident memory (RSS) of the window's process and of the simulation process after a
warm-up and then at intervals, and the displayed frames per second per interval. Target: RSS
flat within ±20 MB after warm-up, frame rate steady. RSS is read from /proc (Linux).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

from gradlab.core import Config

WARM_UP_FRAMES = 500
RSS_TOLERANCE_MB = 20.0


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of a process in MB (nan where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid or os.getpid()}/statm").read_text().split()
    except OSError:
        return float("nan")
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class SoakResult:
    frames: int
    samples: list[tuple[int, float, float, float]] = field(default_factory=list)  # frames, gui MB, sim MB, fps

    def drift_mb(self) -> tuple[float, float]:
        """Largest departure of the GUI's and the simulation's RSS from their after-warm-up value."""
        _, gui0, sim0, _ = self.samples[0]
        gui = max(abs(s[1] - gui0) for s in self.samples)
        sim = max(abs(s[2] - sim0) for s in self.samples)
        return gui, sim

    def fps_range(self) -> tuple[float, float]:
        rates = [s[3] for s in self.samples[1:]] or [float("nan")]
        return min(rates), max(rates)


def soak(
    frames: int, config: Config | None = None, *, sample_every: int = 500, timeout_s: float = 1800.0
) -> SoakResult:
    """Show ``frames`` frames of ``config`` (default scene) in a real window; sample RSS and fps."""
    from gradlab.ui.app import application, create_window

    app = application()
    window = create_window(config or Config())
    window.resize(1280, 720)
    window.show()
    window.start()
    result = SoakResult(frames)
    deadline = time.monotonic() + timeout_s
    last_frames, last_time = 0, time.monotonic()
    next_sample = WARM_UP_FRAMES
    try:
        while window.frames_displayed < frames and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.002)
            if window.frames_displayed >= next_sample:
                now = time.monotonic()
                fps = (window.frames_displayed - last_frames) / (now - last_time)
                last_frames, last_time = window.frames_displayed, now
                result.samples.append((window.frames_displayed, rss_mb(), rss_mb(window.controller.process_pid), fps))
                next_sample += sample_every
    finally:
        window.close()
        app.processEvents()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradlab.benchmarks.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    args = parser.parse_args(argv)
    print(f"Soak: {args.frames} frames of the default scene in the window (offscreen)")
    result = soak(args.frames)
    for frames, gui, sim, fps in result.samples:
        print(f"  after {frames:6d} frames: window {gui:7.1f} MB, simulation {sim:7.1f} MB, {fps:5.1f} fps")
    if len(result.samples) < 2:
        print("  too few samples")
        return 0
    gui_drift, sim_drift = result.drift_mb()
    low, high = result.fps_range()
    ok = max(gui_drift, sim_drift) <= RSS_TOLERANCE_MB
    print(
        f"RSS drift after warm-up: window {gui_drift:.1f} MB, simulation {sim_drift:.1f} MB"
        f"   (target within ±{RSS_TOLERANCE_MB:.0f} MB: {'ok' if ok else 'MISSED'})"
    )
    print(f"displayed fps per interval: {low:.1f} … {high:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
