"""Measure the window against its targets and print the figures (not a pass/fail test).

    python -m gradlab.benchmarks.gui            # offscreen unless QT_QPA_PLATFORM says otherwise

- event-loop stalls: lateness of a 5 ms timer on the GUI thread while the simulation runs flat out
  (T=1000 H=128, and T=5000 H=256), p50 / p99 / max; target p99 < 30 ms;
- displayed frames per second in the same runs, and in the default scene; target >= 30
  (never more than the updates the core produces per second);
- the window's drawing rate for T=1000 H=128 frames: real frames replayed faster than it can draw
  them, with a real T=1000 H=128 simulation loading the machine alongside; target >= 30;
- depth mode: updates/s in the window for the scenes of width 256 (depth 50 × width 256 × batch
  32, SGD), with the per-layer view, the theory lines and the spectrum; target >= 30;
- control change -> first frame of the new run painted on screen; target < 150 ms;
- launch -> window first painted, for ``python -m gradlab`` in a subprocess; target < 1.5 s.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from gradlab.core import Config
from gradlab.presets import find_preset
from gradlab.ui.app import application, create_window

TIMER_INTERVAL_MS = 5


def _spin(app: QApplication, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.001)


def _wait_for(app: QApplication, condition, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.001)
    return False


def event_loop_stalls(
    app: QApplication, config: Config, seconds: float, run_path: str | None = None
) -> dict[str, float]:
    """Lateness of a 5 ms timer, displayed fps and updates/s while ``config`` runs flat out
    (``run_path``: another run generator for the window's simulation process)."""
    window = create_window(config)
    if run_path is not None:
        window.controller.run_path = run_path
    window.resize(1280, 720)
    window.show()
    window.start()
    _wait_for(app, lambda: window.frames_displayed >= 1, 120.0)

    ticks: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TIMER_INTERVAL_MS)
    timer.timeout.connect(lambda: ticks.append(clock.nsecsElapsed() / 1e6))
    first_frames, first_iteration = window.frames_displayed, window.session.latest_frame.iteration  # type: ignore[union-attr]
    clock.start()
    timer.start()
    quit_timer = QTimer()
    quit_timer.setSingleShot(True)
    quit_timer.timeout.connect(app.quit)
    quit_timer.start(int(seconds * 1000))
    app.exec()
    timer.stop()
    elapsed_s = clock.nsecsElapsed() / 1e9
    frames = window.frames_displayed - first_frames
    updates = window.session.latest_frame.iteration - first_iteration  # type: ignore[union-attr]
    window.close()
    lateness = np.maximum(np.diff(np.asarray(ticks)) - TIMER_INTERVAL_MS, 0.0)
    return {
        "p50_ms": float(np.percentile(lateness, 50)) if lateness.size else float("nan"),
        "p99_ms": float(np.percentile(lateness, 99)) if lateness.size else float("nan"),
        "max_ms": float(lateness.max()) if lateness.size else float("nan"),
        "fps": frames / elapsed_s,
        "updates_per_s": updates / elapsed_s,
    }


class _PaintWatcher(QObject):
    """Records the time of the first paint of a widget after ``arm()``."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.painted_at: float | None = None

    def arm(self) -> None:
        self.armed, self.painted_at = True, None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.armed and event.type() == QEvent.Type.Paint:
            self.painted_at = time.perf_counter()
            self.armed = False
        return False


def drawing_rate(app: QApplication, config: Config, seconds: float) -> dict[str, float]:
    """Frames per second the window draws when frames of ``config``'s size arrive faster than it
    can draw them (real frames, replayed), while a real simulation of ``config`` runs flat out in
    another process at the simulation process's priority."""
    load = subprocess.Popen(
        [sys.executable, "-m", "gradlab.benchmarks.replay", str(config.seq_len), str(config.hidden_size)]
    )
    try:
        return event_loop_stalls(app, config, seconds, run_path="gradlab.benchmarks.replay:replay")
    finally:
        load.terminate()
        load.wait(timeout=10)


def control_change_latency(app: QApplication, config: Config, repeats: int) -> list[float]:
    """Milliseconds from a W_rec scale change in the spin box to the new run's first frame painted."""
    window = create_window(config)
    window.resize(1280, 720)
    window.show()
    window.start()
    _wait_for(app, lambda: window.frames_displayed >= 2, 120.0)
    watcher = _PaintWatcher()
    viewport = window.gradient_plot.viewport()
    viewport.installEventFilter(watcher)
    latencies: list[float] = []
    new_frame_seen = {"run": -1}

    def first_frame_of_a_run(run_id: int, _iteration: int) -> None:
        if run_id == window.controller.run_id and new_frame_seen["run"] != run_id:
            watcher.arm()
        new_frame_seen["run"] = run_id

    window.frame_displayed.connect(first_frame_of_a_run)
    for index in range(repeats):
        _spin(app, 0.3)
        scale = 0.6 + 0.05 * index
        started = time.perf_counter()
        window.controls.scale_spin.setValue(scale)
        run_id = window.controller.run_id
        if _wait_for(
            app,
            lambda run_id=run_id: new_frame_seen["run"] == run_id and watcher.painted_at is not None,
            30.0,
        ):
            latencies.append((watcher.painted_at - started) * 1000.0)  # type: ignore[operator]
    window.close()
    return latencies


