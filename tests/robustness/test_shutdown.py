"""Shutdown: closing the window at any moment of a run — during start-up, between updates, in the
middle of a long update — ends the application within 1 s with status 0, no traceback, and no
simulation process left behind.

Each case runs ``python -m gradlab`` in a subprocess (through ``close_probe.py``, which only adds
a timestamp of the moment the window's close begins, and optionally closes the window after a
random delay, as a user would).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO, children_of, cmdline, is_running

from gradlab.core import Config
from gradlab.core.scenario import Scenario

PROBE = Path(__file__).with_name("close_probe.py")
EXIT_LIMIT_S = 1.0
# Only a hang detector: on a busy 2-core machine one update of the heavy scene has taken 56 s,
# and a case waits for up to three of them before it closes the window.
RUN_TIMEOUT_S = 600.0
SEED = int(os.environ.get("GRADLAB_SHUTDOWN_SEED", "6"))
LIGHT = Config(hidden_size=16, seq_len=50, batch_size=4)
# An update of about a second or more: the close lands in the middle of one.
HEAVY = Config(hidden_size=256, seq_len=2000, batch_size=16)


@dataclass
class Outcome:
    status: int
    stderr: str
    exit_after_close_s: float | None  # None: the window's close was never seen
    wall_s: float
    simulation_pids: set[int]
    left_running: list[int]
    trace: str = ""  # the probe's phase times, relative to the close


def _scenario_file(tmp_path: Path, config: Config) -> Path:
    path = tmp_path / f"scene-{config.hidden_size}-{config.seq_len}.json"
    path.write_text(Scenario("Shutdown test", "A scene for the shutdown tests.", config).to_json(), encoding="utf-8")
    return path


def run_and_close(
    tmp_path: Path,
    config: Config | None,
    *,
    exit_after_frames: int | None = None,
    close_after_ms: int | None = None,
    probe: bool = True,
) -> Outcome:
    """Start the app, let it close itself as asked, and watch its exit and its children."""
    close_file = tmp_path / f"closed-{time.monotonic_ns()}.txt"
    trace_file = tmp_path / f"trace-{time.monotonic_ns()}.txt"
    # A settings folder of this case's own: the app neither reads the user's last scene, theme
    # or geometry nor writes its own there (QSettings follows XDG_CONFIG_HOME on Linux).
    config_home = tmp_path / "config"
    config_home.mkdir(exist_ok=True)
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        GRADLAB_PROBE_CLOSE_TIME_FILE=str(close_file),
        GRADLAB_PROBE_TRACE_FILE=str(trace_file),
        XDG_CONFIG_HOME=str(config_home),
    )
    env.pop("GRADLAB_EXIT_AFTER_FRAMES", None)
    if exit_after_frames is not None:
        env["GRADLAB_EXIT_AFTER_FRAMES"] = str(exit_after_frames)
    if close_after_ms is not None:
        env["GRADLAB_PROBE_CLOSE_AFTER_MS"] = str(close_after_ms)
    args = [sys.executable, str(PROBE)] if probe else [sys.executable, "-m", "gradlab"]
    if config is not None:
        args += ["--scenario", str(_scenario_file(tmp_path, config))]
    started = time.monotonic()
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    simulation: set[int] = set()
    try:
        while process.poll() is None:
            simulation.update(c for c in children_of(process.pid) if "spawn_main" in cmdline(c))
            if time.monotonic() - started > RUN_TIMEOUT_S:
                raise AssertionError(f"the app did not end within {RUN_TIMEOUT_S} s")
            time.sleep(0.003)
        exited = time.time()
    finally:
        if process.poll() is None:
            process.kill()
        _, stderr = process.communicate(timeout=10)
    wall = time.monotonic() - started
    closed = float(close_file.read_text()) if close_file.exists() else None
    time.sleep(0.2)  # an orphan that is still exiting gets this long
    left = [pid for pid in simulation if is_running(pid) and "spawn_main" in cmdline(pid)]
    phases = [line.split() for line in trace_file.read_text().splitlines()] if trace_file.exists() else []
    trace = ", ".join(f"{name} +{float(t) - closed:.3f} s" for name, t in phases) if closed is not None else ""
    if closed is not None:
        trace += f", process gone +{exited - closed:.3f} s"
    return Outcome(
        process.returncode, stderr, None if closed is None else exited - closed, wall, simulation, left, trace
    )


def _check(outcome: Outcome, what: str) -> None:
    print(
        f"\n{what}: status {outcome.status}, exit {outcome.exit_after_close_s} s after the close began, "
        f"{outcome.wall_s:.1f} s in all, simulation processes {sorted(outcome.simulation_pids)}; {outcome.trace}"
    )
    assert outcome.status == 0, f"{what}: exit status {outcome.status}\n{outcome.stderr}"
    assert "Traceback" not in outcome.stderr, f"{what}: a traceback on stderr\n{outcome.stderr}"
    assert not outcome.left_running, f"{what}: simulation processes left running: {outcome.left_running}"
    assert outcome.exit_after_close_s is not None, f"{what}: the window was never closed\n{outcome.stderr}"
    assert outcome.exit_after_close_s <= EXIT_LIMIT_S, (
        f"{what}: the process ended {outcome.exit_after_close_s:.2f} s after the window's close began "
        f"({outcome.trace})\n{outcome.stderr}"
    )


def _cases(seed: int, count: int) -> list[tuple[str, Config | None, int | None, int | None]]:
    """(name, config, exit_after_frames, close_after_ms): the three kinds in turn, random moments."""
    rng = random.Random(seed)
    cases = []
    for index in range(count):
        kind = index % 3
        if kind == 0:
            frames = rng.randint(1, 60)
            cases.append((f"light scene, closed after {frames} frames", LIGHT, frames, None))
        elif kind == 1:
            frames = rng.randint(1, 3)
            cases.append((f"heavy scene (T=2000 H=256), closed after {frames} frames, mid-update", HEAVY, frames, None))
        else:
            delay = rng.randint(0, 4000)
            config = rng.choice([LIGHT, HEAVY, None])
            name = "default" if config is None else ("light" if config is LIGHT else "heavy")
            cases.append((f"{name} scene, window closed {delay} ms after it was shown", config, None, delay))
    return cases


@pytest.mark.parametrize(
    "case", _cases(SEED, 3), ids=lambda case: case[0].split(",")[0].replace(" ", "-").replace("(", "").replace(")", "")
)
def test_closing_at_a_random_moment_exits_promptly(case, tmp_path):
    name, config, frames, delay = case
    _check(run_and_close(tmp_path, config, exit_after_frames=frames, close_after_ms=delay), name)


def test_plain_python_m_gradlab_exits_cleanly(tmp_path):
    """The real entry point, no hooks: GRADLAB_EXIT_AFTER_FRAMES closes the window as a user would."""
    outcome = run_and_close(tmp_path, LIGHT, exit_after_frames=5, probe=False)
    assert outcome.status == 0, outcome.stderr
    assert "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.simulation_pids, "no simulation process was seen"
    assert not outcome.left_running


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    _cases(SEED + 100, 24),
    ids=lambda case: case[0].replace(" ", "-").replace(",", "").replace("(", "").replace(")", ""),
)
def test_closing_at_a_random_moment_exits_promptly_many(case, tmp_path):
    name, config, frames, delay = case
    _check(run_and_close(tmp_path, config, exit_after_frames=frames, close_after_ms=delay), name)
