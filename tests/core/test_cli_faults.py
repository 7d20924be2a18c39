"""The command under faults, in real processes: signals, FIFOs, full disks, memory limits, broken
or closed standard streams, bad automation variables. Every case ends with a status (0, 1, 2 or
128 + the signal) and at most a line on stderr, never a traceback, never a hang, and a file that
was there stays whole."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gradlab.cli import build_parser, config_from_args, main
from gradlab.core import Config
from gradlab.core.scenario import Scenario

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 180  # generous: a busy two-core machine; a hang still fails, it does not pass slowly
TINY = ["--seq-len", "6", "--hidden-size", "4", "--iterations", "3", "--quiet"]


def gradlab(
    *args: str, timeout: float = TIMEOUT_S, env: dict[str, str] | None = None, **popen
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gradlab", *args],
        cwd=REPO,
        capture_output="stdout" not in popen and "stderr" not in popen,
        text=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {})),
        **popen,
    )


def one_clean_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert len(lines[0]) <= 300, lines[0]
    return lines[0]


def scenario_file(tmp_path: Path, config: Config | None = None, name: str = "s.json") -> Path:
    path = tmp_path / name
    path.write_text(Scenario("Test", "A test scene.", config or Config(seq_len=6, hidden_size=4)).to_json())
    return path


# ---- FIFOs ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "where", [["run", "--scenario"], ["--scenario"], ["run", *TINY, "--out"]], ids=["run", "window", "out"]
)
def test_a_fifo_is_refused_at_once(tmp_path, where):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    done = gradlab(*where, str(fifo), env={"QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 2
    assert "named pipe" in one_clean_line(done.stderr)


# ---- flags ------------------------------------------------------------------------------------
def test_none_flags_override_the_scenario(tmp_path):
    path = scenario_file(tmp_path, Config(seq_len=6, hidden_size=4, truncation=3, iterations=4))
    args = build_parser().parse_args(["run", "--scenario", str(path), "--truncation", "none", "--iterations", "none"])
    config = config_from_args(args)
    assert config.truncation is None and config.iterations is None
    kept = config_from_args(build_parser().parse_args(["run", "--scenario", str(path)]))
    assert kept.truncation == 3 and kept.iterations == 4


@pytest.mark.parametrize("args", [["run", "--scenario", ""], ["--scenario", ""], ["run", "--out", ""]])
def test_an_empty_file_name_is_refused(args, capsys):
    assert main(args) == 2
    assert "empty" in one_clean_line(capsys.readouterr().err)


def test_a_file_name_too_long(tmp_path, capsys):
    assert main(["run", *TINY, "--out", str(tmp_path / ("x" * 300 + ".json"))]) == 2
    assert "too long" in one_clean_line(capsys.readouterr().err)


def test_out_may_not_overwrite_the_scenario(tmp_path, capsys):
    path = scenario_file(tmp_path)
    before = path.read_bytes()
    assert main(["run", "--scenario", str(path), "--out", str(tmp_path / "." / "s.json"), "--quiet"]) == 2
    assert "scenario" in one_clean_line(capsys.readouterr().err)
    assert path.read_bytes() == before


def test_unbounded_values_give_bounded_messages(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"title": "t", "caption": "c", "config": {"cell": "x" * 200_000}}))
    done = gradlab("run", "--scenario", str(path))
    assert done.returncode == 2
    one_clean_line(done.stderr)
    path.write_text(json.dumps({"title": "t", "caption": "c", "config": {"k" * 200_000: 1}}))
    done = gradlab("run", "--scenario", str(path))
    assert done.returncode == 2
    one_clean_line(done.stderr)
    done = gradlab("run", "--hidden-size", "9" * 5000)
    assert done.returncode == 2
    one_clean_line(done.stderr)


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"GRADLAB_EXIT_AFTER_FRAMES": "abc"}, "GRADLAB_EXIT_AFTER_FRAMES"),
        ({"GRADLAB_EXIT_AFTER_FRAMES": "0"}, "GRADLAB_EXIT_AFTER_FRAMES"),
        ({"GRADLAB_SHOWN_TIME_FILE": "/nonexistent-folder/t.txt"}, "GRADLAB_SHOWN_TIME_FILE"),
        ({"GRADLAB_SHOWN_TIME_FILE": "/dev/null"}, "GRADLAB_SHOWN_TIME_FILE"),
    ],
)
def test_automation_variables_are_validated(env, expected):
    done = gradlab(env={"QT_QPA_PLATFORM": "offscreen", **env})
    assert done.returncode == 2
    assert expected in one_clean_line(done.stderr)


# ---- full disks and memory --------------------------------------------------------------------
def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death, like a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))


@pytest.mark.parametrize("suffix", [".csv", ".json", ".npz"])
def test_a_full_disk_keeps_the_previous_out_file(tmp_path, suffix):
    out = tmp_path / f"history{suffix}"
    out.write_bytes(b"previous contents")
    done = gradlab("run", *TINY, "--iterations", "60", "--out", str(out), preexec_fn=_limit_file_size)
    assert done.returncode == 1
    assert "cannot write" in one_clean_line(done.stderr)
    assert out.read_bytes() == b"previous contents"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left


def test_a_config_the_machine_cannot_hold_is_one_line():
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (600_000 * 1024, resource.RLIM_INFINITY))

    done = gradlab(
        "run",
        "--hidden-size",
        "1024",
        "--seq-len",
        "6000",
        "--batch-size",
        "8",
        "--iterations",
        "2",
        preexec_fn=limit_memory,
    )
    assert done.returncode in (1, 2)
    assert "memory" in one_clean_line(done.stderr) or "MiB" in done.stderr


def test_a_memory_error_anywhere_is_one_line(monkeypatch, capsys):
    import gradlab.cli as cli

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cli, "run_headless", no_memory)
    assert main(["run", *TINY]) == 1
    assert "memory" in one_clean_line(capsys.readouterr().err)


# ---- standard streams -------------------------------------------------------------------------
def test_stdout_on_a_full_device():
    with open("/dev/full", "w") as full:
        done = gradlab("run", *TINY, stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 1
    assert "cannot write" in one_clean_line(done.stderr)


def test_stdout_to_a_pipe_whose_reader_has_gone(tmp_path):
    read, write = os.pipe()
    os.close(read)
    try:
        done = gradlab("run", *TINY, stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert done.returncode == 1
    one_clean_line(done.stderr)


def test_a_file_name_the_terminal_cannot_encode(tmp_path):
    out = tmp_path / "résumé-日本.json"
    done = gradlab("run", *TINY, "--out", str(out), env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert out.exists()


def test_stderr_closed_still_runs_and_saves(tmp_path):
    out = tmp_path / "h.json"
    done = subprocess.run(
        [sys.executable, "-m", "gradlab", "run", "--seq-len", "6", "--hidden-size", "4", "--iterations", "3"]
        + ["--out", str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=lambda: os.close(2),
    )
    assert done.returncode == 0
    assert json.loads(out.read_text())["history"]["iteration"] == [1, 2, 3]


def test_standard_streams_none(tmp_path, monkeypatch):
    """As in a windowed app on Windows or macOS."""
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    out = tmp_path / "h.json"
    assert main(["run", "--seq-len", "6", "--hidden-size", "4", "--iterations", "3", "--out", str(out)]) == 0
    assert out.exists()


# ---- signals ----------------------------------------------------------------------------------
def test_an_in_process_command_leaves_the_signal_handlers_as_they_were(tmp_path, monkeypatch):
    """Also when it was interrupted: ignoring Ctrl+C afterwards would leave the caller (and every
    process it starts later, which inherits an ignored signal) deaf to it."""
    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {signum: signal.getsignal(signum) for signum in watched}

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    assert main(["run", "--seq-len", "6", "--hidden-size", "4", "--iterations", "2"]) == 0
    assert {signum: signal.getsignal(signum) for signum in watched} == before
    monkeypatch.setattr("gradlab.cli.config_from_args", interrupted)
    assert main(["run", "--seq-len", "6", "--hidden-size", "4", "--iterations", "2"]) == 130
    assert {signum: signal.getsignal(signum) for signum in watched} == before


@pytest.fixture
def endless_run() -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """``endless_run(out)``: a ``gradlab run`` that only a signal ends, under way; killed after the
    test whatever happened (a run that ignored its signal must not go on for ever)."""
    started: list[subprocess.Popen[str]] = []

    def start(out: Path) -> subprocess.Popen[str]:
        started.append(_endless_run(out))
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


def _default_sigint() -> None:
    """In the child before it runs: Ctrl+C's default, as in a terminal's foreground job. A shell
    starts background jobs with SIGINT ignored, and Python keeps an inherited SIG_IGN (as it
    should: nohup's choice stands), so the SIGINT tests would test nothing when the suite itself
    runs in the background."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _endless_run(out: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "gradlab", "run", "--seq-len", "30", "--hidden-size", "8", "--iterations", "none"]
        + ["--out", str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
        preexec_fn=_default_sigint,
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # a progress line: the run is under way
    assert first.startswith("update"), first
    return process


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_run_with_a_summary_and_the_file(tmp_path, signum, endless_run):
    out = tmp_path / "h.csv"
    process = endless_run(out)
    os.killpg(process.pid, signum)
    stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr, stderr
    assert "updates" in stdout and out.exists()


def test_ctrl_c_twice_within_a_tenth_of_a_second(tmp_path, endless_run):
    out = tmp_path / "h.json"
    process = endless_run(out)
    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert json.loads(out.read_text())["history"]["iteration"]


# Sends the signal to itself while NumPy is being imported, then runs `python -m gradlab`.
STARTUP_PROBE = """
import os, runpy, signal, sys
SIGNUM = int(sys.argv[1])
class Trap:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), SIGNUM)
        return None
sys.meta_path.insert(0, Trap())
sys.argv = ["gradlab", *sys.argv[2:]]
runpy.run_module("gradlab", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("args", [["run", *TINY], ["--version"]], ids=["run", "plain"])
def test_a_signal_during_start_up(signum, args):
    done = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE, str(int(signum)), *args],
        cwd=REPO,
        preexec_fn=_default_sigint,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 128 + signum, done.stderr
