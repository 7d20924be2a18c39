"""The gradient-through-time plot draws the frame's predicted curve beside the measured one and
the bound, labelled for the theory it is, and nothing where the frame has no prediction."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gradlab.core import Config, Frame, run
from gradlab.core.prediction import (
    KIND_CELL_PATH,
    KIND_LINEAR,
    KIND_MEAN_FIELD_THROUGH_W,
    KIND_UNIT_PATH,
    KIND_UPDATE_PATH,
)
from gradlab.ui.plot_gradient_time import GradientTimePlot
from gradlab.ui.theme import Theme

# Showing a widget on the offscreen platform warns; nothing else may.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def first(**fields: object) -> Frame:
    return next(run(Config(iterations=1, hidden_size=32, seq_len=40, **fields)))  # type: ignore[arg-type]


@pytest.fixture
def plot(qtbot):  # type: ignore[no-untyped-def]
    widget = GradientTimePlot(Theme())
    widget.resize(640, 420)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def shown(plot: GradientTimePlot, frame: Frame, qtbot) -> None:  # type: ignore[no-untyped-def]
    plot.show_frame(frame)
    qtbot.waitUntil(lambda: any("slope" in t for t in plot.legend_text()), timeout=5000)


def test_the_predicted_line_is_the_frames_prediction(plot, qtbot):
    plot.resize(1700, 420)  # room for the longest wordings in one row
    frame = first(activation="tanh", init="gaussian", w_rec_scale=1.5)
    shown(plot, frame, qtbot)
    x, y = plot.prediction_curve.getData()
    np.testing.assert_array_equal(x, np.arange(40))
    np.testing.assert_array_equal(y, frame.predicted_log10_dh)
    texts = plot.legend_text()
    assert f"predicted: {KIND_MEAN_FIELD_THROUGH_W}" in texts, texts
    latest = next(t for t in texts if t.startswith("latest"))
    assert latest == f"latest · slope {frame.fitted_slope:+.3f}/step (predicted {frame.predicted_slope:+.3f})"
    # three distinct looks: the measured line, the predicted band, the dashed bound
    pens = [c.opts["pen"] for c in (plot.latest_curve, plot.prediction_curve, plot.theory_curve)]
    assert len({p.color().name() for p in pens}) == 3
    assert pens[1].widthF() > pens[0].widthF()
    # order in the legend: what is measured, what predicts it, what bounds it
    order = [t.split(" ")[0] for t in texts[:3]]
    assert order == ["latest", "predicted:", "bound"]


def test_the_predicted_line_clears_on_a_frame_without_one(plot, qtbot):
    frame = first(activation="tanh", init="gaussian", w_rec_scale=1.5)
    shown(plot, frame, qtbot)
    assert len(plot.prediction_curve.getData()[1]) == 40
    without = dataclasses.replace(frame, iteration=2, predicted_log10_dh=None, predicted_kind="")
    plot.show_frame(without)
    qtbot.waitUntil(lambda: "predicted" not in " ".join(plot.legend_text()), timeout=5000)
    x, y = plot.prediction_curve.getData()
    assert x is None or len(x) == 0
    # and a prediction that is not finite anywhere draws nothing either
    nonfinite = dataclasses.replace(frame, iteration=3, predicted_log10_dh=np.full(40, np.nan))
    plot.show_frame(nonfinite)
    qtbot.wait(300)  # the readout's refresh
    x, y = plot.prediction_curve.getData()
    assert x is None or len(x) == 0
    assert not any("predicted" in t for t in plot.legend_text())
    # it comes back with the next frame that has one
    shown(plot, dataclasses.replace(frame, iteration=4), qtbot)
    qtbot.waitUntil(lambda: any(f"{frame.predicted_slope:+.3f}" in t for t in plot.legend_text()), timeout=5000)
    assert len(plot.prediction_curve.getData()[1]) == 40


def test_a_narrow_plot_words_the_legend_shorter_rather_than_taking_a_row_of_data(plot, qtbot):
    frame = first(activation="tanh", init="gaussian", w_rec_scale=1.5)
    plot.resize(1700, 420)
    shown(plot, frame, qtbot)
    assert plot.legend.columnCount == 3  # one row: measured, predicted, bound
    plot.resize(700, 420)  # too narrow for the longest wordings in one row
    qtbot.waitUntil(lambda: plot.legend.columnCount == 3 and "(predicted" not in plot.legend_text()[0], timeout=5000)
    texts = plot.legend_text()
    # every number still on screen: the measured and the predicted slope, and the bound
    assert f"{frame.fitted_slope:+.3f}/step" in texts[0]
    assert f"{frame.predicted_slope:+.3f}/step" in texts[1]
    assert texts[2].startswith("bound")
    view = plot.getPlotItem().getViewBox()
    right = view.mapToScene(view.boundingRect().topRight()).x()
    for _, label in plot.legend.items:  # nothing cut off at the right
        assert label.item.mapToScene(label.item.boundingRect().topRight()).x() <= right + 0.5


def test_a_partly_finite_prediction_leaves_gaps(plot, qtbot):
    frame = first(activation="tanh", init="gaussian", w_rec_scale=1.0, truncation=10)
    shown(plot, frame, qtbot)
    _, y = plot.prediction_curve.getData()
    assert np.isfinite(y[:10]).all() and np.isnan(y[10:]).all()


@pytest.mark.parametrize(
    "fields, kind",
    [
        ({"activation": "tanh", "init": "gaussian", "w_rec_scale": 2.0}, KIND_MEAN_FIELD_THROUGH_W),
        ({"activation": "tanh", "init": "xavier"}, KIND_MEAN_FIELD_THROUGH_W),
        ({"activation": "linear", "init": "orthogonal"}, KIND_LINEAR),
        ({"activation": "relu", "init": "identity"}, KIND_UNIT_PATH),
        ({"cell": "lstm"}, KIND_CELL_PATH),
        ({"cell": "gru"}, KIND_UPDATE_PATH),
    ],
)
def test_the_label_follows_the_kind_of_prediction(plot, qtbot, fields, kind):
    plot.resize(1700, 420)
    frame = first(**fields)
    assert frame.predicted_kind == kind
    shown(plot, frame, qtbot)
    assert f"predicted: {kind}" in plot.legend_text()
    np.testing.assert_array_equal(plot.prediction_curve.getData()[1], frame.predicted_log10_dh)


def test_the_label_changes_with_the_cell(plot, qtbot):
    plot.resize(1700, 420)
    shown(plot, first(cell="lstm"), qtbot)
    assert f"predicted: {KIND_CELL_PATH}" in plot.legend_text()
    plot.show_frame(first(cell="gru"))
    qtbot.waitUntil(lambda: f"predicted: {KIND_UPDATE_PATH}" in plot.legend_text(), timeout=5000)
    assert f"predicted: {KIND_CELL_PATH}" not in plot.legend_text()
    assert sum(t.startswith("predicted") for t in plot.legend_text()) == 1


@pytest.mark.parametrize("theme", ["projector", "dark"])
def test_the_prediction_colour_differs_from_every_other_line(theme):
    colours = Theme.named(theme)
    mine = colours.colour("prediction").name()
    others = {
        colours.colour(role).name()  # type: ignore[arg-type]
        for role in ("latest", "history", "cell_state", "theory", "zero_marker", "inf_marker", "nan_marker")
    }
    pins = {colours.pin_pen(i).color().name() for i in range(3)}
    assert mine not in others | pins


def test_a_deep_nets_bound_is_its_per_layer_curve_and_its_axis_counts_layers(plot, qtbot):
    config = Config(cell="mlp", task="spirals", activation="tanh", init="gaussian", w_rec_scale=1.5)
    frame = next(run(config.replace(hidden_size=32, seq_len=12, iterations=1)))
    assert frame.bound_log10_dh is not None and np.ptp(np.diff(frame.bound_log10_dh)) > 0  # not a line
    plot.show_frame(frame, config)
    x, y = plot.theory_curve.getData()
    np.testing.assert_allclose(y, frame.bound_log10_dh)
    assert len(x) == 12
    assert plot.getPlotItem().getAxis("bottom").labelText == "layers back from the loss, l"
    assert any("/layer" in t for t in plot.legend_text())

    rnn = first()
    plot.show_frame(rnn, Config())
    assert len(plot.theory_curve.getData()[0]) == 2  # the RNN's bound: one straight line
    assert plot.getPlotItem().getAxis("bottom").labelText == "steps back from the loss, k"


def test_a_deep_nets_slopes_are_per_layer_and_a_time_runs_per_step(plot, qtbot):
    plot.resize(1700, 420)  # room for the longest wordings
    config = Config(cell="mlp", task="spirals", activation="tanh", init="gaussian", w_rec_scale=1.5)
    frame = next(run(config.replace(hidden_size=32, seq_len=12, iterations=1)))
    plot.show_frame(frame, config)
    qtbot.waitUntil(lambda: any("slope" in t for t in plot.legend_text()), timeout=5000)
    texts = plot.legend_text()
    assert not any("/step" in t for t in texts), texts
    latest = next(t for t in texts if t.startswith("latest"))
    assert f"{frame.fitted_slope:+.3f}/layer" in latest
    if frame.predicted_log10_dh is not None:
        assert any(f"{frame.predicted_slope:+.3f}/layer" in t for t in texts) or "(predicted" in latest
    blown = dataclasses.replace(frame, iteration=2, log10_dh_norm=np.full(12, np.nan))
    plot.show_frame(blown, config)
    qtbot.waitUntil(lambda: any("nan at every layer" in t for t in plot.legend_text()), timeout=5000)
    assert not any("/step" in t or "every step" in t for t in plot.legend_text())

    rnn = first(activation="tanh", init="gaussian", w_rec_scale=1.5)
    plot.show_frame(rnn, Config())
    qtbot.waitUntil(lambda: any(f"{rnn.fitted_slope:+.3f}/step" in t for t in plot.legend_text()), timeout=5000)
    assert not any("/layer" in t for t in plot.legend_text())
