"""Exports: plots to PNG and SVG, the run's data to CSV and NPZ like the CLI's --out, the scene to JSON."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from gradlab.core import Config, run
from gradlab.core.record import COLUMNS, row_of
from gradlab.core.scenario import load_scenario
from gradlab.presets import presets
from gradlab.ui.recording import RunRecorder
from gradlab.ui.worker import UpdateHistory


class AnsweringDialogs:
    """Answers every file dialog with the next path, at once."""

    def __init__(self, *paths: Path) -> None:
        self.paths = list(paths)
        self.asked: list[str] = []

    def open_path(self, parent, title, name_filter):  # type: ignore[no-untyped-def]
        self.asked.append(title)
        return str(self.paths.pop(0)) if self.paths else ""

    def save_path(self, parent, title, name_filter, suggested):  # type: ignore[no-untyped-def]
        self.asked.append(title)
        return str(self.paths.pop(0)) if self.paths else ""


def test_png_export_is_a_readable_picture_of_all_plots(window, wait_frames, tmp_path):
    wait_frames(window, 3)
    path = window.export_plots(tmp_path / "plots.png")
    image = QImage(str(path))
    assert not image.isNull()
    assert (image.width(), image.height()) == (window.plots_area.width(), window.plots_area.height())
    colours = {image.pixel(x, y) for x in range(0, image.width(), 9) for y in range(0, image.height(), 9)}
    assert len(colours) > 20


def test_svg_export_is_parseable_xml_with_the_four_plots(window, wait_frames, tmp_path):
    wait_frames(window, 3)
    path = window.export_plots(tmp_path / "plots.svg")
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == f"0 0 {window.plots_area.width()} {window.plots_area.height()}"
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    # The training panel has no title row (its height goes to the data): its x axis names it.
    for title in ("Gradient through time", "update", "Spectrum", "Weights"):
        assert title in texts
    curves = list(root.iter("{http://www.w3.org/2000/svg}path")) + list(
        root.iter("{http://www.w3.org/2000/svg}polyline")
    )
    assert len(curves) > 10
    # The eigenvalues (and any markers) are vector symbols, not an embedded image per point.
    assert not list(root.iter("{http://www.w3.org/2000/svg}image"))
    assert len(curves) > window.config.hidden_size
    # Back from export mode: on screen the symbols are drawn from the cached pixmaps again.
    assert window.spectrum_plot.eigenvalue_points._exportOpts is False


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_export_has_the_documented_columns_and_every_update(window, wait_frames, tmp_path):
    wait_frames(window, 4)
    window.controller.pause()
    # the run is paused: what was delivered is what gets written
    path = window.export_data(tmp_path / "run.csv")
    with path.open(encoding="utf-8") as handle:
        assert handle.readline().strip() == ",".join(COLUMNS)
    rows = _read_csv(path)
    iterations = [int(r["iteration"]) for r in rows]
    assert iterations == list(range(1, len(iterations) + 1))
    assert len(rows) == window.training_plot.history.total
    last = window.recorder.last_frame
    assert last is not None and float(rows[last.iteration - 1]["spectral_radius"]) == pytest.approx(
        last.spectral_radius
    )


def test_npz_export_loads_with_the_clis_arrays(window, wait_frames, tmp_path):
    wait_frames(window, 3)
    path = window.export_data(tmp_path / "run.npz")
    with np.load(path) as data:
        for name in COLUMNS:
            assert name in data.files
        assert "config_json" in data.files and "log10_dh_norm" in data.files
        assert data["iteration"].dtype == np.int64
        assert data["log10_dh_norm"].size == window.config.seq_len


def test_the_scene_is_saved_as_a_scenario_that_opens_again(window, tmp_path):
    preset = presets()[2]
    window.load_preset(preset.name)
    path = window.save_scene(tmp_path / "scene.json")
    assert load_scenario(path) == preset.scenario
    window.controls.seq_spin.setValue(57)
    modified = load_scenario(window.save_scene(tmp_path / "modified.json"))
    assert modified.config == preset.scenario.config.replace(seq_len=57)
    assert "modified" in modified.title
    assert "length T 57" in modified.caption


FILE_ACTIONS = [
    ("export_png", "a.png", lambda p: not QImage(str(p)).isNull()),
    ("export_svg", "a.svg", lambda p: ET.parse(p).getroot() is not None),
    ("export_csv", "a.csv", lambda p: p.read_text().startswith("iteration,")),
    ("export_npz", "a.npz", lambda p: "iteration" in np.load(p).files),
    ("save_scene", "a.json", lambda p: load_scenario(p) is not None),
]


def test_each_file_action_asks_for_a_name_and_writes(window, wait_frames, tmp_path):
    wait_frames(window, 2)
    for action, name, check in FILE_ACTIONS:
        target = tmp_path / name
        window.dialogs = AnsweringDialogs(target)
        getattr(window.commands, action).trigger()
        assert target.is_file(), action
        assert check(target), action
        assert str(target) in window.status.currentMessage(), action


def test_a_missing_extension_is_added_and_a_cancelled_dialog_writes_nothing(window, wait_frames, tmp_path):
    wait_frames(window, 1)
    window.dialogs = AnsweringDialogs(tmp_path / "noext")
    window.commands.export_csv.trigger()
    assert (tmp_path / "noext.csv").is_file()
    window.dialogs = AnsweringDialogs()
    window.commands.export_png.trigger()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noext.csv"]


def test_a_write_error_is_reported_not_raised(window, wait_frames, tmp_path):
    wait_frames(window, 1)
    window.dialogs = AnsweringDialogs(tmp_path / "missing-folder" / "run.csv")
    window.commands.export_csv.trigger()
    assert "Could not write run.csv" in window.notice.text


def test_the_recorder_keeps_every_update_of_coalesced_deliveries():
    config = Config(hidden_size=4, seq_len=6, batch_size=2)
    generator = run(config)
    frames = [next(generator) for _ in range(7)]
    generator.close()
    recorder = RunRecorder()
    recorder.start(config)

    def rows(chunk):  # type: ignore[no-untyped-def]
        return UpdateHistory.from_rows([row_of(f) for f in chunk])

    recorder.add(rows(frames[:3]), frames[2])  # three updates coalesced into one frame
    recorder.add(rows(frames[3:7]), frames[6])
    history = recorder.history()
    assert history.rows["iteration"] == list(range(1, 8))
    assert history.rows["loss"] == [f.loss for f in frames]
    assert history.rows["spectral_radius"][2] == frames[2].spectral_radius
    assert history.rows["spectral_radius"][0] == frames[0].spectral_radius  # never displayed, still recorded
    assert history.rows["nonfinite"] == [f.nonfinite.describe() for f in frames]
    assert history.last_frame is frames[6]


def test_the_recorder_is_bounded():
    recorder = RunRecorder(capacity=10)
    recorder.start(Config())
    for start in range(0, 50, 5):
        recorder.add(
            UpdateHistory.from_rows(
                [(i + 1, 1.0, 1.0, 1.0, False, 0.5, 0.5, -0.3, "") for i in range(start, start + 5)]
            ),
            None,
        )
    history = recorder.history()
    assert history.rows["iteration"] == list(range(41, 51))
