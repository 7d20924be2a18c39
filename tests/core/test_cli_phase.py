"""``gradlab phase``: the map saved as .npz / .csv; bad axes get one line and exit 2."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from gradlab.cli import main

SMALL = ["phase", "--hidden-size", "8", "--seq-len", "20", "--batch-size", "4", "--workers", "1", "--quiet"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_npz_holds_the_grids_the_maps_and_the_config(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "map.npz"
    args = [*SMALL, "--activation", "linear", "--x", "w_rec_scale=0.5:1.5:3", "--y", "hidden_size=4:8:2"]
    assert main([*args, "--out", str(out)]) == 0
    assert "2 x 3 map" in capsys.readouterr().out
    with np.load(out) as data:
        np.testing.assert_allclose(data["x"], [0.5, 1.0, 1.5])
        np.testing.assert_array_equal(data["y"], [4, 8])
        assert data["slope"].shape == data["predicted_slope"].shape == (2, 3)
        np.testing.assert_allclose(data["slope"], np.log10(np.tile(data["x"], (2, 1))), atol=1e-12)
        assert json.loads(str(data["config"]))["activation"] == "linear"
    # The second time it comes from the cache.
    assert main([*args, "--out", str(out)]) == 0
    assert "from the cache" in capsys.readouterr().out


def test_csv_has_one_row_per_point(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "map.csv"
    args = [*SMALL, "--x", "w_rec_scale=0.5:1.5:3", "--y", "seq_len=5:10:2", "--no-cache", "--out", str(out)]
    assert main(args) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "w_rec_scale,seq_len,slope,predicted_slope,total_log10_ratio"
    assert len(lines) == 1 + 6


@pytest.mark.parametrize(
    ("axes", "message"),
    [
        (["--x", "bogus=1:2:3", "--y", "seq_len=5:10:2"], "--x: 'bogus' is not a field"),
        (["--x", "w_rec_scale=0.5:1:3", "--y", "cell=1:2:2"], "--y: cell is a choice"),
        (["--x", "w_rec_scale=0.5:1:0", "--y", "seq_len=5:10:2"], ">= 1"),
        (["--x", "w_rec_scale=0.5:11:3", "--y", "seq_len=5:10:2"], "outside the field's range"),
        (["--x", "w_rec_scale=0.5:1:3", "--y", "w_rec_scale=1:2:2"], "two different fields"),
        (["--x", "w_rec_scale=0.5:1:3", "--y", "seq_len=5:10:2", "--hidden-size", "0"], "--hidden-size"),
    ],
)
def test_bad_axes_exit_2_with_one_line(tmp_path, capsys, axes, message) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "map.npz"
    assert main([*SMALL, *axes, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_bad_out_is_refused_before_computing(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    args = [*SMALL, "--x", "w_rec_scale=0.5:1:3", "--y", "seq_len=5:10:2"]
    assert main([*args, "--out", str(tmp_path / "map.txt")]) == 2
    assert "unknown extension" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "missing" / "map.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    assert main([*args, "--out", str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err
