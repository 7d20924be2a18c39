"""The per-layer panel of depth mode draws what Frame.layer_stats carries, and says when there is none."""

from __future__ import annotations

import numpy as np
import pytest
from axis_labels import drawn_tick_labels
from patience import PATIENCE_MS
from PySide6.QtCore import QRectF

from gradlab.core import Config, run
from gradlab.presets import find_preset
from gradlab.ui.plot_layers import NOT_DEPTH, SHARE_LEVELS, UPDATE_RATIO_REFERENCE, LayersPanel, row_shares
from gradlab.ui.theme import Theme

# Showing a widget on the offscreen platform warns; nothing else may.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


@pytest.fixture
def panel(qtbot):
    widget = LayersPanel(Theme())
    widget.resize(900, 520)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_the_readouts_keep_labels_that_do_not_touch_in_the_largest_type(qtbot):
    """At the largest presenter size each readout is under 100 px tall: its axis still gets as many
    labels as fit without touching (three where a 1-2-5 step allows it, not one), and the labels
    at the ends (0 and 100 %) are drawn."""
    from gradlab.ui.view import LARGEST_SCALE_PRESENTING

    widget = LayersPanel(Theme().with_scale(LARGEST_SCALE_PRESENTING))
    widget.resize(1280, 450)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    config = Config(cell="mlp", activation="relu", init="xavier", seq_len=50, hidden_size=64, iterations=1)
    widget.show_frame(list(run(config))[-1])

    def labels(plot) -> list[str]:  # type: ignore[no-untyped-def]
        return [text for _, text in drawn_tick_labels(plot.getAxis("left"))]

    def drawn() -> bool:  # the views take their new ranges at the next paint
        return (
            labels(widget.share_plot) == ["0", "50", "100"]
            and len(labels(widget.std_plot)) >= 3  # log10 std from −28 to 2.5: −20, −10, 0
            and len(labels(widget.ratio_plot)) >= 2  # −30 … −0.6 in 88 px: −20, −10 (5 apart would touch)
        )

    qtbot.waitUntil(drawn, timeout=PATIENCE_MS)
    for plot in (widget.std_plot, widget.share_plot, widget.ratio_plot):
        rects = sorted((rect for rect, _ in drawn_tick_labels(plot.getAxis("left"))), key=QRectF.top)
        assert all(not a.intersects(b) for a, b in zip(rects, rects[1:]))


def test_row_shares():
    shares = row_shares(np.array([[1, 3], [0, 0]]))
    np.testing.assert_array_equal(shares, [[0.25, 0.75], [0.0, 0.0]])


def test_heat_maps_and_readouts_of_a_deep_relu_net(panel, qtbot, tmp_path):
    config = Config(
        cell="mlp", activation="relu", init="xavier", w_rec_scale=1.0, seq_len=30, hidden_size=64, iterations=2
    )
    frame = list(run(config))[-1]
    stats = frame.layer_stats
    assert stats is not None
    panel.show_frame(frame)
    image = panel.gradient_image.image
    assert image.shape == stats.gradient_counts.shape  # rows are layers
    np.testing.assert_allclose(image.sum(axis=1)[stats.gradient_counts.sum(axis=1) > 0], 1.0)
    assert tuple(panel.gradient_image.levels) == SHARE_LEVELS
    rect = panel.gradient_image.boundingRect()
    assert rect.width() > 0 and rect.height() > 0
    x, y = panel.ratio_curve.getData()
    np.testing.assert_array_equal(x, np.arange(1, 31))
    np.testing.assert_allclose(y, stats.log10_update_ratio)
    assert panel.ratio_reference.value() == UPDATE_RATIO_REFERENCE
    _, share = panel.share_curve.getData()
    np.testing.assert_allclose(share, stats.dead_percent)
    assert "dead" in panel.share_plot.titleLabel.text
    _, log_std = panel.std_curve.getData()
    np.testing.assert_allclose(log_std, np.log10(stats.activation_std))
    assert "30 layers shown" in panel.readout.text()
    qtbot.wait(100)
    panel.grab().save(str(tmp_path / "layers.png"))


def test_a_recurrent_cell_has_no_per_layer_view(panel):
    frame = next(run(Config(iterations=1, seq_len=20, hidden_size=16)))
    assert frame.layer_stats is None
    panel.show_frame(frame)
    assert panel.readout.text() == NOT_DEPTH
    assert panel.gradient_image.image is None


def test_a_blown_up_update_is_drawn_without_error(panel):
    config = Config(
        cell="mlp", activation="linear", init="xavier", residual=1.0, seq_len=50, hidden_size=64, lr=0.01, iterations=4
    )
    frames = list(run(config))
    assert frames[-1].nonfinite
    for frame in frames:
        panel.show_frame(frame)
    assert panel.readout.text()


def test_the_window_shows_the_layers_of_a_depth_scene_in_place_of_the_plots(window, qtbot, focused):
    from patience import PATIENCE_MS
    from PySide6.QtCore import Qt

    from gradlab.presets import find_preset

    focused(window)
    window.load_preset("42-depth-xavier-relu")
    qtbot.keyClick(window, Qt.Key.Key_L)
    layers = window.grid.layers_panel
    assert window.views.currentWidget() is layers and window.commands.layers.isChecked()
    depth = find_preset("42-depth-xavier-relu").scenario.config.seq_len
    qtbot.waitUntil(lambda: layers.gradient_image.image is not None, timeout=PATIENCE_MS)
    assert layers.gradient_image.image.shape[0] == depth  # a row per layer, live

    # The phase map takes the plots' place from the per-layer view (one of them at a time) ...
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.views.currentWidget() is window.phase_panel
    assert window.commands.phase_map.isChecked() and not window.commands.layers.isChecked()
    # ... and gives it back to the plots.
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.views.currentWidget() is window.plots_area and not window.commands.layers.isChecked()

    window.load_preset("01-vanishing-tanh")  # a recurrent net has no layers to show: it says so
    qtbot.keyClick(window, Qt.Key.Key_L)
    qtbot.waitUntil(lambda: layers.readout.text() == NOT_DEPTH, timeout=PATIENCE_MS)
    qtbot.keyClick(window, Qt.Key.Key_L)
    assert window.views.currentWidget() is window.plots_area


def test_the_activations_of_a_decaying_relu_net_spread_over_the_bins_layer_by_layer(panel):
    """Scene 42: Xavier with ReLU halves the second moment per layer. On a log10 |h| axis each
    layer's activations sit where its std is, decades apart from first to last layer; a linear
    axis put every layer into its first bin."""
    config = find_preset("42-depth-xavier-relu").scenario.config.replace(iterations=1)
    frame = next(run(config))
    stats = frame.layer_stats
    assert stats is not None
    panel.show_frame(frame)
    shares = panel.activation_image.image
    edges = stats.activation_edges
    centres = (edges[:-1] + edges[1:]) / 2
    typical = centres[np.argmax(shares, axis=1)]  # the busiest bin of each layer
    log_std = np.log10(stats.activation_std)
    # The busiest bin follows the layer's std (within a decade) and moves by decades over the net.
    np.testing.assert_allclose(typical, log_std, atol=1.0)
    assert typical[0] - typical[-1] > 4
    assert len(set(np.argmax(shares, axis=1))) > 5
    # The axis is fixed: the same edges in every frame, whatever the scene.
    other = next(run(Config(cell="mlp", activation="tanh", seq_len=6, hidden_size=16, iterations=1)))
    np.testing.assert_array_equal(other.layer_stats.activation_edges, edges)  # type: ignore[union-attr]
