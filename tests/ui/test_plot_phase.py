"""The phase-map panel: fills in the background, white at 0, the dot, clicks, recomputation, no process left."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from gradlab.core import Config
from gradlab.ui.phase_axes import AxisPreset, colour_image, colour_levels, zero_contour
from gradlab.ui.plot_phase import PhaseMapPanel

# The offscreen platform cannot pass size hints on to a window manager, and says so.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

SMALL = (
    AxisPreset("s × H", ("w_rec_scale", 0.5, 1.5, 5), ("hidden_size", 4, 16, 4)),
    AxisPreset("s × T", ("w_rec_scale", 0.5, 1.5, 5), ("seq_len", 5, 20, 4), quantity="total"),
)


@pytest.fixture
def panel(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    widget = PhaseMapPanel(workers=1, cache_dir=tmp_path, presets=SMALL)
    qtbot.addWidget(widget)
    widget.resize(1280, 720)
    widget.show()
    yield widget
    widget.shutdown()
    assert multiprocessing.active_children() == []


def test_white_is_exactly_zero_and_the_ends_are_the_two_phases() -> None:
    values = np.array([[-0.3, 0.0, 0.05, np.nan]])
    levels = colour_levels(values)
    assert levels == (-0.3, 0.05)
    rgba = colour_image(values, levels)
    assert tuple(rgba[0, 1]) == (255, 255, 255, 255)
    assert rgba[0, 0, 2] > rgba[0, 0, 0]  # blue for vanishing
    assert rgba[0, 2, 0] > rgba[0, 2, 2] and tuple(rgba[0, 2, :3]) == (0x67, 0x00, 0x1F)  # red end
    assert rgba[0, 3, 3] == 0  # not computed: transparent


def test_zero_contour_follows_the_sign_change() -> None:
    x = np.linspace(0.0, 2.0, 21)
    y = np.array([1.0, 2.0, 3.0])
    values = np.tile(x - 1.2, (3, 1))
    xs, ys = zero_contour(x, y, values)
    finite = np.isfinite(xs)
    assert finite.any()
    np.testing.assert_allclose(xs[finite], 1.2, atol=1e-9)


def test_map_fills_dot_follows_and_a_click_chooses_a_point(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    config = Config(seq_len=20, batch_size=4, w_rec_scale=1.0, hidden_size=8)
    panel.set_config(config)
    qtbot.waitUntil(lambda: panel.finished_map is not None, timeout=60_000)
    assert panel.rows_done == 4 and not panel.computing
    assert np.isfinite(panel.finished_map.slope).all()
    assert list(panel.here.getData()[0]) == [1.0] and list(panel.here.getData()[1]) == [8.0]
    assert "done" in panel.progress_label.text()

    # Moving one of the map's own controls moves the dot and computes nothing.
    spec = panel.spec
    panel.set_config(config.replace(w_rec_scale=1.25, lr=0.1))
    assert panel.spec is spec and not panel.computing
    assert list(panel.here.getData()[0]) == [1.25]

    chosen = []
    panel.point_chosen.connect(chosen.append)
    view = panel.plot.vb
    scene_point = view.mapViewToScene(QPointF(0.75, 12.0))
    widget_point = panel.plot_widget.mapFromScene(scene_point)
    QTest.mouseClick(panel.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)
    qtbot.waitUntil(lambda: bool(chosen))
    assert chosen[0]["w_rec_scale"] == pytest.approx(0.75, abs=0.02)
    assert chosen[0]["hidden_size"] in (11, 12, 13)


def test_a_changed_activation_or_preset_recomputes(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    config = Config(seq_len=20, batch_size=4, hidden_size=8)
    panel.set_config(config)
    qtbot.waitUntil(lambda: panel.finished_map is not None, timeout=60_000)
    first = panel.finished_map
    panel.set_config(config.replace(activation="relu"))
    assert panel.finished_map is None
    qtbot.waitUntil(lambda: panel.finished_map is not None, timeout=60_000)
    assert panel.finished_map.spec.base.activation == "relu"
    assert not np.array_equal(panel.finished_map.slope, first.slope)

    panel.set_preset(1)
    qtbot.waitUntil(lambda: panel.finished_map is not None and panel.spec.y.field == "seq_len", timeout=60_000)
    assert panel.finished_map.spec.y.values == (5, 10, 15, 20)


def test_a_superseded_map_is_cancelled_and_the_cache_serves_the_next_time(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    config = Config(seq_len=20, batch_size=4, hidden_size=8)
    panel.set_config(config.replace(activation="sigmoid"))
    panel.set_config(config)  # at once: the sigmoid map is dropped
    qtbot.waitUntil(lambda: panel.finished_map is not None, timeout=60_000)
    assert panel.finished_map.spec.base.activation == "tanh"
    panel.set_config(config.replace(activation="linear"))
    qtbot.waitUntil(lambda: panel.finished_map is not None, timeout=60_000)
    panel.set_config(config)
    qtbot.waitUntil(lambda: panel.finished_map is not None, timeout=60_000)
    assert panel.finished_map.from_cache
    assert "cache" in panel.progress_label.text()


def test_cli_png_is_the_panel_drawing(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QImage

    from gradlab.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "map.png"
    args = ["phase", "--seq-len", "20", "--hidden-size", "8", "--batch-size", "4", "--workers", "1", "--quiet"]
    assert main([*args, "--x", "w_rec_scale=0.5:1.5:5", "--y", "seq_len=5:20:4", "--out", str(out)]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 720)


def test_no_line_along_the_edge_of_a_map_still_filling_in() -> None:
    x = np.linspace(0.0, 2.0, 21)
    y = np.arange(5.0)
    values = np.tile(x - 1.2, (5, 1))
    values[3:] = np.nan  # rows not computed yet
    xs, ys = zero_contour(x, y, values)
    finite = np.isfinite(xs)
    np.testing.assert_allclose(xs[finite], 1.2, atol=1e-9)
    assert ys[finite].max() <= 2.0


def test_the_window_shows_the_map_and_a_click_on_it_restarts_the_run_there(
    window, qtbot, focused, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    focused(window)
    qtbot.keyClick(window, Qt.Key.Key_M)
    panel = window.phase_panel
    assert window.views.currentWidget() is panel and window.commands.phase_map.isChecked()
    qtbot.waitUntil(lambda: panel.rows_done > 0, timeout=60_000)  # fills while the live run goes on
    assert panel.spec is not None and panel.spec.base.seq_len == window.config.seq_len

    panel.point_chosen.emit({"w_rec_scale": 1.3, "hidden_size": 20})
    assert window.config.w_rec_scale == 1.3 and window.config.hidden_size == 20
    qtbot.waitUntil(lambda: list(panel.here.getData()[0]) == [1.3])

    window.set_config(window.config.replace(activation="relu"))
    qtbot.waitUntil(lambda: panel.spec.base.activation == "relu")

    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.views.currentWidget() is window.plots_area
    window.close()
    assert not panel.computing


DEPTH = (
    AxisPreset("s × L", ("w_rec_scale", 0.5, 1.5, 3), ("seq_len", 2, 6, 3), quantity="total", depth_mode=True),
    AxisPreset(
        "s × L trained",
        ("w_rec_scale", 0.5, 1.5, 3),
        ("seq_len", 2, 4, 2),
        quantity="trainability",
        trainability=3,
        depth_mode=True,
        fixed=(("hidden_size", 6),),
    ),
)


def test_depth_mode_offers_its_own_axes_and_names_them_as_depth(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    panel = PhaseMapPanel(workers=1, cache_dir=tmp_path, presets=SMALL + DEPTH)
    qtbot.addWidget(panel)
    panel.show()
    try:
        names = lambda: [panel.preset_combo.itemText(i) for i in range(panel.preset_combo.count())]  # noqa: E731
        assert names() == ["s × H", "s × T"]
        deep = Config.from_dict({"cell": "mlp", "hidden_size": 8, "seq_len": 4, "batch_size": 4})
        panel.set_config(deep)
        assert names() == ["s × L", "s × L trained"]
        qtbot.waitUntil(lambda: panel.finished_map is not None, timeout=60_000)
        assert panel.plot.getAxis("left").labelText == "depth L"
        assert panel.plot.getAxis("bottom").labelText == "weight scale s"
        assert "decades" in panel.colour_bar.axis.labelText and "h_L" in panel.colour_bar.axis.labelText

        # The trained map: its points are nets of the preset's width, trained as the live run would be.
        panel.set_preset(1)
        qtbot.waitUntil(lambda: panel.finished_map is not None, timeout=60_000)
        spec = panel.finished_map.spec
        assert spec.base.hidden_size == 6 and spec.trainability == 3
        assert np.isfinite(panel.finished_map.loss_ratio).all()
        assert "Trained 3 updates" in panel.caption.text()

        panel.set_config(Config(seq_len=20, batch_size=4, hidden_size=8))  # back to a recurrent cell
        assert names() == ["s × H", "s × T"]
        assert panel.spec.y.field == "hidden_size"
    finally:
        panel.shutdown()
    assert multiprocessing.active_children() == []


def test_the_deep_nets_weight_axes_hold_the_edge_of_chaos_of_zero_biases_on_a_point() -> None:
    from gradlab.core.phase_point import make_axis
    from gradlab.ui.phase_axes import PRESETS, presets_for

    for preset in presets_for("mlp", PRESETS):
        assert preset.x[0] == "w_rec_scale"
        assert 1.0 in make_axis(*preset.x).values, preset.name
