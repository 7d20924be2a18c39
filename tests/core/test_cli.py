"""The headless CLI: runs, summarises, saves; bad arguments get one line and exit 2."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradlab import __version__
from gradlab.cli import main
from gradlab.core.record import COLUMNS

REPO = Path(__file__).resolve().parents[2]
SMALL = ["run", "--seq-len", "12", "--hidden-size", "8", "--iterations", "5", "--quiet"]


def test_run_prints_a_summary(capsys):
    assert main(SMALL) == 0
    out = capsys.readouterr().out
    assert "5 updates" in out and "baseline" in out and "fitted slope" in out and "non-finite events: none" in out


@pytest.mark.parametrize("suffix", [".json", ".csv", ".npz"])
def test_out_formats(tmp_path, suffix, capsys):
    path = tmp_path / f"history{suffix}"
    assert main(SMALL + ["--cell", "lstm", "--out", str(path)]) == 0
    if suffix == ".json":
        data = json.loads(path.read_text())
        assert data["config"]["cell"] == "lstm" and data["baseline_loss"] == 1.0
        assert set(data["history"]) == set(COLUMNS)
        assert len(data["history"]["loss"]) == 5 and len(data["log10_dh_norm"]) == 12
    elif suffix == ".csv":
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert tuple(rows[0]) == COLUMNS and len(rows) == 6
    else:
        with np.load(path) as data:
            assert data["loss"].shape == (5,) and data["log10_dh_norm"].shape == (12,)
            assert json.loads(str(data["config_json"]))["cell"] == "lstm"


def test_json_stays_strict_with_explosions(tmp_path, capsys):
    path = tmp_path / "boom.json"
    args = [
        "run",
        "--activation",
        "linear",
        "--w-rec-scale",
        "1.5",
        "--seq-len",
        "200",
        "--dtype",
        "float32",
        "--iterations",
        "20",
        "--quiet",
        "--out",
        str(path),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Diverged" in out
    data = json.loads(path.read_text())  # strict: no NaN/Infinity literals
    assert "nan" in data["history"]["nonfinite"][-1]


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--cell", "elman"],
        ["run", "--seq-len", "1"],
        ["run", "--seq-len", "many"],
        ["run", "--w-rec-scale", "nan"],
        ["run", "--lr", "-1"],
        ["run", "--truncation", "0"],
        ["run", "--out", "history.xlsx"],
        ["run", "--colour", "red"],
        ["run", "--scenario", "/nonexistent/scene.json"],
        ["--exit-after-frames", "0"],
        ["fly"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_module_entry_point_version():
    result = subprocess.run(
        [sys.executable, "-m", "gradlab", "--version"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0 and result.stdout.strip() == f"gradlab {__version__}"


def test_help_lists_every_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--cell", "--w-rec-scale", "--clip-threshold", "--truncation", "--out", "--scenario"):
        assert flag in out


def test_scenario_with_overrides(tmp_path, capsys):
    scene = tmp_path / "scene.json"
    scene.write_text(
        json.dumps(
            {"title": "t", "caption": "c", "config": {"cell": "gru", "seq_len": 9, "hidden_size": 4, "iterations": 2}}
        )
    )
    out = tmp_path / "o.json"
    assert main(["run", "--scenario", str(scene), "--seq-len", "7", "--quiet", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["config"]["cell"] == "gru" and data["config"]["seq_len"] == 7 and data["config"]["iterations"] == 2


def test_no_display_is_a_message_not_a_crash():
    from gradlab.cli import display_problem

    env = {"PATH": "/usr/bin"}
    if sys.platform.startswith("linux"):
        assert "DISPLAY" in display_problem(env)
        result = subprocess.run(
            [sys.executable, "-m", "gradlab"],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
            env={
                k: v
                for k, v in __import__("os").environ.items()
                if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
            },
        )
        assert result.returncode == 2 and "gradlab run" in result.stderr and "Traceback" not in result.stderr
    assert display_problem({"DISPLAY": ":0"}) == ""
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) == ""