def launch_time(repeats: int) -> list[float]:
    """Seconds from starting ``python -m gradlab`` to the window's first paint."""
    times: list[float] = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            shown_file = Path(folder) / "shown"
            env = dict(os.environ, GRADLAB_SHOWN_TIME_FILE=str(shown_file), GRADLAB_EXIT_AFTER_FRAMES="1")
            started = time.time()
            subprocess.run(
                [sys.executable, "-m", "gradlab"],
                env=env,
                check=True,
                timeout=60,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if shown_file.exists():
                times.append(float(shown_file.read_text(encoding="utf-8")) - started)
    return times


DEPTH_SCENES = ("41-depth-xavier-tanh", "42-depth-xavier-relu")


def depth_scenes(app: QApplication, seconds: float) -> None:
    """Depth mode's update rate in the window, every per-update figure computed and drawn: the
    scenes of width 256, and the first at width 128 (a quarter of the products)."""
    print("Depth mode in the window, flat out (the pace control's fastest), target >= 30 updates/s:")
    runs = [(name, find_preset(name).scenario.config) for name in DEPTH_SCENES]
    runs.append((f"{DEPTH_SCENES[0]}, H=128", replace(runs[0][1], hidden_size=128)))
    for name, config in runs:
        figures = event_loop_stalls(app, config, seconds)
        print(
            f"  {name:<29} L={config.seq_len} H={config.hidden_size} B={config.batch_size}"
            f"  core {figures['updates_per_s']:5.1f} updates/s, displayed {figures['fps']:5.1f} fps,"
            f" stall p99 {figures['p99_ms']:5.1f} ms   ({_verdict(figures['updates_per_s'] >= 30)})"
        )


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each flat-out run")
    parser.add_argument("--repeats", type=int, default=5, help="control changes / launches to time")
    parser.add_argument("--depth-only", action="store_true", help="only the depth-mode scenes' update rate")
    args = parser.parse_args(argv)

    app = application()
    app.setQuitOnLastWindowClosed(False)
    print(f"gradlab GUI benchmark (QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM')}, {os.cpu_count()} CPUs)")
    print()
    depth_scenes(app, args.seconds)
    if args.depth_only:
        return 0
    print()
    print("Event-loop stall (lateness of a 5 ms timer) with the simulation running flat out:")
    scenes = [
        ("T=1000 H=128", Config(seq_len=1000, hidden_size=128)),
        ("T=5000 H=256", Config(seq_len=5000, hidden_size=256)),
        ("default T=100 H=64", Config()),
    ]
    for name, config in scenes:
        figures = event_loop_stalls(app, config, args.seconds)
        print(
            f"  {name:<20} p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms"
            f"  max {figures['max_ms']:6.1f} ms   (target p99 < 30 ms: {_verdict(figures['p99_ms'] < 30)})"
        )
        print(
            f"  {'':<20} displayed {figures['fps']:5.1f} fps   core {figures['updates_per_s']:6.1f} updates/s"
            f"   (target >= 30 fps: {_verdict(figures['fps'] >= 30)};"
            f" at most min(60, updates/s) can be shown)"
        )
    figures = drawing_rate(app, Config(seq_len=1000, hidden_size=128), args.seconds)
    print(
        f"Drawing rate, T=1000 H=128 frames arriving faster than drawn, a T=1000 H=128 simulation"
        f" running flat out alongside:\n  {'':<20} drawn {figures['fps']:5.1f} fps, stall p99"
        f" {figures['p99_ms']:.1f} ms   (target >= 30 fps: {_verdict(figures['fps'] >= 30)})"
    )
    print()
    latencies = control_change_latency(app, Config(seq_len=1000, hidden_size=128), args.repeats)
    if latencies:
        print(
            "Control change -> first new frame painted (T=1000 H=128):"
            f" median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms"
            f"   (target < 150 ms: {_verdict(statistics.median(latencies) < 150)})"
        )
    small = control_change_latency(app, Config(), args.repeats)
    if small:
        print(
            "Control change -> first new frame painted (default T=100 H=64):"
            f" median {statistics.median(small):.0f} ms, max {max(small):.0f} ms"
            f"   (target < 150 ms: {_verdict(statistics.median(small) < 150)})"
        )
    print()
    shown = launch_time(min(args.repeats, 3))
    if shown:
        print(
            f"Launch -> window painted (python -m gradlab): median {statistics.median(shown):.2f} s,"
            f" max {max(shown):.2f} s   (target < 1.5 s: {_verdict(statistics.median(shown) < 1.5)})"
        )
    else:
        print("Launch -> window painted: no measurement (the subprocess did not report)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
