"""The window under faults: signals from the launching terminal, FIFOs where files are expected, a
settings file that is a FIFO, failed writes, unbounded values; each says why in the window (or
ends cleanly) and loses nothing."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradlab.core import Config
from gradlab.core.scenario import Scenario

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 180.0


def _start_window(tmp_path: Path, **extra_env: str) -> tuple[subprocess.Popen[str], Path, Path]:
    config_home = tmp_path / "config"
    config_home.mkdir(exist_ok=True)
    shown = tmp_path / "shown.txt"
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(config_home),
        GRADLAB_SHOWN_TIME_FILE=str(shown),
        **extra_env,
    )
    if "GRADLAB_EXIT_AFTER_FRAMES" not in extra_env:
        env.pop("GRADLAB_EXIT_AFTER_FRAMES", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gradlab"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    return process, shown, config_home / "gradlab" / "gradlab.ini"


def _wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the app ended first: {process.communicate()[1]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the window never appeared")
        time.sleep(0.05)


def _send(process: subprocess.Popen[str], signum: int) -> None:
    """SIGTERM and SIGHUP to the process group, as a closing terminal sends them. SIGINT to the
    window's process only: that the simulation process ignores Ctrl+C is the worker's part
    (tests/ui/test_simulation.py), and its start-up traceback would hide what this test checks."""
    if signum == signal.SIGINT:
        os.kill(process.pid, signum)
    else:
        os.killpg(process.pid, signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_closes_the_window_cleanly_and_saves_the_settings(tmp_path, signum):
    process, shown, ini = _start_window(tmp_path)
    try:
        _wait_for(shown, process)
        time.sleep(1.0)  # the simulation under way (not required: the close must work at any time)
        _send(process, signum)
        _, stderr = process.communicate(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr, stderr
    assert ini.is_file() and "[scene]" in ini.read_text(), "the settings were not saved"


def test_ctrl_c_twice_closes_once(tmp_path):
    process, shown, ini = _start_window(tmp_path)
    try:
        _wait_for(shown, process)
        _send(process, signal.SIGINT)
        time.sleep(0.05)
        _send(process, signal.SIGINT)
        _, stderr = process.communicate(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert ini.is_file()


def test_a_settings_file_that_is_a_fifo_does_not_stop_the_window(tmp_path):
    (tmp_path / "config" / "gradlab").mkdir(parents=True)
    os.mkfifo(tmp_path / "config" / "gradlab" / "gradlab.ini")
    process, shown, _ = _start_window(tmp_path, GRADLAB_EXIT_AFTER_FRAMES="2")
    try:
        _, stderr = process.communicate(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 0, stderr
    assert shown.exists()
    assert "named pipe" in stderr and "Traceback" not in stderr


def test_opening_a_fifo_says_so_without_freezing(window, tmp_path):
    fifo = tmp_path / "scene.json"
    os.mkfifo(fifo)
    assert not window.files.open_scenario_file(fifo)
    assert "named pipe" in window.notice.text


def test_a_huge_value_gives_a_bounded_notice(window, tmp_path):
    path = tmp_path / "huge.json"
    path.write_text(json.dumps({"title": "t", "caption": "c", "config": {"x" * 200_000: 1}}))
    assert not window.files.open_scenario_file(path)
    assert 0 < len(window.notice.text) <= 400


def test_a_title_of_many_lines_is_refused(window, tmp_path):
    path = tmp_path / "lines.json"
    scenario = Scenario("Title", "Caption.", Config()).to_dict()
    scenario["title"] = "A" + "\n" * 60 + "B"
    path.write_text(json.dumps(scenario))
    assert not window.files.open_scenario_file(path)
    assert "lines" in window.notice.text


def test_saving_a_scene_over_a_file_on_a_full_disk_keeps_the_file(window, tmp_path, monkeypatch):
    path = tmp_path / "scene.json"
    window.files.save_scene(path)
    before = path.read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        window.files.save_scene(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scene.json"]


def test_saving_a_scene_to_a_fifo_is_refused(window, tmp_path):
    fifo = tmp_path / "scene.json"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="named pipe"):
        window.files.save_scene(fifo)


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_a_failed_plot_export_says_why(window, wait_frames, tmp_path, suffix):
    from test_export import AnsweringDialogs

    wait_frames(window, 1)
    window.files.dialogs = AnsweringDialogs(tmp_path / "missing-folder" / f"plots{suffix}")
    getattr(window.commands, f"export_{suffix[1:]}").trigger()
    assert f"the folder {tmp_path / 'missing-folder'} does not exist" in window.notice.text


def test_the_crash_banner_says_what_to_do_once(window, wait_frames):
    wait_frames(window, 1)
    window.controller.errored.emit(
        window.controller.run_id, "The simulation process stopped unexpectedly (exit code -9)."
    )
    text = window.banner.text()
    assert text.count("Reset") == 1 and "exit code -9" in text
    window.controller.errored.emit(window.controller.run_id, "ValueError: " + "v" * 100_000)
    assert window.banner.text().count("Reset") == 1 and len(window.banner.text()) < 500
