"""Exports: plots to PNG and PDF slides, the run's data to CSV and NPZ like the CLI's --out, the scene to JSON."""

from __future__ import annotations

import csv
import errno
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from patience import PATIENCE_MS
from PySide6.QtGui import QColor, QImage

from gradlab.core import Config, files, run
from gradlab.core.record import COLUMNS, UpdateLog
from gradlab.core.scenario import load_scenario
from gradlab.presets import presets
from gradlab.ui import export
from gradlab.ui.clip import CLIP_SIZE, ClipPlan
from gradlab.ui.export import SLIDE_SIZE, Heading, heading_for, heading_height, slide_image
from gradlab.ui.recording import RunRecorder


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


def _pixels(image: QImage) -> np.ndarray:
    """The image as an (height, width, 3) uint8 array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    return rows[:, : width * 3].reshape(height, width, 3).copy()


def _non_background(pixels: np.ndarray, background: str, threshold: int = 60) -> np.ndarray:
    """Where ``pixels`` differ from the background by more than ``threshold`` (sum over R, G, B)."""
    colour = QColor(background)
    reference = np.array([colour.red(), colour.green(), colour.blue()], dtype=np.int16)
    return np.abs(pixels.astype(np.int16) - reference).sum(axis=2) > threshold


def test_png_export_is_a_slide_with_the_title_parameters_and_readouts(window, wait_frames, tmp_path):
    wait_frames(window, 3)
    window.controller.pause()
    path = window.files.export_plots(tmp_path / "plots.png")
    image = QImage(str(path))
    assert (image.width(), image.height()) == SLIDE_SIZE
    pixels = _pixels(image)
    band = int(heading_height(SLIDE_SIZE))
    drawn = _non_background(pixels[:band], window.theme.background)
    # Something is written on the left (the title, the parameters) and on the right (readouts).
    assert drawn[:, : SLIDE_SIZE[0] // 3].mean() > 0.01
    assert drawn[:, -SLIDE_SIZE[0] // 6 :].mean() > 0.01
    # Without a title, the title band is empty: what was drawn there is the title.
    untitled = slide_image(window.plots_area, Heading(""), _colours(window))
    title_rows = slice(0, band // 2)
    left = slice(0, SLIDE_SIZE[0] // 3)
    assert not _non_background(_pixels(untitled)[title_rows, left], window.theme.background).any()
    assert drawn[title_rows, left].any()
    # The plots fill the rest of the slide, as many colours as on screen.
    below = pixels[band:]
    assert len(np.unique(below[::7, ::7].reshape(-1, 3), axis=0)) > 20


def test_the_heading_says_the_scene_its_settings_and_the_last_update():
    config = Config(hidden_size=8, seq_len=20, batch_size=4)
    frames = list(run(config.replace(iterations=2)))
    heading = heading_for("Vanishing in an RNN", config, frames[-1])
    assert heading.title == "Vanishing in an RNN"
    assert "H 8" in heading.parameters and "T 20" in heading.parameters
    names = [name for name, _ in heading.readouts]
    assert names == ["ρ", "σ_max", "slope/step", "iteration"]
    assert dict(heading.readouts)["iteration"] == "2"
    assert dict(heading_for("x", config, None).readouts)["iteration"] == "–"


def _colours(window) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    return window.theme.background, window.theme.foreground, window.theme.muted


def test_a_mouse_zoom_is_not_exported_and_stays_on_screen(window, wait_frames, tmp_path):
    wait_frames(window, 3)
    window.controller.pause()
    plain = _pixels(QImage(str(window.files.export_plots(tmp_path / "plain.png"))))
    box = window.gradient_plot.getPlotItem().getViewBox()
    box.scaleBy((0.3, 0.3))
    box.sigRangeChangedManually.emit(box.state["mouseEnabled"])
    zoomed_range = box.viewRange()
    assert window.gradient_plot.zoom_reset.zoomed
    exported = _pixels(QImage(str(window.files.export_plots(tmp_path / "zoomed.png"))))
    assert np.array_equal(plain, exported)
    assert window.gradient_plot.zoom_reset.zoomed
    assert np.allclose(box.viewRange(), zoomed_range)


def _best_shift(a: np.ndarray, b: np.ndarray, reach: int = 6) -> tuple[int, int, float]:
    """The (dx, dy) that makes ``b`` most like ``a``, and the fraction of pixels then differing."""
    best = (0, 0, 1.0)
    inner = (slice(reach, -reach), slice(reach, -reach))
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            shifted = np.roll(b, (dy, dx), axis=(0, 1))
            differing = float((a[inner] != shifted[inner]).mean())
            if differing < best[2]:
                best = (dx, dy, differing)
    return best


def test_pdf_export_is_vector_and_renders_where_the_png_is(window, wait_frames, tmp_path):
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    wait_frames(window, 3)
    window.controller.pause()
    png = window.files.export_plots(tmp_path / "plots.png")
    pdf = window.files.export_plots(tmp_path / "plots.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"/Subtype /Image" not in data  # curves, symbols and text as vectors, no embedded pictures
    subprocess.run([pdftoppm, "-r", "72", "-png", "-singlefile", str(pdf), str(tmp_path / "rendered")], check=True)
    rendered = QImage(str(tmp_path / "rendered.png"))
    assert (rendered.width(), rendered.height()) == SLIDE_SIZE
    background = window.theme.background
    expected = _non_background(_pixels(QImage(str(png))), background)
    got = _non_background(_pixels(rendered), background)
    # Ink (axes, curves, symbols, text) where the PNG has it: the best alignment is within 1 px
    # and then almost every pixel agrees (anti-aliasing differs at edges).
    dx, dy, differing = _best_shift(expected[::2, ::2], got[::2, ::2], reach=4)
    assert (abs(dx), abs(dy)) <= (1, 1)
    assert differing < 0.02
    # The axis lines (the rows and columns with the most dark ink in the PNG) are in the PDF
    # too, within 2 px, as long: axes attached to the data as on screen. (Faint grid lines are
    # left out: their anti-aliased grey differs between the two renderers.)
    dark_png = _non_background(_pixels(QImage(str(png))), background, 300)
    dark_pdf = _non_background(_pixels(rendered), background, 300)
    for axis in (0, 1):
        png_profile, pdf_profile = dark_png.sum(axis=axis), dark_pdf.sum(axis=axis)
        for line in np.argsort(png_profile)[-6:]:
            nearby = pdf_profile[max(0, line - 2) : line + 3]
            assert nearby.max() >= 0.8 * png_profile[line], (axis, int(line))


def test_a_failed_export_keeps_the_old_file_and_says_why(window, wait_frames, tmp_path, monkeypatch):
    wait_frames(window, 2)
    target = tmp_path / "plots.png"
    target.write_bytes(b"the old picture")

    def full_disk(_descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    window.files.dialogs = AnsweringDialogs(target)
    window.commands.export_png.trigger()
    assert target.read_bytes() == b"the old picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plots.png"]  # no temporary file left
    assert window.notice.text == "Could not write plots.png: No space left on device"
    monkeypatch.undo()
    window.files.dialogs = AnsweringDialogs(tmp_path / "missing-folder" / "plots.pdf")
    window.commands.export_pdf.trigger()
    assert window.notice.text == f"Could not write plots.pdf: the folder {tmp_path / 'missing-folder'} does not exist"
    (tmp_path / "a-folder.png").mkdir()
    with pytest.raises(export.ExportError, match="is not a regular file"):
        window.files.export_plots(tmp_path / "a-folder.png")
    with pytest.raises(export.ExportError, match=r"exported as \.png or \.pdf"):
        window.files.export_plots(tmp_path / "plots.svg")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_export_has_the_documented_columns_and_every_update(window, wait_frames, tmp_path):
    wait_frames(window, 4)
    window.controller.pause()
    # the run is paused: what was delivered is what gets written
    path = window.files.export_data(tmp_path / "run.csv")
    with path.open(encoding="utf-8") as handle:
        assert handle.readline().strip() == ",".join(COLUMNS)
    rows = _read_csv(path)
    iterations = [int(r["iteration"]) for r in rows]
    assert iterations == list(range(1, len(iterations) + 1))
    assert len(rows) == window.training_plot.history.total
    last = window.session.record.last_frame
    assert last is not None and float(rows[last.iteration - 1]["spectral_radius"]) == pytest.approx(
        last.spectral_radius
    )


def test_npz_export_loads_with_the_clis_arrays(window, wait_frames, tmp_path):
    wait_frames(window, 3)
    path = window.files.export_data(tmp_path / "run.npz")
    with np.load(path) as data:
        for name in COLUMNS:
            assert name in data.files
        assert "config_json" in data.files and "log10_dh_norm" in data.files
        assert data["iteration"].dtype == np.int64
        assert data["log10_dh_norm"].size == window.config.seq_len


def test_the_scene_is_saved_as_a_scenario_that_opens_again(window, tmp_path):
    preset = presets()[2]
    window.load_preset(preset.name)
    path = window.files.save_scene(tmp_path / "scene.json")
    assert load_scenario(path) == preset.scenario
    window.controls.seq_spin.setValue(57)
    modified = load_scenario(window.files.save_scene(tmp_path / "modified.json"))
    assert modified.config == preset.scenario.config.replace(seq_len=57)
    assert "modified" in modified.title
    assert "length T 57" in modified.caption


FILE_ACTIONS = [
    ("export_png", "a.png", lambda p: not QImage(str(p)).isNull()),
    ("export_pdf", "a.pdf", lambda p: p.read_bytes().startswith(b"%PDF")),
    ("export_csv", "a.csv", lambda p: p.read_text().startswith("iteration,")),
    ("export_npz", "a.npz", lambda p: "iteration" in np.load(p).files),
    ("save_scene", "a.json", lambda p: load_scenario(p) is not None),
]


def test_each_file_action_asks_for_a_name_and_writes(window, wait_frames, tmp_path):
    wait_frames(window, 2)
    for action, name, check in FILE_ACTIONS:
        target = tmp_path / name
        window.files.dialogs = AnsweringDialogs(target)
        getattr(window.commands, action).trigger()
        assert target.is_file(), action
        assert check(target), action
        assert str(target) in window.status.currentMessage(), action


def test_a_missing_extension_is_added_and_a_cancelled_dialog_writes_nothing(window, wait_frames, tmp_path):
    wait_frames(window, 1)
    window.files.dialogs = AnsweringDialogs(tmp_path / "noext")
    window.commands.export_csv.trigger()
    assert (tmp_path / "noext.csv").is_file()
    window.files.dialogs = AnsweringDialogs()
    window.commands.export_png.trigger()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noext.csv"]


def test_a_write_error_is_reported_not_raised(window, wait_frames, tmp_path):
    wait_frames(window, 1)
    window.files.dialogs = AnsweringDialogs(tmp_path / "missing-folder" / "run.csv")
    window.commands.export_csv.trigger()
    assert "Could not write run.csv" in window.notice.text


def test_the_recorder_keeps_every_update_of_coalesced_deliveries():
    config = Config(hidden_size=4, seq_len=6, batch_size=2)
    generator = run(config)
    frames = [next(generator) for _ in range(7)]
    generator.close()
    recorder = RunRecorder()
    recorder.start(config)
    recorder.add(UpdateLog.of(frames[:3]), frames[2])  # three updates coalesced into one frame
    recorder.add(UpdateLog.of(frames[3:7]), frames[6])
    updates = recorder.history().updates
    assert updates.iteration.tolist() == list(range(1, 8))
    assert updates.loss.tolist() == [f.loss for f in frames]
    assert updates.spectral_radius[2] == frames[2].spectral_radius
    assert updates.spectral_radius[0] == frames[0].spectral_radius  # never displayed, still recorded
    assert updates.nonfinite.tolist() == [f.nonfinite.describe() for f in frames]
    assert recorder.history().last_frame is frames[6]


# The progress dialog is a top-level window, which the offscreen platform cannot size-hint.
OFFSCREEN_DIALOG = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def _record(window, qtbot, plan: ClipPlan, target: Path):  # type: ignore[no-untyped-def]
    window.files.dialogs = AnsweringDialogs(target)
    window.files.record_clip(plan)
    assert window.files.clip is not None
    return window.files.clip


@OFFSCREEN_DIALOG
def test_a_gif_clip_per_update_has_one_picture_per_update(window, wait_frames, qtbot, tmp_path):
    from PIL import Image

    wait_frames(window, 1)
    clip = _record(window, qtbot, ClipPlan.updates(5, fps=5), tmp_path / "clip.gif")
    seen: list[tuple[str, int, int]] = []
    clip.progress.connect(lambda *args: seen.append(args))
    assert clip.progress_dialog is not None and clip.progress_dialog.isVisible()
    qtbot.waitUntil(lambda: clip.done, timeout=PATIENCE_MS)
    assert str(tmp_path / "clip.gif") in window.status.currentMessage()
    with Image.open(tmp_path / "clip.gif") as gif:
        assert gif.n_frames == 5  # each picture shows another iteration: none are merged
        assert gif.size == CLIP_SIZE
        assert gif.info["duration"] == 200
    assert ("encoding", 5, 5) in seen
    assert not clip.progress_dialog.isVisible()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.gif"]


@OFFSCREEN_DIALOG
def test_a_cancelled_clip_writes_nothing_and_keeps_the_old_file(window, wait_frames, qtbot, tmp_path):
    wait_frames(window, 1)
    target = tmp_path / "clip.gif"
    target.write_bytes(b"the old clip")
    clip = _record(window, qtbot, ClipPlan.seconds(60), target)
    qtbot.waitUntil(lambda: clip.captured >= 3, timeout=PATIENCE_MS)
    clip.progress_dialog.cancel_button.click()
    qtbot.waitUntil(lambda: clip.done, timeout=PATIENCE_MS)
    assert target.read_bytes() == b"the old clip"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.gif"]  # no partial file
    assert "cancelled" in window.status.currentMessage()
    assert clip.captured < 600


@OFFSCREEN_DIALOG
def test_stop_keeps_what_was_recorded_and_the_window_closes_during_a_clip(window, wait_frames, qtbot, tmp_path):
    from PIL import Image

    wait_frames(window, 1)
    clip = _record(window, qtbot, ClipPlan.updates(600), tmp_path / "short.gif")
    qtbot.waitUntil(lambda: clip.captured >= 2, timeout=PATIENCE_MS)
    clip.progress_dialog.stop_button.click()
    qtbot.waitUntil(lambda: clip.done, timeout=PATIENCE_MS)
    with Image.open(tmp_path / "short.gif") as gif:
        assert gif.n_frames == clip.captured
    # A clip still recording when the window closes is cancelled (the fixture closes it).
    _record(window, qtbot, ClipPlan.seconds(60), tmp_path / "left.gif")


def test_a_clip_that_cannot_be_written_says_why(window, wait_frames, tmp_path):
    wait_frames(window, 1)
    window.files.dialogs = AnsweringDialogs(tmp_path / "missing" / "clip.gif")
    window.files.record_clip(ClipPlan.updates(3))
    assert window.notice.text == f"Could not record clip.gif: the folder {tmp_path / 'missing'} does not exist"
    assert window.files.clip is None
    with pytest.raises(ValueError, match="1 to 600 pictures"):
        ClipPlan.seconds(100, fps=10)


@OFFSCREEN_DIALOG
def test_an_mp4_clip_has_its_frames(window, wait_frames, qtbot, tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    wait_frames(window, 1)
    clip = _record(window, qtbot, ClipPlan.updates(4), tmp_path / "clip.mp4")
    qtbot.waitUntil(lambda: clip.done, timeout=60_000)
    data = (tmp_path / "clip.mp4").read_bytes()
    assert data[4:8] == b"ftyp"  # an MP4 container
    frames, _seconds = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "clip.mp4"))
    assert frames == 4
